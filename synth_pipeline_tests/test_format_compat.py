import pydantic
import pytest

from synth_pipeline.config import ExportConfig, load_pipeline_config
from synth_pipeline.errors import ConfigError
from synth_pipeline.format_compat import FORMATS_BY_KIND, check_formats, kind_for_method
from synth_pipeline.records import RecordKind


def test_every_kind_maps_to_the_tabular_formats_and_dpo_only_to_preference():
    for kind, formats in FORMATS_BY_KIND.items():
        assert {"parquet", "arrow", "csv", "tsv", "tfrecord", "openai"} <= set(formats)
        assert ("dpo" in formats) == (kind is RecordKind.PREFERENCE)
    assert check_formats("preference", ["dpo", "parquet"]) == ["dpo", "parquet"]


@pytest.mark.parametrize(("kind", "formats", "bad"), [
    ("instruction", ["alpaca", "dpo"], "dpo"), ("preference", ["alpaca"], "alpaca"),
    ("chat", ["sharegpt", "alpaca"], "alpaca"),
])
def test_impossible_combinations_fail(kind, formats, bad):
    with pytest.raises(ValueError, match=rf"\['{bad}'\] cannot hold {kind} records"):
        check_formats(kind, formats)
    with pytest.raises(pydantic.ValidationError, match="cannot hold"):
        ExportConfig(kind=kind, formats=formats)


def test_duplicate_or_empty_formats_fail():
    with pytest.raises(ValueError, match="twice"):
        check_formats("instruction", ["alpaca", "alpaca"])
    with pytest.raises(ValueError, match="at least one"):
        check_formats("instruction", [])


def test_config_file_error_names_file_and_line(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text("seeds:\n  paths: [s.jsonl]\nexport:\n  kind: instruction\n  formats: [alpaca, dpo]\n")
    with pytest.raises(ConfigError, match=r"pipeline.yaml:5: export.formats: .*\['dpo'\] cannot hold instruction"):
        load_pipeline_config(path)


def test_method_kind():
    assert kind_for_method("preference") is RecordKind.PREFERENCE
    assert kind_for_method("evol_instruct") is RecordKind.INSTRUCTION
