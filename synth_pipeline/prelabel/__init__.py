"""The `prelabeled` phase: judge scores and taxonomy tags per row (judge calls live in judge/)."""
