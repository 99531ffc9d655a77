import os

import pytest

from synth_pipeline.quality.pii.recognizers import (
    STREET_ADDRESS_REGEX,
    recognizers,
    street_address_recognizer,
    use_offline_suffix_list,
)


def test_offline_suffix_list_is_set_only_when_asked(monkeypatch):
    monkeypatch.delenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", raising=False)
    use_offline_suffix_list()
    assert os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] == ""
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "file:///psl.dat")
    use_offline_suffix_list()
    assert os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] == "file:///psl.dat"


def test_street_address_recogniser_skips_operands():
    address = street_address_recognizer()
    assert [r.entity_type for r in address.analyze("Ship it to 1600 Pennsylvania Avenue.", ["STREET_ADDRESS"])] \
        == ["STREET_ADDRESS"]
    assert address.analyze("so <<2*20=40>>40 Lodgepole Pine trees", ["STREET_ADDRESS"]) == []
    assert STREET_ADDRESS_REGEX  # the regex is part of the scanner fingerprint


def test_unknown_entity_is_a_clear_error():
    with pytest.raises(ValueError, match="filters.pii_entities: unknown entity 'PASSPORT'"):
        recognizers(["PASSPORT"], {})
