import json

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from synth_pipeline.bias.audit import bias_audit, row_texts
from synth_pipeline.config import BiasConfig, PipelineConfig, TaxonomyConfig
from synth_pipeline.errors import ConfigError
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
    # an absent group is listed apart and does not zero the parity of the groups that occur
    assert gender["absent_groups"] == ["nonbinary"] and gender["targeted_groups"] == ["female", "male"]
    assert gender["groups"]["nonbinary"]["parity"] is None
    assert gender["parity_ratio"] == 0.5
    lo, hi = gender["ci"]
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    assert gender["status"] == "pass" and gender["passed"] is True  # 6 vs 3 rows prove no skew
    assert report["representation"]["religion"]["status"] == "insufficient_evidence"
    assert report["representation"]["religion"]["passed"] is None


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
    assert check == {"name": "bias_parity_sex", "value": 0.5, "ci": sex["ci"], "threshold": 0.4, "status": "pass",
                     "passed": True, "blocking": False, "evaluated": True}


def test_sentiment_gap_by_group_matches_vader():
    vader = SentimentIntensityAnalyzer()
    mean = lambda texts: sum(vader.polarity_scores(t)["compound"] for t in texts) / len(texts)  # noqa: E731
    report = bias_audit(_rows(POSITIVE + NEGATIVE), None, BiasConfig(min_group_rows=3, sentiment_gap_max=0.1))
    gender = report["sentiment"]["by_attribute"]["gender"]
    assert gender["by_group"]["female"]["mean"] == pytest.approx(mean(POSITIVE), abs=1e-4)
    assert gender["by_group"]["male"]["mean"] == pytest.approx(mean(NEGATIVE), abs=1e-4)
    assert gender["gap"] == pytest.approx(mean(POSITIVE) - mean(NEGATIVE), abs=2e-4)
    assert (gender["most_positive"], gender["most_negative"]) == ("female", "male")
    assert gender["ci"][0] > 0.1 and gender["status"] == "fail" and gender["passed"] is False
    assert report["sentiment"]["largest_gap"]["attribute"] == "gender"
    # below min_group_rows a group does not enter the gap: insufficient evidence, not a failure
    report = bias_audit(_rows(POSITIVE + NEGATIVE), None, BiasConfig(min_group_rows=4))
    gender = report["sentiment"]["by_attribute"]["gender"]
    assert gender["gap"] is None and gender["status"] == "insufficient_evidence" and gender["passed"] is None
    assert gender["insufficient_groups"] == ["male"] and gender["eligible_groups"] == ["female"]


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
    cov = bias_audit(_rows(["x"] * 10, ["a"] * 5 + ["b"] * 5), taxonomy, BiasConfig())["coverage"]
    assert cov["target_share"] == {"a": 0.5, "b": 0.5} and cov["passed"] is True
    assert bias_audit(_rows(["x"]), None, BiasConfig())["coverage"]["passed"] is None


def test_topic_coverage_on_a_handful_of_rows_is_insufficient_evidence_not_a_failure():
    # 3 of 4 rows in one of six domains: the chi-square test is not valid with ~1 expected row each
    taxonomy = TaxonomyConfig(domains=["a", "b", "c", "d"])
    cov = bias_audit(_rows(["x"] * 4, ["a", "a", "a", "b"]), taxonomy, BiasConfig())["coverage"]
    assert cov["status"] == "insufficient_evidence" and cov["passed"] is None and cov["p_value"] is None
    skewed = bias_audit(_rows(["x"] * 40, ["a"] * 37 + ["b"] * 3), taxonomy, BiasConfig())["coverage"]
    assert skewed["passed"] is False and skewed["over_represented"] == ["a"]


def test_chat_and_preference_rows_are_read():
    chat = to_table([{"id": "c", "messages": [{"role": "user", "content": "Hi"},
                                              {"role": "assistant", "content": "All MEN are lazy"}]}],
                    RecordKind.CHAT)
    assert row_texts(chat).to_pylist() == ["hi\nall men are lazy"]
    groups = bias_audit(chat, None, BiasConfig(min_group_rows=1))["representation"]["gender"]["groups"]
    assert groups["male"]["rows"] == 1
    pref = to_table([{"id": "p", "prompt": "Q", "chosen": "Nice", "rejected": "Girls are stupid"}],
                    RecordKind.PREFERENCE)
    groups = bias_audit(pref, None, BiasConfig(min_group_rows=1))["representation"]["gender"]["groups"]
    assert groups["female"]["rows"] == 1


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
    assert whole["representation"]["gender"]["ci"] is not None


def test_chat_rows_stream_like_the_whole_table(tmp_path):
    chat = to_table([{"id": f"c{i}", "messages": [{"role": "user", "content": "Hi"},
                                                  {"role": "assistant", "content": t}]}
                     for i, t in enumerate(POSITIVE + ["All MEN are lazy"])], RecordKind.CHAT)
    whole = bias_audit(chat, None, BiasConfig(min_group_rows=1))
    assert bias_audit(_stored(chat, tmp_path), None, BiasConfig(min_group_rows=1), batch_rows=2) == whole
    assert whole["representation"]["gender"]["groups"]["male"]["rows"] == 1


def _gendered(female: int, male: int, female_text: str = "She wrote a report.",
              male_text: str = "He wrote a report."):
    return _rows([female_text] * female + [male_text] * male + ["The weather report."] * 10)


def test_balanced_dataset_with_an_absent_group_passes():
    report = bias_audit(_gendered(100, 95), None, BiasConfig())
    gender = report["representation"]["gender"]
    assert gender["absent_groups"] == ["nonbinary"] and gender["status"] == "pass"
    assert gender["ci"][1] >= 0.8
    sent = report["sentiment"]["by_attribute"]["gender"]
    assert sent["gap"] == 0.0 and sent["status"] == "pass"
    gates = [c for c in report["checks"] if c["name"].startswith(("bias_parity", "bias_sentiment"))]
    assert gates and all(c["passed"] is not False for c in gates)


def test_skewed_dataset_fails_on_evidence():
    report = bias_audit(_gendered(40, 300), None, BiasConfig())
    gender = report["representation"]["gender"]
    assert gender["parity_ratio"] == round(40 / 300, 4)
    assert gender["ci"][1] < 0.8 and gender["status"] == "fail" and gender["passed"] is False
    check = next(c for c in report["checks"] if c["name"] == "bias_parity_gender")
    assert check["passed"] is False and check["ci"] == gender["ci"] and report["passed"] is False
    sent = bias_audit(_gendered(60, 60, "She is a wonderful, brilliant and kind leader.",
                                "He is a terrible, cruel and awful leader."), None, BiasConfig())
    gap = sent["sentiment"]["by_attribute"]["gender"]
    assert gap["ci"][0] > 0.1 and gap["status"] == "fail" and gap["passed"] is False


def test_tiny_groups_are_insufficient_evidence_not_failure():
    report = bias_audit(_gendered(4, 1), None, BiasConfig())  # min_group_rows 30
    gender = report["representation"]["gender"]
    assert gender["parity_ratio"] is None and gender["status"] == "insufficient_evidence"
    assert gender["passed"] is None
    sent = report["sentiment"]["by_attribute"]["gender"]
    assert sent["status"] == "insufficient_evidence" and sent["insufficient_groups"] == ["female", "male"]
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["bias_parity_gender"]["evaluated"] is False
    assert checks["bias_parity_gender"]["status"] == "insufficient_evidence"


def test_targeted_absent_group_counts_as_zero():
    cfg = BiasConfig(target_groups={"gender": ["female", "male", "nonbinary"]})
    gender = bias_audit(_gendered(100, 100), None, cfg)["representation"]["gender"]
    assert gender["targeted_groups"] == ["female", "male", "nonbinary"]
    assert gender["parity_ratio"] == 0.0 and gender["ci"] == [0.0, 0.0] and gender["status"] == "fail"
    with pytest.raises(ConfigError, match=r"bias.target_groups.gender: \['martian'\]"):
        bias_audit(_gendered(1, 1), None, BiasConfig(target_groups={"gender": ["martian"]}))
    with pytest.raises(ConfigError, match="bias.target_groups: attribute 'height'"):
        bias_audit(_gendered(1, 1), None, BiasConfig(target_groups={"height": ["tall"]}))


def test_intervals_follow_the_seed():
    table = _gendered(50, 80)
    a = bias_audit(table, None, BiasConfig(seed=1))["representation"]["gender"]["ci"]
    assert bias_audit(table, None, BiasConfig(seed=1))["representation"]["gender"]["ci"] == a
    assert bias_audit(table, None, BiasConfig(seed=2))["representation"]["gender"]["ci"] != a


def test_stereotype_screen_off_is_not_evaluated_not_passed():
    report = bias_audit(_rows(["All women are lazy."]), None, BiasConfig())  # off by default
    st = report["stereotypes"]
    assert st["evaluated"] is False and st["passed"] is None and st["skipped"] == "bias.stereotype_screen is off"
    check = next(c for c in report["checks"] if c["name"] == "bias_stereotype_flags")
    assert check["evaluated"] is False and check["status"] == "not_evaluated"
