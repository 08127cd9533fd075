"""Apache Airflow provider for Amazon SageMaker Python SDK v3 model customization."""

from __future__ import annotations

__version__ = "0.1.0"
