import json
from pathlib import Path

from synth_pipeline.config import MedicalOptions
from synth_pipeline.generation.verify.citations import content_words, support

PASSAGE = ("Adults with a fever above 38.5 C may take paracetamol every six hours, "
           "up to four doses in 24 hours.")


def test_an_answer_in_the_passage_terms_is_supported():
    found = support("Adults with a fever may take paracetamol every six hours. No more than four doses in 24 hours.",
                    [PASSAGE], 0.5)
    assert (found.sentences, found.supported, found.share) == (2, 2, 1.0)


def test_a_sentence_the_passage_never_mentions_is_not():
    found = support("Adults may take paracetamol every six hours. Antibiotics cure viral infections quickly.",
                    [PASSAGE], 0.5)
    assert found.supported == 1 and found.share == 0.5
    assert found.weakest.startswith("Antibiotics") and found.weakest_overlap == 0.0


def test_no_passages_or_no_content_supports_nothing():
    assert support("Paracetamol every six hours.", [], 0.5).share == 0.0
    assert support("", [PASSAGE], 0.5).sentences == 0
    assert content_words("The dose is 4 in 24 hours") == {"dose", "4", "24", "hours"}


PUBMEDQA = Path(__file__).resolve().parents[3] / "benchmarks" / "domains" / "data" / "pubmedqa_pqal_300.jsonl"


def test_abstract_conclusions_on_public_data():
    """PubMedQA (MIT): a conclusion is supported by its own abstract, never by the next abstract's."""
    opts = MedicalOptions()
    items = [json.loads(line) for line in PUBMEDQA.read_text(encoding="utf-8").split("\n") if line.strip()][:100]
    own = [support(it["long_answer"], it["contexts"], opts.sentence_min_overlap).share >= opts.min_supported_share
           for it in items]
    other = [support(it["long_answer"], items[(i + 1) % len(items)]["contexts"],
                     opts.sentence_min_overlap).share >= opts.min_supported_share for i, it in enumerate(items)]
    assert sum(other) == 0
    assert sum(own) >= 25  # abstractive conclusions: about a third pass a lexical check (results.md)
