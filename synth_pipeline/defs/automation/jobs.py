"""The job a whole version runs as when the schedule or the sensor starts it."""

import dagster as dg

from synth_pipeline.defs.partitions import dataset_version

LLM_TAG = "synth/llm"
"""Runs that call an LLM carry it; deploy/dagster.yaml limits how many of them run at once."""

version_job = dg.define_asset_job(
    "synth_version", selection=dg.AssetSelection.groups("synth"), partitions_def=dataset_version,
    tags={LLM_TAG: "true"}, description="Every phase of one dataset version, seeds to release.",
)
