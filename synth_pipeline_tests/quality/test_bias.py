import json

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from synth_pipeline.config import BiasConfig, PipelineConfig, TaxonomyConfig
from synth_pipeline.errors import ConfigError
from synth_pipeline.quality.bias import bias_audit, row_texts
from synth_pipeline.records import RecordKind, to_table

POSITIVE = ["The woman was wonderful and kind.", "She is a brilliant, caring teacher.",
            "My sister did a great job, I love it.", "Her garden is beautiful and happy.",
            "The girls had a fantastic, joyful day.", "Women in the club were friendly and helpful."]
NEGATIVE = ["The man was terrible and cruel.", "He made an awful, horrible mess.",
            "My brother was angry and sad all day."]


def _rows(texts, domains=None):
    domains = domains or ["a"] * len(texts)
    return to_table([{"id": f"r{i}", "instruction": t, "input": "", "output": "", "metadata": {"domain": d}}
                     for i, (t, d) in enumerate(zip(texts, domains, strict=True))], RecordKind.INSTRUCTION)


def test_representation_counts_and_parity():
    table = _rows(POSITIVE + NEGATIVE + ["A neutral sentence about the weather."])
    report = bias_audit(table, None, BiasConfig(min_group_rows=3))
    gender = report["representation"]["gender"]
    assert gender["groups"]["female"]["rows"] == 6
    assert gender["groups"]["male"]["rows"] == 3
    assert gender["groups"]["nonbinary"]["rows"] == 0
    assert gender["rows_mentioning"] == 9
    assert gender["groups"]["male"]["parity"] == 0.5
    assert gender["absent_groups"] == ["nonbinary"]
    assert gender["parity_ratio"] == 0.0 and gender["passed"] is False
    assert report["representation"]["religion"]["passed"] is None  # too few rows to judge


def test_configured_attribute_from_an_extra_lexicon(tmp_path):
    lex = tmp_path / "lex.json"
    lex.write_text(json.dumps({"sex": {"f": ["woman", "women", "she", "her", "sister", "girls"],
                                       "m": ["man", "he", "brother"]}}))
    cfg = PipelineConfig(seeds={"paths": ["s"]}, bias={"attributes": [], "lexicons": [str(lex)],
                                                       "min_group_rows": 3, "parity_min": 0.4})
    report = bias_audit(_rows(POSITIVE + NEGATIVE), None, cfg)
    sex = report["representation"]["sex"]
    assert sex["parity_ratio"] == 0.5 and sex["passed"] is True
    check = next(c for c in report["checks"] if c["name"] == "bias_parity_sex")
    assert check == {"name": "bias_parity_sex", "value": 0.5, "threshold": 0.4, "passed": True,
                     "blocking": False, "evaluated": True}


def test_sentiment_gap_by_group_matches_vader():
    vader = SentimentIntensityAnalyzer()
    mean = lambda texts: sum(vader.polarity_scores(t)["compound"] for t in texts) / len(texts)  # noqa: E731
    report = bias_audit(_rows(POSITIVE + NEGATIVE), None, BiasConfig(min_group_rows=3, sentiment_gap_max=0.1))
    gender = report["sentiment"]["by_attribute"]["gender"]
    assert gender["by_group"]["female"]["mean"] == pytest.approx(mean(POSITIVE), abs=1e-4)
    assert gender["by_group"]["male"]["mean"] == pytest.approx(mean(NEGATIVE), abs=1e-4)
    assert gender["gap"] == pytest.approx(mean(POSITIVE) - mean(NEGATIVE), abs=2e-4)
    assert (gender["most_positive"], gender["most_negative"], gender["passed"]) == ("female", "male", False)
    assert report["sentiment"]["largest_gap"]["attribute"] == "gender"
    # below min_group_rows a group does not enter the gap
    report = bias_audit(_rows(POSITIVE + NEGATIVE), None, BiasConfig(min_group_rows=4))
    assert report["sentiment"]["by_attribute"]["gender"]["gap"] is None


def test_topic_coverage_chi_square_names_over_and_under_represented():
    taxonomy = TaxonomyConfig(domains=["a", "b", "c"], targets={"a": 0.5, "b": 0.5, "c": 0.0})
    table = _rows(["x"] * 101, ["a"] * 90 + ["b"] * 10 + ["zzz"])
    cov = bias_audit(table, taxonomy, BiasConfig())["coverage"]
    assert cov["observed"] == {"a": 90, "b": 10, "c": 0}
    assert cov["rows_without_taxonomy_domain"] == 1
    assert cov["chi2"] == pytest.approx(64.0)  # (40^2 + 40^2) / 50
    assert cov["p_value"] < 1e-10 and cov["passed"] is False
    assert cov["over_represented"] == ["a"] and cov["under_represented"] == ["b"]
    balanced = bias_audit(_rows(["x"] * 100, ["a"] * 50 + ["b"] * 50), taxonomy, BiasConfig())["coverage"]
    assert balanced["chi2"] == 0.0 and balanced["passed"] is True and balanced["over_represented"] == []


def test_uniform_targets_when_taxonomy_has_none_and_skip_without_taxonomy():
    taxonomy = TaxonomyConfig(domains=["a", "b"])
    cov = bias_audit(_rows(["x"] * 4, ["a", "a", "b", "b"]), taxonomy, BiasConfig())["coverage"]
    assert cov["target_share"] == {"a": 0.5, "b": 0.5} and cov["passed"] is True
    assert bias_audit(_rows(["x"]), None, BiasConfig())["coverage"]["passed"] is None


def test_stereotype_screen_flags_rows_with_reason():
    texts = ["All women are lazy.", "Older people can't use computers at all.",
             "Muslims are naturally violent.", "Women are great at math.",
             "The elderly man enjoyed learning to code.", "Typical engineers are busy."]
    report = bias_audit(_rows(texts), None, BiasConfig())
    st = report["stereotypes"]
    assert [f["row_id"] for f in st["flagged"]] == ["r0", "r1", "r2"]
    assert st["flagged"][0]["rule"] == "stereotype_generalisation"
    assert st["flagged"][0]["match"] == "all women are lazy"
    assert st["flagged"][1]["rule"] == "stereotype_ability"
    assert st["flagged"][0]["reason"]
    assert st["passed"] is False and report["passed"] is False
    assert all(c["blocking"] is False for c in report["checks"])


def test_chat_and_preference_rows_are_read():
    chat = to_table([{"id": "c", "messages": [{"role": "user", "content": "Hi"},
                                              {"role": "assistant", "content": "All MEN are lazy"}]}],
                    RecordKind.CHAT)
    assert row_texts(chat).to_pylist() == ["hi\nall men are lazy"]
    assert bias_audit(chat, None, BiasConfig())["stereotypes"]["count"] == 1
    pref = to_table([{"id": "p", "prompt": "Q", "chosen": "Nice", "rejected": "Girls are stupid"}],
                    RecordKind.PREFERENCE)
    assert bias_audit(pref, None, BiasConfig())["stereotypes"]["flagged"][0]["row_id"] == "p"


def test_bad_lexicon_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": ["not", "a", "mapping"]}')
    with pytest.raises(ConfigError, match=r"bad\.json: attribute 'x'"):
        bias_audit(_rows(["x"]), None, BiasConfig(lexicons=[str(bad)]))
    with pytest.raises(ConfigError, match="bias.attributes"):
        bias_audit(_rows(["x"]), None, BiasConfig(attributes=["height"]))


def _stored(table, tmp_path):
    import pyarrow.parquet as pq

    from synth_pipeline.tables import Rows

    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=3)
    return Rows(path=str(path))


def test_parquet_rows_in_small_batches_give_the_whole_table_report(tmp_path):
    texts = POSITIVE + NEGATIVE + ["A neutral sentence about the weather.", "All women are lazy.",
                                   "Older people can't use computers at all."]
    table = _rows(texts, ["a", "b", "a", "zzz", "a", "b", "a", "a", "b", "c", "a", "b"])
    taxonomy = TaxonomyConfig(domains=["a", "b", "c"])
    cfg = BiasConfig(min_group_rows=3)
    whole = bias_audit(table, taxonomy, cfg)
    for batch_rows in (2, 3):
        assert bias_audit(_stored(table, tmp_path), taxonomy, cfg, batch_rows=batch_rows) == whole
    assert whole["rows"] == 12 and whole["coverage"]["observed"] == {"a": 6, "b": 4, "c": 1}
    assert [f["row_id"] for f in whole["stereotypes"]["flagged"]] == ["r10", "r11"]


def test_chat_rows_stream_like_the_whole_table(tmp_path):
    chat = to_table([{"id": f"c{i}", "messages": [{"role": "user", "content": "Hi"},
                                                  {"role": "assistant", "content": t}]}
                     for i, t in enumerate(POSITIVE + ["All MEN are lazy"])], RecordKind.CHAT)
    whole = bias_audit(chat, None, BiasConfig(min_group_rows=1))
    assert bias_audit(_stored(chat, tmp_path), None, BiasConfig(min_group_rows=1), batch_rows=2) == whole
    assert whole["stereotypes"]["flagged"][0]["row_id"] == "c6"


def test_stereotype_list_is_capped_but_every_row_counted():
    texts = ["All women are lazy.", "A neutral sentence.", "Muslims are naturally violent.",
             "Older people can't use computers at all.", "All men are lazy."]
    st = bias_audit(_rows(texts), None, BiasConfig(), batch_rows=2, flagged_listed=2)["stereotypes"]
    assert st["count"] == 4 and st["listed_max"] == 2 and st["passed"] is False
    assert [f["row_id"] for f in st["flagged"]] == ["r0", "r2"]
