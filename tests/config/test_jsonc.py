from __future__ import annotations

import pytest

from wranglerpy.config.jsonc import JSONCError, loads_jsonc, strip_jsonc


def test_comments_and_trailing_commas_outside_strings() -> None:
    text = """{
      // line comment
      "a": [1, 2, 3,], /* block
      spanning lines */ "b": {"c": true,},
    }"""
    assert loads_jsonc(text) == {"a": [1, 2, 3], "b": {"c": True}}


def test_strings_keep_comment_markers_and_commas() -> None:
    text = r'{"u": "http://a//b", "c": "/* x */", "t": ",]", "q": "say \"//hi\",}", }'
    assert loads_jsonc(text) == {"u": "http://a//b", "c": "/* x */", "t": ",]", "q": 'say "//hi",}'}


def test_comment_between_comma_and_bracket() -> None:
    assert loads_jsonc("[1, // one\n /* end */ ]") == [1]


def test_positions_preserved() -> None:
    text = '{"a": 1, /* x\n y */ "b": 2}'
    stripped = strip_jsonc(text)
    assert len(stripped) == len(text) and stripped.count("\n") == 1


@pytest.mark.parametrize("text", ["[,]", '{"a": ,}', "[1,,]", "{,}"])
def test_comma_not_after_a_value_is_still_an_error(text: str) -> None:
    with pytest.raises(JSONCError):
        loads_jsonc(text)


def test_error_line_and_column() -> None:
    with pytest.raises(JSONCError) as info:
        loads_jsonc('{\n  /* c */ "name": "w",\n  "main": ,\n}\n')
    assert (info.value.line, info.value.column) == (3, 11)


def test_unterminated_block_comment() -> None:
    with pytest.raises(JSONCError) as info:
        loads_jsonc('{"a": 1}\n  /* never closed')
    assert (info.value.line, info.value.column) == (2, 3)
    assert "unterminated" in info.value.reason


def test_slash_inside_string_at_end() -> None:
    assert loads_jsonc('"a/"') == "a/"
    assert loads_jsonc('"a\\\\"//c') == "a\\"
