"""The review web app: `create_app(settings)`, served by `synth-pipeline review serve`."""

from synth_pipeline.review.app.factory import create_app
from synth_pipeline.review.app.settings import AppSettings

__all__ = ["AppSettings", "create_app"]
