"""Detoxify backend, tested with a tiny BERT checkpoint built here in Detoxify's format
(the real checkpoints are hub downloads). Loading and scoring run through Detoxify's code."""

import pytest

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.toxicity import DetoxifyScorer, make_scorer, threshold_for

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("detoxify")

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "nice", "idiot", "the", "cat"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, num_labels=len(CLASSES))
    config.save_pretrained(folder)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():  # a head whose `toxic` logit is the constant 2.0: sigmoid = 0.8808
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[0] = 2.0
    ckpt = folder / "tiny.ckpt"
    torch.save({
        "config": {"arch": {"args": {"model_type": str(folder), "model_name": "BertForSequenceClassification",
                                     "tokenizer_name": "BertTokenizer", "num_classes": len(CLASSES)}},
                   "dataset": {"args": {"classes": CLASSES}}},
        "state_dict": model.state_dict(),
    }, ckpt)
    return ckpt, folder


@pytest.mark.slow
def test_detoxify_loads_local_checkpoint_and_scores(tiny_checkpoint):
    ckpt, folder = tiny_checkpoint
    config = FiltersConfig(toxicity_backend="detoxify", toxicity_checkpoint=str(ckpt),
                           toxicity_hf_config=str(folder))
    scorer = make_scorer(config)
    assert isinstance(scorer, DetoxifyScorer)
    scores = scorer.score(["you are nice", "you are the idiot", "the cat"])
    assert scores == pytest.approx([0.8808] * 3, abs=1e-4)
    assert threshold_for(config, scorer) == 0.02
