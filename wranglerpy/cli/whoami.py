"""``wranglerpy whoami``: wrangler's account check, answered for a tool with no account.

There is nothing to log in to: this says so, and shows what stands in for an account here
(the local state beside the config, the local edge and what it serves).
"""

from __future__ import annotations

import typer

from wranglerpy import __version__
from wranglerpy.cli._options import StateDirOption
from wranglerpy.cli.common import handle_errors


@handle_errors
def whoami(
    state_dir: StateDirOption = None,
) -> None:
    """Where your local "account" lives: no login, local state, the local edge."""
    from wranglerpy.cli.local_state import find_config
    from wranglerpy.config.load import load_worker
    from wranglerpy.config.persist import default_persist_dir
    from wranglerpy.deploy.client import running_edge
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.deploy.paths import EdgePaths

    typer.echo(f"wranglerpy {__version__}: everything runs on this machine; there is no login.")
    config = find_config(None)
    if config is not None:
        worker = load_worker(config)
        typer.echo(f"Worker here:    {worker.name} ({config.name})")
        typer.echo(f"Local state:    {default_persist_dir(worker.root)}")
    paths = EdgePaths.resolve(state_dir)
    edge = running_edge(paths)
    typer.echo(f"Edge state:     {paths.root}")
    typer.echo(f"Edge:           {edge.url if edge else 'not running (wranglerpy edge start)'}")
    deployed = DeploymentLog(paths.deployments).workers() if paths.deployments.is_file() else []
    typer.echo(f"Deployed:       {', '.join(deployed) if deployed else 'nothing yet'}")
