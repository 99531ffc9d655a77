import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import ModelConfig
from synth_pipeline.llm.cache import ResponseCache, cache_key
from synth_pipeline.llm.client import ChatRequest, LLMClient
from synth_pipeline_tests.llm.fault_server import FaultServer

MSGS = [{"role": "user", "content": "hi"}]


def test_key_covers_model_messages_parameters_and_sample():
    base = cache_key("m", MSGS, {"temperature": 0.7}, 0)
    assert base == cache_key("m", [dict(MSGS[0])], {"temperature": 0.7}, 0)
    assert len({base, cache_key("m2", MSGS, {"temperature": 0.7}, 0),
                cache_key("m", [{"role": "user", "content": "hi!"}], {"temperature": 0.7}, 0),
                cache_key("m", MSGS, {"temperature": 0.8}, 0),
                cache_key("m", MSGS, {"temperature": 0.7}, 1)}) == 5


def test_local_entries_survive_reopen_and_a_torn_line_is_a_miss(tmp_path):
    cache = ResponseCache(pafs.LocalFileSystem(), str(tmp_path / "c"))
    cache.put("k1", {"text": "hello", "tokens_in": 1})
    cache.put("k2", {"text": "world"})
    # a process killed mid-write leaves half a line at the end of its shard
    shard = next((tmp_path / "c" / "shards").glob("*.jsonl"))
    with shard.open("a") as f:
        f.write('{"key": "k3", "entry": {"text": "hal')
    reopened = ResponseCache.local(tmp_path / "c")
    assert reopened.get("k1")["text"] == "hello" and reopened.get("k2")["text"] == "world"
    assert "k3" not in reopened and reopened.get("k3") is None and len(reopened) == 2
    reopened.put("k3", {"text": "again"})  # a new run appends to its own shard
    assert len(list((tmp_path / "c" / "shards").glob("*.jsonl"))) == 2
    assert ResponseCache.local(tmp_path / "c").get("k3")["text"] == "again"


def test_erase_removes_matching_entries_from_shards_and_keeps_the_rest(tmp_path):
    model = ModelConfig(model="openai/fake", max_retries=0)
    reqs = [ChatRequest(str(i), [{"role": "user", "content": f"question {i} about Quillmoor" if i < 2 else f"q{i}"}])
            for i in range(4)]
    with FaultServer() as server:
        client = LLMClient(model, ResponseCache.local(tmp_path / "c"), api_base=server.api_base)
        assert all(r.ok for r in client.complete(reqs))
    client.cache.close()
    cache = ResponseCache.local(tmp_path / "c")
    about = lambda entry: any("Quillmoor" in m["content"] for m in entry["messages"])  # noqa: E731
    assert cache.erase(about, dry_run=True) == 2 and len(ResponseCache.local(tmp_path / "c")) == 4
    assert cache.erase(about) == 2
    reopened = ResponseCache.local(tmp_path / "c")
    assert len(reopened) == 2 and b"Quillmoor" not in b"".join(
        p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file())
    with FaultServer() as server:  # the erased prompts are asked again, the others still come from the cache
        again = LLMClient(model, reopened, api_base=server.api_base).complete(reqs)
        assert server.calls == 2 and [r.cached for r in again] == [False, False, True, True]


@pytest.mark.slow
def test_cache_on_s3_makes_rerun_free(s3_server):
    s3 = s3_server.client()
    s3.create_bucket(Bucket="llm-cache")
    fs = pafs.S3FileSystem(access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                           endpoint_override=s3_server.endpoint_url, scheme="http", region="us-east-1")
    model = ModelConfig(model="openai/fake", max_retries=0)
    reqs = [ChatRequest(str(i), [{"role": "user", "content": f"q{i}"}]) for i in range(5)]
    with FaultServer() as server:
        first = LLMClient(model, ResponseCache(fs, "llm-cache/v1/cache"), api_base=server.api_base)
        assert all(r.ok for r in first.complete(reqs))
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="llm-cache", Prefix="v1/cache/")["Contents"]]
        assert len(keys) == 5 and all(k.endswith(".json") for k in keys)
        server.reset()
        second = LLMClient(model, ResponseCache(fs, "llm-cache/v1/cache"), api_base=server.api_base)
        results = second.complete(reqs)
        assert server.calls == 0 and all(r.cached for r in results)
        assert [r.text for r in results] == [FaultServer.answer_for(f"q{i}") for i in range(5)]
