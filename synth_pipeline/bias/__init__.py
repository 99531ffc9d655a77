"""Bias audit of a dataset version: demographic parity, sentiment gap, stereotype screen."""
