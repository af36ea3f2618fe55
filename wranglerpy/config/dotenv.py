"""Local secrets: ``.dev.vars`` / ``.dev.vars.<env>``, or ``.env`` files when there is none.

Which files are read follows wrangler:

* with ``env`` set and ``.dev.vars.<env>`` present: that file only;
* else ``.dev.vars`` if present: that file only;
* else the dotenv family, later files overriding earlier ones: ``.env``, ``.env.local``,
  then (with ``env``) ``.env.<env>``, ``.env.<env>.local``.

Syntax (dotenv): ``KEY=VALUE`` lines, an optional ``export`` prefix, ``#`` comment lines,
blank lines, values in single quotes (literal), double quotes (``\\n``, ``\\t``, ``\\"`` and
``\\\\`` escapes; may span lines) or backticks, and unquoted values that end at a ``#``
preceded by whitespace. ``$VAR`` is not expanded.
"""

from __future__ import annotations

import re
from pathlib import Path

from wranglerpy.config.read import display_path
from wranglerpy.errors import ConfigError

_KEY = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


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
    for path in dev_vars_files(root, env):
        merged.update(parse_dotenv_file(path))
    return merged


def parse_dotenv_file(path: Path) -> dict[str, str]:
    label = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read secrets file: {exc}", file=label) from None
    return parse_dotenv(text, label)


def parse_dotenv(text: str, label: str) -> dict[str, str]:
    """Parse dotenv ``text``; errors name ``label`` and the 1-based line."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        match = _KEY.match(line)
        if not match:
            raise ConfigError(f"expected KEY=VALUE, got {line[:40]!r}", file=label, line=number)
        key = match.group(1)
        rest = line[match.end() :]
        if rest[:1] in ("'", '"', "`"):
            quote = rest[0]
            body = rest[1:]
            # A quoted value may continue on the following lines until its closing quote.
            while _closing(body, quote) < 0:
                if i >= len(lines):
                    raise ConfigError(
                        f"unterminated {quote} quote in value of {key}", file=label, line=number
                    )
                body += "\n" + lines[i]
                i += 1
            end = _closing(body, quote)
            value, tail = body[:end], body[end + 1 :].strip()
            if tail and not tail.startswith("#"):
                raise ConfigError(
                    f"unexpected text after the closing quote of {key}: {tail[:40]!r}",
                    file=label,
                    line=number,
                )
            if quote == '"':
                value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value)
        else:
            value = re.split(r"\s#", rest, maxsplit=1)[0].strip()
        out[key] = value
    return out


def _closing(body: str, quote: str) -> int:
    """Index of the closing ``quote`` in ``body`` (escapes count only in double quotes)."""
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1
