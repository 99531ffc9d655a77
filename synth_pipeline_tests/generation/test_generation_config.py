import pytest

from synth_pipeline.config import load_pipeline_config
from synth_pipeline.errors import ConfigError

YAML = """\
seeds:
  paths: [seeds.jsonl]
teacher:
  model: openai/gpt-4o-mini
  api_key_env: OPENAI_API_KEY
  max_concurrency: 32
  rpm: 500
  tpm: 200000
  timeout_s: 30
  max_retries: 5
generation:
  method: evol_instruct
  count: 50
  evol_instruct:
    rounds: 4
    operations: [deepen, domain_transfer]
  preference:
    margin: {margin}
"""


def test_method_options_are_typed_and_load_from_pipeline_yaml(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(YAML.format(margin=0.5))
    config = load_pipeline_config(path)
    assert config.teacher.rpm == 500 and config.teacher.transport == "auto"
    assert config.generation.evol_instruct.rounds == 4
    assert config.generation.evol_instruct.operations == ["deepen", "domain_transfer"]
    assert config.generation.self_instruct.rouge_l_max == 0.7  # paper default
    assert config.generation.preference.margin == 0.5


def test_bad_method_option_names_file_line_and_key(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(YAML.format(margin=-1))
    with pytest.raises(ConfigError, match=r"pipeline.yaml:18: generation.preference.margin"):
        load_pipeline_config(path)


def test_preference_score_range_is_not_a_setting(tmp_path):
    """The judge's 1-5 scale is fixed by its rubric: a score range in the config is refused."""
    path = tmp_path / "pipeline.yaml"
    path.write_text(YAML.format(margin=0.5) + "    score_max: 10\n")
    with pytest.raises(ConfigError, match=r"pipeline.yaml:19: generation.preference.score_max: Extra inputs"):
        load_pipeline_config(path)


DOMAIN_YAML = """\
seeds:
  paths: [seeds.jsonl]
generation:
  method: code
  code:
    min_tests: 4
    sandbox:
      timeout_s: {timeout}
      isolation: guard
  math:
    resolves: 6
  legal:
    jurisdictions:
      - {{tag: fr, name: France, markers: [France, French law]}}
"""


def test_domain_method_options_load_and_a_bad_limit_names_its_key(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(DOMAIN_YAML.format(timeout=3))
    config = load_pipeline_config(path)
    assert config.generation.code.min_tests == 4 and config.generation.code.sandbox.isolation == "guard"
    assert config.generation.math.resolves == 6 and config.generation.legal.jurisdictions[0].tag == "fr"
    path.write_text(DOMAIN_YAML.format(timeout=0))
    with pytest.raises(ConfigError, match=r"pipeline.yaml:8: generation.code.sandbox.timeout_s"):
        load_pipeline_config(path)
