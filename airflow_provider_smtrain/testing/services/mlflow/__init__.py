"""SageMaker managed MLflow apps (``CreateMlflowApp`` ... ``CreatePresignedMlflowAppUrl``)."""
