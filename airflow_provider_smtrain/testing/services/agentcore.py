"""Bedrock AgentCore runtimes shaped as AWS returns them (server process only; idempotent).

moto answers ``CreateAgentRuntime`` with an id ``a<hex>-<hex>`` and an ARN ``...:agent/<uuid>:<version>``.
AWS names a runtime ``<agentRuntimeName>-<10 alphanumerics>`` and its ARN is
``arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>``, which is what the SDK's
``MultiTurnRLTrainer`` checks an agent environment against. Runtimes created through the local
SageMaker get AWS's shapes, so a bare runtime id resolves (``GetAgentRuntime``) to an ARN the SDK accepts.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from moto.bedrockagentcorecontrol.models import BedrockAgentCoreControlBackend

from airflow_provider_smtrain.testing import moto_support

_ALPHANUMERIC = string.ascii_letters + string.digits


def _aws_runtime_id(name: str) -> str:
    return f"{name}-" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(10))


def _make_create(original: Any) -> Any:
    def create_agent_runtime(self: BedrockAgentCoreControlBackend, *args: Any, **kwargs: Any) -> Any:
        runtime = original(self, *args, **kwargs)
        self.agent_runtimes.pop(runtime.agent_runtime_id, None)
        runtime.agent_runtime_id = _aws_runtime_id(runtime.agent_runtime_name)
        runtime.agent_runtime_arn = f"arn:aws:bedrock-agentcore:{runtime.region_name}:{runtime.account_id}:runtime/{runtime.agent_runtime_id}"
        self.agent_runtimes[runtime.agent_runtime_id] = runtime
        return runtime

    return create_agent_runtime


def install() -> None:
    """Give agent runtimes created from now on AWS's id and ARN shapes."""
    moto_support.patch_once(BedrockAgentCoreControlBackend, "create_agent_runtime", _make_create)
