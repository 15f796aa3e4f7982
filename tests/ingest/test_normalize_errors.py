"""normalize(): malformed records become IngestError (a skipped record, counted); a bug inside a
normalizer (AttributeError, TypeError) propagates instead of reading as "skipped records"."""

from __future__ import annotations

from typing import Any

import pytest

from huntbook import normalize as normalize_module
from huntbook.errors import IngestError
from huntbook.normalize import normalize


def test_a_record_of_the_wrong_shape_is_malformed() -> None:
    with pytest.raises(IngestError, match="malformed flat record: expected dict, got list"):
        normalize("flat", [1, 2], "")
    with pytest.raises(IngestError, match="malformed classic record: expected str, got dict"):
        normalize("classic", {"a": 1}, "")


def test_missing_keys_are_malformed() -> None:
    with pytest.raises(IngestError, match="malformed winlogbeat record"):
        normalize("winlogbeat", {"no": "winlog"}, "")


@pytest.mark.parametrize("bug", [AttributeError("x"), TypeError("y")])
def test_a_normalizer_bug_propagates(bug: Exception, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(payload: Any) -> Any:
        raise bug

    monkeypatch.setitem(normalize_module.NORMALIZERS, "flat", broken)
    with pytest.raises(type(bug)):
        normalize("flat", {"EventID": 1}, "")
