"""Lambda functions whose Python handler really runs, locally (moto needs Docker for that)."""
