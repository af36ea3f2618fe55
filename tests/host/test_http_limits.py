"""--http-limit parsing: bad input is a one-line UsageError naming the flag."""

import resource

import pytest

from wranglerpy.errors import UsageError
from wranglerpy.host.http_limits import CLOUDFLARE_MAX_BODY, HttpLimits, parse_limits


def test_defaults_follow_cloudflare_and_the_descriptor_limit():
    limits = HttpLimits()
    assert limits.max_body == CLOUDFLARE_MAX_BODY == 100_000_000
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        assert limits.max_connections == max(16, soft // 2 - 64)


def test_flags_set_limits():
    limits = parse_limits(["max-body=5000", "idle_timeout=2.5", "max_connections=10"])
    assert (limits.max_body, limits.idle_timeout, limits.max_connections) == (5000, 2.5, 10)


@pytest.mark.parametrize("item", ["bogus=1", "max_body", "max_body=lots", "idle_timeout=-1"])
def test_bad_flags_are_one_line_errors(item):
    with pytest.raises(UsageError) as info:
        parse_limits([item])
    assert "--http-limit" in str(info.value) and "\n" not in str(info.value)
