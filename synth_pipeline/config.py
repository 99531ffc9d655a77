"""The one config model: pipeline.yaml and taxonomy.yaml as pydantic models.

Loading keeps YAML line numbers so a bad key fails before any work with
``pipeline.yaml:12: generation.count: Input should be greater than 0``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synth_pipeline.errors import ConfigError

LOCAL_MODEL = "local/smollm2-135m-instruct"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedsConfig(_Strict):
    paths: list[str] = Field(min_length=1, description="seed files or folders, relative to the config file")
    strict: bool = Field(False, description="fail the run on any bad seed row instead of reporting it")
    field_map: dict[str, str] = Field(
        default_factory=dict, description="record field -> column name in the seed files"
    )
    pii_scan: bool = True


class ModelConfig(_Strict):
    """A teacher or judge model reached through litellm (or the embedded local model)."""

    model: str = LOCAL_MODEL
    api_base: str | None = None
    api_key_env: str | None = Field(None, description="name of the env var that holds the key")
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(256, gt=0)
    max_concurrency: int = Field(8, gt=0)
    rpm: int | None = Field(None, gt=0)
    tpm: int | None = Field(None, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(4, ge=0)
    licence: str | None = Field(None, description="licence of the model's outputs, copied to metadata.json")
    seed: int | None = 0

    @property
    def is_local(self) -> bool:
        return self.model.startswith("local/")


GenerationMethod = Literal["prompt", "self_instruct", "evol_instruct", "preference", "import"]


class GenerationConfig(_Strict):
    method: GenerationMethod = "prompt"
    count: int = Field(20, gt=0, description="target number of generated rows")
    per_seed: int = Field(1, gt=0, description="candidates per seed (prompt method)")
    path: str | None = Field(None, description="import mode: file of already-generated rows")
    template: str = "instruction_from_seed"
    options: dict[str, Any] = Field(default_factory=dict, description="method-specific options")

    @model_validator(mode="after")
    def _import_needs_path(self) -> GenerationConfig:
        if self.method == "import" and not self.path:
            raise ValueError("method 'import' needs 'path'")
        return self


class FiltersConfig(_Strict):
    min_words: int = Field(1, ge=0)
    max_words: int = Field(2048, gt=0)
    max_repetition: float = Field(0.15, ge=0.0, le=1.0)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    toxicity_max: float = Field(0.02, ge=0.0, le=1.0)
    pii_policy: Literal["reject", "redact"] = "reject"
    exact_dedup: bool = True
    near_dedup: bool = True
    near_dedup_threshold: float = Field(0.8, gt=0.0, le=1.0)


class GatesConfig(_Strict):
    """Quality gates; defaults are the seed document's targets."""

    ttr_min: float = 0.72
    judge_min: float = 4.2
    decontam_max_matches: int = 0
    pii_max: int = 0
    toxicity_max: float = 0.02
    kappa_min: float = 0.85
    schema_valid_min: float = 1.0


class ReviewConfig(_Strict):
    mode: Literal["auto", "human"] = "auto"
    overlap: float = Field(0.1, ge=0.0, le=1.0)
    reviewers_per_item: int = Field(2, ge=1)


class DecontamConfig(_Strict):
    suites: list[str] = Field(default_factory=lambda: ["humaneval", "gsm8k"])
    n: int = Field(13, gt=0)


class SplitConfig(_Strict):
    train: float = Field(0.8, ge=0.0, le=1.0)
    val: float = Field(0.1, ge=0.0, le=1.0)
    test: float = Field(0.1, ge=0.0, le=1.0)
    seed: int = 42

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must be 1.0, got {total:g}")
        return self


ExportFormat = Literal[
    "alpaca", "chatml", "sharegpt", "dpo", "openai", "parquet", "arrow", "csv", "tsv", "tfrecord"
]


class ExportConfig(_Strict):
    formats: list[ExportFormat] = Field(default_factory=lambda: ["alpaca"])
    out_dir: str = "datasets"


class StorageConfig(_Strict):
    """Where intermediate Parquet tables live: a local folder, or S3 when `bucket` is set."""

    base: str = ".synth/storage"
    bucket: str | None = None
    prefix: str = "synth-pipeline"
    endpoint_url: str | None = None
    region: str = "us-east-1"


class PipelineConfig(_Strict):
    name: str = "synth-pipeline"
    seeds: SeedsConfig
    taxonomy: str | None = Field(None, description="path of taxonomy.yaml, relative to the config")
    teacher: ModelConfig = Field(default_factory=ModelConfig)
    judge: ModelConfig | None = None
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)

    # Set by the loader, not by users.
    config_path: str | None = Field(None, exclude=True)

    @property
    def base_dir(self) -> Path:
        return Path(self.config_path).parent if self.config_path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def judge_model(self) -> ModelConfig:
        return self.judge or self.teacher


class TaxonomyConfig(_Strict):
    domains: list[str] = Field(min_length=1)
    difficulties: list[str] = Field(default_factory=lambda: ["easy", "medium", "hard"], min_length=1)
    task_types: list[str] = Field(default_factory=lambda: ["open_qa"], min_length=1)
    targets: dict[str, float] = Field(
        default_factory=dict, description="domain -> target share of the dataset (sums to 1)"
    )

    @field_validator("targets")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        if value and abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError(f"target shares must sum to 1.0, got {sum(value.values()):g}")
        return value

    @model_validator(mode="after")
    def _targets_known(self) -> TaxonomyConfig:
        unknown = sorted(set(self.targets) - set(self.domains))
        if unknown:
            raise ValueError(f"targets name unknown domains: {unknown}")
        return self


# --- loading with line numbers ----------------------------------------------------------

def _line_index(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map each key path to its 1-based line in the YAML source."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = path + (key_node.value,)
            out[key_path] = key_node.start_mark.line + 1
            _line_index(value_node, key_path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _line_index(item, path + (i,), out)
    return out


def _read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return data, (_line_index(node) if node is not None else {})


def _validation_error(path: Path, lines: dict[tuple, int], exc: ValidationError) -> ConfigError:
    messages = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # Walk up to the deepest key that exists in the file (a missing key has no line).
        line = None
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in lines:
                line = lines[loc[:cut]]
                break
        key = ".".join(str(p) for p in loc) or "(top level)"
        where = f"{path}:{line}" if line else str(path)
        messages.append(f"{where}: {key}: {err['msg']}")
    return ConfigError("\n".join(messages))


def load_pipeline_config(path: str | Path) -> PipelineConfig:
    path = Path(path).resolve()
    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings at the top level")
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(path, lines, exc) from None
    config.config_path = str(path)
    return config


def load_taxonomy(path: str | Path) -> TaxonomyConfig:
    path = Path(path).resolve()
    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with 'domains'")
    try:
        return TaxonomyConfig.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(path, lines, exc) from None


def load_config(path: str | Path) -> tuple[PipelineConfig, TaxonomyConfig | None]:
    """Load pipeline.yaml and the taxonomy it names; everything is checked before any work."""
    config = load_pipeline_config(path)
    taxonomy = load_taxonomy(config.resolve(config.taxonomy)) if config.taxonomy else None
    return config, taxonomy
