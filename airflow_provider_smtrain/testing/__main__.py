"""``python -m airflow_provider_smtrain.testing serve ...``: run the LocalSageMaker server."""

from __future__ import annotations

import sys

from airflow_provider_smtrain.testing.server.app import main

if __name__ == "__main__":
    sys.exit(main())
