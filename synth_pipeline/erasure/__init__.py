"""Right to erasure: every row derived from a seed or source, found by lineage and removed everywhere.

`lineage` finds the rows, `scrub` rewrites what the store, spools and caches hold, `erasure_list`
keeps the seeds phase from bringing them back, and `run.erase` does it all and records it.
"""
