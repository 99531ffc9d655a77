"""Human review: the store, the web app, agreement metrics and the reviewed phase (no dagster import)."""
