"""Provider metadata read by Airflow's ProvidersManager (``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.jobs import catalog

_PACKAGE = "airflow_provider_smtrain"


def get_provider_info() -> dict[str, Any]:
    """
    Return the provider description: hooks, operators, sensors, triggers, extra links, configuration.

    Sensors, triggers and extra links are read from the job catalog (:mod:`airflow_provider_smtrain.jobs.catalog`).
    """
    return {
        "package-name": "airflow-provider-smtrain",
        "name": "SageMaker Train (SDK v3)",
        "description": "Run Amazon SageMaker Python SDK v3 model customization (ModelTrainer, "
        "HyperparameterTuner, fine-tuning, evaluation) from Airflow 3 DAGs.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "Amazon SageMaker Train (SDK v3)",
                "external-doc-url": "https://sagemaker.readthedocs.io/",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Amazon SageMaker Train (SDK v3)",
                "python-modules": [f"{_PACKAGE}.hooks.sagemaker_train"],
            }
        ],
        "operators": [
            {
                "integration-name": "Amazon SageMaker Train (SDK v3)",
                "python-modules": [
                    f"{_PACKAGE}.operators.model_trainer",
                    f"{_PACKAGE}.operators.tuner",
                    f"{_PACKAGE}.operators.finetune",
                    f"{_PACKAGE}.operators.multi_turn_rl",
                    f"{_PACKAGE}.operators.registry",
                    f"{_PACKAGE}.operators.evaluation",
                    f"{_PACKAGE}.operators.deploy",
                    f"{_PACKAGE}.operators.model_package",
                    f"{_PACKAGE}.operators.gate",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Amazon SageMaker Train (SDK v3)",
                "python-modules": catalog.sensor_modules(),
            }
        ],
        "triggers": [
            {
                "integration-name": "Amazon SageMaker Train (SDK v3)",
                "python-modules": catalog.trigger_modules(),
            }
        ],
        "config": {
            "smtrain": {
                "description": "Settings of the SageMaker Train (SDK v3) provider.",
                "options": {
                    "default_deferrable": {
                        "description": "Whether the provider's job operators and sensors wait in the "
                        "triggerer unless a task says otherwise. Independent of [operators] "
                        "default_deferrable, which Airflow ships as False.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "coalesce_status_reads": {
                        "description": "Whether the triggers of one triggerer that wait for jobs of one "
                        "kind through one connection share one poller, which reads all their statuses "
                        "with one List* call per poll (describing a job only when it is new, ended, or "
                        "missing from the listing). False: every trigger describes its own job.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "freeze_gc_in_triggerer": {
                        "description": "Whether the first status poller started in a triggerer moves the "
                        "objects that exist then (imported modules and the like) out of the garbage "
                        "collector's reach (gc.freeze), so full collections do not stall the triggerer's "
                        "event loop for hundreds of milliseconds scanning them. False: leave the garbage "
                        "collector as Airflow configured it.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "trigger_client_max_age": {
                        "description": "Seconds after which the SageMaker client the triggers of one "
                        "triggerer share is rebuilt (rotated connection keys and expiring session "
                        "tokens are picked up while triggers keep waiting).",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "300",
                        "default": "900",
                    },
                },
            }
        },
        "extra-links": catalog.extra_links(),
    }
