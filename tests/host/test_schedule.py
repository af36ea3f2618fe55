import asyncio
from datetime import datetime, timedelta, timezone

from wranglerpy.host.schedule import CronScheduler


def test_crons_fire_at_their_minute_and_follow_the_live_version() -> None:
    now = [datetime(2026, 1, 1, 2, 59, 30, tzinfo=timezone.utc)]
    fired: list[tuple[str, str, float]] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    async def fire(worker: str, cron: str, when: float) -> None:
        fired.append((worker, cron, when))

    async def scenario() -> None:
        crons = CronScheduler(fire, clock=lambda: now[0], sleep=sleep)
        crons.schedule("api", ("0 3 * * *",))
        for _ in range(5):
            await asyncio.sleep(0)
        crons.schedule("api", ())  # a new version without triggers
        crons.stop()

    asyncio.run(scenario())
    three = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc).timestamp() * 1000
    assert fired[0] == ("api", "0 3 * * *", three)
    assert slept[0] == 30.0
    assert slept[1] == 24 * 3600.0  # the next day's 03:00
