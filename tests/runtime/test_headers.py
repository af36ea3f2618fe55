import pytest

from wranglerpy.runtime.headers import Headers


def test_case_insensitive_get_and_join_repeated_values():
    headers = Headers([("X-A", "1"), ("x-a", "2"), ("Content-Type", "text/plain")])
    assert headers.get("x-A") == "1, 2"
    assert headers["content-type"] == "text/plain"
    assert "CONTENT-TYPE" in headers
    assert headers.get("missing") is None


def test_set_replaces_and_delete_removes():
    headers = Headers({"a": "1"})
    headers.append("a", "2")
    headers.set("A", "3")
    assert headers.get_all("a") == ["3"]
    headers.delete("a")
    assert "a" not in headers


def test_set_cookie_kept_separate():
    headers = Headers([("set-cookie", "a=1"), ("set-cookie", "b=2")])
    assert headers.getSetCookie() == ["a=1", "b=2"]


def test_raw_round_trip_and_dict():
    headers = Headers.from_raw([(b"Host", b"example.com"), (b"x-y", b"z")])
    assert dict(headers) == {"host": "example.com", "x-y": "z"}
    assert Headers.from_raw(headers.raw()) == headers


@pytest.mark.parametrize("name", ["", "bad name", "x:y"])
def test_invalid_names_rejected(name):
    with pytest.raises(TypeError, match="Invalid header name"):
        Headers({name: "v"})


def test_header_injection_rejected():
    with pytest.raises(TypeError, match="Invalid header value"):
        Headers({"x": "a\r\nset-cookie: evil"})
