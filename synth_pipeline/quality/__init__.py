"""Auto-filters, PII, toxicity, dedup, novelty, diversity metrics and quality gates (no dagster)."""
