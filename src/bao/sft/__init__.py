"""Supervised warm start on teacher trajectories."""
