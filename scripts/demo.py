"""Run the train → evaluate → deploy example DAG end to end against the local SageMaker.

Starts the local SageMaker (moto server on 127.0.0.1 plus what moto lacks) and a real Airflow 3
(metadata DB, API server, scheduler, dag-processor, triggerer), prepares a bucket, training data and
an IAM role, triggers ``smtrain_train_evaluate_deploy``, waits for it, and prints what each task did.
Exit status 0 means the DAG run succeeded.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from airflow_provider_smtrain.testing import LocalSageMaker
from airflow_provider_smtrain.testing.airflow import AirflowStack

REPO = Path(__file__).resolve().parents[1]
DAG_ID = "smtrain_train_evaluate_deploy"
BUCKET = "smtrain-demo"


def training_csv(rows: int = 200, seed: int = 0) -> bytes:
    """y = 3x + 1 with a little noise."""
    rng = random.Random(seed)
    lines = ["x,y"]
    for i in range(rows):
        x = i / rows
        lines.append(f"{x:.4f},{3 * x + 1 + rng.uniform(-0.05, 0.05):.4f}")
    return ("\n".join(lines) + "\n").encode()


def main() -> int:
    started = time.time()
    with LocalSageMaker(region="us-east-1", training_seconds=6.0, tuning_seconds=8.0) as sm:
        sm.configure(run_scripts=True)
        print(f"local SageMaker: {sm.endpoint_url}")
        sm.create_bucket(BUCKET)
        sm.put_object(BUCKET, "data/train/train.csv", training_csv())
        role_arn = sm.create_role("SageMakerTrainingRole")
        env = {
            "AIRFLOW_CONN_AWS_DEFAULT": sm.airflow_connection_json(
                access_key_id="AKIADEMOCONNECTION01", secret_access_key="demo-secret"
            ),
            "SMTRAIN_EXAMPLE_POLL_SECONDS": "2",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "2",
        }
        with AirflowStack(dags_folders=[REPO / "example_dags"], env=env) as af:
            print(f"Airflow API server: {af.base_url}  (AIRFLOW_HOME={af.home})")
            af.wait_for_dag(DAG_ID, timeout=120)
            run_id = af.trigger(DAG_ID, conf={"role_arn": role_arn, "bucket": BUCKET})
            print(f"triggered {DAG_ID} run {run_id}; the train task defers to the triggerer...")
            state = af.wait_for_run(DAG_ID, run_id, timeout=300)
            for task_id in ("train", "evaluate", "gate", "deploy"):
                ti = af.ti(DAG_ID, run_id, task_id)
                print(f"  {task_id:9s} {ti['state']:8s} tries={ti['try_number']}")
            trigger_logs = af.trigger_logs(DAG_ID, run_id, "train")
            for triggerer_id, text in trigger_logs.items():
                print(f"triggerer job {triggerer_id} ran the trigger of 'train':")
                for line in text.splitlines()[-4:]:
                    try:
                        entry = json.loads(line)
                        line = f"{entry.get('timestamp', '')[11:19]} {entry.get('event', '')}"
                    except ValueError:
                        pass
                    print("    " + line[:160])
            train = af.xcom(DAG_ID, run_id, "train")
            print("train result:\n" + json.dumps(train, indent=2))
            print("evaluate:", json.dumps(af.xcom(DAG_ID, run_id, "evaluate")))
            print("deploy:", json.dumps(af.xcom(DAG_ID, run_id, "deploy")))
            creates = sm.requests(operation="CreateTrainingJob")
            print(f"CreateTrainingJob calls: {len(creates)}; DAG run {state} in {time.time() - started:.0f}s")
            if state != "success":
                print(af.component_logs(tail=80))
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
