import pytest

from synth_pipeline.llm.structured import object_schema, parse_json_answer

SCHEMA = object_schema({"instruction": {"type": "string", "minLength": 3}, "output": {"type": "string"}})


@pytest.mark.parametrize("text", [
    '{"instruction": "Say hi.", "output": "Hi!"}',
    '```json\n{"instruction": "Say hi.", "output": "Hi!"}\n```',
    'Sure! Here it is: {"instruction": "Say hi.", "output": "Hi!",}',
    '{"instruction": "  Say hi.  ", "output": "Hi!"',  # unclosed object, padded strings
])
def test_light_repair(text):
    assert parse_json_answer(text, SCHEMA) == ({"instruction": "Say hi.", "output": "Hi!"}, None)


@pytest.mark.parametrize("text, reason", [
    ("", "empty answer"),
    ("no json here", "no JSON object"),
    ('{"instruction": "Hi", "output": "x"}', "schema: instruction"),
    ('{"instruction": "Say hi.", "output": "x", "extra": 1}', "schema: (root)"),
    ('["just", "a", "list"]', "not a JSON object"),
])
def test_invalid_answers_name_the_reason(text, reason):
    obj, err = parse_json_answer(text, SCHEMA)
    assert obj is None and reason in err
