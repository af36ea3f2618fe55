"""Which version a plain ``rollback`` goes back to (README: VERSION_ID defaults to the previous
version; "a plain deploy or rollback serves one version at 100% again")."""

from __future__ import annotations

from pathlib import Path

from wranglerpy.deploy.history import Deployment, DeploymentLog, rollback_target


def deployed(*splits: tuple[tuple[str, float], ...]) -> list[Deployment]:
    return [Deployment.new("w", split[0][0], versions=split) for split in splits]


def test_the_previous_version_at_100_percent() -> None:
    history = deployed((("a", 100.0),), (("b", 100.0),))
    assert rollback_target(history) == "a"


def test_from_a_split_back_to_the_version_that_ran_alone_before_it() -> None:
    """wrangler's default (workers-sdk packages/wrangler/src/versions/rollback/index.ts,
    fetchDefaultRollbackVersionId): the newest earlier deployment with a version at 100%,
    even when that version is also part of the live split."""
    history = deployed((("a", 100.0),), (("a", 90.0), ("b", 10.0)))
    assert rollback_target(history) == "a"


def test_earlier_splits_are_passed_over() -> None:
    history = deployed((("a", 100.0),), (("a", 50.0), ("b", 50.0)), (("c", 100.0),))
    assert rollback_target(history) == "a"
    smoke = deployed((("a", 100.0), ("b", 0.0)), (("c", 100.0),))  # A@100% B@0%
    assert rollback_target(smoke) == "a"


def test_after_a_rollback_the_next_one_goes_forward_again() -> None:
    history = deployed((("a", 100.0),), (("b", 100.0),), (("a", 100.0),))
    assert rollback_target(history) == "b"


def test_none_without_an_earlier_single_version_deployment() -> None:
    assert rollback_target(deployed((("a", 100.0),))) is None
    assert rollback_target(deployed((("a", 50.0), ("b", 50.0)), (("c", 100.0),))) is None
    assert rollback_target([]) is None


def test_the_log_keeps_splits_across_a_read(tmp_path: Path) -> None:
    log = DeploymentLog(tmp_path / "deployments.json")
    for deployment in deployed((("a", 100.0),), (("a", 90.0), ("b", 10.0))):
        log.record(deployment)
    assert rollback_target(log.history("w")) == "a"
