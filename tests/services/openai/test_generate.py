from __future__ import annotations

from wranglerpy.services.openai.generate import StopScanner, finish_reason


def feed_all(stops: list[str], pieces: list[str]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    out = "".join(scanner.feed(p) for p in pieces)
    return out + scanner.flush(), scanner.stopped


def test_stop_sequence_split_across_pieces() -> None:
    assert feed_all(["END"], ["hello E", "N", "D and more"]) == ("hello ", True)


def test_earliest_stop_wins_and_nothing_after() -> None:
    assert feed_all(["b", "xyz"], ["axyzb", "ccc"]) == ("a", True)


def test_no_stop_keeps_everything() -> None:
    assert feed_all(["zz"], ["abc", "z", "d"]) == ("abczd", False)
    assert feed_all([], ["abc", "d"]) == ("abcd", False)


def test_finish_reason() -> None:
    assert finish_reason({"completion_tokens": 5}, 5, stopped=False) == "length"
    assert finish_reason({"completion_tokens": 5}, 5, stopped=True) == "stop"
    assert finish_reason({"completion_tokens": 2}, 5, stopped=False) == "stop"
