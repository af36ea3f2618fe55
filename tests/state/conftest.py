from collections.abc import Iterator

import pytest

from tests.state.servers import Server, running, start_redis, start_seaweedfs


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(start_redis, tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(start_seaweedfs, tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
