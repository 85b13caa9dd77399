"""``katatui serve`` for real: a server on a loopback port, the page over HTTP, the app over its
websocket (the demo replay drawn, a key pressed, the app quits); and the addresses it refuses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from katatui.cli import build_parser, main, normalise
from katatui.commands.serve import app_argv, is_loopback
from tests.conftest import TestEnv

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(args: list[str], env: dict[str, str]) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "katatui", "serve", "--port", str(port), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"on http://127.0.0.1:{port}" in first, first
        for _ in range(600):  # the line comes as the server starts; the port opens right after
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server() -> Iterator[tuple[int, subprocess.Popen[str]]]:
    with serving(["--", "demo", "--speed", "4"], dict(os.environ)) as running:
        yield running


async def screen_text(port: int, *wanted: bytes) -> bytes:
    """What the app draws for a 160×48 browser, until every ``wanted`` piece has appeared."""
    screen = b""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"http://127.0.0.1:{port}/ws?width=160&height=48") as ws,
    ):
        for _ in range(2000):
            msg = await asyncio.wait_for(ws.receive(), 60)
            if msg.type == aiohttp.WSMsgType.BINARY:
                screen += msg.data
            if all(w in screen for w in wanted):
                break
        await ws.send_str(json.dumps(["stdin", "q"]))
    return screen


async def test_serve_answers_with_the_app_page_and_drives_the_app(
    server: tuple[int, subprocess.Popen[str]],
) -> None:
    port, proc = server
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/") as page:
            assert page.status == 200
            html = await page.text()
        assert "<div>katatui</div>" in html  # the app's name on textual-serve's page
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in html
        async with http.get(base + "/static/js/textual.js") as js:
            assert js.status == 200
        screen = b""
        async with http.ws_connect(base + "/ws?width=160&height=48") as ws:
            await ws.send_str(json.dumps(["ping", "hello"]))
            pong = False
            for _ in range(2000):
                msg = await asyncio.wait_for(ws.receive(), 60)
                if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data) == ["pong", "hello"]:
                    pong = True
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    screen += msg.data
                if pong and b"replay" in screen and b"runsc" in screen:
                    break
            assert pong
            assert b"replay" in screen and b"runsc" in screen, screen[-2000:]  # the replay, drawn
            await ws.send_str(json.dumps(["stdin", "q"]))  # q quits a replay at once
            for _ in range(2000):
                msg = await asyncio.wait_for(ws.receive(), 60)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    break
            else:
                raise AssertionError("the app did not quit")
    assert proc.poll() is None  # the server goes on for the next browser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--host", "0.0.0.0"], "not a loopback address"),
        (["serve", "--host", "192.168.1.10", "--port", "8080"], "--allow-network"),
        (["serve", "--port", "0"], "expected a TCP port"),
        (["serve", "--public-url", "projector:8000"], "expected http://host:port"),
        (["serve", "--", "report", "x.katatui"], "is not a dashboard"),
        (["serve", "--", "run", "profiles/quick.toml", "--headless"], "--headless"),
        (["serve", "--", "replay", "--speed", "fast"], "not valid"),
    ],
)
def test_serve_refuses_with_a_reason(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "katatui", "serve", "--port", str(port), "--", "demo"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {port}" in done.stderr and "Traceback" not in done.stderr


def test_another_address_with_the_flag_warns() -> None:
    """192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes, then binding fails, so
    the test never listens beyond loopback."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "katatui",
            "serve",
            "--host",
            "192.0.2.1",
            "--allow-network",
            "--port",
            "8000",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert "WARNING: serving on 192.0.2.1: anyone who can reach" in done.stderr
    assert done.returncode == 2 and "cannot listen on 192.0.2.1 port 8000" in done.stderr
    assert "Traceback" not in done.stderr


def test_app_argv_is_an_argument_list() -> None:
    argv = app_argv(
        ["--", "replay", "my session; rm -rf ~.katatui", "--speed", "2"], normalise, build_parser()
    )
    assert argv == [sys.executable, "-m", "katatui", "replay", "my session; rm -rf ~.katatui", "--speed", "2"]
    assert app_argv([], normalise, build_parser()) == [sys.executable, "-m", "katatui"]
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


@pytest.mark.skipif(Path("/var/run/docker.sock").exists(), reason="this machine has a Docker socket")
async def test_plain_katatui_without_docker_shows_the_demo_and_why(tmp_path: Path) -> None:
    """The README's first command, for real: no DOCKER_HOST, no socket, no docker on PATH."""
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env["PATH"] = str(Path(sys.executable).parent)
    with serving([], env) as (port, _proc):
        screen = await screen_text(port, b"No Docker on this machine", b"replay", b"runsc")
    assert b"No Docker on this machine" in screen and b"runsc" in screen, screen[-3000:]


async def test_plain_katatui_with_docker_opens_the_start_screen(testenv: TestEnv) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{testenv.docker_sock}"}
    with serving([], env) as (port, _proc):
        screen = await screen_text(port, b"profile", b"Targets")
    assert b"Targets" in screen and b"No Docker" not in screen, screen[-3000:]
