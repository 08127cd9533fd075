"""Deferrable sensors for SageMaker jobs."""
