"""Training jobs: timed lifecycles, stops, logs, model artifacts, name rules, ListTrainingJobs."""
