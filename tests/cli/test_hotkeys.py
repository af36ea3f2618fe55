"""wrangler's dev hotkeys, driven through a real pseudo-terminal: the box is printed once
``dev`` is ready, ``b`` opens the first worker's URL in a browser (``$BROWSER``, as Python's
``webbrowser`` reads it), ``c`` clears the screen, ``x`` exits, and the terminal's mode is
back as it was after an exit and after a crash; with stdin not a terminal, nothing changes.
Keys and labels follow workers-sdk packages/wrangler/src/dev/hotkeys.ts (``b``, ``c``,
``x``/``q``/``ctrl+c``) and the box its cli-hotkeys.ts ``formatInstructions``."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import textwrap
import threading
from pathlib import Path

import pytest

from tests.waits import wait_until
from wranglerpy.cli.dev import with_hotkeys
from wranglerpy.cli.hotkeys import CLEAR, box
from wranglerpy.testing.dev_server import DevServer, free_port

WORKER = """from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hi")
"""


def project(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "entry.py").write_text(WORKER)
    config = folder / "wrangler.toml"
    config.write_text('name = "keys"\nmain = "src/entry.py"\ncompatibility_date = "2025-09-01"\n')
    return config


def test_box_is_wranglers() -> None:
    assert box(80).splitlines() == [
        "╭──" + "─" * 48 + "──╮",
        "│  [b] open a browser [c] clear console [x] to exit  │",
        "╰──" + "─" * 48 + "──╯",
    ]
    assert box(30).splitlines()[1:4] == [
        "│  [b] open a browser  │",
        "│  [c] clear console   │",
        "│  [x] to exit         │",
    ]


def echo_and_canonical(fd: int) -> int:
    return termios.tcgetattr(fd)[3] & (termios.ECHO | termios.ICANON | termios.ISIG)


class Terminal:
    """A pseudo-terminal whose output is collected by a thread."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.output = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def close(self) -> None:
        os.close(self.slave)
        os.close(self.master)


@pytest.mark.integration
def test_hotkeys_in_a_real_terminal(tmp_path: Path) -> None:
    config = project(tmp_path / "app")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(
        textwrap.dedent(f"""
        import sys
        with open({str(opened)!r}, "a") as out:
            out.write(sys.argv[1] + "\\n")
        """)
    )
    terminal = Terminal()
    port = free_port()
    environ = {
        **os.environ,
        "WRANGLERPY_REGISTRY_PATH": str(tmp_path / "registry"),
        "BROWSER": f"{sys.executable} {browser} %s",
        "NO_COLOR": "1",
    }
    before = echo_and_canonical(terminal.slave)
    process = subprocess.Popen(
        [sys.executable, "-m", "wranglerpy", "dev", "-c", str(config), "--port", str(port),
         "--no-persist", "--no-services", "--no-watch"],
        stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave, env=environ,
        start_new_session=True,  # and the terminal is its controlling one, as in a shell:
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    try:
        wait_until(lambda: "[x] to exit" in terminal.text(), "the hotkeys box")
        assert terminal.text().index("Ready in") < terminal.text().index("[b] open a browser")
        assert echo_and_canonical(terminal.slave) == 0  # keys arrive one by one, unechoed
        os.write(terminal.master, b"b")
        wait_until(opened.exists, "the browser")
        wait_until(lambda: opened.read_text().strip() != "", "the browser's URL")
        assert opened.read_text().strip() == f"http://127.0.0.1:{port}"
        os.write(terminal.master, b"c")
        wait_until(lambda: CLEAR in terminal.text(), "the console to clear")
        os.write(terminal.master, b"x")
        assert process.wait(60) == 0
        wait_until(lambda: "Shutting down" in terminal.text(), "the orderly stop")
        assert echo_and_canonical(terminal.slave) == before  # the terminal is as it was
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        terminal.close()


@pytest.mark.integration
def test_no_hotkeys_without_a_terminal(tmp_path: Path) -> None:
    with DevServer(project(tmp_path / "app"), cwd=tmp_path) as dev:  # stdin: /dev/null
        assert "Ready in" in dev.output()
        assert "[b] open a browser" not in dev.output()


def test_no_hotkeys_for_a_background_job() -> None:
    """``wranglerpy dev &``: the terminal belongs to the shell's foreground job."""
    script = textwrap.dedent("""
        import os, sys
        from wranglerpy.cli.hotkeys import interactive
        child = os.fork()
        if child == 0:  # a job of its own, not the terminal's foreground one
            os.setpgid(0, 0)
            print("background", interactive(sys.stdin, sys.stdout), flush=True)
            os._exit(0)
        os.waitpid(child, 0)
        print("foreground", interactive(sys.stdin, sys.stdout), flush=True)
    """)
    terminal = Terminal()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=terminal.slave, stdout=terminal.slave,
            start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )  # fmt: skip
        assert process.wait(30) == 0
        wait_until(lambda: "foreground" in terminal.text(), "the answers")
        assert "background False" in terminal.text()
        assert "foreground True" in terminal.text()
    finally:
        terminal.close()


def test_the_terminal_mode_comes_back_after_a_crash() -> None:
    terminal = Terminal()
    before = echo_and_canonical(terminal.slave)
    seen: list[int] = []

    async def crash(*args: object, ready: asyncio.Event, stop: asyncio.Event, **kw: object) -> None:
        ready.set()
        await asyncio.sleep(0)  # the hotkeys start
        await asyncio.sleep(0)
        seen.append(echo_and_canonical(terminal.slave))
        raise RuntimeError("dev crashed")

    stdin = os.fdopen(os.dup(terminal.slave), "r")
    stdout = os.fdopen(os.dup(terminal.slave), "w")
    try:
        with pytest.raises(RuntimeError, match="dev crashed"):
            asyncio.run(
                with_hotkeys(crash, [], {}, None, None, lambda: None, stdin=stdin, stdout=stdout)
            )
    finally:
        stdin.close()
        stdout.close()
    assert seen == [0]  # the keys were taken
    assert echo_and_canonical(terminal.slave) == before
    terminal.close()
