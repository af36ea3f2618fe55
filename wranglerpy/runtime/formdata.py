"""``FormData``, ``Blob``, ``File`` and ``URLSearchParams``: one class each, serving both the
SDK's Python API (``FormData({...})``, ``form["k"]``, ``Blob(parts, content_type)``) and the JS
API worker code reaches through ``js`` (``FormData.new()``, ``.getAll``, ``Blob.new(parts,
type=...)``), since on Cloudflare the former wraps the latter."""

from __future__ import annotations

import email.parser
import email.policy
import secrets
import time
from collections.abc import Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from wranglerpy.runtime.buffers import ArrayBuffer, JsType, js_type_name

_Bytes = bytes  # `bytes` is also a method of Blob
FORM_TYPES = "multipart/form-data, application/x-www-form-urlencoded"


def _is_iterable(value: Any) -> bool:
    if isinstance(value, (str, bytes)):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _part_bytes(part: Any) -> bytes:
    if isinstance(part, str):
        return part.encode("utf-8")
    if isinstance(part, Blob):
        return part._data
    try:
        with memoryview(part) as view:
            return view.tobytes()
    except TypeError:
        raise TypeError(f"Don't know how to handle {type(part)} for Blob()") from None


class Blob(JsType):
    """Immutable bytes with a MIME type: ``Blob(parts, content_type=None, endings=None)``."""

    js_name = "Blob"

    def __init__(
        self, blob_parts: Any = None, content_type: str | None = None, endings: Any = None
    ) -> None:
        if blob_parts is None:
            blob_parts = []
        if not _is_iterable(blob_parts):
            if not content_type and isinstance(blob_parts, Blob):
                content_type = blob_parts.content_type
            blob_parts = [blob_parts]
        self._data = b"".join(_part_bytes(p) for p in blob_parts)
        self._type = (content_type or "").lower()

    @classmethod
    def new(cls, parts: Any = None, options: Any = None, **init: Any) -> Blob:
        opts = dict(options or {}) if isinstance(options, dict) else {}
        opts.update(init)
        return cls(list(parts or []), opts.get("type"))

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def content_type(self) -> str:
        return self._type

    @property
    def type(self) -> str:
        return self._type

    @property
    def js_object(self) -> Blob:
        return self

    async def text(self) -> str:
        return self._data.decode("utf-8", errors="replace")

    async def bytes(self) -> _Bytes:
        return self._data

    async def arrayBuffer(self) -> ArrayBuffer:  # noqa: N802 - the JS name
        return ArrayBuffer(self._data)

    def slice(
        self, start: int | None = None, end: int | None = None, content_type: str | None = None
    ) -> Blob:
        return Blob([self._data[start:end]], content_type)

    def _encode(self) -> tuple[_Bytes, str]:
        return self._data, self._type

    def __repr__(self) -> str:
        return f"<{self.js_name} size={self.size} type={self._type!r}>"


class File(Blob):
    """A ``Blob`` with a name and a modification time (ms since the epoch)."""

    js_name = "File"

    def __init__(
        self,
        blob_parts: Any,
        filename: str,
        content_type: str | None = None,
        endings: Any = None,
        last_modified: int | None = None,
    ) -> None:
        if not last_modified and isinstance(blob_parts, File):
            last_modified = blob_parts.last_modified
        super().__init__(blob_parts, content_type, endings)
        self._name = str(filename)
        self._last_modified = last_modified or int(time.time() * 1000)

    @classmethod
    def new(  # type: ignore[override]
        cls, parts: Any = None, name: str = "", options: Any = None, **init: Any
    ) -> File:
        opts = dict(options or {}) if isinstance(options, dict) else {}
        opts.update(init)
        return cls(list(parts or []), name, opts.get("type"), None, opts.get("lastModified"))

    @property
    def name(self) -> str:
        return self._name

    @property
    def last_modified(self) -> int:
        return self._last_modified

    @property
    def lastModified(self) -> int:  # noqa: N802 - the JS name
        return self._last_modified


def _entry_value(value: Any, filename: str | None = None) -> Any:
    if isinstance(value, File) and filename is None:
        return value
    if isinstance(value, Blob):
        return File(value, filename or "blob", value.content_type)
    return value if isinstance(value, str) else str(value)


class FormData(JsType, MutableMapping[str, Any]):
    """Ordered, multi-valued form fields: ``str`` values or ``File``s.

    ``form["k"]`` is the first value or ``None`` (JS ``get``), ``get_all``/``getAll`` every one.
    """

    js_name = "FormData"

    def __init__(self, form_data: Any = None) -> None:
        self._entries: list[tuple[str, Any]] = []
        if not form_data:
            return
        if isinstance(form_data, dict):
            for k, v in form_data.items():
                self.append(k, v)
            return
        if isinstance(form_data, FormData):
            self._entries = list(form_data._entries)
            return
        raise TypeError("Expected form_data to be a dict or an instance of FormData")

    @classmethod
    def new(cls, form: Any = None) -> FormData:
        return cls(form) if isinstance(form, FormData) else cls()

    @property
    def js_object(self) -> FormData:
        return self

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self._entries:
            if k == key:
                return v
        return default

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list):
            raise TypeError("Expected single item in arguments to FormData.__setitem__")
        self.set(key, value)

    def set(self, key: str, value: Any, filename: str | None = None) -> None:
        entry = (str(key), _entry_value(value, filename))
        for i, (k, _) in enumerate(self._entries):
            if k == key:
                self._entries[i] = entry
                self._entries = [e for j, e in enumerate(self._entries) if j <= i or e[0] != key]
                return
        self._entries.append(entry)

    def append(self, key: str, value: Any, filename: str | None = None) -> None:
        self._entries.append((str(key), _entry_value(value, filename)))

    def delete(self, key: str) -> None:
        self._entries = [(k, v) for k, v in self._entries if k != key]

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self._entries)

    def has(self, key: str) -> bool:
        return key in self

    def get_all(self, key: str) -> list[Any]:
        return [v for k, v in self._entries if k == key]

    def getAll(self, key: str) -> list[Any]:  # noqa: N802 - the JS name
        return self.get_all(key)

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        return (k for k, _ in self._entries)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (v for _, v in self._entries)

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return iter(list(self._entries))

    def entries(self) -> Iterator[tuple[str, Any]]:
        return self.items()

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return len(self._entries)

    def _encode(self) -> tuple[bytes, str]:
        boundary = "----formdata-wranglerpy-" + secrets.token_hex(12)
        out = bytearray()
        for name, value in self._entries:
            out += f"--{boundary}\r\n".encode()
            quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
            if isinstance(value, File):
                fname = value.name.replace('"', "%22")
                out += (
                    f'Content-Disposition: form-data; name="{quoted}"; filename="{fname}"\r\n'
                    f"Content-Type: {value.type or 'application/octet-stream'}\r\n\r\n"
                ).encode()
                out += value._data
            else:
                out += f'Content-Disposition: form-data; name="{quoted}"\r\n\r\n'.encode()
                out += value.encode("utf-8")
            out += b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        return bytes(out), f"multipart/form-data; boundary={boundary}"

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"


class URLSearchParams(JsType):
    """``URLSearchParams``: the query-string form, in order, with repeated names."""

    js_name = "URLSearchParams"

    def __init__(self, init: Any = None) -> None:
        self._pairs: list[tuple[str, str]] = []
        if init is None:
            return
        if isinstance(init, str):
            self._pairs = parse_qsl(init.removeprefix("?"), keep_blank_values=True)
        elif isinstance(init, dict):
            self._pairs = [(str(k), str(v)) for k, v in init.items()]
        elif isinstance(init, URLSearchParams):
            self._pairs = list(init._pairs)
        else:
            self._pairs = [(str(k), str(v)) for k, v in init]

    @staticmethod
    def new(init: Any = None) -> URLSearchParams:
        return URLSearchParams(init)

    def get(self, name: str) -> str | None:
        return next((v for k, v in self._pairs if k == name), None)

    def getAll(self, name: str) -> list[str]:  # noqa: N802 - the JS name
        return [v for k, v in self._pairs if k == name]

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self._pairs)

    def append(self, name: str, value: Any) -> None:
        self._pairs.append((str(name), str(value)))

    def set(self, name: str, value: Any) -> None:
        if not self.has(name):
            self.append(name, value)
            return
        first = next(i for i, (k, _) in enumerate(self._pairs) if k == name)
        self._pairs = [p for i, p in enumerate(self._pairs) if p[0] != name or i == first]
        self._pairs[first] = (name, str(value))

    def delete(self, name: str) -> None:
        self._pairs = [(k, v) for k, v in self._pairs if k != name]

    def sort(self) -> None:
        self._pairs.sort(key=lambda p: p[0])

    def entries(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def keys(self) -> Iterator[str]:
        return (k for k, _ in self._pairs)

    def values(self) -> Iterator[str]:
        return (v for _, v in self._pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return self.entries()

    @property
    def size(self) -> int:
        return len(self._pairs)

    def toString(self) -> str:  # noqa: N802 - the JS name
        return urlencode(self._pairs)

    def __str__(self) -> str:
        return self.toString()

    def _encode(self) -> tuple[bytes, str]:
        return self.toString().encode(), "application/x-www-form-urlencoded;charset=UTF-8"


def parse_form(data: bytes, content_type: str | None) -> FormData:
    """``await request.form_data()``: multipart or urlencoded, else workerd's TypeError."""
    mime = (content_type or "").split(";")[0].strip().lower()
    form = FormData()
    if mime == "application/x-www-form-urlencoded":
        for k, v in parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True):
            form.append(k, v)
        return form
    if mime != "multipart/form-data":
        raise TypeError(
            "Unrecognized Content-Type header value. FormData can only parse the following "
            f"MIME types: {FORM_TYPES}"
        )
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
    if not message.is_multipart():
        raise TypeError("Failed to parse body as FormData.")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = part.get_filename()
        if filename is not None:
            form.append(str(name), File([payload], filename, part.get_content_type()))
        else:
            form.append(str(name), payload.decode(part.get_content_charset() or "utf-8"))
    return form


def is_form_like(value: Any) -> bool:
    return js_type_name(value) in ("FormData", "Blob", "File", "URLSearchParams")
