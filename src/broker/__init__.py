"""The broker: owns every piece of state and every decision; never makes an HTTP call."""
