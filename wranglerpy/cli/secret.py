"""``wranglerpy secret put|list|delete|bulk``: the secrets of a worker on the local edge.

For ``dev``, secrets stay in ``.dev.vars`` as with wrangler; these commands change what a
deployed worker has, each change a new version (see ``deploy.secret_changes``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from wranglerpy.cli._options import NameOption, StateDirOption
from wranglerpy.cli._options import WorkerConfigOption as ConfigOption
from wranglerpy.cli._options import WorkerEnvOption as EnvOption
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.deployments import locate
from wranglerpy.errors import UsageError

app = typer.Typer(
    help="Secrets of workers deployed on the local edge (for dev: .dev.vars).",
    no_args_is_help=True,
)
SecretArgument = Annotated[str, typer.Argument(help="The secret's name.")]


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        return str(typer.prompt(f"Enter a secret value for {name}", hide_input=True))
    return sys.stdin.read().rstrip("\n")  # piped: `echo -n value | wranglerpy secret put X`


@app.command("put")
@handle_errors
def put(
    key: SecretArgument,
    name_option: NameOption = None,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Set one secret (value from stdin or a hidden prompt) and deploy it as a new version."""
    from wranglerpy.deploy.secret_changes import change_secrets, check_secret

    paths, worker = locate(state_dir, name_option, config, env)
    value = _read_value(key)
    check_secret(key, value)
    version, seconds = change_secrets(
        paths, worker, lambda s: {**s, key: value}, f"secret put {key}"
    )
    typer.echo(f"✨ Success! Uploaded secret {key} to {worker} ({seconds:.2f} s).")
    typer.echo(f"Current Version ID: {version.id}")


@app.command("delete")
@handle_errors
def delete(
    key: SecretArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    name_option: NameOption = None,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Remove one secret and deploy the result as a new version."""
    from wranglerpy.deploy.secret_changes import change_secrets, secret_names

    paths, worker = locate(state_dir, name_option, config, env)
    if key not in secret_names(paths, worker):
        raise UsageError(f'"{worker}" has no secret named "{key}".')
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Delete the secret {key} of {worker}?", abort=True)
    version, _ = change_secrets(
        paths, worker, lambda s: {k: v for k, v in s.items() if k != key}, f"secret delete {key}"
    )
    typer.echo(f"✨ Success! Deleted secret {key} from {worker}.")
    typer.echo(f"Current Version ID: {version.id}")


@app.command("list")
@handle_errors
def list_secrets(
    name_option: NameOption = None,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """The names of the live version's secrets (never their values), as JSON."""
    from wranglerpy.deploy.secret_changes import secret_names

    paths, worker = locate(state_dir, name_option, config, env)
    rows = [{"name": n, "type": "secret_text"} for n in secret_names(paths, worker)]
    typer.echo(json.dumps(rows, indent=2))


@app.command("bulk")
@handle_errors
def bulk(
    file: Annotated[Path, typer.Argument(help="A JSON object of NAME: value, or a .env file.")],
    name_option: NameOption = None,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Set many secrets at once (one new version)."""
    from wranglerpy.config.dotenv import parse_dotenv_file
    from wranglerpy.deploy.secret_changes import change_secrets, check_secret

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {file}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = parse_dotenv_file(file)  # not JSON: KEY=VALUE lines, as wrangler accepts
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f"{file}: expected a JSON object of string values or KEY=VALUE lines.")
    for key, value in data.items():
        check_secret(key, value)
    paths, worker = locate(state_dir, name_option, config, env)
    version, _ = change_secrets(paths, worker, lambda s: {**s, **data}, f"secret bulk {file.name}")
    typer.echo(f"✨ Success! {len(data)} secret(s) uploaded to {worker}.")
    typer.echo(f"Current Version ID: {version.id}")
