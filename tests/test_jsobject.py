import pytest

from wranglerpy.jsobject import JSObject, as_js_object, options


def test_item_and_attribute_access_recursively():
    result = as_js_object({"results": [{"id": 1}], "meta": {"changes": 2}})
    assert result.results[0].id == 1
    assert result["meta"]["changes"] == 2 and result.meta.changes == 2


def test_keys_win_over_dict_methods():
    listed = JSObject({"keys": [{"name": "a"}], "list_complete": True})
    assert listed.keys == [{"name": "a"}]
    assert list(dict.keys(listed)) == ["keys", "list_complete"]
    assert JSObject({"a": 1}).keys() == {"a": 1}.keys()


def test_missing_attribute_and_to_py():
    obj = as_js_object({"a": {"b": [{"c": 1}]}})
    with pytest.raises(AttributeError):
        _ = obj.missing
    plain = obj.to_py()
    assert plain == {"a": {"b": [{"c": 1}]}} and type(plain["a"]) is dict


def test_options_merge_dict_and_keywords():
    assert options({"a": 1, "b": 2}, b=3) == {"a": 1, "b": 3}
    assert options(None, expirationTtl=60) == {"expirationTtl": 60}
    with pytest.raises(TypeError):
        options(5)
