"""The `filtered` phase: per-row steps in a configurable order, then dedup and novelty (no dagster)."""
