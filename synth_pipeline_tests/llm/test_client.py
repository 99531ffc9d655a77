import asyncio
import subprocess
import sys
import textwrap
import time

import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import ModelConfig
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.llm.client import ChatRequest, LLMClient
from synth_pipeline.llm.pacing import Pacer
from synth_pipeline_tests.llm.fault_server import FaultServer


def model(**kw) -> ModelConfig:
    base = dict(model="openai/fake-teacher", max_concurrency=8, timeout_s=1.0, max_retries=3,
                retry_base_s=0.05, retry_max_s=2.0)
    base.update(kw)
    return ModelConfig(**base)


def requests(prompts):
    return [ChatRequest(p, [{"role": "user", "content": p}]) for p in prompts]


def cache_at(path) -> ResponseCache:
    return ResponseCache(pafs.LocalFileSystem(), str(path))


def test_scripted_faults_nothing_lost_nothing_paid_twice_and_rerun_is_free(tmp_path):
    script = {
        "p429": [("429", 0.6)],
        "p500": ["500", "503"],
        "ptimeout": [("timeout", 3.0)],
        "ptrunc": ["truncated"],
        "pmalformed": ["malformed"],
        "pdead": ["500"] * 10,
        "pbad": ["400"],
    }
    prompts = list(script) + [f"plain {i}" for i in range(20)]
    with FaultServer(latency=0.02, script=script) as server:
        client = LLMClient(model(), cache_at(tmp_path / "c"), api_base=server.api_base)
        started = time.monotonic()
        results = client.complete(requests(prompts))
        # every request has exactly one result, in order
        assert [r.key for r in results] == prompts
        failed = {r.key for r in results if not r.ok}
        assert failed == {"pdead", "pbad"}
        by_key = {r.key: r for r in results}
        assert "http_500" in by_key["pdead"].error and "4 attempt(s)" in by_key["pdead"].error
        assert "http_400" in by_key["pbad"].error and "1 attempt(s)" in by_key["pbad"].error
        for r in results:
            if r.ok:
                assert r.text == FaultServer.answer_for(r.key) and r.tokens_in == 10 and r.tokens_out == 5
        # no call paid twice; calls counted at the server match the client's own count
        assert max(server.paid.values()) == 1
        assert sum(server.paid.values()) == len(prompts) - 2
        assert client.stats.calls == server.calls
        assert client.stats.rate_limited == 1
        assert set(client.stats.attempt_errors) >= {"rate_limited", "http_500", "http_503", "timeout",
                                                    "truncated_response", "malformed_response", "http_400"}
        assert client.stats.errors == {"http_500": 1, "http_400": 1}
        # the 429 cooled the whole client: no request of any prompt arrived during Retry-After
        t429 = next(t for t, p in server.arrivals if p == "p429")
        assert not [p for t, p in server.arrivals if t429 + 0.05 < t < t429 + 0.55]
        assert time.monotonic() - started < 15

        # re-run of the finished version: zero successful calls repeated; only the two failures retried
        server.reset()
        again = LLMClient(model(max_retries=0), cache_at(tmp_path / "c"), api_base=server.api_base)
        results2 = again.complete(requests(prompts))
        assert {p for _, p in server.arrivals} == {"pdead", "pbad"}
        assert again.stats.cache_hits == len(prompts) - 2
        by_key2 = {r.key: r for r in results2}
        assert all(by_key2[k].cached and by_key2[k].text == r.text for k, r in by_key.items() if r.ok)
        assert not by_key2["pbad"].cached and by_key2["pbad"].ok  # its script is spent: answered now

        # a fully successful version re-runs with zero calls at the server
        ok_prompts = [p for p in prompts if p != "pdead"]
        server.reset()
        third = LLMClient(model(), cache_at(tmp_path / "c"), api_base=server.api_base)
        assert all(r.ok for r in third.complete(requests(ok_prompts)))
        assert server.calls == 0 and third.stats.calls == 0


def test_concurrency_and_rpm_limits_are_respected():
    with FaultServer(latency=0.1) as server:
        client = LLMClient(model(max_concurrency=3), None, api_base=server.api_base)
        assert all(r.ok for r in client.complete(requests([f"c{i}" for i in range(12)])))
        assert server.max_inflight == 3

        server.reset()
        paced = LLMClient(model(rpm=600, max_concurrency=8), None, api_base=server.api_base)
        began = time.monotonic()
        assert all(r.ok for r in paced.complete(requests([f"r{i}" for i in range(10)])))
        # 600/min = one start per 0.1 s: ten calls cannot all have started in under 0.9 s. A lower
        # bound only (a busy machine makes it longer); the spacing itself is tested on the Pacer.
        assert time.monotonic() - began >= 0.9
        assert len(server.arrivals) == 10


def test_pacer_spaces_every_start_by_the_larger_gap():
    async def starts(pacer, tokens):
        loop = asyncio.get_running_loop()
        out = []
        for n in tokens:
            start = await pacer.wait(n)
            assert loop.time() >= start  # never released before its slot
            out.append(start)
        return out

    by_requests = asyncio.run(starts(Pacer(rpm=1200, tpm=None), [1] * 6))
    assert all(b - a >= 0.05 - 1e-9 for a, b in zip(by_requests, by_requests[1:], strict=False))
    # tokens dominate: 100 tokens at 60,000 tpm is 0.1 s, twice the request gap
    by_tokens = asyncio.run(starts(Pacer(rpm=1200, tpm=60_000), [100] * 4))
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(by_tokens, by_tokens[1:], strict=False))
    assert not Pacer(None, None).active


def test_tpm_limit_spaces_calls_by_their_token_estimate():
    with FaultServer() as server:
        # each call estimates ~1 prompt token + 50 max_tokens; 3060 tokens/min -> ~1 s apart
        client = LLMClient(model(tpm=3060, max_tokens=50), None, api_base=server.api_base)
        began = time.monotonic()
        assert all(r.ok for r in client.complete(requests(["a", "b", "c"])))
        assert time.monotonic() - began >= 1.9  # a lower bound: load only lengthens it
        assert len(server.arrivals) == 3


@pytest.mark.slow
def test_killed_run_resumes_paying_only_for_missing_calls(tmp_path):
    prompts = [f"k{i}" for i in range(40)]
    with FaultServer(latency=0.25) as server:
        code = textwrap.dedent(f"""
            import pyarrow.fs as pafs
            from synth_pipeline.config import ModelConfig
            from synth_pipeline.llm.cache import ResponseCache
            from synth_pipeline.llm.client import ChatRequest, LLMClient
            client = LLMClient(ModelConfig(model="openai/fake-teacher", max_concurrency=2),
                               ResponseCache(pafs.LocalFileSystem(), {str(tmp_path / "c")!r}),
                               api_base={server.api_base!r})
            client.complete([ChatRequest(p, [{{"role": "user", "content": p}}]) for p in {prompts!r}])
        """)
        proc = subprocess.Popen([sys.executable, "-c", code])
        deadline = time.monotonic() + 60

        def cached_lines() -> int:  # answers the client has written (and flushed) so far
            return sum(f.read_bytes().count(b"\n") for f in (tmp_path / "c").rglob("*") if f.is_file())

        # Kill once the client has stored 10 answers: the server's count alone can run ahead of
        # what the client received, which would make the check below depend on timing.
        while cached_lines() < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        assert 10 <= len(server.paid) < len(prompts)
        time.sleep(0.5)  # answers in flight at the kill are served (and lost with the process)

        server.reset()
        cache = cache_at(tmp_path / "c")
        client = LLMClient(model(), cache, api_base=server.api_base)
        cached_before = {p for p in prompts if client.key_for(requests([p])[0]) in cache}
        assert len(cached_before) >= 10
        results = client.complete(requests(prompts))
        assert all(r.ok for r in results)
        # the resumed run asks only for what the killed run did not get back
        assert {p for _, p in server.arrivals} == set(prompts) - cached_before
        assert max(server.paid.values()) == 1
        assert client.stats.cache_hits == len(cached_before)


def test_litellm_transport_retries_and_cools_down(tmp_path):
    script = {"x": ["500", "ok"], "y": [("429", 0.3), "ok"]}
    with FaultServer(script=script) as server:
        client = LLMClient(model(transport="litellm"), cache_at(tmp_path / "c"), api_base=server.api_base)
        assert client.transport_name == "litellm"
        results = client.complete(requests(["x", "y", "z"]))
        assert [r.ok for r in results] == [True, True, True]
        assert server.paid == {"x": 1, "y": 1, "z": 1}
        assert client.stats.rate_limited == 1 and client.stats.attempt_errors["http_500"] == 1


def test_transport_choice_and_keys_from_env(monkeypatch):
    assert LLMClient(model(model="openai/gpt-4o-mini", api_base="http://h/v1")).transport_name == "http"
    assert LLMClient(model(model="gpt-4o-mini")).wire_model == "gpt-4o-mini"
    monkeypatch.setenv("SP_TEST_KEY", "sk-test")
    client = LLMClient(model(model="openai/gpt-4o-mini", api_key_env="SP_TEST_KEY"))
    assert client._transport.headers["Authorization"] == "Bearer sk-test"
    monkeypatch.delenv("SP_TEST_KEY")
    with pytest.raises(Exception, match="SP_TEST_KEY"):
        LLMClient(model(api_key_env="SP_TEST_KEY"))


def test_sync_complete_works_inside_a_running_event_loop():
    import asyncio

    with FaultServer() as server:
        client = LLMClient(model(), None, api_base=server.api_base)

        async def caller():
            return client.complete(requests(["in-loop"]))  # e.g. called from an async framework

        first = asyncio.run(caller())
        second = client.complete(requests(["again"]))  # the client survives a change of loop
    assert first[0].ok and second[0].ok and server.calls == 2
