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
