"""R2 buckets shared by processes: concurrent writers, create-only races and kill -9."""

import textwrap
from pathlib import Path

from tests.bindings.processes import assert_intact, kill_mid_write, run_together, spawn
from wranglerpy.bindings.r2 import R2BucketBinding
from wranglerpy.bindings.r2.local import INLINE_MAX

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from wranglerpy.bindings.r2 import R2BucketBinding

    async def main(folder, tag, count, size):
        bucket = R2BucketBinding(Path(folder))
        wait_for_go(folder)
        for i in range(count):
            await bucket.put(f"{tag}-{i:05d}", tag.encode() * size)
            if i == 10:
                print("started", flush=True)
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    """
)


async def test_two_processes_write_concurrently_and_lose_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    # "a" writes inline rows, "b" writes blob files: both paths race on one store.
    procs = [spawn(WRITER, folder, "a", 400, 10), spawn(WRITER, folder, "b", 60, INLINE_MAX + 1)]
    assert all("done" in out for out in run_together(folder, procs))
    bucket = R2BucketBinding(folder)
    keys, cursor = [], None
    while True:
        page = await bucket.list(cursor=cursor)
        keys += [o.key for o in page.objects]
        if not page.truncated:
            break
        cursor = page.cursor
    assert len(keys) == 460
    assert await (await bucket.get("b-00059")).arrayBuffer() == b"b" * (INLINE_MAX + 1)
    assert await (await bucket.get("a-00399")).text() == "a" * 10
    bucket.close()


async def test_kill_9_mid_write_leaves_a_readable_store(tmp_path: Path) -> None:
    folder = tmp_path / "crash"
    size = 256 * 1024
    kill_mid_write(WRITER, folder, "x", 100_000, size)
    assert_intact(folder / "meta.sqlite")
    bucket = R2BucketBinding(folder)
    page = await bucket.list()
    names = [o.key for o in page.objects]
    assert len(names) >= 11
    assert names == [f"x-{i:05d}" for i in range(len(names))]  # no gaps: only the last one lost
    for name in names:  # every visible object is whole
        assert await (await bucket.get(name)).arrayBuffer() == b"x" * size
    await bucket.put("after", "ok")
    assert await (await bucket.get("after")).text() == "ok"
    bucket.close()


RACER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from wranglerpy.bindings.r2 import R2BucketBinding

    async def main(folder, tag):
        bucket = R2BucketBinding(Path(folder))
        wait_for_go(folder)
        wins = 0
        for i in range(200):
            made = await bucket.put(f"k{i:03d}", tag, onlyIf={"etagDoesNotMatch": "*"})
            wins += made is not None
        print(wins, flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_create_only_puts_from_two_processes_have_one_winner_per_key(tmp_path: Path) -> None:
    folder = tmp_path / "race"
    procs = [spawn(RACER, folder, tag) for tag in ("a", "b")]
    wins = [int(out.strip()) for out in run_together(folder, procs)]
    assert sum(wins) == 200
    bucket = R2BucketBinding(folder)
    values = [await (await bucket.get(f"k{i:03d}")).text() for i in range(200)]
    assert values.count("a") == wins[0] and values.count("b") == wins[1]
    bucket.close()
