"""Fixtures and test doubles shared by the binding tests."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from wranglerpy.bindings.r2 import R2BucketBinding

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


@pytest.fixture
def bucket(tmp_path: Path, clock: Clock) -> Iterator[R2BucketBinding]:
    b = R2BucketBinding(tmp_path / "bucket", bucket_name="b", clock=clock)
    yield b
    b.close()
