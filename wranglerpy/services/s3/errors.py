"""S3's error codes and statuses, and the mapping from the R2 binding's errors to them.

The codes are the ones R2's S3 API answers with (``NoSuchKey``, ``SignatureDoesNotMatch``, ...),
so clients that branch on ``error.response["Error"]["Code"]`` behave as against R2.
"""

from __future__ import annotations

from wranglerpy.bindings.r2 import errors as r2


class S3Error(Exception):
    """One S3 error response: ``<Error><Code>..</Code><Message>..</Message>..</Error>``."""

    def __init__(self, status: int, code: str, message: str, **fields: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers: list[tuple[str, str]] = []


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error(404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error(404, "NoSuchKey", "The specified key does not exist.", Key=key)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        404, "NoSuchUpload", "The specified multipart upload does not exist.", UploadId=upload_id
    )


def invalid_argument(message: str, name: str = "", value: str = "") -> S3Error:
    fields = {"ArgumentName": name, "ArgumentValue": value} if name else {}
    return S3Error(400, "InvalidArgument", message, **fields)


def malformed_xml() -> S3Error:
    return S3Error(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.",
    )


def access_denied(message: str = "Access Denied") -> S3Error:
    return S3Error(403, "AccessDenied", message)


def not_implemented(what: str) -> S3Error:
    return S3Error(
        501, "NotImplemented", f"{what} is not implemented by the local S3 API of wranglerpy."
    )


# R2 binding error code -> (HTTP status, S3 code)
_FROM_R2: dict[int, tuple[int, str]] = {
    r2.INVALID_OBJECT_NAME[0]: (400, "InvalidObjectName"),
    r2.ENTITY_TOO_LARGE[0]: (400, "EntityTooLarge"),
    r2.ENTITY_TOO_SMALL[0]: (400, "EntityTooSmall"),
    r2.METADATA_TOO_LARGE[0]: (400, "MetadataTooLarge"),
    r2.INVALID_MAX_KEYS[0]: (400, "InvalidArgument"),
    r2.NO_SUCH_UPLOAD[0]: (404, "NoSuchUpload"),
    r2.INVALID_PART[0]: (400, "InvalidPart"),
    r2.INVALID_PART_ORDER[0]: (400, "InvalidPartOrder"),
    r2.INVALID_ARGUMENT[0]: (400, "InvalidArgument"),
    r2.BAD_DIGEST[0]: (400, "BadDigest"),
    r2.INVALID_RANGE[0]: (416, "InvalidRange"),
    r2.BAD_UPLOAD[0]: (400, "InvalidPart"),
    r2.NO_SUCH_KEY[0]: (404, "NoSuchKey"),
}


def from_r2(error: r2.R2Error) -> S3Error:
    status, code = _FROM_R2.get(error.code, (500, "InternalError"))
    # The binding's message starts with "<op>: "; S3's messages do not name an operation.
    message = str(error).split(": ", 1)[-1]
    return S3Error(status, code, message)
