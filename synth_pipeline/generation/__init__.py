"""Teacher client and generation methods (no dagster import)."""
