"""Training: checkpoints, the loop and distributed helpers."""
