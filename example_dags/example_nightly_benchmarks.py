"""Benchmark every model every night; flag what got worse since the night before.

* ``matrix`` lists one evaluation per model × benchmark (``models`` and ``benchmarks`` params).
* ``benchmark`` is mapped over that list (dynamic task mapping): one ``BenchMarkEvaluator`` run per
  pair, all in parallel, each waiting in the triggerer.
* ``report`` gathers every result into one table (in its task log), reads the previous night's report
  (``s3://<bucket>/nightly/latest.json``), flags each metric that dropped by more than ``tolerance``
  (or went missing), writes the report as JSON and CSV under ``s3://<bucket>/nightly/reports/`` and as
  the new ``latest.json``, and emits an event of the Asset ``smtrain_nightly_benchmark_report`` (its
  extra: the report's URIs and the regressions), which downstream DAGs can be scheduled on.
  With ``fail_on_regression`` it then fails, so the run shows red.

The DAG is created paused: unpause it once its params suit your account.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, task

from airflow_provider_smtrain.operators.evaluation import BenchMarkEvaluatorOperator

POLL_SECONDS = float(os.environ.get("SMTRAIN_EXAMPLE_POLL_SECONDS", "60"))
REPORT = Asset(name="smtrain_nightly_benchmark_report")
LATEST = "nightly/latest.json"

with DAG(
    dag_id="smtrain_nightly_benchmarks",
    schedule=os.environ.get("SMTRAIN_NIGHTLY_SCHEDULE", "0 2 * * *"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # each night compares itself with the one before
    is_paused_upon_creation=True,  # unpause it once its params (bucket, role, models) are right
    tags=["example", "smtrain", "evaluation", "nightly"],
    doc_md=__doc__,
    params={
        "aws_conn_id": "aws_default",
        "bucket": "smtrain-benchmarks",
        "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole",
        "models": ["huggingface-llm-qwen2-5-7b-instruct", "meta-textgeneration-llama-3-2-1b-instruct"],
        "benchmarks": ["mmlu", "bbh"],
        "tolerance": 0.01,
        "fail_on_regression": False,
    },
) as dag:

    @task
    def matrix(params: dict[str, Any] | None = None, dag_run: Any = None) -> list[dict[str, str]]:
        """One evaluation per model and benchmark, each writing under this night's prefix."""
        assert params is not None
        night = dag_run.run_after.strftime("%Y%m%dT%H%M%S")
        return [
            {
                "model": model,
                "benchmark": benchmark,
                "s3_output_path": f"s3://{params['bucket']}/nightly/{night}/{index}-{benchmark}",
                "job_name_prefix": f"nightly-{index}-{benchmark}",
            }
            for index, model in enumerate(params["models"])
            for benchmark in params["benchmarks"]
        ]

    evaluations = BenchMarkEvaluatorOperator.partial(
        task_id="benchmark",
        aws_conn_id="{{ params.aws_conn_id }}",
        role="{{ params.role_arn }}",
        poll_interval=POLL_SECONDS,
        retries=2,
    ).expand_kwargs(matrix())

    @task(outlets=[REPORT])
    def report(
        results: list[dict[str, Any]],
        params: dict[str, Any] | None = None,
        dag_run: Any = None,
        outlet_events: Any = None,
    ) -> dict[str, Any]:
        """Gather the results into one report, compare it with the previous night's, write it to S3."""
        from botocore.exceptions import ClientError

        from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
        from airflow_provider_smtrain.jobs.benchmark_report import (
            build_report,
            find_regressions,
            format_report,
            report_csv,
        )

        assert params is not None and dag_run is not None
        bucket = params["bucket"]
        s3 = SageMakerTrainHook(aws_conn_id=params["aws_conn_id"]).client("s3")
        current = build_report(list(results), dag_run.run_after.isoformat())
        try:
            previous = json.loads(s3.get_object(Bucket=bucket, Key=LATEST)["Body"].read())
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in {"NoSuchKey", "404"}:
                raise
            previous = None
        current["regressions"] = find_regressions(previous, current, tolerance=float(params["tolerance"]))
        current["previous"] = {"created_at": previous["created_at"], "rows": previous["rows"]} if previous else None
        print(format_report(current))

        stamp = dag_run.run_after.strftime("%Y%m%dT%H%M%S")
        keys = {"json": f"nightly/reports/{stamp}.json", "csv": f"nightly/reports/{stamp}.csv"}
        document = json.dumps(current, indent=2).encode()
        s3.put_object(Bucket=bucket, Key=keys["json"], Body=document, ContentType="application/json")
        s3.put_object(Bucket=bucket, Key=keys["csv"], Body=report_csv(current).encode(), ContentType="text/csv")
        s3.put_object(Bucket=bucket, Key=LATEST, Body=document, ContentType="application/json")
        summary = {
            "report_uri": f"s3://{bucket}/{keys['json']}",
            "csv_uri": f"s3://{bucket}/{keys['csv']}",
            "previous_created_at": previous["created_at"] if previous else None,
            "metrics": len(current["rows"]),
            "regressions": current["regressions"],
        }
        outlet_events[REPORT].extra = summary
        if current["regressions"] and params["fail_on_regression"]:
            raise RuntimeError(f"{len(current['regressions'])} metric(s) regressed since the previous night")
        return summary

    report(evaluations.output)
