import asyncio
import json

from wranglerpy.logs.hub import LogHub
from wranglerpy.logs.tail_server import TailServer


async def test_streams_matching_events_until_the_client_leaves(tmp_path):
    hub = LogHub()
    server = TailServer(hub, tmp_path / "tail.sock")
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(tmp_path / "tail.sock"))
        writer.write(json.dumps({"workers": ["api"]}).encode() + b"\n")
        assert json.loads(await reader.readline()) == {"type": "hello"}
        hub.publish({"type": "request", "worker": "other", "status": 200})
        hub.publish({"type": "warm", "worker": "api"})
        hub.publish({"type": "request", "worker": "api", "status": 201})
        event = json.loads(await asyncio.wait_for(reader.readline(), 2))
        assert event == {"type": "request", "worker": "api", "status": 201}
        clients = list(server._clients)
        writer.close()
        await asyncio.wait_for(asyncio.wait(clients), 10)  # the server saw the client leave
        hub.publish({"type": "request", "worker": "api", "status": 202})  # nobody to send to
        assert not server._clients
    finally:
        await server.close()


async def test_closing_with_a_client_connected_reports_no_error(tmp_path):
    """Ctrl-C on `dev` while `tail` (or the dashboard) is connected prints no traceback."""
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    hub = LogHub()
    server = TailServer(hub, tmp_path / "tail.sock")
    await server.start()
    reader, writer = await asyncio.open_unix_connection(str(tmp_path / "tail.sock"))
    writer.write(b"{}\n")
    assert json.loads(await reader.readline()) == {"type": "hello"}
    clients = list(server._clients)
    await server.close()
    await asyncio.wait_for(asyncio.wait(clients), 10)
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the server closed the connection
    writer.close()
    for _ in range(3):  # let asyncio run the connection's done-callbacks
        await asyncio.sleep(0)
    assert reported == []
