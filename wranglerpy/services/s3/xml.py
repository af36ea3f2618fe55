"""S3's XML bodies: rendering results and errors, parsing the few request documents.

Rendering goes through ElementTree so every key and message is escaped; a result is written as
nested ``(name, value)`` pairs, where a value is text, a number, a datetime, a bool or a list of
further pairs.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from wranglerpy.services.s3.errors import S3Error, malformed_xml

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
CONTENT_TYPE = "application/xml"

# value: text, a number, a datetime, a bool, None (left out) or a list of further fields
Field = tuple[str, Any]


def iso(when: dt.datetime) -> str:
    """S3's timestamp form in XML: ``2026-12-01T14:00:00.000Z``."""
    utc = when.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _text(value: str | int | bool | dt.datetime) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return iso(value)
    return str(value)


def _fill(parent: ET.Element, fields: Iterable[Field]) -> None:
    for name, value in fields:
        if value is None:
            continue
        child = ET.SubElement(parent, name)
        if isinstance(value, (list, tuple)):
            _fill(child, value)
        else:
            child.text = _text(value)


def render(root: str, fields: Iterable[Field], *, namespace: bool = True) -> bytes:
    element = ET.Element(root, {"xmlns": NAMESPACE} if namespace else {})
    _fill(element, fields)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def render_error(error: S3Error, resource: str, request_id: str) -> bytes:
    fields: list[Field] = [("Code", error.code), ("Message", error.message)]
    fields += list(error.fields.items())
    fields += [("Resource", resource), ("RequestId", request_id)]
    return render("Error", fields, namespace=False)


def encode_key(value: str, url: bool) -> str:
    """A key as ``encoding-type=url`` asks for it (boto3 asks by default and decodes)."""
    return quote(value, safe="/~", errors="surrogateescape") if url else value


# -- request documents --------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(body: bytes, root: str) -> ET.Element:
    """The request document, which must have root ``root`` (any namespace)."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise malformed_xml()  # no entity tricks in a local API either
    try:
        element = ET.fromstring(body)
    except ET.ParseError:
        raise malformed_xml() from None
    if _local(element.tag) != root:
        raise malformed_xml()
    return element


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def child_text(element: ET.Element, name: str) -> str | None:
    found = children(element, name)
    return None if not found else (found[0].text or "")
