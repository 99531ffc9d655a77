from synth_pipeline.config import ModelConfig
from synth_pipeline.llm.transports import HttpTransport, LitellmTransport, retry_after_seconds, select_transport


def test_retry_after_forms():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0 + 1e-9


def test_openai_compatible_prefixes_take_the_http_path_without_their_prefix_on_the_wire():
    for name, wire in [("openai/gpt-4o-mini", "gpt-4o-mini"), ("hosted_vllm/qwen", "qwen"),
                       ("local/smollm2", "smollm2"), ("gpt-4o-mini", "gpt-4o-mini")]:
        kind, wire_model, transport = select_transport(ModelConfig(model=name), name, "http://h/v1", None)
        assert (kind, wire_model) == ("http", wire)
        assert isinstance(transport, HttpTransport) and transport.url == "http://h/v1/chat/completions"


def test_other_providers_and_a_forced_transport_go_through_litellm():
    name = "anthropic/claude-3-5-haiku"
    kind, wire_model, transport = select_transport(ModelConfig(model=name), name, None, None)
    assert (kind, wire_model) == ("litellm", name) and isinstance(transport, LitellmTransport)
    forced = ModelConfig(model="openai/x", transport="litellm")
    kind, wire_model, transport = select_transport(forced, "openai/x", "http://h/v1", None)
    assert (kind, wire_model) == ("litellm", "openai/x") and transport.api_key == "sk-no-key"
