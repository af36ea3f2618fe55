"""The optional ``ai`` extra: say which packages are missing instead of an ImportError."""

from __future__ import annotations

from importlib.util import find_spec

from wranglerpy.errors import AIError

RUNTIME = ("numpy", "onnxruntime", "tokenizers", "jinja2")
CONVERSION = ("gguf", "onnx")


def require(modules: tuple[str, ...] = RUNTIME + CONVERSION) -> None:
    missing = [name for name in modules if find_spec(name) is None]
    if missing:
        raise AIError(
            f"Workers AI needs {', '.join(missing)} (not installed). Install the extra: pip install 'wranglerpy[ai]'"
        )
