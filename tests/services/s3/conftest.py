from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest
from botocore.config import Config

from wranglerpy.services.s3.auth import DEFAULT_CREDENTIALS
from wranglerpy.services.server import ServicesHandle

_names = itertools.count()


def client(services: ServicesHandle, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=services.s3_url,
        aws_access_key_id=DEFAULT_CREDENTIALS.access_key_id,
        aws_secret_access_key=DEFAULT_CREDENTIALS.secret_access_key,
        region_name="auto",
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module")
def s3(services: ServicesHandle) -> Any:
    return client(services)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"bucket-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name
