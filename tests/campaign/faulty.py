"""The campaign's operators: the real concrete operators, dying where a scenario says.

:class:`CampaignFaults` is shared by every copy of one task instance's operator (Airflow builds a fresh
copy for each try and each resume; ``deepcopy`` returns the same object). Each death point fires once,
raising :class:`~tests.operators.runner.WorkerDied`, which nothing in the operator may catch.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.operators.deploy import DeployModelOperator
from airflow_provider_smtrain.operators.finetune import (
    DPOTrainerOperator,
    RLAIFTrainerOperator,
    RLVRTrainerOperator,
    SFTTrainerOperator,
)
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
from airflow_provider_smtrain.operators.multi_turn_rl import MultiTurnRLTrainerOperator
from airflow_provider_smtrain.operators.registry import CreateDataSetOperator
from airflow_provider_smtrain.operators.tuner import HyperparameterTunerOperator
from tests.campaign.plan import BOTOCORE_CONFIG, Scenario
from tests.operators.runner import WorkerDied

SOURCE_DIR = str(Path(__file__).resolve().parents[2] / "example_dags" / "model_trainer_src")
DAG_ID = "fault_campaign"


class CampaignFaults:
    """
    Death points left for one task instance, and what was served.

    :param deaths: hook points at which a worker dies, each once.
    :param submitting: context manager entered around each SDK submission (caps network faults).
    """

    def __init__(
        self, deaths: list[str], submitting: Callable[[], contextlib.AbstractContextManager[Any]]
    ) -> None:
        self.deaths = list(deaths)
        self.submitting = submitting
        self.served: Counter[str] = Counter()
        #: Told every deadline the lifecycle waits with (set by the driver).
        self.deadline_used: Callable[[float | None], None] = lambda deadline: None

    def __deepcopy__(self, memo: dict[int, Any]) -> CampaignFaults:
        return self

    def die_at(self, point: str) -> None:
        """Raise :class:`WorkerDied` if the plan has a death at ``point`` not yet served."""
        if point in self.deaths:
            self.deaths.remove(point)
            self.served[f"worker death: {point}"] += 1
            raise WorkerDied(point)


class _Dying:
    """Mixin over a concrete job operator: the hook points a worker can die at."""

    campaign: CampaignFaults

    def submit_job(self, spec: Any, name: str, context: Any) -> None:
        self.campaign.die_at("before_submit")
        with self.campaign.submitting():
            super().submit_job(spec, name, context)  # type: ignore[misc]
        self.campaign.die_at("after_create")

    def on_job_found(self, describe: dict[str, Any], context: Any) -> None:
        super().on_job_found(describe, context)  # type: ignore[misc]
        self.campaign.die_at("after_found")

    def on_poll(self, describe: dict[str, Any]) -> None:
        super().on_poll(describe)  # type: ignore[misc]
        self.campaign.die_at("while_waiting")

    def after_wait(self, describe: dict[str, Any]) -> None:
        self.campaign.die_at("on_resume")
        super().after_wait(describe)  # type: ignore[misc]

    def _wait_blocking(self, describe: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        self.campaign.deadline_used(deadline)
        result: dict[str, Any] = super()._wait_blocking(describe, deadline)  # type: ignore[misc]
        return result

    def _defer(self, deadline: float | None) -> None:
        self.campaign.deadline_used(deadline)
        super()._defer(deadline)  # type: ignore[misc]

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        self.campaign.die_at("after_end")
        result: dict[str, Any] = super().job_result(describe)  # type: ignore[misc]
        return result


class CampaignModelTrainer(_Dying, ModelTrainerOperator):
    """``ModelTrainerOperator`` with the campaign's death points."""


class CampaignTuner(_Dying, HyperparameterTunerOperator):
    """``HyperparameterTunerOperator`` with the campaign's death points."""


class CampaignMultiTurnRL(_Dying, MultiTurnRLTrainerOperator):
    """``MultiTurnRLTrainerOperator`` (AgentRFT jobs) with the campaign's death points."""


class CampaignSFT(_Dying, SFTTrainerOperator):
    """``SFTTrainerOperator`` (serverless, ModelPackageConfig) with the campaign's death points."""


class CampaignDPO(_Dying, DPOTrainerOperator):
    """``DPOTrainerOperator`` with the campaign's death points."""


class CampaignRLAIF(_Dying, RLAIFTrainerOperator):
    """``RLAIFTrainerOperator`` with the campaign's death points."""


class CampaignRLVR(_Dying, RLVRTrainerOperator):
    """``RLVRTrainerOperator`` with the campaign's death points."""


class CampaignDataSet(_Dying, CreateDataSetOperator):
    """``CreateDataSetOperator`` (kind ``hub_content``): its import is the "submission" a worker dies around."""

    def import_content(self, spec: Any, hub: Any, version: str, digest: str) -> None:
        self.campaign.die_at("before_submit")
        with self.campaign.submitting():
            super().import_content(spec, hub, version, digest)
        self.campaign.die_at("after_create")


class CampaignDeploy(_Dying, DeployModelOperator):
    """``DeployModelOperator`` (kind ``endpoint``): CreateEndpoint/UpdateEndpoint is the submission."""

    def submit_deployment(self, create: bool, request: dict[str, Any]) -> None:
        self.campaign.die_at("before_submit")
        with self.campaign.submitting():
            super().submit_deployment(create, request)
        self.campaign.die_at("after_create")


#: The model package group whose version 1 the ``endpoint`` scenarios deploy.
ENDPOINT_GROUP = "campaign-endpoint-models"
ENDPOINT_PACKAGE = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{ENDPOINT_GROUP}/1"


def prepare_endpoint(sm: Any, bucket: str) -> None:
    """
    What an ``endpoint`` scenario needs in the (freshly reset) local SageMaker: a fine-tuned model package.

    :param sm: the local SageMaker client.
    :param bucket: the S3 bucket of the model's weights.
    """
    sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName=ENDPOINT_GROUP)
    sm.register_model_package(
        ENDPOINT_GROUP, training_job_name="campaign-ft",
        training_job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/campaign-ft",
        model_data_s3_uri=f"s3://{bucket}/campaign-ft/checkpoints/hf_merged/", base_model=FT_MODEL,
    )


#: The base model and model package group of the campaign's fine-tuning jobs.
FT_MODEL = "huggingface-llm-qwen2-5-7b-instruct"
FT_GROUP = "campaign-ft-models"
FT_RECORDS = {
    "SFT": b'{"prompt": "2+2?", "completion": "4"}\n',
    "DPO": b'{"prompt": "2+2?", "chosen": "4", "rejected": "5"}\n',
    "RL": b'{"prompt": "2+2?", "samples": [{"completion": "4"}], "answer": "4"}\n',
}
#: RLVR's reward function: a Lambda ARN, registered as an AI Registry evaluator before the job starts.
REWARD_LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:campaign-reward"
#: The dataset file a ``hub_content`` scenario registers (on S3, or uploaded from this local file).
DATASET_RECORDS = b'{"prompt": "2+2?", "completion": "4"}\n{"prompt": "3+3?", "completion": "6"}\n'


def prepare_finetune(sm: Any, bucket: str) -> None:
    """
    What a fine-tuning scenario needs in the (freshly reset) local SageMaker: datasets and the group.

    :param sm: the local SageMaker client.
    :param bucket: the S3 bucket of inputs and outputs.
    """
    for data, body in FT_RECORDS.items():
        sm.put_object(bucket, f"ft/{data.lower()}/train.jsonl", body)
    sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName=FT_GROUP)


FINETUNE_CLASSES: dict[str, type[SageMakerJobOperator]] = {
    "SFT": CampaignSFT,
    "DPO": CampaignDPO,
    "RLAIF": CampaignRLAIF,
    "RLVR": CampaignRLVR,
}


def finetune_args(technique: str, bucket: str, role_arn: str) -> dict[str, Any]:
    """Arguments of a small serverless fine-tuning job of ``technique`` on the local SageMaker."""
    data = {"SFT": "sft", "DPO": "dpo"}.get(technique, "rl")
    args: dict[str, Any] = {
        "model": FT_MODEL,
        "role": role_arn,
        "training_dataset": f"s3://{bucket}/ft/{data}/train.jsonl",
        "model_package_group": FT_GROUP,
        "s3_output_path": f"s3://{bucket}/ft-out",
    }
    if technique == "RLAIF":
        args["reward_model_id"] = "openai.gpt-oss-20b-1:0"
    elif technique == "RLVR":
        args.update(custom_reward_function=REWARD_LAMBDA_ARN, skip_reward_validation=True)
    return args


def dataset_args(sc: Scenario, bucket: str, role_arn: str, local_file: str) -> dict[str, Any]:
    """Arguments of the dataset a ``hub_content`` scenario registers: on S3 (index % 4 < 2) or a local file."""
    return {
        "name": f"{sc.name}-data",
        "source": f"s3://{bucket}/datasets/train.jsonl" if sc.index % 4 < 2 else local_file,
        "customization_technique": "SFT",
        "role": role_arn,
        "default_bucket": bucket,
    }


#: The agent environment of the campaign's AgentRFT jobs (an ARN: no runtime lookup).
AGENT_RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/campaignAgent-aBcDeFgHiJ"
AGENT_GROUPS = ("campaign-agents", "campaign-agents-checkpoints")


def prepare_agent_rft(sm: Any, bucket: str) -> None:
    """
    What a multi-turn RL scenario needs in the (freshly reset) local SageMaker: prompts and both groups.

    :param sm: the local SageMaker client.
    :param bucket: the S3 bucket of inputs and outputs.
    """
    sm.put_object(bucket, "prompts/train.jsonl", b'{"prompt": "Book a flight to Paris"}\n')
    client = sm.boto3_client("sagemaker")
    for group in AGENT_GROUPS:
        client.create_model_package_group(ModelPackageGroupName=group)


def agent_rft_args(bucket: str, role_arn: str) -> dict[str, Any]:
    """Arguments of a small multi-turn RL job on the local SageMaker (named groups: none is created)."""
    return {
        "model": "huggingface-llm-qwen2-5-7b-instruct",
        "agent_env": AGENT_RUNTIME_ARN,
        "role": role_arn,
        "training_dataset": f"s3://{bucket}/prompts/",
        "s3_output_path": f"s3://{bucket}/mtrl",
        "output_model_package_group": AGENT_GROUPS[0],
        "intermediate_checkpoint_model_package_group": AGENT_GROUPS[1],
    }


def trainer_args(bucket: str, role_arn: str) -> dict[str, Any]:
    """Arguments of a small training job on the local SageMaker."""
    return {
        "role": role_arn,
        "training_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
        "output_path": f"s3://{bucket}/models",
        "source_code": {"source_dir": SOURCE_DIR, "entry_script": "train.py"},
        "input_data": {"train": f"s3://{bucket}/data/train/"},
        "hyperparameters": {"epochs": 5},
    }


TUNING_RANGES = {
    "learning_rate": {
        "type": "continuous",
        "min_value": 0.001,
        "max_value": 0.1,
        "scaling_type": "Logarithmic",
    },
    "epochs": {"type": "integer", "min_value": 5, "max_value": 50},
}


def build_operator(
    sc: Scenario,
    *,
    conn_id: str,
    bucket: str,
    role_arn: str,
    faults: CampaignFaults,
    local_file: str = "",
) -> SageMakerJobOperator:
    """
    The scenario's operator, as the DAG file would build it, with its death points attached.

    :param sc: the scenario.
    :param conn_id: the Airflow connection of the deployment.
    :param bucket: the S3 bucket of inputs and outputs.
    :param role_arn: the execution role.
    :param faults: the task instance's shared death points.
    :param local_file: the dataset file a ``hub_content`` scenario may upload.
    """
    common: dict[str, Any] = {
        "task_id": sc.name,
        "aws_conn_id": conn_id,
        "deferrable": sc.mode == "deferrable",
        "poll_interval": sc.poll_interval,
        "retries": sc.retries,
        "stop_job_on_kill": sc.stop_job_on_kill,
        "job_name_prefix": sc.name,
        "botocore_config": dict(BOTOCORE_CONFIG),
        "max_wait": sc.max_wait,
        "execution_timeout": timedelta(seconds=sc.execution_timeout) if sc.execution_timeout else None,
    }
    args = trainer_args(bucket, role_arn)
    operator: SageMakerJobOperator
    with DAG(dag_id=DAG_ID, schedule=None, start_date=datetime(2026, 1, 1)):
        if sc.kind == "training":
            args["metric_definitions"] = [{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}]
            operator = CampaignModelTrainer(**common, **args)
        elif sc.kind == "agent_rft":
            operator = CampaignMultiTurnRL(**common, **agent_rft_args(bucket, role_arn))
        elif sc.kind == "finetune":
            technique = sc.technique or "SFT"
            operator = FINETUNE_CLASSES[technique](**common, **finetune_args(technique, bucket, role_arn))
        elif sc.kind == "hub_content":
            operator = CampaignDataSet(**common, **dataset_args(sc, bucket, role_arn, local_file))
        elif sc.kind == "evaluation":
            from tests.campaign.faulty_evaluation import EVALUATOR_CLASSES, evaluator_args

            evaluator = sc.evaluator or "benchmark"
            operator = EVALUATOR_CLASSES[evaluator](**common, **evaluator_args(evaluator, bucket, role_arn))
        elif sc.kind == "endpoint":
            operator = CampaignDeploy(**common, endpoint_name=f"{sc.name}-ep", role=role_arn,
                                      model_package_arn=ENDPOINT_PACKAGE, instance_type="ml.m5.large")
        else:
            operator = CampaignTuner(
                **common,
                trainer=args,
                objective_metric_name="train:loss",
                objective_type="Minimize",
                metric_definitions=[{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
                hyperparameter_ranges=TUNING_RANGES,
                strategy="Random",
                max_jobs=3,
                max_parallel_jobs=2,
            )
    operator.campaign = faults  # type: ignore[attr-defined]
    return operator


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    """A ``submitting`` context that changes nothing."""
    yield
