from __future__ import annotations

import pytest

from synth_pipeline.config import load_config, load_pipeline_config
from synth_pipeline.errors import ConfigError


def test_quickstart_config_loads(tmp_path):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "pipeline.yaml"
    config, taxonomy = load_config(path)
    assert config.generation.method == "prompt"
    assert config.teacher.is_local and taxonomy is not None and "math" in taxonomy.domains


def test_bad_value_names_file_line_and_key(tmp_path):
    f = tmp_path / "pipeline.yaml"
    f.write_text("seeds:\n  paths: [s.jsonl]\ngeneration:\n  method: prompt\n  count: -3\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline_config(f)
    assert str(info.value).startswith(f"{f}:5: generation.count: Input should be greater than 0")


def test_unknown_key_and_missing_section(tmp_path):
    f = tmp_path / "pipeline.yaml"
    f.write_text("teacher:\n  modle: gpt-4o\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline_config(f)
    message = str(info.value)
    assert f"{f}:2: teacher.modle: Extra inputs are not permitted" in message
    assert f"{f}:1: seeds: Field required" in message  # missing keys point at their mapping


def test_invalid_yaml_and_split_sum(tmp_path):
    f = tmp_path / "pipeline.yaml"
    f.write_text("seeds: [\n")
    with pytest.raises(ConfigError, match=r"pipeline.yaml:2: invalid YAML"):
        load_pipeline_config(f)
    f.write_text("seeds:\n  paths: [a]\nsplit:\n  train: 0.9\n  val: 0.1\n  test: 0.1\n")
    with pytest.raises(ConfigError, match=r"pipeline.yaml:3: split: Value error, train \+ val \+ test must be 1.0"):
        load_pipeline_config(f)


def test_taxonomy_targets_checked(tmp_path):
    (tmp_path / "taxonomy.yaml").write_text("domains: [a, b]\ntargets: {a: 0.5, c: 0.5}\n")
    (tmp_path / "pipeline.yaml").write_text("seeds:\n  paths: [s]\ntaxonomy: taxonomy.yaml\n")
    unknown = r"taxonomy.yaml:1: \(top level\): Value error, targets name unknown domains: \['c'\]"
    with pytest.raises(ConfigError, match=unknown):
        load_config(tmp_path / "pipeline.yaml")


def test_export_format_must_fit_the_generated_kind(tmp_path):
    f = tmp_path / "pipeline.yaml"
    f.write_text("seeds:\n  paths: [s]\ngeneration:\n  method: prompt\nexport:\n  formats: [alpaca, dpo]\n")
    with pytest.raises(ConfigError, match=r"export.formats: .*dpo"):
        load_pipeline_config(f)
    f.write_text("seeds:\n  paths: [s]\ngeneration:\n  method: preference\nexport:\n  formats: [dpo, openai]\n")
    assert load_pipeline_config(f).export.formats == ["dpo", "openai"]


def test_review_settings_load_from_file(tmp_path):
    f = tmp_path / "pipeline.yaml"
    f.write_text("seeds:\n  paths: [s.jsonl]\nreview:\n  mode: sample\n  sample_share: 0.25\n  overlap: 0.3\n"
                 "  reviewers_per_item: 3\n  gold_share: 0.05\n  gold_file: gold.jsonl\n  batch_size: 80\n"
                 "  reject_reasons: [wrong, unsafe]\n")
    review = load_pipeline_config(f).review
    assert (review.mode, review.sample_share, review.overlap, review.reviewers_per_item) == ("sample", 0.25, 0.3, 3)
    assert (review.gold_share, review.gold_file, review.batch_size) == (0.05, "gold.jsonl", 80)
    assert review.reject_reasons == ["wrong", "unsafe"] and review.human


@pytest.mark.parametrize(("setting", "message"), [
    ("mode: manual", "review.mode: Input should be 'auto', 'sample' or 'human'"),
    ("reviewers_per_item: 1", "review.reviewers_per_item: Input should be greater than or equal to 2"),
    ("batch_size: 0", "review.batch_size: Input should be greater than or equal to 1"),
    ("reject_reasons: []", "review.reject_reasons: List should have at least 1 item"),
    ("gold_share: 0.1", "review: Value error, gold_share > 0 needs review.gold_file"),
])
def test_bad_review_settings_name_line_and_key(tmp_path, setting, message):
    f = tmp_path / "pipeline.yaml"
    f.write_text(f"seeds:\n  paths: [s.jsonl]\nreview:\n  {setting}\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline_config(f)
    assert f"{f}:" in str(info.value) and message in str(info.value)


def test_human_review_on_s3_storage_needs_a_database_url(tmp_path):
    f = tmp_path / "pipeline.yaml"
    base = "seeds:\n  paths: [s.jsonl]\nstorage:\n  bucket: b\nreview:\n  mode: human\n"
    f.write_text(base)
    with pytest.raises(ConfigError, match="review.db_url: required"):
        load_pipeline_config(f)
    f.write_text(base + "  db_url: postgresql+psycopg2://u@h/review\n")
    assert load_pipeline_config(f).review.db_url.startswith("postgresql")


def test_review_settings_stay_constructible_in_code():
    from synth_pipeline.config import PipelineConfig, ReviewConfig, SeedsConfig

    config = PipelineConfig(seeds=SeedsConfig(paths=["s.jsonl"]), review=ReviewConfig(mode="human"))
    assert config.review.mode == "human"


@pytest.mark.parametrize(("section", "line", "message"), [
    ("schedule:\n  cron: '61 * * * *'\n", 4, "schedule.cron: Value error, not a valid cron expression"),
    ("schedule:\n  timezone: Mars/Olympus\n", 4, "schedule.timezone: Value error, unknown time zone"),
    ("retention:\n  cron: nightly\n", 4, "retention.cron: Value error, not a valid cron expression"),
    ("retention:\n  cache_days: 0\n", 4, "retention.cache_days: Input should be greater than 0"),
    ("uploads:\n  settle_seconds: -1\n", 4, "uploads.settle_seconds: Input should be greater than or equal to 0"),
])
def test_automation_settings_are_checked_at_load(tmp_path, section, line, message):
    path = tmp_path / "pipeline.yaml"
    path.write_text("seeds:\n  paths: [s.jsonl]\n" + section)
    with pytest.raises(ConfigError, match=rf"pipeline.yaml:{line}: {message}"):
        load_pipeline_config(path)


def test_validate_section_loads_and_names_bad_values(tmp_path):
    f = tmp_path / "pipeline.yaml"
    f.write_text("seeds:\n  paths: [s.jsonl]\nvalidate:\n  method: lora\n  token_budget: 5000\n")
    vc = load_pipeline_config(f).validate_
    assert vc.token_budget == 5000 and vc.lora_r == 8 and vc.benchmark == "arc_easy"
    f.write_text("seeds:\n  paths: [s.jsonl]\nvalidate:\n  method: qlora\n")
    with pytest.raises(ConfigError, match=r"pipeline.yaml:4: validate.method: Input should be 'lora' or 'full'"):
        load_pipeline_config(f)
