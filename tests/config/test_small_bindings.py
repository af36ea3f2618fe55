"""Config for vectorize, ratelimits (and the unsafe form), version_metadata, hyperdrive and
send_email, with wrangler's keys and checks (cloudflare/workers-sdk
``packages/workers-utils/src/config/validation.ts``: validateRateLimitBinding,
validateHyperdriveBinding; ``packages/wrangler/src/dev.ts``: applyHyperdriveEnvVars)."""

from __future__ import annotations

import pytest

from tests.config.conftest import Write
from wranglerpy.config import small_bindings
from wranglerpy.config.fields import Reader
from wranglerpy.config.load import load_worker
from wranglerpy.config.schema import Hyperdrive, RateLimit, SendEmail, VersionMetadata
from wranglerpy.config.vectorize import VectorizeIndex
from wranglerpy.errors import ConfigError

CONFIG = """
name = "w"
main = "src/entry.py"

[[vectorize]]
binding = "VECTORS"
index_name = "docs"

[[ratelimits]]
name = "RL"
namespace_id = "1001"
simple = { limit = 100, period = 60 }

[[unsafe.bindings]]
name = "OLD_RL"
type = "ratelimit"
namespace_id = 1002
simple = { limit = 5, period = 10 }

[version_metadata]
binding = "CF_VERSION"

[[hyperdrive]]
binding = "HD"
id = "abc"
localConnectionString = "postgres://u:p@localhost:5432/db"

[[send_email]]
name = "EMAIL"
allowed_sender_addresses = ["me@example.com"]

[[queues.producers]]
binding = "JOBS"
queue = "jobs"
"""


def test_all_sections_parse(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HD", raising=False)
    w = load_worker(write("wrangler.toml", CONFIG))
    assert w.vectorize == (VectorizeIndex("VECTORS", "docs"),)
    assert w.ratelimits == (RateLimit("RL", "1001", 100, 60), RateLimit("OLD_RL", "1002", 5, 10))
    assert w.version_metadata == VersionMetadata("CF_VERSION")
    assert w.hyperdrive[0].connection_string == "postgres://u:p@localhost:5432/db"
    assert w.send_email == (SendEmail("EMAIL", allowed_sender_addresses=("me@example.com",)),)
    assert not any("unsafe" in x for x in w.warnings)
    names = w.binding_names()
    for name in ("VECTORS", "RL", "OLD_RL", "CF_VERSION", "HD", "EMAIL"):
        assert name in names


def test_unemulated_bindings_are_listed_by_name(write: Write) -> None:
    w = load_worker(write("wrangler.toml", CONFIG))
    if ("JOBS", "queues") in w.unsupported:  # until queues are emulated
        assert any("queues" in x and "not supported locally" in x for x in w.warnings)
    text = CONFIG + '\n[[mtls_certificates]]\nbinding = "CERT"\ncertificate_id = "x"\n'
    w = load_worker(write("wrangler.toml", text))
    assert ("CERT", "mtls_certificates") in w.unsupported


def test_hyperdrive_env_var_wins(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HD", "mysql://a:b@h/d")
    (hd,) = load_worker(write("wrangler.toml", CONFIG)).hyperdrive
    assert hd.connection_string == "mysql://a:b@h/d"
    assert hd.source == "$CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HD"


def test_deprecated_hyperdrive_env_var_warns() -> None:
    r = Reader("wrangler.toml")
    table = {"hyperdrive": [{"binding": "HD", "id": "x"}]}
    env = {"WRANGLER_HYPERDRIVE_LOCAL_CONNECTION_STRING_HD": "postgres://a:b@h/d"}
    (hd,) = small_bindings.parse_hyperdrive(r, table, "", env)
    assert hd.connection_string == "postgres://a:b@h/d"
    assert any("deprecated" in w for w in r.warnings)
    (none,) = small_bindings.parse_hyperdrive(Reader("f"), table, "", {})
    assert none == Hyperdrive("HD", "x", None, "")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            '[[ratelimits]]\nname = "RL"\nnamespace_id = "1"\nsimple = { limit = 1, period = 30 }',
            "must be either 10 or 60 but got 30",
        ),
        ('[[ratelimits]]\nname = "RL"\nnamespace_id = "1"', '"simple" table'),
        ('[[vectorize]]\nbinding = "V"', "index_name"),
        (
            '[[send_email]]\nname = "E"\ndestination_address = "a@b.c"\n'
            'allowed_destination_addresses = ["a@b.c"]',
            "not both",
        ),
    ],
)
def test_bad_sections(write: Write, section: str, message: str) -> None:
    path = write("wrangler.toml", f'name = "w"\nmain = "e.py"\n{section}\n')
    with pytest.raises(ConfigError, match=message):
        load_worker(path)


def test_binding_names_must_be_unique(write: Write) -> None:
    text = 'name = "w"\nmain = "e.py"\n[[vectorize]]\nbinding = "X"\nindex_name = "i"\n'
    text += '[version_metadata]\nbinding = "X"\n'
    with pytest.raises(ConfigError, match='binding name "X" is already used'):
        load_worker(write("wrangler.toml", text))
