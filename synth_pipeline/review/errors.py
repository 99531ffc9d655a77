"""Why a review action was refused; the web app maps them to HTTP statuses."""

from __future__ import annotations

from synth_pipeline.errors import SynthPipelineError


class ReviewError(SynthPipelineError):
    """A review action that cannot be done as asked."""


class NotEligible(ReviewError):
    """The user may not act on this item (role, or not their item)."""


class QuotaFull(ReviewError):
    """The item already has all the responses it needs."""


class AlreadySubmitted(ReviewError):
    """This reviewer already submitted a response to the item (or it was already adjudicated)."""


class NotFound(ReviewError):
    """No such item."""


class InvalidResponse(ReviewError):
    """The decision, scores or fields of a response are not valid."""
