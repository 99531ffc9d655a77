"""The phases of a dataset version, in order, with what each reads and its domain entry point.

This tuple is the one place the phase order is written: the runner materializes phases in
this order, the CLI lists them, `TABLE_PHASES` are the phases whose summaries a release
reports, and a test holds the Dagster asset graph to the `upstream` named here. Entry points are named as
"module:function" and imported only when asked for, so reading the order loads no phase code.
Every table phase's entry point returns a `PhaseOutput`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    upstream: tuple[str, ...]
    # "module:function"; None while the phase is not built (its asset passes rows through)
    entry: str | None
    # alternative entry points, chosen by config (import mode, uploaded seeds)
    alternatives: tuple[str, ...] = ()

    def load(self, entry: str | None = None) -> Callable[..., Any]:
        """The entry point's function (or one of the alternatives), imported now."""
        target = entry or self.entry
        if target is None:
            raise LookupError(f"phase {self.name!r} has no domain entry point yet")
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


PHASES: tuple[PhaseSpec, ...] = (
    PhaseSpec("seeds", (), "synth_pipeline.ingest.seeds:load_seeds",
              ("synth_pipeline.ingest.uploads:load_uploaded_seeds",)),
    PhaseSpec("generated", ("seeds",), "synth_pipeline.generation.run:run_generation",
              ("synth_pipeline.ingest.imports:import_rows",)),
    PhaseSpec("filtered", ("generated", "seeds"), "synth_pipeline.filtering.phase:run"),
    PhaseSpec("prelabeled", ("filtered",), "synth_pipeline.prelabel.phase:run"),
    PhaseSpec("reviewed", ("prelabeled",), "synth_pipeline.review.phase:run"),
    PhaseSpec("decontaminated", ("reviewed",), "synth_pipeline.decontam.phase:run"),
    PhaseSpec("release", ("decontaminated",), "synth_pipeline.export.release:write_release"),
)
PHASE_NAMES: tuple[str, ...] = tuple(p.name for p in PHASES)
# the phases whose tables and summaries the release reads (every phase before it)
TABLE_PHASES: tuple[str, ...] = PHASE_NAMES[:-1]
# assets after the release that `run` does not materialize (each has its own CLI command)
AFTER_RELEASE: tuple[PhaseSpec, ...] = (
    PhaseSpec("validation", ("release",), "synth_pipeline.validate.run:evaluate_release"),
)
ASSET_NAMES: tuple[str, ...] = PHASE_NAMES + tuple(p.name for p in AFTER_RELEASE)


def phase(name: str) -> PhaseSpec:
    for spec in PHASES:
        if spec.name == name:
            return spec
    raise KeyError(f"no phase {name!r}; phases: {', '.join(PHASE_NAMES)}")
