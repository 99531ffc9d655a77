"""Schedules and jobs that run the pipeline unattended: nightly versions and retention.

Their cron and on/off state come from pipeline.yaml, so `definitions.build_defs` builds them
from the loaded config instead of the defs folder loading module-level objects.
"""
