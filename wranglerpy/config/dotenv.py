"""Local secrets: ``.dev.vars`` / ``.dev.vars.<env>``, or ``.env`` files when there is none.

Which files are read follows wrangler:

* with ``env`` set and ``.dev.vars.<env>`` present: that file only;
* else ``.dev.vars`` if present: that file only;
* else the dotenv family, later files overriding earlier ones: ``.env``, ``.env.local``,
  then (with ``env``) ``.env.<env>``, ``.env.<env>.local``.

Syntax: as npm ``dotenv`` parses it (what wrangler uses): ``KEY=VALUE`` or ``KEY: VALUE``
lines, an optional ``export`` prefix, values in single, double or back quotes (which may span
lines; inside double quotes ``\\n`` and ``\\r`` become newlines, nothing else is unescaped),
unquoted values that end at the first ``#``; lines that are not assignments are skipped, as
dotenv skips them. ``.env`` files are then expanded as ``dotenv-expand`` does (``$VAR``,
``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``; ``\\$`` is a literal ``$``);
``.dev.vars`` files are not.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from wranglerpy.config.read import display_path
from wranglerpy.errors import ConfigError


def dev_vars_files(root: Path, env: str | None) -> list[Path]:
    """The secret files that apply to ``root`` and ``env``, in override order."""
    if env:
        specific = root / f".dev.vars.{env}"
        if specific.is_file():
            return [specific]
    plain = root / ".dev.vars"
    if plain.is_file():
        return [plain]
    names = [".env", ".env.local"]
    if env:
        names += [f".env.{env}", f".env.{env}.local"]
    return [root / n for n in names if (root / n).is_file()]


def load_dev_vars(root: Path, env: str | None) -> dict[str, str]:
    """The local secrets for the worker whose config lives in ``root``."""
    merged: dict[str, str] = {}
    files = dev_vars_files(root, env)
    for path in files:
        merged.update(parse_dotenv_file(path))
    if files and not files[0].name.startswith(".dev.vars"):
        return expand(merged)
    return merged


def parse_dotenv_file(path: Path) -> dict[str, str]:
    label = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read secrets file: {exc}", file=label) from None
    return parse_dotenv(text, label)


# One assignment as npm dotenv's LINE pattern reads it (lib/main.js, dotenv 16).
_LINE = re.compile(
    r"^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)"
    r"(\s*'(?:\\'|[^'])*'|\s*\"(?:\\\"|[^\"])*\"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?"
    r"\s*(?:#.*)?$",
    re.MULTILINE,
)
_QUOTED = re.compile(r"^(['\"`])([\s\S]*)\1$", re.MULTILINE)


def parse_dotenv(text: str, label: str = "") -> dict[str, str]:
    """Parse dotenv ``text`` as npm ``dotenv`` does; a later key wins. It never fails: lines
    that are not assignments are skipped (``skipped_lines`` finds them to warn about)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    out: dict[str, str] = {}
    for match in _LINE.finditer(text.replace("\r\n", "\n")):
        value = (match.group(2) or "").strip()
        quote = value[:1]
        value = _QUOTED.sub(r"\2", value)
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        out[match.group(1)] = value
    return out


def skipped_lines(text: str) -> list[int]:
    """1-based numbers of the lines dotenv ignores (not blank, not a comment, no assignment)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    covered: set[int] = set()
    for match in _LINE.finditer(text):
        first = text.count("\n", 0, match.start()) + 1
        covered.update(range(first, first + match.group(0).count("\n") + 1))
    return [
        number
        for number, line in enumerate(text.split("\n"), start=1)
        if number not in covered and line.strip() and not line.strip().startswith("#")
    ]


def dev_vars_warnings(root: Path, env: str | None) -> list[str]:
    """One warning per line of the secrets files that dotenv (and so wrangler) ignores."""
    warnings = []
    for path in dev_vars_files(root, env):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # parse_dotenv_file reports it
        for number in skipped_lines(text):
            warnings.append(
                f"{display_path(path)}:{number}: not a KEY=VALUE line; ignored, as wrangler "
                "ignores it"
            )
    return warnings


_REFERENCE = re.compile(r"(?<!\\)\$\{([^{}]+)\}|(?<!\\)\$([A-Za-z_][A-Za-z0-9_]*)")


def expand(parsed: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """``dotenv-expand``: references resolve against the values above them, then the process
    environment; an unknown one is empty unless it has a ``:-``/``-`` default."""
    source = dict(os.environ if environ is None else environ)
    done: dict[str, str] = {}
    for key, value in parsed.items():
        done[key] = _expand_value(value, {**source, **done}, 0)
    return done


def _expand_value(value: str, env: dict[str, str], depth: int) -> str:
    def replace(match: re.Match[str]) -> str:
        inner = match.group(1) or match.group(2)
        name, default = inner, ""
        for separator in (":-", "-"):
            if separator in inner and match.group(1):
                name, default = inner.split(separator, 1)
                if separator == ":-" and not env.get(name):
                    return _expand_value(default, env, depth + 1) if depth < 10 else default
                break
        if name in env:
            found = env[name]
            return _expand_value(found, env, depth + 1) if depth < 10 else found
        return _expand_value(default, env, depth + 1) if depth < 10 and default else default

    return _REFERENCE.sub(replace, value).replace("\\$", "$")
