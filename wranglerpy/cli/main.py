"""The ``wranglerpy`` command: a thin typer app; each command group lives in its own module."""

from __future__ import annotations

from typing import Any

import typer

from wranglerpy import __version__

app = typer.Typer(
    name="wranglerpy",
    help="Run Cloudflare-Workers-style Python workers locally: dev, deploy, tail, bindings.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts mention [env.NAME] and [dev] literally
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wranglerpy {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", "-v", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """wranglerpy: the whole multi-worker system on your laptop."""


# Command registrations: one import and one line per command or group.
from wranglerpy.cli import ai as _ai  # noqa: E402
from wranglerpy.cli import analytics as _analytics  # noqa: E402
from wranglerpy.cli import d1 as _d1  # noqa: E402
from wranglerpy.cli import deploy as _deploy  # noqa: E402
from wranglerpy.cli import deployments as _deployments  # noqa: E402
from wranglerpy.cli import dev as _dev  # noqa: E402
from wranglerpy.cli import durable_objects as _durable_objects  # noqa: E402
from wranglerpy.cli import edge as _edge  # noqa: E402
from wranglerpy.cli import email as _email  # noqa: E402
from wranglerpy.cli import init as _init  # noqa: E402
from wranglerpy.cli import kv as _kv  # noqa: E402
from wranglerpy.cli import queues as _queues  # noqa: E402
from wranglerpy.cli import r2 as _r2  # noqa: E402
from wranglerpy.cli import schema as _schema  # noqa: E402
from wranglerpy.cli import secret as _secret  # noqa: E402
from wranglerpy.cli import services as _services  # noqa: E402
from wranglerpy.cli import state_reset as _state_reset  # noqa: E402
from wranglerpy.cli import tail as _tail  # noqa: E402
from wranglerpy.cli import types as _types  # noqa: E402
from wranglerpy.cli import vectorize as _vectorize  # noqa: E402
from wranglerpy.cli import whoami as _whoami  # noqa: E402
from wranglerpy.cli import workflows as _workflows  # noqa: E402

app.command("dev")(_dev.dev)
app.command("init")(_init.init)
app.add_typer(_kv.app, name="kv")
app.add_typer(_d1.app, name="d1")
app.add_typer(_r2.app, name="r2")
app.add_typer(_analytics.app, name="analytics")
app.add_typer(_state_reset.app, name="state")
app.add_typer(_durable_objects.app, name="durable-objects")
app.add_typer(_ai.app, name="ai")
app.command("deploy")(_deploy.deploy)
app.add_typer(_edge.app, name="edge")
app.add_typer(_deployments.deployments_app, name="deployments")
app.add_typer(_deployments.versions_app, name="versions")
app.command("rollback")(_deployments.rollback)
app.command("delete")(_deployments.delete)
app.add_typer(_secret.app, name="secret")
app.command("tail")(_tail.tail)
app.add_typer(_queues.app, name="queues")
app.add_typer(_workflows.app, name="workflows")
app.command("types")(_types.types)
app.command("whoami")(_whoami.whoami)
app.command("services")(_services.services)
app.command("schema")(_schema.schema)
app.add_typer(_vectorize.app, name="vectorize")
app.add_typer(_email.app, name="email")


def command() -> Any:
    """The click command tree of ``app``, with help metavars in click's words."""
    from wranglerpy.cli.help_format import tidy_metavars

    tree = typer.main.get_command(app)
    tidy_metavars(tree)
    return tree


def run() -> None:
    """Console-script entry point."""
    command()()
