import datetime as dt
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wranglerpy.bindings import r2
from wranglerpy.bindings.r2 import R2BucketBinding, R2Error, R2Object, R2ObjectBody
from wranglerpy.bindings.r2.binding import INLINE_MAX
from wranglerpy.config.schema import R2Bucket
from wranglerpy.errors import BindingError
from wranglerpy.runtime.headers import Headers

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bucket(tmp_path: Path, clock: Clock) -> R2BucketBinding:
    b = R2BucketBinding(tmp_path / "bucket", bucket_name="b", clock=clock)
    yield b
    b.close()


async def chunks(*parts: bytes):
    for part in parts:
        yield part


BIG = bytes(range(256)) * 8192  # 2 MiB: stored as a blob file, streamed from disk


# -- put / get / head ----------------------------------------------------------------------


async def test_put_returns_object_metadata(bucket: R2BucketBinding) -> None:
    obj = await bucket.put("hello.txt", "hello", {"customMetadata": {"a": "1"}})
    assert isinstance(obj, R2Object)
    md5 = hashlib.md5(b"hello").hexdigest()
    assert (obj.key, obj.size, obj.etag, obj.httpEtag) == ("hello.txt", 5, md5, f'"{md5}"')
    assert obj["etag"] == md5 and obj.checksums.md5 == md5 and obj.checksums.sha256 is None
    assert obj.uploaded == dt.datetime.fromtimestamp(NOW, dt.timezone.utc)
    assert obj.customMetadata == {"a": "1"} and obj.customMetadata.a == "1"
    assert len(obj.version) == 32 and obj.range is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("text", b"text"),
        (b"\x00\xff", b"\x00\xff"),
        (None, b""),
        (chunks(b"ab", b"cd"), b"abcd"),
        (BIG, BIG),
        (chunks(BIG[:1000], BIG[1000:]), BIG),
    ],
)
async def test_put_values_round_trip(bucket: R2BucketBinding, value, expected: bytes) -> None:
    await bucket.put("k", value)
    got = await bucket.get("k")
    assert isinstance(got, R2ObjectBody) and got.size == len(expected)
    assert await got.arrayBuffer() == expected
    assert got.etag == hashlib.md5(expected).hexdigest()


async def test_body_reads(bucket: R2BucketBinding) -> None:
    await bucket.put("j", '{"x": [1, 2]}')
    assert (await (await bucket.get("j")).json()).x == [1, 2]
    assert await (await bucket.get("j")).text() == '{"x": [1, 2]}'
    body = await bucket.get("j")
    assert body.bodyUsed is False
    assert b"".join([c async for c in body.body]) == b'{"x": [1, 2]}'
    assert body.bodyUsed is True
    with pytest.raises(TypeError, match="already been used"):
        await body.text()
    await bucket.put("big", BIG)
    streamed = await bucket.get("big")
    assert await streamed.body.read_all() == BIG


async def test_get_and_head_of_missing_keys(bucket: R2BucketBinding) -> None:
    assert await bucket.get("nope") is None
    assert await bucket.head("nope") is None


async def test_head_has_no_body(bucket: R2BucketBinding) -> None:
    await bucket.put("k", "v")
    head = await bucket.head("k")
    assert type(head) is R2Object and head.size == 1


async def test_put_rejects_other_values_and_unknown_options(bucket: R2BucketBinding) -> None:
    with pytest.raises(R2Error, match=r"^put: Invalid Argument .*int"):
        await bucket.put("k", 12)
    with pytest.raises(R2Error, match="unknown options"):
        await bucket.put("k", "v", {"metadata": {}})


async def test_key_limits(bucket: R2BucketBinding) -> None:
    await bucket.put("é" * 512, "ok")  # 1024 bytes
    with pytest.raises(R2Error, match=r"put: The specified object name is not valid\..*\(10020\)"):
        await bucket.put("k" * 1025, "x")
    for call in (bucket.get(""), bucket.head(3), bucket.delete("x" * 2000)):
        with pytest.raises(BindingError, match="10020"):
            await call


async def test_http_metadata_from_dict_or_headers(bucket: R2BucketBinding) -> None:
    expiry = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    await bucket.put("a", "x", httpMetadata={"contentType": "text/plain", "cacheExpiry": expiry})
    obj = await bucket.head("a")
    assert obj.httpMetadata == {"contentType": "text/plain", "cacheExpiry": expiry}
    await bucket.put("b", "x", httpMetadata=Headers({"Content-Type": "image/png"}))
    assert (await bucket.head("b")).httpMetadata.contentType == "image/png"
    headers = Headers()
    obj.writeHttpMetadata(headers)
    assert headers.get("content-type") == "text/plain"
    assert headers.get("expires") == "Tue, 01 Jan 2030 00:00:00 GMT"
    plain: dict[str, str] = {}
    obj.writeHttpMetadata(plain)
    assert plain["content-type"] == "text/plain"
    with pytest.raises(R2Error, match="unknown httpMetadata"):
        await bucket.put("c", "x", httpMetadata={"type": "x"})


async def test_custom_metadata_limit(bucket: R2BucketBinding) -> None:
    await bucket.put("ok", "x", customMetadata={"k": "v" * 2047})
    with pytest.raises(R2Error, match=r"exceed the maximum allowed metadata size.*\(10012\)"):
        await bucket.put("big", "x", customMetadata={"k": "v" * 2048})
    with pytest.raises(R2Error, match="strings to strings"):
        await bucket.put("bad", "x", customMetadata={"k": 1})


async def test_checksums_are_verified(bucket: R2BucketBinding) -> None:
    md5 = hashlib.md5(b"data").hexdigest()
    sha = hashlib.sha256(b"data").digest()
    assert (await bucket.put("a", "data", md5=md5)).etag == md5
    obj = await bucket.put("b", "data", sha256=sha)
    assert obj.checksums.sha256 == sha.hex() and obj.checksums.toJSON()["md5"] == md5
    with pytest.raises(R2Error, match=r"The MD5 checksum you specified did not match .*\(10037\)"):
        await bucket.put("c", "data", md5="00" * 16)
    with pytest.raises(R2Error, match="SHA1 checksum"):
        await bucket.put("c", BIG, sha1="00" * 20)
    with pytest.raises(R2Error, match="multiple hashes"):
        await bucket.put("c", "data", md5=md5, sha256=sha)
    assert await bucket.head("c") is None
    assert _blob_files(bucket) == []  # the rejected big upload left no file


def _blob_files(bucket: R2BucketBinding) -> list[str]:
    return sorted(p.name for p in bucket._blobs.iterdir())


async def test_overwrite_and_delete_free_blob_files(bucket: R2BucketBinding) -> None:
    await bucket.put("k", BIG)
    first = _blob_files(bucket)
    assert len(first) == 1
    await bucket.put("k", BIG[::-1])
    second = _blob_files(bucket)
    assert len(second) == 1 and second != first
    await bucket.put("k", "small now")
    assert _blob_files(bucket) == []
    await bucket.put("k", BIG)
    await bucket.delete("k")
    assert _blob_files(bucket) == [] and await bucket.get("k") is None


async def test_delete_one_or_many(bucket: R2BucketBinding) -> None:
    for key in ("a", "b", "c"):
        await bucket.put(key, key)
    await bucket.delete("a")
    await bucket.delete(["b", "missing"])
    assert [o.key for o in (await bucket.list()).objects] == ["c"]
    with pytest.raises(R2Error, match="1000 keys"):
        await bucket.delete([str(i) for i in range(1001)])


# -- ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"0123456789", BIG], ids=["inline", "blob"])
async def test_ranges(bucket: R2BucketBinding, data: bytes) -> None:
    await bucket.put("r", data)
    cases = [
        ({"offset": 2, "length": 3}, data[2:5], (2, 3)),
        ({"offset": 4}, data[4:], (4, len(data) - 4)),
        ({"length": 4}, data[:4], (0, 4)),
        ({"suffix": 3}, data[-3:], (len(data) - 3, 3)),
        ({"offset": 8, "length": 10**9}, data[8:], (8, len(data) - 8)),
    ]
    for spec, expected, (offset, length) in cases:
        got = await bucket.get("r", range=spec)
        assert (got.range.offset, got.range.length) == (offset, length)
        assert await got.arrayBuffer() == expected
        assert got.size == len(data)
    stream = await bucket.get("r", range={"offset": 1})
    assert await stream.body.read_all() == data[1:]


async def test_range_from_request_headers(bucket: R2BucketBinding) -> None:
    await bucket.put("r", "0123456789")
    for header, expected in (("bytes=2-4", b"234"), ("bytes=7-", b"789"), ("bytes=-2", b"89")):
        got = await bucket.get("r", range=Headers({"Range": header}))
        assert await got.arrayBuffer() == expected, header
    whole = await bucket.get("r", range=Headers({"x": "y"}))
    assert await whole.text() == "0123456789" and whole.range is None
    for bad in ("items=1-2", "bytes=5-1", "bytes=1-2,4-5", "bytes=a-"):
        with pytest.raises(R2Error, match="10039"):
            await bucket.get("r", range=Headers({"Range": bad}))


async def test_bad_ranges(bucket: R2BucketBinding) -> None:
    await bucket.put("r", "0123456789")
    for spec in ({"offset": 10}, {"offset": -1}, {"suffix": 2, "offset": 1}, {"length": 0}):
        with pytest.raises(R2Error, match=r"The requested range is not satisfiable.*\(10039\)"):
            await bucket.get("r", range=spec)


# -- conditions ------------------------------------------------------------------------------


async def test_get_only_if(bucket: R2BucketBinding, clock: Clock) -> None:
    obj = await bucket.put("k", "v")
    before = dt.datetime.fromtimestamp(NOW - 10, dt.timezone.utc)
    after = dt.datetime.fromtimestamp(NOW + 10, dt.timezone.utc)
    passing = [
        {"etagMatches": obj.etag},
        {"etagMatches": [obj.httpEtag, "other"]},
        {"etagMatches": "*"},
        {"etagDoesNotMatch": "other"},
        {"uploadedBefore": after},
        {"uploadedAfter": before},
        {"etagMatches": obj.etag, "uploadedBefore": before},  # the etag wins (RFC 9110)
    ]
    failing = [
        {"etagMatches": "other"},
        {"etagDoesNotMatch": obj.etag},
        {"etagDoesNotMatch": "*"},
        {"uploadedBefore": before},
        {"uploadedAfter": after},
    ]
    for cond in passing:
        got = await bucket.get("k", onlyIf=cond)
        assert isinstance(got, R2ObjectBody), cond
    for cond in failing:
        got = await bucket.get("k", onlyIf=cond)
        assert type(got) is R2Object and got.etag == obj.etag, cond
    headers = Headers({"if-none-match": obj.httpEtag})
    assert type(await bucket.get("k", onlyIf=headers)) is R2Object


async def test_put_only_if(bucket: R2BucketBinding) -> None:
    assert await bucket.put("k", "v1", onlyIf={"etagMatches": "x"}) is None
    assert await bucket.head("k") is None
    first = await bucket.put("k", "v1", onlyIf={"etagDoesNotMatch": "*"})  # create-only
    assert first is not None
    assert await bucket.put("k", "v2", onlyIf={"etagDoesNotMatch": "*"}) is None
    assert await bucket.put("k", "v2", onlyIf={"etagMatches": "stale"}) is None
    assert await bucket.put("k", BIG, onlyIf={"etagMatches": first.etag}) is not None
    assert await bucket.put("k", BIG[:-1], onlyIf={"etagMatches": first.etag}) is None
    assert (await bucket.head("k")).size == len(BIG)
    assert len(_blob_files(bucket)) == 1  # the refused big put removed its blob


# -- list ------------------------------------------------------------------------------------


async def test_list_order_prefix_and_include(bucket: R2BucketBinding) -> None:
    for key in ("b", "a/2", "a/1", "ä", "a/sub/x", "c"):
        await bucket.put(key, key, customMetadata={"k": key}, httpMetadata={"contentType": "t"})
    listed = await bucket.list()
    assert [o.key for o in listed.objects] == ["a/1", "a/2", "a/sub/x", "b", "c", "ä"]
    assert listed.truncated is False and "cursor" not in listed
    assert listed.delimitedPrefixes == [] and listed.objects[0].customMetadata == {}
    full = await bucket.list(prefix="a/", include=["customMetadata", "httpMetadata"])
    assert [o.customMetadata.k for o in full.objects] == ["a/1", "a/2", "a/sub/x"]
    assert full.objects[0].httpMetadata == {"contentType": "t"}
    assert [o.key for o in (await bucket.list(startAfter="a/2")).objects][0] == "a/sub/x"


async def test_list_with_delimiter(bucket: R2BucketBinding) -> None:
    for key in ("a/1", "a/2", "a/sub/x", "a/sub/y", "a/tub/z", "b", "c/d"):
        await bucket.put(key, "x")
    top = await bucket.list(delimiter="/")
    assert [o.key for o in top.objects] == ["b"]
    assert top.delimitedPrefixes == ["a/", "c/"]
    inner = await bucket.list(prefix="a/", delimiter="/")
    assert [o.key for o in inner.objects] == ["a/1", "a/2"]
    assert inner.delimitedPrefixes == ["a/sub/", "a/tub/"]
    page = await bucket.list(prefix="a/", delimiter="/", limit=3)
    assert [o.key for o in page.objects] == ["a/1", "a/2"] and page.delimitedPrefixes == ["a/sub/"]
    rest = await bucket.list(prefix="a/", delimiter="/", limit=3, cursor=page.cursor)
    assert rest.delimitedPrefixes == ["a/tub/"] and rest.truncated is False


async def test_list_cursor_pages_through_everything(bucket: R2BucketBinding) -> None:
    keys = [f"k{i:03d}" for i in range(25)]
    for key in keys:
        await bucket.put(key, "x")
    seen, cursor = [], None
    while True:
        page = await bucket.list(limit=10, cursor=cursor)
        seen += [o.key for o in page.objects]
        if not page.truncated:
            break
        cursor = page.cursor
    assert seen == keys
    exact = await bucket.list(limit=25)
    assert exact.truncated is False


async def test_list_limits(bucket: R2BucketBinding) -> None:
    for bad in (0, 1001, -1, "5"):
        with pytest.raises(R2Error, match=r"MaxKeys params must be positive integer <= 1000\."):
            await bucket.list(limit=bad)
    with pytest.raises(R2Error, match="include accepts"):
        await bucket.list(include=["everything"])
    with pytest.raises(R2Error, match="invalid cursor"):
        await bucket.list(cursor="!!!")


# -- multipart -------------------------------------------------------------------------------

MIB5 = 5 * 1024 * 1024


async def test_multipart_round_trip(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload(
        "big", {"httpMetadata": {"contentType": "video/mp4"}, "customMetadata": {"m": "1"}}
    )
    assert upload.key == "big" and upload.uploadId
    one, two, three = b"a" * MIB5, b"b" * MIB5, b"tail"
    p2 = await upload.uploadPart(2, two)
    p1 = await upload.uploadPart(1, chunks(one[:100], one[100:]))
    resumed = bucket.resumeMultipartUpload("big", upload.uploadId)
    p3 = await resumed.uploadPart(3, three)
    assert p1 == {"partNumber": 1, "etag": hashlib.md5(one).hexdigest()}
    obj = await upload.complete([p3, p1, p2])  # joined in part-number order
    md5s = b"".join(hashlib.md5(p).digest() for p in (one, two, three))
    assert obj.etag == f"{hashlib.md5(md5s).hexdigest()}-3"
    assert obj.size == 2 * MIB5 + 4 and obj.customMetadata == {"m": "1"}
    got = await bucket.get("big", range={"suffix": 6})
    assert await got.arrayBuffer() == b"bbtail"
    assert (await bucket.head("big")).httpMetadata.contentType == "video/mp4"
    assert len(_blob_files(bucket)) == 1  # parts are gone, one joined blob remains
    with pytest.raises(R2Error, match=r"multipart upload does not exist\. \(10024\)"):
        await upload.uploadPart(4, "x")


async def test_multipart_rules(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload("m")
    p1 = await upload.uploadPart(1, "small")
    p2 = await upload.uploadPart(2, "last")
    with pytest.raises(R2Error, match=r"smaller than the minimum allowed object size.*\(10011\)"):
        await upload.complete([p1, p2])
    with pytest.raises(R2Error, match=r"could not be found.*\(10025\)"):
        await upload.complete([{"partNumber": 1, "etag": "wrong"}])
    with pytest.raises(R2Error, match="listed twice"):
        await upload.complete([p1, p1])
    with pytest.raises(R2Error, match=r"\(10048\)"):
        await upload.complete([])
    for number in (0, 10001, "1"):
        with pytest.raises(R2Error, match="partNumber must be an integer 1..10000"):
            await upload.uploadPart(number, "x")
    single = await upload.complete([p1])  # one part: the last may be small
    assert single.size == 5 and single.etag.endswith("-1")


async def test_multipart_uneven_parts_fail_on_complete(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload("m")
    parts = [
        await upload.uploadPart(1, b"a" * MIB5),
        await upload.uploadPart(2, b"b" * (MIB5 + 1)),
        await upload.uploadPart(3, b"c"),
    ]
    with pytest.raises(R2Error, match="same size"):
        await upload.complete(parts)


async def test_multipart_abort_and_unknown_uploads(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload("m")
    await upload.uploadPart(1, BIG)
    await upload.abort()
    assert _blob_files(bucket) == []
    with pytest.raises(R2Error, match="10024"):
        await upload.abort()
    ghost = bucket.resumeMultipartUpload("m", "no-such-id")
    with pytest.raises(R2Error, match="10024"):
        await ghost.uploadPart(1, "x")
    other_key = bucket.resumeMultipartUpload(
        "other", (await bucket.createMultipartUpload("m")).uploadId
    )
    with pytest.raises(R2Error, match="10024"):
        await other_key.uploadPart(1, "x")
    assert await bucket.head("m") is None


# -- state -----------------------------------------------------------------------------------


async def test_create_lays_out_state_by_bucket_and_shares_it(tmp_path: Path) -> None:
    a = r2.create(R2Bucket(binding="A", bucket_name="photos"), tmp_path)
    b = r2.create(R2Bucket(binding="B", bucket_name="photos"), tmp_path)
    other = r2.create(R2Bucket(binding="C", bucket_name="other"), tmp_path)
    await a.put("k", BIG)
    assert await (await b.get("k")).arrayBuffer() == BIG
    assert await other.get("k") is None
    assert (tmp_path / "r2" / "photos" / "meta.sqlite").is_file()
    for binding in (a, b, other):
        binding.close()


async def test_any_key_stays_inside_the_bucket(tmp_path: Path) -> None:
    persist = tmp_path / "state"
    bucket = r2.create(R2Bucket(binding="B", bucket_name="b"), persist)
    evil = ["../../etc/passwd", "../../../outside", "/abs/path", "..", ".", "a/../../../x", "\x00"]
    for key in evil:
        await bucket.put(key, BIG if key == "/abs/path" else f"data for {key}")
        upload = await bucket.createMultipartUpload(key)
        await upload.uploadPart(1, "part")
    for key in evil:
        got = await bucket.get(key)
        expected = BIG if key == "/abs/path" else f"data for {key}".encode()
        assert await got.arrayBuffer() == expected
    bucket.close()
    inside = persist / "r2" / "b"
    every_file = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert every_file and all(p.is_relative_to(inside) for p in every_file)
    assert not (tmp_path / "etc").exists() and not (tmp_path / "outside").exists()
    names = {p.name for p in (inside / "blobs").iterdir()}
    assert all(len(n) == 32 and n.isalnum() for n in names)  # generated ids only


async def test_odd_bucket_names_stay_inside_persist_dir(tmp_path: Path) -> None:
    persist = tmp_path / "state"
    bucket = r2.create(R2Bucket(binding="B", bucket_name="../../escape"), persist)
    await bucket.put("k", BIG)
    bucket.close()
    assert all(p.is_relative_to(persist / "r2") for p in tmp_path.rglob("*") if p.is_file())


async def test_orphan_blobs_from_a_crash_are_swept(tmp_path: Path) -> None:
    folder = tmp_path / "bucket"
    bucket = R2BucketBinding(folder)
    await bucket.put("k", BIG)
    bucket.close()
    blobs = folder / "blobs"
    orphan, fresh = blobs / ".tmp-deadbeef", blobs / ("f" * 32)
    orphan.write_bytes(b"half")
    fresh.write_bytes(b"in flight elsewhere")
    os.utime(orphan, (NOW - 7200, 1))
    again = R2BucketBinding(folder)
    assert not orphan.exists() and fresh.exists()
    assert await (await again.get("k")).arrayBuffer() == BIG
    again.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from wranglerpy.bindings.r2 import R2BucketBinding

    async def main(folder, tag, count, size):
        bucket = R2BucketBinding(Path(folder))
        print("ready", flush=True)
        while not Path(folder + ".go").exists():  # start together with the other writer
            time.sleep(0.002)
        for i in range(count):
            await bucket.put(f"{tag}-{i:05d}", tag.encode() * size)
            if i == 10:
                print("started", flush=True)
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    """
)


def _writer(folder: Path, tag: str, count: int, size: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), tag, str(count), str(size)],
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_two_processes_write_concurrently_and_lose_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    # "a" writes inline rows, "b" writes blob files: both paths race on one store.
    procs = [_writer(folder, "a", 400, 10), _writer(folder, "b", 60, INLINE_MAX + 1)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    Path(f"{folder}.go").touch()
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "done" in out
    bucket = R2BucketBinding(folder)
    keys, cursor = [], None
    while True:
        page = await bucket.list(cursor=cursor)
        keys += [o.key for o in page.objects]
        if not page.truncated:
            break
        cursor = page.cursor
    assert len(keys) == 460
    assert await (await bucket.get("b-00059")).arrayBuffer() == b"b" * (INLINE_MAX + 1)
    assert await (await bucket.get("a-00399")).text() == "a" * 10
    bucket.close()


async def test_kill_9_mid_write_leaves_a_readable_store(tmp_path: Path) -> None:
    folder = tmp_path / "crash"
    Path(f"{folder}.go").touch()
    size = 256 * 1024
    proc = _writer(folder, "x", 100_000, size)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    assert proc.stdout.readline().strip() == "started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(folder / "meta.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    bucket = R2BucketBinding(folder)
    page = await bucket.list()
    names = [o.key for o in page.objects]
    assert len(names) >= 11
    assert names == [f"x-{i:05d}" for i in range(len(names))]  # no gaps: only the last one lost
    for name in names:  # every visible object is whole
        assert await (await bucket.get(name)).arrayBuffer() == b"x" * size
    await bucket.put("after", "ok")
    assert await (await bucket.get("after")).text() == "ok"
    bucket.close()


def test_results_serialise_through_to_json(bucket: R2BucketBinding) -> None:
    obj = R2Object(
        r2.objects.Record(
            key="k", version="v", size=1, etag="e", uploaded=0, checksums={"md5": "e"}
        )
    )
    assert json.dumps(obj.checksums.toJSON()) == '{"md5": "e"}'


async def test_object_and_part_size_limits(
    bucket: R2BucketBinding, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wranglerpy.bindings.r2 import errors

    monkeypatch.setattr(errors, "MAX_PUT_SIZE", 100)
    monkeypatch.setattr(errors, "MAX_PART_SIZE", 100)
    await bucket.put("ok", b"x" * 100)
    too_big = r"put: Your proposed upload exceeds the maximum allowed object size\. \(100100\)"
    with pytest.raises(R2Error, match=too_big):
        await bucket.put("big", b"x" * 101)
    with pytest.raises(R2Error, match=too_big):
        await bucket.put("big", chunks(b"x" * 60, b"x" * 60))
    upload = await bucket.createMultipartUpload("m")
    with pytest.raises(R2Error, match=r"uploadPart: .*\(100100\)"):
        await upload.uploadPart(1, chunks(b"x" * 101))
    assert await bucket.head("big") is None and _blob_files(bucket) == []


RACER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from wranglerpy.bindings.r2 import R2BucketBinding

    async def main(folder, tag):
        bucket = R2BucketBinding(Path(folder))
        print("ready", flush=True)
        while not Path(folder + ".go").exists():
            time.sleep(0.002)
        wins = 0
        for i in range(200):
            made = await bucket.put(f"k{i:03d}", tag, onlyIf={"etagDoesNotMatch": "*"})
            wins += made is not None
        print(wins, flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_create_only_puts_from_two_processes_have_one_winner_per_key(tmp_path: Path) -> None:
    folder = tmp_path / "race"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(folder), tag], stdout=subprocess.PIPE, text=True
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    Path(f"{folder}.go").touch()
    wins = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        wins.append(int(out.strip()))
    assert sum(wins) == 200
    bucket = R2BucketBinding(folder)
    values = [await (await bucket.get(f"k{i:03d}")).text() for i in range(200)]
    assert values.count("a") == wins[0] and values.count("b") == wins[1]
    bucket.close()


async def test_small_streams_are_stored_inline_and_large_ones_as_blobs(
    bucket: R2BucketBinding,
) -> None:
    await bucket.put("small", chunks(b"a" * INLINE_MAX))
    assert _blob_files(bucket) == []
    await bucket.put("large", chunks(b"a" * INLINE_MAX, b"b"))
    assert len(_blob_files(bucket)) == 1
    assert await (await bucket.get("large")).arrayBuffer() == b"a" * INLINE_MAX + b"b"
    assert (await bucket.head("small")).etag == hashlib.md5(b"a" * INLINE_MAX).hexdigest()
