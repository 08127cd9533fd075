"""Hyperparameter tuning jobs: children spawned over time, counters, best job, stops."""
