"""SageMaker Pipelines: pipelines, executions that step through their definition, evaluation results."""
