"""Dataset versions: one dynamic partition per version, added by the CLI, the UI or a sensor."""

import dagster as dg

dataset_version = dg.DynamicPartitionsDefinition(name="dataset_version")
