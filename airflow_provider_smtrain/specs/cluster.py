"""Where and how a training job runs: instances (``Compute``), network (``Networking``), and the
distributed launchers (``Torchrun``, ``MPI``, ``SMP``). Field names mirror the SDK's config classes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from airflow_provider_smtrain.specs.base import Loose, Problems, SpecModel, TaggedInput, matches
from airflow_provider_smtrain.specs.common import NonEmptyStr, PositiveInt, RandomSeed

__all__ = ["ComputeSpec", "Distributed", "MpiSpec", "NetworkingSpec", "SmpSpec", "TorchrunSpec"]


class ComputeSpec(SpecModel):
    """
    Compute resources of the training job (SDK ``Compute``).

    :param instance_type: ``ml.<family>.<size>``, e.g. ``ml.g5.2xlarge``.
    :param instance_count: number of instances, >= 1.
    :param volume_size_in_gb: EBS volume size per instance in GB, >= 1.
    :param volume_kms_key_id: non-empty KMS key id or ARN that encrypts the volume.
    :param keep_alive_period_in_seconds: warm pool retention, 0..3600.
    :param enable_managed_spot_training: run on spot capacity; requires
        ``stopping_condition.max_wait_time_in_seconds``.
    """

    instance_type: Annotated[
        str, matches(r"ml\.[a-z0-9-]+\.[a-z0-9-]+", "a SageMaker instance type like ml.m5.xlarge")
    ] = "ml.m5.xlarge"
    instance_count: PositiveInt = 1
    volume_size_in_gb: PositiveInt = 30
    volume_kms_key_id: NonEmptyStr | None = None
    keep_alive_period_in_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    enable_managed_spot_training: bool = False


class NetworkingSpec(SpecModel):
    """
    VPC and isolation settings (SDK ``Networking``).

    :param subnets: 1..16 subnet ids like ``subnet-0abc1234``; given together with ``security_group_ids``.
    :param security_group_ids: 1..5 security group ids like ``sg-0abc1234``; given together with ``subnets``.
    :param enable_network_isolation: block all network access from the container.
    :param enable_inter_container_traffic_encryption: encrypt traffic between instances.
    """

    subnets: (
        Annotated[
            list[Annotated[str, matches(r"subnet-[0-9a-z]+", "a subnet id like subnet-0abc1234")]],
            Loose,
            Field(min_length=1, max_length=16),
        ]
        | None
    ) = None
    security_group_ids: (
        Annotated[
            list[Annotated[str, matches(r"sg-[0-9a-z]+", "a security group id like sg-0abc1234")]],
            Loose,
            Field(min_length=1, max_length=5),
        ]
        | None
    ) = None
    enable_network_isolation: bool = False
    enable_inter_container_traffic_encryption: bool = False

    @model_validator(mode="after")
    def _vpc_pair(self) -> NetworkingSpec:
        if (self.subnets is None) != (self.security_group_ids is None):
            missing = "security_group_ids" if self.subnets is not None else "subnets"
            problems = Problems()
            problems.add(missing, "subnets and security_group_ids must be given together (or neither)")
            problems.raise_if_any()
        return self


class SmpSpec(SpecModel):
    """
    SageMaker Model Parallelism v2 parameters (SDK ``SMP``); every field is optional.

    :param hybrid_shard_degree: sharded data parallelism degree (>= 1).
    :param sm_activation_offloading: offload activations to CPU.
    :param activation_loading_horizon: activation offloading horizon (>= 1).
    :param fsdp_cache_flush_warnings: warn on PyTorch cache flushes.
    :param allow_empty_shards: allow empty shards for non-divisible tensors.
    :param tensor_parallel_degree: tensor parallelism degree (>= 1).
    :param context_parallel_degree: context parallelism degree (>= 1).
    :param expert_parallel_degree: expert parallelism degree (>= 1).
    :param random_seed: 0..2147483647.
    """

    hybrid_shard_degree: PositiveInt | None = None
    sm_activation_offloading: bool | None = None
    activation_loading_horizon: PositiveInt | None = None
    fsdp_cache_flush_warnings: bool | None = None
    allow_empty_shards: bool | None = None
    tensor_parallel_degree: PositiveInt | None = None
    context_parallel_degree: PositiveInt | None = None
    expert_parallel_degree: PositiveInt | None = None
    random_seed: RandomSeed | None = None


class TorchrunSpec(SpecModel):
    """
    Launch with ``torchrun`` (SDK ``Torchrun``).

    :param type: ``torchrun`` (any casing); selects this variant of ``distributed``.
    :param process_count_per_node: processes per instance, >= 1; the SDK's default is one per GPU.
    :param smp: SageMaker Model Parallelism v2 parameters (``SmpSpec``).
    """

    type: Literal["torchrun"] = "torchrun"
    process_count_per_node: PositiveInt | None = None
    smp: SmpSpec | None = None


class MpiSpec(SpecModel):
    """
    Launch with ``mpirun`` (SDK ``MPI``).

    :param type: ``mpi`` (any casing); selects this variant of ``distributed``.
    :param process_count_per_node: processes per instance, >= 1; the SDK's default is one per GPU.
    :param mpi_additional_options: extra ``mpirun`` options, e.g. ``["-x", "NCCL_DEBUG=INFO"]``.
    """

    type: Literal["mpi"] = "mpi"
    process_count_per_node: PositiveInt | None = None
    mpi_additional_options: Annotated[list[str], Loose] | None = None


Distributed = Annotated[TorchrunSpec | MpiSpec, Field(discriminator="type"), TaggedInput]
