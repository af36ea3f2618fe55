"""Gradual deployments: a worker's live deployment is one or two versions with percentages.

Which version answers a request follows Cloudflare's rules
(developers.cloudflare.com/workers/versions-and-deployments/gradual-deployments/,
.../version-overrides/, .../gradual-deployments/version-affinity/):

- by default each request picks a version at random, weighted by the percentages;
- ``Cloudflare-Workers-Version-Overrides: <worker>="<version id>"`` (a structured-header
  dictionary) sends it to that version when it is part of the deployment, even at 0%;
  otherwise the override is ignored;
- ``Cloudflare-Workers-Version-Key: <key>`` assigns the key to a version deterministically
  (a hash of the key against the cumulative percentages), so one user stays on one version.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from typing import TypeVar

from wranglerpy.errors import UsageError

MAX_VERSIONS = 2  # as on Cloudflare: a deployment splits traffic between at most two versions
OVERRIDES_HEADER = "cloudflare-workers-version-overrides"
KEY_HEADER = "cloudflare-workers-version-key"
_SPEC = re.compile(r"^(?P<id>[0-9A-Za-z-]+)(?:@(?P<pct>[0-9]+(?:\.[0-9]+)?)%?)?$")

T = TypeVar("T")


def parse_specs(specs: Sequence[str]) -> list[tuple[str, float | None]]:
    """``VERSION_ID@PERCENT`` arguments (``@PERCENT`` may be left out on one of them: it gets
    what the others leave of 100). Only the syntax is checked here; see ``complete``."""
    parsed: list[tuple[str, float | None]] = []
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if match is None:
            raise UsageError(
                f"{spec!r} is not VERSION_ID@PERCENT (e.g. 1a2b3c4d@90% 5e6f7a8b@10%)."
            )
        pct = match.group("pct")
        parsed.append((match.group("id"), float(pct) if pct is not None else None))
    return parsed


def complete(parsed: list[tuple[str, float | None]]) -> list[tuple[str, float]]:
    """Percentages filled in and checked: 1 or 2 distinct versions, summing to 100."""
    if not parsed:
        raise UsageError("Name the version(s) to deploy: VERSION_ID@PERCENT [VERSION_ID@PERCENT].")
    if len(parsed) > MAX_VERSIONS:
        raise UsageError(
            f"A deployment splits traffic between at most {MAX_VERSIONS} versions "
            f"({len(parsed)} given)."
        )
    ids = [v for v, _ in parsed]
    if len(set(ids)) != len(ids):
        raise UsageError("The same version is named twice.")
    missing = [v for v, p in parsed if p is None]
    if len(missing) > 1:
        raise UsageError("Give a percentage to every version but one (e.g. A@90% B).")
    given = sum(p for _, p in parsed if p is not None)
    filled = [(v, p if p is not None else round(100.0 - given, 3)) for v, p in parsed]
    for version, pct in filled:
        if not 0.0 <= pct <= 100.0:
            raise UsageError(f"Version {version}: {pct:g}% is not between 0% and 100%.")
    total = sum(p for _, p in filled)
    if abs(total - 100.0) > 1e-6:
        raise UsageError(f"The percentages add up to {total:g}%, not 100%.")
    return filled


def parse_overrides(value: str) -> dict[str, str]:
    """An RFC 8941 dictionary of worker name -> version id (a String); an unparsable header
    is ignored, as Cloudflare ignores it."""
    found: dict[str, str] = {}
    for member in value.split(","):
        key, sep, raw = member.strip().partition("=")
        raw = raw.split(";", 1)[0].strip()  # parameters are allowed and mean nothing here
        if not sep or len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
            return {}  # not a dictionary of strings: the whole header is ignored
        found[key.strip()] = raw[1:-1]
    return found


def pick(
    options: Sequence[tuple[str, float, T]],
    worker: str,
    overrides: str = "",
    key: str = "",
    rng: random.Random | None = None,
) -> T:
    """The target of the version that answers one request. ``options``: (version id,
    percentage, target) of the live deployment, in deployment order."""
    if len(options) == 1:
        return options[0][2]
    if overrides:
        wanted = parse_overrides(overrides).get(worker)
        for version, _, target in options:
            if wanted and version == wanted:
                return target
    if key:
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * 100.0
    else:
        point = (rng or random).random() * 100.0
    cumulative = 0.0
    for _, pct, target in options:
        cumulative += pct
        if point < cumulative:
            return target
    return max(options, key=lambda o: o[1])[2]  # rounding at the top end
