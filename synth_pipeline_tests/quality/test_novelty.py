from synth_pipeline.quality.novelty import NoveltyChecker


def test_rouge_l_against_seeds():
    checker = NoveltyChecker(["Give three tips for staying healthy.", "Translate the sentence into French."])
    score, idx = checker.max_similarity("Give three tips for staying healthy and happy.")
    assert idx == 0 and 0.7 < score < 1.0
    score, idx = checker.max_similarity("Write a haiku about autumn leaves falling.")
    assert score < 0.3
    # the exact bound skips pairs that cannot reach the floor, without changing a high score
    assert checker.max_similarity("Translate the sentence into French.", floor=0.7) == (1.0, 1)
