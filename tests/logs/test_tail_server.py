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
