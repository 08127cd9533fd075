"""What every emulated service shares: the simulation clock, timelines, outcome rules, the simulator."""
