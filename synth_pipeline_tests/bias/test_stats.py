import numpy as np

from synth_pipeline.bias.stats import GroupBootstrap, parity, sentiment_gap, share_gate


def _boot(members, scores, batches, seed=0):
    boot = GroupBootstrap(["a", "b"], 200, seed)
    for idx in np.array_split(np.arange(len(members)), batches):
        boot.add(members[idx], scores[idx])
    return boot


def test_bootstrap_does_not_depend_on_batching():
    rng = np.random.default_rng(5)
    members = rng.random((300, 2)) < 0.5
    scores = rng.uniform(-1, 1, 300)
    one, many = _boot(members, scores, 1), _boot(members, scores, 7)
    assert np.allclose(one.boot_counts, many.boot_counts) and np.allclose(one.boot_sums, many.boot_sums)
    assert one.counts.tolist() == members.sum(axis=0).tolist()


def test_parity_and_gap_fail_only_when_the_interval_clears_the_threshold():
    skewed = np.array([[True, False]] * 200 + [[False, True]] * 20)
    result = parity(_boot(skewed, np.zeros(220), 3), ["a", "b"], 30, 0.8, 0.95)
    assert result["ratio"] == 0.1 and result["ci"][1] < 0.8 and result["status"] == "fail"
    even = np.array([[True, False]] * 100 + [[False, True]] * 90)
    assert parity(_boot(even, np.zeros(190), 3), ["a", "b"], 30, 0.8, 0.95)["status"] == "pass"
    assert parity(_boot(even[:20], np.zeros(20), 1), ["a", "b"], 30, 0.8, 0.95)["status"] == "insufficient_evidence"
    scores = np.array([0.9] * 100 + [-0.9] * 90)
    gap = sentiment_gap(_boot(even, scores, 2), ["a", "b"], 0.1, 0.95)
    assert gap["gap"] == 1.8 and gap["ci"][0] > 0.1 and gap["status"] == "fail"
    assert sentiment_gap(_boot(even, scores, 2), ["a"], 0.1, 0.95)["status"] == "insufficient_evidence"


def test_share_gate_uses_the_wilson_interval():
    assert share_gate(1, 200, 0.01, 0.95)["status"] == "pass"  # 0.5 % flagged, interval reaches below 1 %
    failing = share_gate(10, 200, 0.01, 0.95)
    assert failing["share"] == 0.05 and failing["ci"][0] > 0.01 and failing["status"] == "fail"
    assert share_gate(0, 0, 0.01, 0.95)["passed"] is None
