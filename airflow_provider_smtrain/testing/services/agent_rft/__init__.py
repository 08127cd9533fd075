"""AgentRFT jobs (``CreateJob`` and friends), which moto lacks."""
