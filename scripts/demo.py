"""Run the fine-tune → evaluate → gate → deploy example DAG end to end against the local SageMaker.

Starts the local SageMaker (moto server on 127.0.0.1 plus what moto lacks) and a real Airflow 3
(metadata DB, API server, scheduler, dag-processor, triggerer), prepares a bucket, an IAM role and a
model package group, triggers ``smtrain_finetune_evaluate_deploy``, waits for it, and prints what each
task did, the evaluation table (base vs fine-tuned), the gate's checks and the endpoint. Exit status 0
means the DAG run succeeded.

``--ui`` keeps the local SageMaker and Airflow running afterwards and prints the UI address and login,
to click through the run's graph, logs, XCom and extra links (Ctrl-C stops everything).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from airflow_provider_smtrain.jobs.evaluation_results import format_metrics
from airflow_provider_smtrain.jobs.quality_gate import format_checks
from airflow_provider_smtrain.testing import LocalSageMaker
from airflow_provider_smtrain.testing.airflow import AirflowStack

REPO = Path(__file__).resolve().parents[1]
DAG_ID = "smtrain_finetune_evaluate_deploy"
BUCKET = "smtrain-demo"
TASKS = ("register_dataset", "stage_judge_prompts", "sft", "benchmark", "judge", "gate", "approve", "deploy", "reject")


def _login(af: AirflowStack) -> tuple[str, str]:
    """The admin user and password of the stack's SimpleAuthManager."""
    passwords = json.loads((Path(af.home) / "simple_auth_manager_passwords.json").read_text())
    user, password = next(iter(passwords.items()))
    return str(user), str(password)


def _report(af: AirflowStack, run_id: str) -> None:
    for task_id in TASKS:
        ti = af.ti(DAG_ID, run_id, task_id)
        print(f"  {task_id:20s} {ti['state'] or '-':8s} tries={ti['try_number']}")
    results = []
    for task_id in ("benchmark", "judge"):
        try:
            results.append(af.xcom(DAG_ID, run_id, task_id))
        except KeyError:
            continue
    if results:
        print("\nEvaluation (base model vs fine-tuned model):")
        print(format_metrics(results))
        for result in results:
            print(f"  {result['evaluation_type']}: {result['execution_arn']}  reports: {result['report_s3_uris']['tuned']}")
    try:
        print("\n" + format_checks(af.xcom(DAG_ID, run_id, "gate")))
    except KeyError:
        pass
    try:
        deploy = af.xcom(DAG_ID, run_id, "deploy")
    except KeyError:
        print("\nNot deployed.")
    else:
        print("\nEndpoint: " + json.dumps({k: deploy.get(k) for k in ("endpoint_name", "status", "endpoint_arn",
                                                                       "endpoint_config_name", "console_url")}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ui", action="store_true", help="keep Airflow and the local SageMaker running afterwards")
    args = parser.parse_args()
    started = time.time()
    with LocalSageMaker(region="us-east-1", training_seconds=6.0, tuning_seconds=8.0) as sm:
        print(f"local SageMaker: {sm.endpoint_url}")
        sm.create_bucket(BUCKET)
        role_arn = sm.create_role("SageMakerTrainingRole")
        sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName="smtrain-finetuned")
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
            print(f"triggered {DAG_ID} run {run_id}: SFT, then benchmark and judge, gate, approve, deploy...")
            state = af.wait_for_run(DAG_ID, run_id, timeout=600)
            _report(af, run_id)
            print(f"\nDAG run {state} in {time.time() - started:.0f}s")
            if state != "success":
                print(af.component_logs(tail=80))
            if args.ui:
                user, password = _login(af)
                print(f"\nAirflow UI: {af.base_url}  login: {user} / {password}")
                print(f"The run: {af.base_url}/dags/{DAG_ID}/runs/{run_id}")
                print("Local SageMaker and Airflow keep running; Ctrl-C stops them.")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    print("stopping...")
            return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
