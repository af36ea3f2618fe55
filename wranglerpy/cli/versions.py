"""``wranglerpy versions upload|view|deploy`` (``versions list`` is in ``history``).

wrangler's forms (workers-sdk ``packages/wrangler/src/versions/``): ``upload`` makes a
version without deploying it; ``deploy VERSION_ID@PERCENT [VERSION_ID@PERCENT]`` splits
traffic between at most two versions (``deploy.split``); ``view VERSION_ID``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.deployments import (
    ConfigOption,
    EnvOption,
    JsonFlag,
    NameOption,
    StateDirOption,
    YesFlag,
    locate,
    versions_app,
)

if TYPE_CHECKING:
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.deploy.versions import Version

MessageOption = Annotated[
    str, typer.Option("--message", "-m", help="Recorded with the version or deployment.")
]


@versions_app.command("upload")
@handle_errors
def versions_upload(
    message: MessageOption = "",
    tag: Annotated[str, typer.Option("--tag", help="A tag for the version.")] = "",
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file. Default: wrangler.json/jsonc/toml here."),
    ] = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            "--secrets-file",
            help="Secrets of the new version (KEY=VALUE lines). Default: those of the live "
            "version.",
        ),
    ] = None,
) -> None:
    """Build and store a new version of the worker without deploying it; `versions deploy`
    sends traffic to it."""
    from wranglerpy.cli.local_state import find_config
    from wranglerpy.config.load import load_worker
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.deploy.publish import publish
    from wranglerpy.errors import ConfigError

    found = find_config(config)
    if found is None:
        raise ConfigError(
            f"No wrangler.json, wrangler.jsonc or wrangler.toml in {Path.cwd()}. Pass one with -c."
        )
    worker = load_worker(found, env)
    from wranglerpy.cli.deploy import refuse_unuploadable

    refuse_unuploadable(worker, "uploaded")
    publish(
        worker,
        EdgePaths.resolve(state_dir),
        None,
        typer.echo,
        message=message,
        tag=tag,
        secrets_file=secrets_file,
        upload_only=True,
    )


@versions_app.command("view")
@handle_errors
def versions_view(
    version_id: Annotated[str, typer.Argument(help="Version id (or a unique prefix).")],
    name_option: NameOption = None,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """The details of one version of the worker."""
    from wranglerpy.deploy.versions import find_version

    paths, name = locate(state_dir, name_option, config, env)
    version = find_version(paths, name, version_id)
    if as_json:
        typer.echo(json.dumps(version.meta | {"content_hash": version.content_hash}, indent=2))
        return
    worker = version.config()
    rows = [
        ("Version ID", version.id),
        ("Created", version.created_on),
        ("Author", "local"),
        ("Tag", version.tag or "-"),
        ("Message", version.message or "-"),
        ("Content hash", version.content_hash),
        ("Files", f"{version.meta.get('files')} from {version.meta.get('source')}"),
        ("Compatibility Date", worker.compatibility_date or "-"),
        ("Compatibility Flags", ", ".join(worker.compatibility_flags) or "-"),
        ("Placement", version.meta.get("placement") or "off (default)"),
        ("Bindings", ", ".join(worker.binding_names()) or "-"),
    ]
    width = max(len(k) for k, _ in rows) + 2
    for key, value in rows:
        typer.echo(f"{key + ':':<{width}}{value}")


@versions_app.command("deploy")
@handle_errors
def versions_deploy(
    version_specs: Annotated[
        list[str] | None,
        typer.Argument(
            help="One or two versions with their share of traffic, e.g. 1a2b3c4d@90% "
            "5e6f7a8b@10% (ids or unique prefixes; one percentage may be left out). "
            "Default: the newest version at 100%.",
        ),
    ] = None,
    name_option: NameOption = None,
    message: MessageOption = "",
    yes: YesFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Serve one version, or split traffic between two (a gradual deployment), with zero
    failed requests."""
    from wranglerpy.deploy.client import running_edge, start_edge
    from wranglerpy.deploy.split import complete, parse_specs
    from wranglerpy.deploy.versions import find_version, list_versions
    from wranglerpy.errors import DeployError

    paths, name = locate(state_dir, name_option, config, env)
    if version_specs:
        parsed = parse_specs(version_specs)
        resolved = [(find_version(paths, name, v).id, p) for v, p in parsed]
    else:
        stored = list_versions(paths, name)
        if not stored:
            raise DeployError(f'No versions of "{name}" in {paths.versions}: `versions upload`.')
        resolved = [(stored[-1].id, 100.0)]
    split = complete(resolved)
    _show_change(paths, name, split)
    if not yes and sys.stdin.isatty():
        typer.confirm("Deploy these versions?", abort=True)
    edge = running_edge(paths) or start_edge(paths)[0]
    answer = edge.deploy(split[0][0], message, "versions deploy", split)
    # As wrangler words it (workers-sdk packages/wrangler/src/versions/deploy.ts).
    shares = " and ".join(f"version {v} at {p:g}%" for v, p in split)
    typer.echo(f"✔ Deployed {name} {shares} ({answer.seconds:.2f} sec)")


def _show_change(paths: EdgePaths, name: str, split: list[tuple[str, float]]) -> None:
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.deploy.versions import load_version

    current = DeploymentLog(paths.deployments).current(name)
    if current is not None:
        typer.echo(f"Current deployment of {name}:")
        for version_id, pct in current.split:
            typer.echo(f"  ({pct:g}%) {version_id}")
    typer.echo("New deployment:")
    for version_id, pct in split:
        version: Version = load_version(paths, version_id)
        extra: list[Any] = [x for x in (version.tag, version.message) if x]
        note = f"  {' · '.join(extra)}" if extra else ""
        typer.echo(f"  ({pct:g}%) {version_id}{note}")
