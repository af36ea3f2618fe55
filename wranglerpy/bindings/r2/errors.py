"""R2's limits and errors, with the wording and codes the Workers runtime uses
(``put: The specified object name is not valid. (10020)``)."""

from __future__ import annotations

from wranglerpy.errors import BindingError

MAX_KEY_SIZE = 1024
# R2's single-upload ceiling is 5 GiB minus 5 MiB (larger objects need multipart).
MAX_PUT_SIZE = 5 * 1024**3 - 5 * 1024**2
MAX_CUSTOM_METADATA_SIZE = 2048
MAX_LIST_LIMIT = 1000
MIN_PART_SIZE = 5 * 1024**2
MAX_PART_SIZE = 5 * 1024**3
MAX_PART_NUMBER = 10_000

INVALID_OBJECT_NAME = (10020, "The specified object name is not valid.")
ENTITY_TOO_LARGE = (100100, "Your proposed upload exceeds the maximum allowed object size.")
ENTITY_TOO_SMALL = (
    10011,
    "Your proposed upload is smaller than the minimum allowed object size.",
)
METADATA_TOO_LARGE = (
    10012,
    "Your metadata headers exceed the maximum allowed metadata size.",
)
INVALID_MAX_KEYS = (10022, "MaxKeys params must be positive integer <= 1000.")
NO_SUCH_UPLOAD = (10024, "The specified multipart upload does not exist.")
INVALID_PART = (10025, "One or more of the specified parts could not be found.")
INVALID_PART_ORDER = (10035, "The list of parts was not in ascending order.")
INVALID_ARGUMENT = (10029, "Invalid Argument")
BAD_DIGEST = (10037, "The {algorithm} checksum you specified did not match what we received.")
INVALID_RANGE = (10039, "The requested range is not satisfiable")
BAD_UPLOAD = (10048, "There was a problem with the multipart upload.")
NO_SUCH_KEY = (10007, "The specified key does not exist.")


class R2Error(BindingError):
    """An R2 call rejected as the Workers runtime rejects it; ``code`` is R2's error code."""

    def __init__(self, op: str, code: int, message: str) -> None:
        super().__init__(f"{op}: {message} ({code})")
        self.code = code
        self.op = op


def fail(op: str, error: tuple[int, str], detail: str = "", **fmt: str) -> R2Error:
    code, message = error
    text = message.format(**fmt) if fmt else message
    return R2Error(op, code, f"{text} {detail}".strip())


def check_key(op: str, key: object) -> bytes:
    """The key's UTF-8 bytes; any string of 1..1024 bytes is a valid R2 key."""
    if not isinstance(key, str):
        raise fail(op, INVALID_OBJECT_NAME, f"(key must be a string, got {type(key).__name__})")
    encoded = key.encode("utf-8", "surrogatepass")
    if not encoded or len(encoded) > MAX_KEY_SIZE:
        raise fail(op, INVALID_OBJECT_NAME, f"(key is {len(encoded)} bytes; 1 to 1024 allowed)")
    return encoded
