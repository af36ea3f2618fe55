"""The README's command tables and flag lists name commands and flags that exist.

A user copies these tables; a renamed flag or a dropped command must fail here, not in
their shell.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

import pytest

from tests.docs.readme import ROOT, code_blocks, flags, section, table_rows
from wranglerpy.cli.main import command
from wranglerpy.host.http_limits import KEYS, HttpLimits

TREE = command()


def option_names(cmd: Any) -> set[str]:
    names: set[str] = set()
    for param in cmd.params:
        if param.param_type_name == "option":
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def resolve(path: list[str]) -> Any:
    cmd = TREE
    for word in path:
        subcommands = getattr(cmd, "commands", None)
        if subcommands is None:  # a command, not a group: the rest are its arguments
            return cmd
        assert word in subcommands, f"`wranglerpy {' '.join(path)}`: no command {word!r}"
        cmd = subcommands[word]
    return cmd


def is_command_word(token: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9-]*", token) is not None


def command_paths(cell: str) -> list[list[str]]:
    """The commands a table cell names: ``kv key put|get`` is two, ``tail WORKER --format
    json|pretty`` one (the bar after a flag's value is the value's alternatives)."""
    paths: list[list[str]] = []
    prefix: list[str] = []
    alternative_next = True
    for segment in cell.split("|"):
        tokens = segment.split()
        if not tokens:
            continue
        if paths and not (alternative_next and is_command_word(tokens[0])):
            alternative_next = False
            continue
        words: list[str] = []
        for token in tokens:
            if not is_command_word(token) or (paths and words):
                break
            words.append(token)
        if not paths:
            # the first segment: every leading command word, until the first argument or flag
            words = []
            for token in tokens:
                if not is_command_word(token):
                    break
                words.append(token)
            prefix = words[:-1]
        path = [*prefix, *words] if paths else words
        if paths and len(words) != 1:
            break
        paths.append(path)
        # `get docs | info docs` lists commands; `--format json|pretty` a flag's values.
        alternative_next = len(tokens) < 2 or not tokens[-2].lstrip("[").startswith("-")
    return paths


def wrangler_table() -> list[tuple[list[list[str]], set[str], str]]:
    rows = []
    for wrangler, wranglerpy, notes in table_rows(section("wrangler's commands in wranglerpy")):
        own = re.findall(r"`([^`]*)`", wranglerpy)
        if wranglerpy.startswith("same"):
            cell = re.findall(r"`([^`]*)`", wrangler)[0]
        else:
            cell = own[0]
        extra = " ".join(own if wranglerpy.startswith("same") else own[1:])
        rows.append((command_paths(cell), flags(f"{cell} {extra} {notes}"), wranglerpy))
    return rows


def test_the_cell_parser_reads_the_tables_forms() -> None:
    assert command_paths("kv namespace create|list|delete") == [
        ["kv", "namespace", "create"],
        ["kv", "namespace", "list"],
        ["kv", "namespace", "delete"],
    ]
    assert command_paths("init DIR --template hello|service-bindings") == [["init"]]
    assert command_paths("tail WORKER [--format json|pretty] [--status]") == [["tail"]]
    assert command_paths("durable-objects list [CLASS]|get CLASS ID KEY|delete CLASS ID") == [
        ["durable-objects", "list"],
        ["durable-objects", "get"],
        ["durable-objects", "delete"],
    ]
    assert command_paths("d1 execute DB --command SQL | --file F [--json]") == [["d1", "execute"]]


@pytest.mark.parametrize(
    ("paths", "named_flags", "cell"), wrangler_table(), ids=lambda v: str(v)[:40]
)
def test_every_command_and_flag_of_the_wrangler_table_exists(
    paths: list[list[str]], named_flags: set[str], cell: str
) -> None:
    assert paths, f"no command read from {cell!r}"
    commands = [resolve(path) for path in paths]
    known = set().union(*(option_names(c) for c in commands))
    missing = sorted(f for f in named_flags if f not in known)
    assert not missing, f"{cell}: {missing} are not options of {paths}"


def test_the_dev_flag_table_lists_every_dev_flag_and_only_those() -> None:
    dev = resolve(["dev"])
    table = table_rows(section("Quick start"))
    documented = set().union(*(flags(row[0]) for row in table))
    unknown = sorted(documented - option_names(dev))
    assert not unknown, f"README's dev table names flags dev does not have: {unknown}"
    for param in dev.params:
        names = {*param.opts, *param.secondary_opts}
        if param.param_type_name == "option" and "--help" not in names:
            assert names & documented, f"dev's {sorted(names)} is missing from README's table"


def test_the_http_limits_table_has_every_key_with_its_default() -> None:
    rows = {
        row[0].strip("`"): row[1] for row in table_rows(section("HTTP limits (`dev` and the edge)"))
    }
    assert set(rows) == set(KEYS)
    defaults = {f.name: f.default for f in fields(HttpLimits)}
    for key, text in rows.items():
        if key == "max_connections":  # computed from the descriptor limit
            continue
        number = re.match(r"[\d.]+", text)
        assert number and float(number.group()) == defaults[key], (key, text)


@pytest.mark.parametrize("path", [["dev"], ["edge", "start"]])
def test_http_limit_help_names_every_key(path: list[str]) -> None:
    (option,) = (p for p in resolve(path).params if "--http-limit" in p.opts)
    missing = [key for key in KEYS if key not in option.help]
    assert not missing, f"`wranglerpy {' '.join(path)} --help`: --http-limit omits {missing}"


def leaves(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    subcommands = getattr(cmd, "commands", None)
    if not subcommands:
        return [(path, cmd)]
    return [leaf for name, sub in subcommands.items() for leaf in leaves(sub, [*path, name])]


STATE_GROUPS = [
    "kv", "d1", "r2", "queues", "workflows", "vectorize", "durable-objects", "analytics", "state",
    "email",
]  # fmt: skip


@pytest.mark.parametrize("group", STATE_GROUPS)
def test_every_state_command_takes_config_env_and_persist_to(group: str) -> None:
    """README, "wrangler's commands in wranglerpy": the state commands' common flags."""
    for path, cmd in leaves(resolve([group]), [group]):
        wanted = {"--config", "-c", "--env", "-e"}
        if path != ["d1", "migrations", "create"]:  # writes a migration file, no state
            wanted.add("--persist-to")
        if group in ("kv", "d1", "r2") and "--persist-to" in wanted:
            wanted |= {"--local", "--remote"}
        missing = sorted(wanted - option_names(cmd))
        assert not missing, f"`wranglerpy {' '.join(path)}` lacks {missing}"


DOCS = [
    "README.md",
    "docs/fidelity.md",
    "examples/inference-ui/README.md",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "wranglerpy").rglob("README.md")),
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("README.md")),
]


def readme_command_lines() -> list[str]:
    """Every `wranglerpy ...` command the docs show: in bash blocks and in inline code."""
    found: list[str] = []
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        for block in code_blocks(text, "bash"):
            joined = block.replace("\\\n", " ")
            for line in joined.splitlines():
                line = re.sub(r"""'[^']*'|"[^"]*\"""", "STR", line.split(" #")[0])
                for part in re.split(r";|&&", line):
                    match = re.search(r"(?:^|\|\s*|\s)wranglerpy\s+(.*)", part.strip())
                    if match:
                        found.append(match.group(1).strip())
        for span in re.findall(r"`wranglerpy ([^`]+)`", text):
            found.append(re.sub(r"""'[^']*'|"[^"]*\"""", "STR", span))
    return found


@pytest.mark.parametrize("line", readme_command_lines())
def test_every_command_the_readme_shows_exists_with_its_flags(line: str) -> None:
    if line.startswith("-"):  # `wranglerpy --install-completion`
        assert set(flags(line)) <= option_names(TREE) | {
            "--install-completion",
            "--show-completion",
        }
        return
    paths = command_paths(line)
    assert paths, line
    commands = [resolve(path) for path in paths]
    known = set().union(*(option_names(c) for c in commands))
    missing = sorted(f for f in flags(line) if f not in known)
    assert not missing, f"`wranglerpy {line}`: {missing} are not options of {paths}"


def test_the_project_layout_names_every_package_folder() -> None:
    layout = section("Project layout")
    folders = sorted(
        p.name for p in (ROOT / "wranglerpy").iterdir() if p.is_dir() and p.name[0] != "_"
    )
    missing = [name for name in folders if f"  {name}/" not in layout]
    assert not missing, f"README's project layout does not name wranglerpy/{missing}"
