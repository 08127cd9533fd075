"""Pure descriptions of SageMaker jobs: kinds and statuses, names, and the JSON results of operators."""
