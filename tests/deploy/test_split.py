"""Gradual deployments' rules, as documented by Cloudflare:
developers.cloudflare.com/workers/versions-and-deployments/gradual-deployments/ (at most two
versions, percentages summing to 100), .../version-overrides/ (a structured-header dictionary of
worker name -> version id String, applied only when the version is in the deployment, else
ignored) and .../gradual-deployments/version-affinity/ (a key maps to one version)."""

import random

import pytest

from wranglerpy.deploy.split import complete, parse_overrides, parse_specs, pick
from wranglerpy.errors import UsageError


def test_specs_in_wranglers_forms() -> None:
    assert complete(parse_specs(["aaaa@90%", "bbbb@10%"])) == [("aaaa", 90.0), ("bbbb", 10.0)]
    assert complete(parse_specs(["aaaa@90", "bbbb"])) == [("aaaa", 90.0), ("bbbb", 10.0)]
    assert complete(parse_specs(["aaaa"])) == [("aaaa", 100.0)]
    assert complete(parse_specs(["aaaa@100%", "bbbb@0%"])) == [("aaaa", 100.0), ("bbbb", 0.0)]
    assert complete(parse_specs(["aaaa@33.5%", "bbbb@66.5%"]))[0] == ("aaaa", 33.5)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["a@90%", "b@20%"], "add up to 110%"),
        (["a@50%", "b@30%", "c@20%"], "at most 2 versions"),
        (["a@50%", "a@50%"], "named twice"),
        (["a", "b"], "every version but one"),
        (["a@150%"], "not between 0% and 100%"),
        (["a@x%"], "not VERSION_ID@PERCENT"),
        ([], "Name the version"),
    ],
)
def test_bad_specs_are_one_line_errors(specs: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        complete(parse_specs(specs))


def test_random_split_follows_the_shares() -> None:
    options = [("a", 90.0, "A"), ("b", 10.0, "B")]
    rng = random.Random(7)
    picks = [pick(options, "w", rng=rng) for _ in range(2000)]
    assert 1600 < picks.count("A") < 1990 and picks.count("B") > 10
    assert {pick([("a", 100.0, "A"), ("b", 0.0, "B")], "w", rng=rng) for _ in range(500)} == {"A"}


def test_overrides_pick_a_version_of_the_deployment_even_at_zero_percent() -> None:
    options = [("a", 100.0, "A"), ("b", 0.0, "B")]
    assert pick(options, "w", overrides='w="b"') == "B"
    assert pick(options, "w", overrides='other="a", w="b"') == "B"
    assert pick(options, "w", overrides='w="not-deployed"') == "A"  # ignored
    assert pick(options, "w", overrides="w=b") == "A"  # not a String: the header is ignored
    assert parse_overrides('w="b";p=1') == {"w": "b"}


def test_a_version_key_sticks_to_one_version() -> None:
    options = [("a", 50.0, "A"), ("b", 50.0, "B")]
    for key in ("user-1", "user-2", "user-3"):
        assert len({pick(options, "w", key=key) for _ in range(20)}) == 1
    assert {pick(options, "w", key=f"user-{n}") for n in range(50)} == {"A", "B"}
