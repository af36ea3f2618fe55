"""Start the engines of the workflows a worker defines (called once at worker start-up).

A ``[[workflows]]`` entry without ``script_name`` (or naming this worker) is run here, by the
class ``class_name`` of the worker's main module; an entry naming another worker is only a
binding, and that worker runs it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wranglerpy.bindings.workflows.engine import EngineOptions, WorkflowEngine
from wranglerpy.bindings.workflows.step import implicit_dependencies
from wranglerpy.bindings.workflows.store import WorkflowStore, store_path
from wranglerpy.config.limits import Limits
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.runtime import console
from wranglerpy.runtime.entrypoint import ExecutionContext


@dataclass
class Running:
    engine: WorkflowEngine
    task: asyncio.Task[None]

    def stop(self) -> None:
        self.engine.stop()


def step_line(workflow: str, instance: str, event: str, d: dict[str, Any]) -> str | None:
    """One log line per step event (they reach ``wranglerpy tail`` with the worker's logs)."""
    head = f"WORKFLOW {workflow} {instance}"
    name = d.get("name")
    if event == "step.success":
        return f'{head} step "{name}" done (attempt {d.get("attempts")})'
    if event == "step.attempt_failure":
        error = d.get("error") or {}
        return (
            f'{head} step "{name}" attempt {d.get("attempt")} failed: '
            f"{error.get('name')}: {error.get('message')}"
        )
    if event == "sleep.start":
        return f'{head} sleeping "{name}"'
    if event == "wait.start":
        return f'{head} waiting for event "{d.get("type")}" ("{name}")'
    if event == "wait.complete":
        return f'{head} received event "{d.get("type")}" ("{name}")'
    if event == "wait.timed_out":
        return f'{head} timed out waiting ("{name}")'
    if event in ("instance.complete", "instance.errored"):
        return f"{head} {event.split('.')[1]}"
    return None


def _runs_here(script_name: str | None, config: WorkerConfig) -> bool:
    return script_name is None or script_name in (config.name, config.base_name)


def start_engines(
    config: WorkerConfig,
    persist_dir: Path,
    app: Any,
    store: WorkflowStore | None = None,
    **option_overrides: Any,
) -> list[Running]:
    """``store``: another home for the instances than the persist dir's file (the Ray
    target's primary)."""
    owned = [w for w in config.workflows if _runs_here(w.script_name, config)]
    if not owned:
        return []
    loaded = app.loaded
    if store is None:
        store = WorkflowStore(store_path(persist_dir))
    implicit = implicit_dependencies(config.compatibility_flags, config.compatibility_date)

    def log(level: str, message: str) -> None:
        console.record(app.sink, config.name, level, message)

    def on_step(workflow: str) -> Any:
        def report(event: str, instance: str, key: str, details: dict[str, Any]) -> None:
            text = step_line(workflow, instance, event, details)
            if text is not None:
                level = "warn" if event in ("step.attempt_failure", "wait.timed_out") else "info"
                console.record(app.sink, config.name, level, text)

        return report

    running = []
    for workflow in owned:
        cls = getattr(loaded.module, workflow.class_name, None)
        if cls is None or not callable(getattr(cls, "run", None)):
            log(
                "error",
                f'workflow "{workflow.name}": the main module has no class "{workflow.class_name}"'
                " with a run(self, event, step) method; its instances stay queued",
            )
            continue

        def make(cls: Any = cls) -> Any:
            return cls(ExecutionContext(getattr(app, "_background_error", None)), app.env)

        options = EngineOptions(
            implicit_dependencies=implicit,
            step_limit=workflow.step_limit,
            limits=getattr(app, "limits", None) or Limits(),  # per step, as Cloudflare meters
        )
        for key, value in option_overrides.items():
            setattr(options, key, value)
        engine = WorkflowEngine(store, workflow.name, make, log, options, on_step(workflow.name))
        running.append(Running(engine, asyncio.ensure_future(engine.run())))
    return running
