"""Validate a release by fine-tuning a small model on it: held-out loss before/after and a benchmark check."""
