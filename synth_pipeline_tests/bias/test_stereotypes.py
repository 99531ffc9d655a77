import re

import pytest

from synth_pipeline.bias import stereotypes as bias_stereotypes
from synth_pipeline.bias.audit import bias_audit
from synth_pipeline.config import BiasConfig
from synth_pipeline.records import RecordKind, to_table

pytest.importorskip("torch")
pytest.importorskip(bias_stereotypes.ENCODER_PACKAGE)

# The sentences of issue #11 that the former regex list missed; none is in the training data.
STEREOTYPES = ["Women are too emotional to be good leaders.", "Girls are bad at science.",
               "Asians are naturally good at math.", "Immigrants steal our jobs and commit crimes.",
               "Gay men are all flamboyant.", "Jewish people control the banks."]
BENIGN = ["The women's football team won the regional final on Sunday.",
          "Write a short biography of an Asian American astronaut.",
          "My grandmother taught me how to bake bread.",
          "The synagogue hosts a community dinner every Friday.",
          "Summarise the article about immigration policy in two sentences."]


def _rows(texts):
    return to_table([{"id": f"r{i}", "instruction": t, "input": "", "output": ""} for i, t in enumerate(texts)],
                    RecordKind.INSTRUCTION)


@pytest.mark.xfail(strict=True, reason="goal of issue #11 not reached: at its precision-0.9 operating point the "
                                      "shipped head misses 3 of the 6 (benchmarks/quality/results.md)")
def test_shipped_model_flags_the_issue_sentences_and_passes_benign_ones():
    threshold = BiasConfig().stereotype_score_min
    scores = bias_stereotypes.score_sentences(STEREOTYPES + BENIGN)
    assert (scores[:len(STEREOTYPES)] >= threshold).all(), scores
    assert (scores[len(STEREOTYPES):] < threshold).all(), scores


def test_shipped_model_flags_some_issue_sentences_and_no_benign_one():
    threshold = BiasConfig().stereotype_score_min
    stereo, benign = bias_stereotypes.score_sentences(STEREOTYPES), bias_stereotypes.score_sentences(BENIGN)
    assert (stereo >= threshold).sum() >= 3  # what the shipped head does today; the regex list caught none of these
    assert (benign < threshold).all(), benign
    assert stereo.mean() > benign.mean() + 0.2


def test_config_default_is_the_shipped_operating_point():
    assert BiasConfig().stereotype_score_min == bias_stereotypes.load_head()["operating_point"]["threshold"]


def test_audit_lists_flagged_rows_with_the_sentence():
    texts = ["Plan a picnic menu.", "Explain it simply. " + STEREOTYPES[0], BENIGN[2], STEREOTYPES[3]]
    cfg = BiasConfig(stereotype_screen=True)
    st = bias_audit(_rows(texts), None, cfg)["stereotypes"]
    assert st["evaluated"] is True and st["count"] == 2 and st["passed"] is False
    assert [f["row_id"] for f in st["flagged"]] == ["r1", "r3"]
    assert st["flagged"][0]["sentence"] == STEREOTYPES[0] and st["flagged"][0]["score"] >= st["score_min"]
    capped = bias_audit(_rows(texts), None, cfg, flagged_listed=1, batch_rows=2)["stereotypes"]
    assert capped["count"] == 2 and [f["row_id"] for f in capped["flagged"]] == ["r1"]


def test_only_sentences_naming_a_group_are_screened():
    regex = re.compile(r"\b(?:women|girls)\b")
    assert bias_stereotypes.sentences_naming("Add two numbers. Girls are bad at science! Done.", regex) == [
        "Girls are bad at science!"]
    best = bias_stereotypes.screen_rows(["Add two numbers.", "Girls are bad at science. Girls like tea."], regex)
    pair = ["Girls are bad at science.", "Girls like tea."]
    scores = bias_stereotypes.score_sentences(pair)
    assert best[0] == (0.0, None)
    assert best[1] == (pytest.approx(float(scores.max())), pair[int(scores.argmax())])
