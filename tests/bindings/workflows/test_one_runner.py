"""Several engines on one store (the local edge runs several processes of a worker): the
lease gives each instance to exactly one of them, so no step runs twice."""

import asyncio
from pathlib import Path
from typing import Any

from tests.waits import await_until
from wranglerpy.bindings.workflows.binding import WorkflowBinding, WorkflowInstance
from wranglerpy.bindings.workflows.engine import EngineOptions, WorkflowEngine
from wranglerpy.bindings.workflows.store import WorkflowStore
from wranglerpy.runtime.entrypoint import WorkflowEntrypoint

RAN: list[str] = []


class Once(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("work")
        async def work() -> str:
            RAN.append(event["instanceId"])
            await asyncio.sleep(0.01)
            return "ok"

        return await work()


async def test_each_instance_runs_on_one_engine(tmp_path: Path) -> None:
    RAN.clear()
    path = tmp_path / "wf.sqlite"
    stores = [WorkflowStore(path) for _ in range(3)]  # one connection per "process"
    engines = [
        WorkflowEngine(s, "wf", lambda: Once(None, {}), lambda _l, _m: None,
                       EngineOptions(poll_seconds=0.01))
        for s in stores
    ]  # fmt: skip
    tasks = [asyncio.ensure_future(e.run()) for e in engines]
    binding = WorkflowBinding(stores[0], "wf")
    made = await binding.create_batch([{"id": f"i{n}"} for n in range(30)])
    for instance in made:

        async def complete(instance: WorkflowInstance = instance) -> bool:
            return (await instance.status())["status"] == "complete"

        await await_until(complete, f"instance {instance.id} to complete")
    for engine in engines:
        engine.stop()
    await asyncio.gather(*tasks)
    for s in stores:
        s.close()
    assert sorted(RAN) == sorted(f"i{n}" for n in range(30))
