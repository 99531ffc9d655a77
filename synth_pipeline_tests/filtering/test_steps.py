from __future__ import annotations

import pytest

from synth_pipeline.config import FILTER_STEPS, FiltersConfig, load_pipeline_config
from synth_pipeline.errors import ConfigError
from synth_pipeline.filtering.steps import UserStep, build_steps, forkable_prefix
from synth_pipeline.quality.filters import Reason
from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.quality.toxicity import make_scorer, threshold_for
from synth_pipeline.records import RecordKind


class NeedsArgs:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def filter(self, row):
        return True


class NoFilter:
    pass


class Sloppy:
    def filter(self, row):
        return "no"


def _build(fc: FiltersConfig):
    scorer = make_scorer(fc)
    return build_steps(RecordKind.INSTRUCTION, fc, scorer, threshold_for(fc, scorer),
                       PiiScanner.from_config(fc), pii_max=0)


def test_every_built_in_name_builds_a_step_in_the_listed_order():
    fc = FiltersConfig(repetition_scope="row", gopher_quality=True)
    assert fc.steps == list(FILTER_STEPS)
    steps = _build(fc)
    assert [s.name for s in steps] == list(FILTER_STEPS)
    # PII has its own pool and memo: it and everything after it run in the parent
    assert forkable_prefix(steps) == FILTER_STEPS.index("pii")
    reordered = FiltersConfig(steps=["format", "pii", "language", "length"], repetition_scope="row")
    assert [s.name for s in _build(reordered)] == ["format", "pii", "language", "length"]
    assert forkable_prefix(_build(reordered)) == 1


def test_built_ins_switched_off_by_their_own_settings_are_skipped():
    fc = FiltersConfig(languages=[], pii_entities=[], gopher_quality=False, repetition_scope="response")
    assert [s.name for s in _build(fc)] == ["format", "response", "length", "toxicity"]


def _yaml(tmp_path, steps: str):
    f = tmp_path / "pipeline.yaml"
    f.write_text(f"seeds:\n  paths: [s.jsonl]\nfilters:\n  steps: {steps}\n")
    return f


def test_unknown_step_fails_at_config_load_naming_the_setting(tmp_path):
    f = _yaml(tmp_path, "[format, lenght]")
    with pytest.raises(ConfigError, match=rf"{f}:4: filters.steps: Value error, steps\[1\]: unknown step 'lenght'"):
        load_pipeline_config(f)


def test_unimportable_or_unusable_user_step_fails_at_config_load(tmp_path):
    f = _yaml(tmp_path, "[format, 'no_such_module_x:Thing']")
    with pytest.raises(ConfigError, match=r"filters.steps: .*steps\[1\]: cannot import user step "
                                          r"'no_such_module_x:Thing': ModuleNotFoundError"):
        load_pipeline_config(f)
    f = _yaml(tmp_path, f"[format, '{__name__}:Missing']")
    with pytest.raises(ConfigError, match=r"cannot import user step .*AttributeError"):
        load_pipeline_config(f)
    f = _yaml(tmp_path, f"[format, '{__name__}:NoFilter']")
    with pytest.raises(ConfigError, match=r"is not a class with a filter\(row\) method"):
        load_pipeline_config(f)


def test_format_comes_first_and_once(tmp_path):
    with pytest.raises(ConfigError, match=r"filters.steps: .*'format' must be the first step"):
        load_pipeline_config(_yaml(tmp_path, "[length, format]"))
    with pytest.raises(ConfigError, match=r"filters.steps: .*listed twice"):
        load_pipeline_config(_yaml(tmp_path, "[format, length, length]"))


def test_user_step_that_cannot_be_built_fails_at_phase_start():
    fc = FiltersConfig(steps=["format", f"{__name__}:NeedsArgs"])
    with pytest.raises(ConfigError, match=r"filters.steps\[1\]: cannot build user step .*NeedsArgs.*TypeError"):
        _build(fc)


def test_user_step_verdicts_become_reasons():
    class NoQuestions:
        def __init__(self, answer):
            self.answer = answer

        def filter(self, row):
            return self.answer

    rows, texts = [{"id": "a"}], ["a"]
    for answer, expected in [
        (True, None),
        (False, Reason("user_no_questions", detail="m:NoQuestions")),
        ((False, "my_rule"), Reason("my_rule", detail="m:NoQuestions")),
        ((False, Reason("mine", 3, 1)), Reason("mine", 3, 1)),
    ]:
        verdict = [None]
        UserStep("m:NoQuestions", NoQuestions(answer)).check(rows, texts, verdict)
        assert verdict == [expected]
    with pytest.raises(TypeError, match=r"user step 'm:Sloppy' returned 'no'"):
        UserStep("m:Sloppy", Sloppy()).check(rows, texts, [None])
