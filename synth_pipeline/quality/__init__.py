"""Detectors: row filters, response checks, PII, toxicity, dedup, novelty, diversity metrics (no dagster)."""
