"""Benchmark decontamination: 13-gram overlap with benchmark suites, with a per-item log.

Entry points: `phase.run` (the `decontaminated` phase) and `release_check` (the
blocking 0-matches check on a release table). No dagster import here.
"""

from synth_pipeline.decontam.phase import build_index, find_matches, release_check

__all__ = ["build_index", "find_matches", "release_check"]
