"""Hooks: the Airflow AWS connection turned into one boto3 session and one SageMaker SDK session."""
