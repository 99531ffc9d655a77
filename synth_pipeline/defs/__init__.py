"""The Dagster shell: one folder per phase (assets.py, checks.py), resources, IO, partitions."""
