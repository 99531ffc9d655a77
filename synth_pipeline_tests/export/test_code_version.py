import re
import subprocess

import synth_pipeline
from synth_pipeline.export import code_version as module


def test_names_the_package_version_and_the_commit_when_there_is_one():
    version = module.code_version()
    assert re.fullmatch(rf"synth-pipeline {re.escape(synth_pipeline.__version__)}( \(git [0-9a-f]{{12}}\))?",
                        version), version


def test_without_git_it_is_the_package_version(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert module.code_version() == f"synth-pipeline {synth_pipeline.__version__}"
