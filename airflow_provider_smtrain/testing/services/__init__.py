"""The emulated services, one folder each: what moto lacks for them, on top of moto's models."""
