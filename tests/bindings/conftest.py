"""Fixtures and test doubles shared by the binding tests."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.state.servers import Server, running, start_redis, start_seaweedfs
from wranglerpy.bindings.r2 import R2BucketBinding
from wranglerpy.state.backends import parse_r2_url
from wranglerpy.state.s3_r2 import S3R2Store

NOW = 1_800_000_000.0


class Clock:
    """A settable time source, so expiry and upload times in the tests are exact."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    """``parts`` as an async byte stream, the way a worker passes a streamed body."""
    for part in parts:
        yield part


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["local", "s3"])
def bucket(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[R2BucketBinding]:
    """The binding over each backend: the R2 suites run against local files and S3."""
    if request.param == "local":
        store: Path | S3R2Store = tmp_path / "bucket"
    else:
        server = request.getfixturevalue("s3_server")
        # A fresh S3 bucket per test: "t<random>-b".
        url = parse_r2_url(f"{server.url}?bucket_prefix=t{uuid.uuid4().hex[:12]}-")
        store = S3R2Store(url, "b")
    b = R2BucketBinding(store, bucket_name="b", clock=clock)
    yield b
    b.close()


@pytest.fixture
def local_bucket(tmp_path: Path, clock: Clock) -> Iterator[R2BucketBinding]:
    """For tests of the local layout itself (inline rows, blob files)."""
    b = R2BucketBinding(tmp_path / "bucket", bucket_name="b", clock=clock)
    yield b
    b.close()


# -- state backends: real Redis / S3 servers, one per session ------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(start_redis, tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(start_seaweedfs, tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
