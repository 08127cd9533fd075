"""Local SageMaker: real-time endpoints on the simulated clock."""
