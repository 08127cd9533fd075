"""Operators: what a DAG author writes. Import from the submodules (e.g. ``operators.model_trainer``)."""
