"""Multi-turn RL (AgentRFT) DAGs the integration tests run through a real Airflow against the local SageMaker.

The run's conf gives ``role_arn``, ``bucket`` and ``agent_env`` (an AgentCore runtime id created by the test).
"""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.multi_turn_rl import MultiTurnRLTrainerOperator

PARAMS = {
    "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole",
    "bucket": "smtrain-it",
    "agent_env": "",
}
MTRL: dict[str, Any] = {
    "model": "huggingface-llm-qwen2-5-7b-instruct",
    "agent_env": "{{ params.agent_env }}",
    "role": "{{ params.role_arn }}",
    "training_dataset": "s3://{{ params.bucket }}/prompts/",
    "s3_output_path": "s3://{{ params.bucket }}/mtrl",
    "output_model_package_group": "it-agents",
    "intermediate_checkpoint_model_package_group": "it-agents-checkpoints",
    "hyperparameters": {"max_turns": 4},
    "poll_interval": 1,
}


class CrashAfterCreateJob(MultiTurnRLTrainerOperator):
    """Its task process is SIGKILLed right after the SDK's CreateJob, on the first try only."""

    def submit_job(self, spec: Any, name: str, context: Any) -> None:
        super().submit_job(spec, name, context)
        if context["ti"].try_number == 1:
            os.kill(os.getpid(), signal.SIGKILL)


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, params=PARAMS)


with _dag("it_mtrl_crash_retry"):
    CrashAfterCreateJob(
        task_id="agent_rft",
        job_name_prefix="it-mtrl-crash",
        retries=1,
        retry_delay=timedelta(seconds=0),
        **MTRL,
    )

with _dag("it_mtrl_long"):
    MultiTurnRLTrainerOperator(task_id="agent_rft", job_name_prefix="it-mtrl-long", **MTRL)
