"""Frames between AI bindings and the model host: a 4-byte big-endian length, then JSON.

Kept to this one module on purpose: wranglerpy's typed inter-process wire (one protocol module
for every call between processes) is meant to replace it, and swapping it then touches only
this file and the codecs below. Every frame is a JSON object; requests carry an ``id`` that
the host's answers repeat, so one connection carries many concurrent generations.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import struct
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from wranglerpy.ai.models import Artifact, LocalModel
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.ai.text import Generation, TextRequest, TextResult
from wranglerpy.errors import AIError

PROTOCOL = 1  # bump when a frame changes: clients then start a host of their own version
HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024  # an embeddings batch of a few thousand vectors fits


class WireError(Exception):
    """The other side sent something that is not a frame (or closed mid-frame)."""


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next frame, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise WireError("connection closed inside a frame header") from None
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes is over the {MAX_FRAME}-byte limit")
    try:
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise WireError("connection closed inside a frame") from None
    value = json.loads(body)
    if not isinstance(value, dict):
        raise WireError("a frame must be a JSON object")
    return value


def encode_frame(frame: dict[str, Any]) -> bytes:
    body = json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def socket_is_live(path: Path) -> bool:
    """Whether something accepts connections on the unix socket ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


# -- codecs for what crosses the socket ----------------------------------------------------


def model_to_wire(model: LocalModel) -> dict[str, Any]:
    return asdict(model)


def model_from_wire(data: dict[str, Any]) -> LocalModel:
    return LocalModel(
        name=data["name"],
        task=data["task"],
        description=data["description"],
        artifacts=tuple(Artifact(**a) for a in data["artifacts"]),
    )


def request_to_wire(request: TextRequest) -> dict[str, Any]:
    return {
        "params": asdict(request.params),
        "messages": request.messages,
        "prompt": request.prompt,
        "raw": request.raw,
        "schema": request.schema,
    }


def request_from_wire(data: dict[str, Any]) -> TextRequest:
    return TextRequest(
        params=SamplingParams(**data["params"]),
        messages=data["messages"],
        prompt=data["prompt"],
        raw=bool(data["raw"]),
        schema=data["schema"],
    )


def result_to_wire(result: TextResult) -> dict[str, Any]:
    g = result.generation
    return {
        "text": result.text,
        "prompt_tokens": g.prompt_tokens,
        "token_ids": g.token_ids,
        "finish_reason": g.finish_reason,
    }


def result_from_wire(data: dict[str, Any]) -> TextResult:
    generation = Generation(
        prompt_tokens=int(data["prompt_tokens"]),
        token_ids=list(data["token_ids"]),
        finish_reason=str(data["finish_reason"]),
    )
    return TextResult(str(data["text"]), generation)


def vectors_to_wire(vectors: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    return {"shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()}


def vectors_from_wire(data: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(data["data"])
    return np.frombuffer(raw, dtype=np.float32).reshape(data["shape"]).copy()


def error_to_wire(exc: BaseException) -> dict[str, Any]:
    kind = "AIError" if isinstance(exc, AIError) else type(exc).__name__
    message = exc.message if isinstance(exc, AIError) else str(exc)
    return {"type": kind, "message": message}


def error_from_wire(data: dict[str, Any]) -> Exception:
    """The host's error as the binding would have raised it in-process."""
    kind, message = str(data.get("type")), str(data.get("message"))
    if kind == "AIError":
        return AIError(message)
    if kind == "ValueError":
        return ValueError(message)
    return AIError(f"the Workers AI model host failed: {kind}: {message}")
