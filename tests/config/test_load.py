from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.conftest import Write
from wranglerpy.config.load import discover_configs, load_worker
from wranglerpy.config.schema import (
    AIBinding,
    AnalyticsEngineDataset,
    D1Database,
    KVNamespace,
    Placement,
    R2Bucket,
    Route,
    ServiceBinding,
)
from wranglerpy.errors import ConfigError

FULL = """
name = "api"
main = "src/entry.py"
compatibility_date = "2025-09-01"
compatibility_flags = ["python_workers"]
account_id = "abc"
workers_dev = false
routes = ["example.com/*", { pattern = "api.example.com", custom_domain = true },
          { pattern = "x.example.com/*", zone_name = "example.com" }]

[vars]
GREETING = "hi"
LIMIT = 3
NESTED = { a = [1, 2] }
WHEN = 2025-01-02

[placement]
mode = "smart"

[[services]]
binding = "STREAMING"
service = "streaming"
environment = "production"
entrypoint = "Chat"

[[kv_namespaces]]
binding = "KV"

[[kv_namespaces]]
binding = "CACHE"
id = "abc123"
preview_id = "p1"

[[d1_databases]]
binding = "DB"
database_name = "main"
database_id = "uuid-1"
migrations_dir = "db/migrations"

[[r2_buckets]]
binding = "STORAGE"

[[r2_buckets]]
binding = "EU"
bucket_name = "eu-bucket"
jurisdiction = "eu"

[[analytics_engine_datasets]]
binding = "ANALYTICS"

[ai]
binding = "AI"

[ai.models]
"@cf/meta/llama-3-8b-instruct" = "qwen2.5-0.5b"

[build]
command = "make"
cwd = "build"
watch_dir = ["src", "lib"]

[dev]
port = 9000
ip = "127.0.0.1"
local_protocol = "http"

[triggers]
crons = ["*/5 * * * *"]

[observability]
enabled = true
head_sampling_rate = 0.5

[assets]
directory = "public"
binding = "ASSETS"
not_found_handling = "single-page-application"
run_worker_first = true
"""


def test_full_config(write: Write, tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "public").mkdir()
    path = write("wrangler.toml", FULL)
    w = load_worker(path)
    assert w.name == "api" and w.base_name == "api" and w.env_name is None
    assert w.main == tmp_path / "src" / "entry.py"
    assert w.main.is_absolute()
    assert w.compatibility_date == "2025-09-01"
    assert w.compatibility_flags == ("python_workers",)
    assert w.account_id == "abc" and w.workers_dev is False
    assert w.routes == (
        Route("example.com/*"),
        Route("api.example.com", custom_domain=True),
        Route("x.example.com/*", zone_name="example.com"),
    )
    assert dict(w.vars) == {
        "GREETING": "hi",
        "LIMIT": 3,
        "NESTED": {"a": [1, 2]},
        "WHEN": "2025-01-02",
    }
    assert w.placement == Placement(mode="smart")
    assert w.services == (ServiceBinding("STREAMING", "streaming", "production", "Chat"),)
    assert w.kv_namespaces == (KVNamespace("KV", "KV"), KVNamespace("CACHE", "abc123", "p1"))
    assert w.d1_databases == (D1Database("DB", "main", "uuid-1", migrations_dir="db/migrations"),)
    assert w.r2_buckets == (R2Bucket("STORAGE", "STORAGE"), R2Bucket("EU", "eu-bucket", "eu"))
    assert w.analytics_engine_datasets == (AnalyticsEngineDataset("ANALYTICS", "ANALYTICS"),)
    assert w.ai == AIBinding("AI", (("@cf/meta/llama-3-8b-instruct", "qwen2.5-0.5b"),))
    assert w.build.command == "make"
    assert w.build.cwd == tmp_path / "build"
    assert w.build.watch_dir == (tmp_path / "src", tmp_path / "lib")
    assert (w.dev.port, w.dev.ip, w.dev.local_protocol) == (9000, "127.0.0.1", "http")
    assert w.triggers.crons == ("*/5 * * * *",)
    assert w.observability.enabled and w.observability.head_sampling_rate == 0.5
    assert w.assets is not None
    assert w.assets.directory == tmp_path / "public"
    assert w.assets.binding == "ASSETS" and w.assets.run_worker_first
    assert w.assets.not_found_handling == "single-page-application"
    assert w.warnings == ()
    assert w.binding_names()[:3] == ["GREETING", "LIMIT", "NESTED"]


def test_minimal_defaults(write: Write) -> None:
    w = load_worker(write("wrangler.toml", 'name = "w"\n'))
    assert w.main is None and w.routes == () and w.placement is None and w.ai is None
    assert w.workers_dev is True and w.build.watch_dir == () and w.dev.port is None


def test_single_route_and_watch_dir_string(write: Write, tmp_path: Path) -> None:
    w = load_worker(
        write(
            "wrangler.toml",
            """
            name = "w"
            route = { pattern = "a.com/*", zone_id = "z" }
            [build]
            watch_dir = "src"
            """,
        )
    )
    assert w.routes == (Route("a.com/*", zone_id="z"),)
    assert w.build.watch_dir == (tmp_path / "src",)


def test_unquoted_toml_date(write: Write) -> None:
    w = load_worker(write("wrangler.toml", 'name = "w"\ncompatibility_date = 2024-05-06\n'))
    assert w.compatibility_date == "2024-05-06"


def test_json_and_jsonc(write: Write, tmp_path: Path) -> None:
    w = load_worker(
        write(
            "wrangler.jsonc",
            """
            {
              // the api worker
              "name": "api", /* inline */
              "main": "src/a.py",
              "vars": {"URL": "http://x//y", "C": "/* not a comment */",},
              "kv_namespaces": [{"binding": "KV",},],
            }
            """,
        )
    )
    assert w.name == "api" and w.main == tmp_path / "src" / "a.py"
    assert dict(w.vars) == {"URL": "http://x//y", "C": "/* not a comment */"}
    assert w.kv_namespaces == (KVNamespace("KV", "KV"),)
    j = load_worker(write("wrangler-b.json", '{"name": "b", "dev": {"port": 1}}'))
    assert j.dev.port == 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as info:
        load_worker(tmp_path / "wrangler.toml")
    assert info.value.file is not None and info.value.file.endswith("wrangler.toml")


def test_missing_name(write: Write) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", 'main = "a.py"\n'))
    assert info.value.key == "name"
    assert str(info.value).startswith("wrangler.toml [name]: is required")


def test_invalid_worker_name(write: Write) -> None:
    with pytest.raises(ConfigError, match="invalid worker name"):
        load_worker(write("wrangler.toml", 'name = "My Worker"\n'))


def test_toml_syntax_error_has_line_and_column(write: Write) -> None:
    path = write("wrangler.toml", 'name = "w"\n[vars]\nA = \n')
    with pytest.raises(ConfigError) as info:
        load_worker(path)
    err = info.value
    assert (err.file, err.line, err.column) == ("wrangler.toml", 3, 5)
    assert str(err).startswith("wrangler.toml:3:5: invalid TOML: Invalid value")


def test_toml_error_at_end_of_document(write: Write) -> None:
    with pytest.raises(ConfigError, match="end of file") as info:
        load_worker(write("wrangler.toml", 'name = "w"\nx = [1,\n'))
    assert info.value.line == 3


def test_jsonc_syntax_error_points_into_original(write: Write) -> None:
    path = write("wrangler.jsonc", '{\n  /* c */ "name": "w",\n  "main": ,\n}\n')
    with pytest.raises(ConfigError) as info:
        load_worker(path)
    assert (info.value.line, info.value.column) == (3, 11)
    assert "invalid JSONC" in str(info.value)


def test_top_level_must_be_object(write: Write) -> None:
    with pytest.raises(ConfigError, match="top level"):
        load_worker(write("wrangler.json", "[1, 2]"))


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            'name = "w"\n[[d1_databases]]\nbinding = 3\n',
            "d1_databases[0].binding",
            "expected a string, got 3",
        ),
        ('name = "w"\nmain = 1\n', "main", "expected a string, got 1"),
        ('name = "w"\nworkers_dev = "yes"\n', "workers_dev", 'expected true or false, got "yes"'),
        ('name = "w"\ncompatibility_flags = ["a", 2]\n', "compatibility_flags[1]", "got 2"),
        ('name = "w"\ncompatibility_date = "2025-13-01"\n', "compatibility_date", "YYYY-MM-DD"),
        ('name = "w"\nvars = 3\n', "vars", "expected a table, got 3"),
        ('name = "w"\nkv_namespaces = { binding = "A" }\n', "kv_namespaces", "a list of tables"),
        ('name = "w"\n[[kv_namespaces]]\nid = "x"\n', "kv_namespaces[0].binding", "is required"),
        (
            'name = "w"\n[[kv_namespaces]]\nbinding = "a-b"\n',
            "kv_namespaces[0].binding",
            "identifier",
        ),
        ('name = "w"\n[[services]]\nbinding = "S"\n', "services[0].service", "is required"),
        ('name = "w"\n[dev]\nport = 70000\n', "dev.port", "between 0 and 65535"),
        ('name = "w"\n[dev]\nport = true\n', "dev.port", "expected an integer, got true"),
        ('name = "w"\n[dev]\nport = -1\n', "dev.port", "between 0 and 65535"),
        ('name = "w"\n[dev]\nlocal_protocol = "ftp"\n', "dev.local_protocol", '"ftp"'),
        ('name = "w"\n[placement]\nmode = "fast"\n', "placement.mode", 'got "fast"'),
        (
            'name = "w"\n[placement]\nhint = "enam"\nregion = "aws:us-east-1"\n',
            "placement",
            '"hint" cannot be combined with "region"',
        ),
        ('name = "w"\n[placement]\nhost = "a"\nhostname = "b"\n', "placement", "only one of"),
        ('name = "w"\n[triggers]\ncrons = "* * * * *"\n', "triggers.crons", "a list of strings"),
        (
            'name = "w"\n[observability]\nhead_sampling_rate = 2\n',
            "observability.head_sampling_rate",
            "between 0 and 1",
        ),
        ('name = "w"\n[assets]\nbinding = "A"\n', "assets.directory", "is required"),
        (
            'name = "w"\n[assets]\ndirectory = "."\nhtml_handling = "x"\n',
            "assets.html_handling",
            "expected one of",
        ),
        ('name = "w"\n[build]\nwatch_dir = 3\n', "build.watch_dir", "a string or a list"),
        (
            'name = "w"\n[ai]\nbinding = "AI"\n[ai.models]\nm = 1\n',
            'ai.models."m"',
            "local model name",
        ),
        ('name = "w"\nroutes = [3]\n', "routes[0]", "route pattern"),
        ('name = "w"\nroute = "a"\nroutes = ["b"]\n', None, "exactly one of"),
    ],
)
def test_type_errors_name_file_and_key(
    write: Write, text: str, key: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", text))
    assert info.value.file == "wrangler.toml"
    assert info.value.key == key
    assert message in info.value.reason


def test_error_message_shape(write: Write) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", 'name = "w"\n[[d1_databases]]\nbinding = 3\n'))
    assert str(info.value) == "wrangler.toml [d1_databases[0].binding]: expected a string, got 3"


def test_duplicate_binding_names_name_both(write: Write) -> None:
    text = """
    name = "w"
    [vars]
    DB = "x"
    [[d1_databases]]
    binding = "DB"
    """
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", text))
    assert info.value.key == "d1_databases[0].binding"
    assert "vars.DB" in info.value.reason
    text2 = 'name = "w"\n[[kv_namespaces]]\nbinding = "A"\n[ai]\nbinding = "A"\n'
    with pytest.raises(ConfigError) as info2:
        load_worker(write("wrangler.toml", text2))
    assert info2.value.key == "ai.binding"
    assert "kv_namespaces[0].binding" in info2.value.reason


def test_unknown_keys_warn(write: Write) -> None:
    text = """
    name = "w"
    compatibility_date = "2025-09-01"
    foo = 1
    bar = 2
    minify = true
    node_compat = true
    dispatch_namespaces = []
    [placement]
    mode = "off"
    extra = 1
    [[kv_namespaces]]
    binding = "KV"
    typo = "x"
    """
    w = load_worker(write("wrangler.toml", text))
    assert 'Unexpected fields found in top-level field: "foo", "bar"' in w.warnings
    assert 'Unexpected fields found in placement field: "extra"' in w.warnings
    assert 'Unexpected fields found in kv_namespaces[0] field: "typo"' in w.warnings
    assert any("dispatch_namespaces" in x and "not supported locally" in x for x in w.warnings)
    assert not any("minify" in x or "node_compat" in x for x in w.warnings)
    assert len(w.warnings) == 4


def test_discover_orders_and_prefers_json(tmp_path: Path) -> None:
    for name in (
        "wrangler-b.toml",
        "wrangler-a.jsonc",
        "wrangler-a.toml",
        "wrangler.toml",
        "wrangler.jsonc",
        "other.toml",
        "wrangler.txt",
    ):
        (tmp_path / name).write_text("")
    (tmp_path / "wrangler-dir.toml").mkdir()
    found = discover_configs(tmp_path)
    assert [p.name for p in found] == ["wrangler.jsonc", "wrangler-a.jsonc", "wrangler-b.toml"]
    (tmp_path / "wrangler.json").write_text("")
    assert discover_configs(tmp_path)[0].name == "wrangler.json"


def test_discover_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        discover_configs(tmp_path / "nope")
    assert discover_configs(tmp_path) == []


def test_workers_dev_defaults_off_with_routes(write: Write) -> None:
    assert (
        load_worker(write("wrangler.toml", 'name = "w"\nroutes = ["a.com/*"]\n')).workers_dev
        is False
    )
    text = 'name = "w"\nroutes = ["a.com/*"]\nworkers_dev = true\n'
    assert load_worker(write("wrangler.toml", text)).workers_dev is True


def test_unsupported_suffix_and_directory(write: Write, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unsupported config file type"):
        load_worker(write("wrangler.yaml", "name: w\n"))
    (tmp_path / "wrangler.toml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_worker(tmp_path / "wrangler.toml")


def test_remote_bindings_warn_and_stay_local(write: Write) -> None:
    text = 'name = "w"\ncompatibility_date = "2025-09-01"\n[[kv_namespaces]]\nbinding = "KV"\nremote = true\n'
    w = load_worker(write("wrangler.toml", text))
    assert w.kv_namespaces == (KVNamespace("KV", "KV"),)
    assert w.warnings == (
        '"kv_namespaces[0].remote" is ignored: wranglerpy runs every binding locally',
    )


def test_error_label_is_absolute_outside_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "wrangler.toml").write_text("main = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_worker(folder / "wrangler.toml")
    assert info.value.file == "proj/wrangler.toml"
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    with pytest.raises(ConfigError) as info:
        load_worker(folder / "wrangler.toml")
    assert info.value.file == str(folder / "wrangler.toml")


# -- issue 18: hostile or wrong configs get one-line errors ----------------------------------


def test_a_250_character_worker_name_is_one_line_error(write: Write) -> None:
    """wrangler's limit: packages/workers-utils/src/worker-name.ts (workerNameLengthLimit = 63)."""
    with pytest.raises(ConfigError, match=r"\[name\]: .* is 250 characters long; .* at most 63"):
        load_worker(write("wrangler.toml", f'name = "{"a" * 250}"\n'))
    assert load_worker(write("wrangler.toml", f'name = "{"a" * 63}"\n')).name == "a" * 63
    envs = f'name = "{"a" * 60}"\n[env.staging]\n'
    with pytest.raises(ConfigError, match="68 characters long"):
        load_worker(write("wrangler.toml", envs), "staging")


def test_deeply_nested_vars_and_files_are_one_line_errors(write: Write) -> None:
    deep_json = '{"name": "w", "vars": {"X": ' + "[" * 900 + "]" * 900 + "}}"
    with pytest.raises(ConfigError, match=r"\[vars.X\]: the value nests more than 64 levels"):
        load_worker(write("wrangler.json", deep_json))
    deeper = '{"name": "w", "vars": {"X": ' + "[" * 3000 + "]" * 3000 + "}}"
    with pytest.raises(ConfigError, match="invalid JSONC: nested too deeply"):
        load_worker(write("wrangler.jsonc", deeper))
    toml = 'name = "w"\n[vars]\nX = ' + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(ConfigError, match="invalid TOML: nested too deeply"):
        load_worker(write("wrangler.toml", toml))


def test_missing_build_cwd_is_an_error(write: Write) -> None:
    with pytest.raises(ConfigError, match=r"\[build.cwd\]: the folder .*nope does not exist"):
        load_worker(write("wrangler.toml", 'name = "w"\n[build]\ncommand = "x"\ncwd = "nope"\n'))


@pytest.mark.parametrize("watch", ['"/"', '["src", "/"]', '"~"'])
def test_watching_the_whole_disk_is_refused(write: Write, watch: str) -> None:
    text = f'name = "w"\n[build]\ncommand = "x"\nwatch_dir = {watch}\n'
    with pytest.raises(ConfigError, match=r"\[build.watch_dir.*refusing to watch"):
        load_worker(write("wrangler.toml", text))


def test_a_missing_assets_directory_is_wranglers_error(write: Write) -> None:
    """Worded as packages/wrangler/src/assets.ts (line 90) in cloudflare/workers-sdk."""
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", 'name = "w"\n[assets]\ndirectory = "nope"\n'))
    assert info.value.key == "assets.directory"
    assert 'The directory specified by the "assets.directory" field' in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ['"2999-01-01"', "2999-01-01"])
def test_a_future_compatibility_date_is_refused(write: Write, value: str) -> None:
    """Miniflare's ERR_FUTURE_COMPATIBILITY_DATE (packages/miniflare/src/plugins/core/index.ts:272)."""
    with pytest.raises(ConfigError, match=r'Compatibility date "2999-01-01" is in the future'):
        load_worker(write("wrangler.toml", f'name = "w"\ncompatibility_date = {value}\n'))


@pytest.mark.parametrize("env", ["../../evil", "a/b", ".", "", "x y"])
def test_an_env_name_cannot_be_a_path(write: Write, env: str) -> None:
    text = 'name = "w"\n[env."../../evil"]\nname = "x"\n[env."a/b"]\n'
    with pytest.raises(ConfigError, match="invalid environment name"):
        load_worker(write("wrangler.toml", text), env)


@pytest.mark.parametrize("name", ["__class__", "__dict__", "__init__"])
def test_a_dunder_binding_name_is_refused(write: Write, name: str) -> None:
    text = f'name = "w"\n[[kv_namespaces]]\nbinding = "{name}"\nid = "x"\n'
    with pytest.raises(
        ConfigError, match=rf'\[kv_namespaces\[0\].binding\]: binding name "{name}"'
    ):
        load_worker(write("wrangler.toml", text))


def test_a_dunder_var_name_is_refused(write: Write) -> None:
    with pytest.raises(ConfigError, match=r'\[vars.__class__\]: var name "__class__"'):
        load_worker(write("wrangler.toml", 'name = "w"\n[vars]\n__class__ = "x"\n'))


def test_a_missing_compatibility_date_is_a_warning_naming_today(write: Write) -> None:
    """wrangler warns and uses the current date; the runtime uses today too (runtime/compat.py)."""
    import datetime

    w = load_worker(write("wrangler.toml", 'name = "w"\n'))
    assert w.compatibility_date is None
    today = datetime.date.today().isoformat()
    (warning,) = [m for m in w.warnings if "compatibility_date" in m]
    assert f'compatibility_date = "{today}"' in warning and "wrangler.toml" in warning
    dated = load_worker(write("wrangler.toml", 'name = "w"\ncompatibility_date = "2025-09-01"\n'))
    assert not any("compatibility_date" in m for m in dated.warnings)
