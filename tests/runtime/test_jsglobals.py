"""The ``js`` / ``pyodide.ffi`` stand-ins: typed arrays from ``to_js`` behave like Pyodide's."""

from __future__ import annotations

import subprocess
import sys

from wranglerpy.runtime.ffi import JsMap
from wranglerpy.runtime.jsglobals import ArrayBuffer, Object, Uint8Array, to_js


def test_to_js_turns_bytes_into_a_uint8array_with_a_buffer() -> None:
    array = to_js(b"\x89PNG")
    assert isinstance(array, Uint8Array)
    assert array.length == array.byteLength == 4
    buffer = array.buffer
    assert isinstance(buffer, ArrayBuffer) and buffer.byteLength == 4
    assert buffer.to_bytes() == b"\x89PNG" and bytes(array.to_py()) == b"\x89PNG"
    assert isinstance(to_js(bytearray(b"x")), Uint8Array)
    assert to_js(array) is array


def test_to_js_gives_a_map_or_an_object_and_passes_scalars_through() -> None:
    """Pyodide: to_js(dict) is a JS Map unless dict_converter says otherwise."""
    value = {"a": [1, 2]}
    converted = to_js(value)
    assert isinstance(converted, JsMap) and converted.get("a") == [1, 2]
    assert to_js(value, dict_converter=Object.fromEntries).a == [1, 2]
    assert to_js("text") == "text"


def test_uint8array_new_takes_a_length_or_data() -> None:
    assert Uint8Array.new(3) == b"\x00\x00\x00"
    assert Uint8Array.new([1, 2]) == b"\x01\x02"


def test_htmlrewriter_is_imported_on_first_use_from_js():
    """`import js` does not import the HTML rewriter; `from js import HTMLRewriter` (and
    `js.HTMLRewriter`, `from js import *`) does, and it is the one class."""
    code = (
        "import sys\n"
        "from wranglerpy.runtime.warm import SHIM_DIR\n"
        "sys.path.insert(0, str(SHIM_DIR))\n"
        "import js\n"
        "assert 'wranglerpy.runtime.htmlrewriter' not in sys.modules\n"
        "from js import HTMLRewriter\n"
        "from wranglerpy.runtime import htmlrewriter, jsglobals\n"
        "assert HTMLRewriter is htmlrewriter.HTMLRewriter is jsglobals.HTMLRewriter\n"
        "assert js.HTMLRewriter is HTMLRewriter\n"
        "namespace = {}\n"
        "exec('from js import *', namespace)\n"
        "assert namespace['HTMLRewriter'] is HTMLRewriter\n"
        "try:\n"
        "    js.NoSuchGlobal\n"
        "except AttributeError as exc:\n"
        "    assert 'NoSuchGlobal' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('js.NoSuchGlobal exists')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
