"""SageMaker hubs: the public hub's fine-tuning catalogue and private hubs (the AI Registry's)."""
