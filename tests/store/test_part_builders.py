"""Parts built by Arrow's converter hold what the reference (value by value in Python) holds."""

from __future__ import annotations

from typing import Any

import pytest

from huntbook.errors import StoreError
from huntbook.store import parts
from huntbook.store.parts import table_by_struct, table_by_value

EVENTS: list[dict[str, Any]] = [
    {
        "_time": 1.5,
        "_raw": "<Event/>",
        "host": None,
        "EventCode": "4624",
        "Logon_ID": ["0x1", "0x2"],
    },
    {"_time": 2.0, "_raw": "b", "host": "H", "EventCode": "", "Image": "C:\\x.exe", "_cd": 9},
    {"_time": 3.0, "_raw": "c", "Data": ("a", "b"), "user": "x", "User": "y", "Image": ""},
]


def _rows(table: Any) -> tuple[Any, list[dict[str, Any]]]:
    return table.schema, table.to_pylist()


@pytest.mark.parametrize("slice_rows", [1, 2, 512])
def test_struct_builder_matches_the_reference(
    slice_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parts, "SLICE_ROWS", slice_rows)  # fields first seen in a later slice
    times = [e["_time"] for e in EVENTS]
    fast = table_by_struct(EVENTS, times)
    assert fast is not None
    assert _rows(fast) == _rows(table_by_value(EVENTS, times))
    assert fast.column_names == [
        "_time",
        "_raw",
        "host",
        "EventCode",
        "Logon_ID",
        "Image",
        "Data",
        "user",
        "User",
    ]
    assert fast.column("EventCode").to_pylist() == ["4624", None, None]  # "" is no value
    assert fast.column("Image").to_pylist() == [None, "C:\\x.exe", None]


@pytest.mark.parametrize(
    "extra",
    [
        {"Task": 12},  # a number: the reference writes its text
        {"Logon_ID": "0x3"},  # a scalar in a multivalue field: a one-value list
        {"Logon_ID": ["0x3", ""]},  # an empty item: left out
        {"Logon_ID": []},  # no value
    ],
)
def test_values_only_the_reference_turns_into_text_are_left_to_it(extra: dict[str, Any]) -> None:
    events = [*EVENTS, {"_time": 4.0, "_raw": "d", **extra}]
    times = [e["_time"] for e in events]
    assert table_by_struct(events, times) is None
    assert table_by_value(events, times).num_rows == 4


def test_a_list_in_a_text_field_is_refused() -> None:
    events = [{"_time": 1.0, "_raw": "a", "Image": ["a", "b"]}]
    assert table_by_struct(events, [1.0]) is None
    with pytest.raises(StoreError, match="not declared multivalue"):
        table_by_value(events, [1.0])
