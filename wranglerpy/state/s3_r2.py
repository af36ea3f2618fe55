"""R2 buckets on an S3-compatible server, so workers on every node see the same objects.

Each R2 bucket is one S3 bucket, ``<bucket_prefix><bucket name>``, created on first use. Its
layout is wranglerpy's own, so every R2 behaviour holds on any S3 server (file-backed ones
such as SeaweedFS or MinIO treat ``/`` as a folder and list folder by folder):

* ``o/<hex of the key>!``: one object per R2 object, content and all; the R2 record (version,
  etag, upload time, checksums, http and custom metadata) is its ``x-amz-meta-r2`` header.
  Hex keeps byte order (S3 lists names in byte order), names no folder from the key, and is
  cut into 200-character segments (``/`` sorts below every hex digit, ``!`` below ``/``) so
  no segment passes the usual 255-byte limit of file-backed servers.
* ``u/<upload id>``: a multipart upload's key and metadata; ``p/<upload id>/<part>.<md5>``:
  its parts. ``complete`` copies the parts server-side into the object (UploadPartCopy).

Conditional puts (``onlyIf``) compare with the current object and write with ``If-Match``
(or ``If-None-Match: *``) on the S3 etag just read, retrying when another writer got in
between, so the check and the write act as one on servers that honour those headers.
boto3 is synchronous: every call runs on this store's small thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wranglerpy.bindings.r2.backend import ContentWriter, UploadNotFound
from wranglerpy.bindings.r2.meta import Conditions
from wranglerpy.bindings.r2.objects import Record
from wranglerpy.errors import StateError
from wranglerpy.state.backends import S3URL, redact

T = TypeVar("T")

SEGMENT = 200  # hex characters per name segment
SPOOL_BYTES = 8 * 1024 * 1024  # streamed content past this goes to a temporary file
READ_ALL_BYTES = 1024 * 1024  # ranges up to this are read in one go, larger ones streamed
READ_CHUNK = 256 * 1024
# A read fetches this much with the record: a small object's get is then one request.
FIRST_BYTES = 64 * 1024
PUT_RETRIES = 8
MAX_KEY_BYTES = 500  # its name, hex and all, stays within S3's 1024-byte limit
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def _client(url: S3URL, timeout: float = 60.0, attempts: int = 3) -> Any:
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        connect_timeout=min(timeout, 10.0),
        read_timeout=timeout,
        retries={"max_attempts": attempts, "mode": "standard"},
        max_pool_connections=32,
        # Only what the S3 API requires: not every S3-compatible server knows the newer
        # default CRC checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=url.endpoint,
        aws_access_key_id=url.access_key,
        aws_secret_access_key=url.secret_key,
        region_name=url.region,
        config=config,
    )


def ping(url: S3URL, timeout: float = 5.0) -> str | None:
    """None when the server answers and accepts the credentials; else why not, in one line."""
    try:
        _client(url, timeout, attempts=1).list_buckets()
    except ClientError as exc:
        return f"the S3 server refused the request ({_code(exc)}: {_message(exc)})"
    except BotoCoreError as exc:
        return f"cannot reach the S3 server ({exc})"
    return None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _missing(exc: ClientError) -> bool:
    return _status(exc) == 404 or _code(exc) in ("NoSuchKey", "NotFound", "404")


def _segments(hexed: str) -> str:
    return "/".join(hexed[i : i + SEGMENT] for i in range(0, len(hexed), SEGMENT))


def object_name(key: bytes, *, checked: bool = True) -> str:
    """The S3 name of the object ``key`` (``checked=False``: a list position, not a key)."""
    if checked and len(key) > MAX_KEY_BYTES:
        # S3 names are at most 1024 bytes; hex doubles the key. R2 allows 1024-byte keys.
        raise StateError(
            f"R2 keys longer than {MAX_KEY_BYTES} bytes cannot be stored on the S3 backend "
            f"(this one is {len(key)} bytes); the local store and R2 take up to 1024."
        )
    return f"o/{_segments(key.hex())}!"


def prefix_name(prefix: bytes) -> str:
    return f"o/{_segments(prefix.hex())}"


def key_of(name: str) -> bytes | None:
    """The R2 key an object name holds; None for a name that is not an object's."""
    if not name.startswith("o/") or not name.endswith("!"):
        return None
    try:
        return bytes.fromhex(name[2:-1].replace("/", ""))
    except ValueError:
        return None


def _record_header(record: Record) -> str:
    return json.dumps(
        {
            "version": record.version,
            "size": record.size,
            "etag": record.etag,
            "uploaded": record.uploaded,
            "http": record.http_metadata,
            "custom": record.custom_metadata,
            "checksums": record.checksums,
        },
        ensure_ascii=True,
        separators=(",", ":"),
    )


def _record(key: bytes, response: dict[str, Any]) -> Record:
    """The R2 record from a HEAD/GET response (objects another S3 client wrote get one made
    from their S3 fields)."""
    text = response.get("Metadata", {}).get("r2")
    etag = str(response.get("ETag", "")).strip('"')
    if text:
        data = json.loads(text)
        return Record(
            key=key.decode("utf-8", "surrogatepass"),
            version=data["version"],
            size=int(data["size"]),
            etag=data["etag"],
            uploaded=int(data["uploaded"]),
            http_metadata=data["http"],
            custom_metadata=data["custom"],
            checksums=data["checksums"],
        )
    modified = response.get("LastModified")
    size = int(response.get("ContentLength", 0))
    if response.get("ContentRange"):  # a ranged GET: "bytes 0-99/TOTAL"
        size = int(str(response["ContentRange"]).rpartition("/")[2])
    return Record(
        key=key.decode("utf-8", "surrogatepass"),
        version=etag,
        size=size,
        etag=etag,
        uploaded=int(modified.timestamp() * 1000) if modified else 0,
        checksums={"md5": etag} if re.fullmatch(r"[0-9a-f]{32}", etag) else {},
    )


class SpoolWriter:
    """Streamed content, hashed as it arrives, kept in memory then in a temporary file."""

    def __init__(self, algorithms: Iterable[str] = ()) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.size = 0
        self.hashes = {name: hashlib.new(name) for name in {"md5", *algorithms}}

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.size += len(chunk)
        for h in self.hashes.values():
            h.update(chunk)

    def digests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self.hashes.items()}

    def discard(self) -> None:
        self.file.close()


class S3R2Store:
    """One R2 bucket on an S3 server (see the module docstring for the layout)."""

    def __init__(self, url: S3URL, bucket_name: str) -> None:
        self.url = url
        self.bucket = f"{url.bucket_prefix}{bucket_name}"
        if not _BUCKET.fullmatch(self.bucket) or ".." in self.bucket:
            raise StateError(
                f"R2 bucket {bucket_name!r} cannot live on {redact(url.url)}: "
                f"{self.bucket!r} is not a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')."
            )
        self._s3 = _client(url)
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="wranglerpy-s3")
        self._ready = False
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3R2Store({redact(self.url.url)!r}, {self.bucket!r})"

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    # -- plumbing ------------------------------------------------------------------------

    async def _run(self, op: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, partial(self._call, fn, *args, **kwargs))
        except ClientError as exc:
            raise StateError(
                f"R2 {op} failed: S3 at {redact(self.url.url)}: {_code(exc)}: {_message(exc)}"
            ) from None
        except BotoCoreError as exc:
            raise StateError(f"R2 {op} failed: S3 at {redact(self.url.url)}: {exc}") from None

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._ensure_bucket()
        return fn(*args, **kwargs)

    def _ensure_bucket(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            try:
                self._s3.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if not _missing(exc):
                    raise
                try:
                    self._s3.create_bucket(Bucket=self.bucket)
                except ClientError as created:
                    if _code(created) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._ready = True

    def _head(self, name: str) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = self._s3.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return response

    def _names(
        self, prefix: str, start_after: str | None = None, limit: int = 0
    ) -> list[dict[str, Any]]:
        """Listed entries (Key, Size) under ``prefix``, all of them when ``limit`` is 0."""
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            if limit:
                kwargs["MaxKeys"] = limit - len(out)
            response = self._s3.list_objects_v2(**kwargs)
            out += response.get("Contents", [])
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token or (limit and len(out) >= limit):
                return out
            kwargs["ContinuationToken"] = token

    def _delete_names(self, names: list[str]) -> None:
        for i in range(0, len(names), 1000):
            batch = [{"Key": n} for n in names[i : i + 1000]]
            self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def stored_names(self) -> list[str]:
        """Every S3 object name in the bucket (what a put, delete or abort left behind)."""
        self._ensure_bucket()
        return sorted(str(entry["Key"]) for entry in self._names(""))

    def writer(self, algorithms: Iterable[str] = ()) -> SpoolWriter:
        return SpoolWriter(algorithms)

    # -- objects -------------------------------------------------------------------------

    def _first(self, key: bytes) -> Record | None:
        """The record, with the whole content when the object is small, in one GET."""
        name = object_name(key)
        try:
            response = self._s3.get_object(
                Bucket=self.bucket, Key=name, Range=f"bytes=0-{FIRST_BYTES - 1}"
            )
        except ClientError as exc:
            if _missing(exc):
                return None
            if _status(exc) != 416:
                raise
            head = self._head(name)  # an empty object has no byte 0
            if head is None:
                return None
            record = _record(key, head)
            record.data = b"" if record.size == 0 else None
            return record
        with contextlib.closing(response["Body"]) as body:
            data: bytes = body.read()
        record = _record(key, response)
        record.data = data if len(data) == record.size else None
        return record

    async def read(self, key: bytes) -> Record | None:
        return await self._run("get", self._first, key)

    async def content(
        self, record: Record, offset: int, length: int
    ) -> bytes | AsyncIterator[bytes] | None:
        if length == 0:
            return b""
        if record.data is not None:  # read whole with the record
            return record.data[offset : offset + length]
        key = record.key.encode("utf-8", "surrogatepass")

        def fetch() -> Any:
            try:
                return self._s3.get_object(
                    Bucket=self.bucket,
                    Key=object_name(key),
                    Range=f"bytes={offset}-{offset + length - 1}",
                )
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise

        response = await self._run("get", fetch)
        if response is None:
            return None
        body = response["Body"]
        if _record(key, response).version != record.version:
            body.close()
            return None  # replaced since the record was read
        if length <= READ_ALL_BYTES:
            data: bytes = await self._run("get", body.read)
            body.close()
            return data
        return self._stream(body)

    async def _stream(self, body: Any) -> AsyncIterator[bytes]:
        try:
            while chunk := await self._run("get", body.read, READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def put(
        self, key: bytes, record: Record, content: bytes | ContentWriter, cond: Conditions | None
    ) -> bool:
        record.data = record.blob = None
        name = object_name(key)
        metadata = {"r2": _record_header(record)}
        spool = content.file if isinstance(content, SpoolWriter) else None

        def put(**condition: str) -> None:
            body: bytes | IO[bytes] = content if isinstance(content, bytes) else b""
            if spool is not None:
                spool.seek(0)
                body = spool
            self._s3.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=body,
                ContentLength=record.size,
                Metadata=metadata,
                **condition,
            )

        def conditional_put() -> bool:
            assert cond is not None
            for _ in range(PUT_RETRIES):
                head = self._head(name)
                old = None if head is None else _record(key, head)
                if not cond.passes(old.etag if old else None, old.uploaded if old else None):
                    return False
                condition = {"IfNoneMatch": "*"} if head is None else {"IfMatch": head["ETag"]}
                try:
                    put(**condition)
                    return True
                except ClientError as exc:
                    if _status(exc) not in (409, 412):
                        raise
                    # Another writer got in between: look again.
            raise StateError(f"R2 put failed: key {record.key!r} kept changing; try again.")

        try:
            if cond is None:
                await self._run("put", put)
                return True
            return await self._run("put", conditional_put)
        finally:
            if spool is not None:
                spool.close()

    async def delete(self, keys: list[bytes]) -> None:
        await self._run("delete", self._delete_names, [object_name(k) for k in keys])

    async def scan(self, prefix: bytes, after: bytes | None, limit: int) -> list[bytes]:
        start = object_name(after, checked=False) if after is not None else None
        under = prefix_name(prefix)
        if start is not None and start < under:
            start = None
        entries = await self._run("list", self._names, under, start, limit)
        keys = [k for k in (key_of(str(e["Key"])) for e in entries) if k is not None]
        return [k for k in keys if k.startswith(prefix)]

    async def records(self, keys: list[bytes]) -> list[Record | None]:
        # S3 listings carry no custom metadata: one HEAD per key, on the store's threads.
        heads = await asyncio.gather(*(self._run("list", self._head, object_name(k)) for k in keys))
        return [None if h is None else _record(k, h) for k, h in zip(keys, heads, strict=True)]

    # -- multipart -----------------------------------------------------------------------

    async def create_upload(
        self, key: bytes, http: dict[str, object], custom: dict[str, str], created: int
    ) -> str:
        upload_id = uuid.uuid4().hex
        body = json.dumps({"key": key.hex(), "http": http, "custom": custom, "created": created})
        await self._run(
            "createMultipartUpload",
            self._s3.put_object,
            Bucket=self.bucket,
            Key=f"u/{upload_id}",
            Body=body.encode(),
        )
        return upload_id

    def _upload(self, key: bytes, upload_id: str) -> dict[str, Any]:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise UploadNotFound(upload_id)
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=f"u/{upload_id}")
        except ClientError as exc:
            if _missing(exc):
                raise UploadNotFound(upload_id) from None
            raise
        info: dict[str, Any] = json.loads(response["Body"].read())
        if info["key"] != key.hex():
            raise UploadNotFound(upload_id)
        return info

    def _part_entries(self, upload_id: str) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for entry in self._names(f"p/{upload_id}/"):
            number, _, md5 = str(entry["Key"]).rpartition("/")[2].partition(".")
            found[int(number)] = {"name": entry["Key"], "size": int(entry["Size"]), "md5": md5}
        return found

    async def check_upload(self, key: bytes, upload_id: str) -> None:
        await self._run("uploadPart", self._upload, key, upload_id)

    async def put_part(self, key: bytes, upload_id: str, number: int, part: ContentWriter) -> None:
        assert isinstance(part, SpoolWriter)
        md5 = part.digests()["md5"]
        name = f"p/{upload_id}/{number:05d}.{md5}"

        def put() -> None:
            self._upload(key, upload_id)
            part.file.seek(0)
            self._s3.put_object(
                Bucket=self.bucket, Key=name, Body=part.file, ContentLength=part.size
            )
            older = [
                str(e["Key"])
                for e in self._names(f"p/{upload_id}/{number:05d}.")
                if e["Key"] != name
            ]
            self._delete_names(older)
            try:
                self._upload(key, upload_id)  # aborted or completed meanwhile: drop the part
            except UploadNotFound:
                self._delete_names([name])
                raise

        try:
            await self._run("uploadPart", put)
        finally:
            part.discard()

    async def parts(self, key: bytes, upload_id: str) -> dict[int, tuple[int, str]]:
        def read() -> dict[int, tuple[int, str]]:
            self._upload(key, upload_id)
            return {n: (p["size"], p["md5"]) for n, p in self._part_entries(upload_id).items()}

        return await self._run("complete", read)

    async def complete(
        self, key: bytes, upload_id: str, numbers: list[int], record: Record
    ) -> Record:
        def join() -> Record:
            info = self._upload(key, upload_id)
            record.http_metadata = info["http"]
            record.custom_metadata = info["custom"]
            record.data = record.blob = None
            have = self._part_entries(upload_id)
            name = object_name(key)
            started = self._s3.create_multipart_upload(
                Bucket=self.bucket, Key=name, Metadata={"r2": _record_header(record)}
            )
            s3_upload = started["UploadId"]
            try:
                done = []
                for index, number in enumerate(numbers, start=1):
                    copied = self._s3.upload_part_copy(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=s3_upload,
                        PartNumber=index,
                        CopySource={"Bucket": self.bucket, "Key": have[number]["name"]},
                    )
                    done.append({"ETag": copied["CopyPartResult"]["ETag"], "PartNumber": index})
                self._s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=s3_upload,
                    MultipartUpload={"Parts": done},
                )
            except BaseException:
                self._s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=s3_upload)
                raise
            self._drop_upload(upload_id)
            return record

        return await self._run("complete", join)

    def _drop_upload(self, upload_id: str) -> None:
        parts = [str(p["name"]) for p in self._part_entries(upload_id).values()]
        self._delete_names([f"u/{upload_id}", *parts])

    async def abort(self, key: bytes, upload_id: str) -> None:
        def drop() -> None:
            self._upload(key, upload_id)
            self._drop_upload(upload_id)

        await self._run("abort", drop)
