"""Structured clone of storage values: the flat-record fast path gives exactly what the full
walk gives (copies, JS-object dicts, lists for tuples, sets and dates kept)."""

from __future__ import annotations

import datetime as dt

import pytest

from wranglerpy.bindings.durable_objects.clone import DataCloneError, decode, encode
from wranglerpy.jsobject import JSObject


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (7, 7),
        (None, None),
        (b"\x00\x01", b"\x00\x01"),
        (
            {"n": 1, "text": "hi", "ok": True, "raw": b"x"},
            {"n": 1, "text": "hi", "ok": True, "raw": b"x"},
        ),
        ([1, "a", None], [1, "a", None]),
        ({"t": (1, 2)}, {"t": [1, 2]}),  # tuples are stored as arrays
        ({"nested": {"a": [1, {"b": 2}]}}, {"nested": {"a": [1, {"b": 2}]}}),
        ({"s": {1, 2}}, {"s": {1, 2}}),
        ({"b": bytearray(b"ab")}, {"b": b"ab"}),
    ],
)
def test_values_round_trip(value: object, expected: object) -> None:
    got = decode(encode(value))
    assert got == expected
    if isinstance(expected, dict):
        assert isinstance(got, JSObject)


def test_a_flat_record_reads_back_as_a_js_object_copy() -> None:
    record = {"n": 1, "text": "hi"}
    got = decode(encode(record))
    assert got.text == "hi" and got.n == 1
    got.n = 2
    assert record["n"] == 1


def test_dates_and_unclonable_values() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert decode(encode({"at": when}))["at"] == when
    with pytest.raises(DataCloneError, match="could not be cloned"):
        encode({"f": object()})
    with pytest.raises(DataCloneError, match="could not be cloned"):
        encode({(1, 2): "tuple key"})
