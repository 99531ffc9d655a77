"""User-facing errors: one clear line each, naming the file, line and field at fault."""

from __future__ import annotations


class SynthPipelineError(Exception):
    """Base class of errors the CLI prints as one line (a traceback only with --debug)."""


class ConfigError(SynthPipelineError):
    """pipeline.yaml or taxonomy.yaml is invalid."""


class InputError(SynthPipelineError):
    """A seed or import file cannot be read at all (missing, empty, wrong encoding)."""


class StorageError(SynthPipelineError):
    """Intermediate storage (local folder or S3) failed: missing object, bucket, credentials."""


class ReleaseError(SynthPipelineError):
    """A release cannot be written (e.g. the version was already released)."""


class ReviewIncomplete(SynthPipelineError):
    """A version's human review is not finished: the reviewed phase waits for its queue to complete."""
