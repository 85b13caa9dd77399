"""``katatui serve`` in a real browser: headless Chromium opens the page, textual-serve's splash
gives way to the app once its first bytes arrive over the websocket, and a screenshot of the page
shows the dashboard (the demo replay), not the splash.

Chromium is driven over its DevTools protocol (on a loopback port): ``chromium --headless
--screenshot URL`` takes its picture as soon as the page has loaded, which is before the app's
first frame (a second or more: a katatui process starts per browser tab), so it always shows the
splash."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.test_serve import free_port, serving

CHROMIUM = next((p for p in ("chromium", "chromium-browser", "google-chrome") if shutil.which(p)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (scripts/system-packages --tests installs it)"
)

SPLASH_COLOURS = {bytes.fromhex("0c181f"), bytes.fromhex("12232d")}  # textual-serve's page and box
DEADLINE = 120.0  # seconds: a katatui process starts for the tab and replays the demo

Call = Callable[..., Coroutine[Any, Any, dict[str, Any]]]
PAGE_STATE = """({
    body: document.body ? document.body.className : "",
    intro: document.querySelector('.intro-dialog') ?
        getComputedStyle(document.querySelector('.intro-dialog')).display : "",
    terminal: document.querySelector('.textual-terminal') ?
        getComputedStyle(document.querySelector('.textual-terminal')).opacity : "",
})"""


def pixels(png: bytes) -> Counter[bytes]:
    """How many pixels of each RGB colour a PNG has (8-bit RGB or RGBA, not interlaced, as
    Chromium writes them)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 3
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    prev, at, counts = bytearray(stride), 0, Counter[bytes]()
    for _ in range(height):
        kind_of_filter, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if kind_of_filter == 1:
                line[x] = (line[x] + a) & 255
            elif kind_of_filter == 2:
                line[x] = (line[x] + b) & 255
            elif kind_of_filter == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind_of_filter == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        counts.update(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
        prev = line
    return counts


async def devtools(http: aiohttp.ClientSession, port: int) -> AsyncIterator[Call]:
    """A call function on Chromium's first page, over its DevTools websocket."""
    pages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while not pages:
        assert time.monotonic() < deadline, "chromium's DevTools never answered"
        try:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                pages = [p for p in await answer.json() if p.get("type") == "page"]
        except aiohttp.ClientError:
            pass
        if not pages:
            await asyncio.sleep(0.1)
    async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
        sent = 0

        async def call(method: str, **params: Any) -> dict[str, Any]:
            nonlocal sent
            sent += 1
            mine = sent
            await ws.send_str(json.dumps({"id": mine, "method": method, "params": params}))
            while True:
                msg = json.loads((await asyncio.wait_for(ws.receive(), 60)).data)
                if msg.get("id") == mine:
                    assert "error" not in msg, msg
                    return dict(msg.get("result", {}))

        yield call


async def look(call: Call) -> dict[str, Any]:
    found = await call("Runtime.evaluate", returnByValue=True, expression=PAGE_STATE)
    return dict(found["result"].get("value") or {})


async def screenshot_of_the_app(url: str) -> tuple[bytes, dict[str, Any]]:
    """Chromium opens ``url``; once the page says the app's first bytes came, and a moment later
    the first frame has been drawn, its screenshot and the page's state."""
    assert CHROMIUM is not None
    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        chromium = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
             "--window-size=1280,800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            async with aiohttp.ClientSession() as http:
                async for call in devtools(http, port):
                    await call("Page.enable")
                    await call("Page.navigate", url=url)

                    state: dict[str, Any] = {}
                    deadline = time.monotonic() + DEADLINE
                    while "-first-byte" not in str(state.get("body", "")):
                        assert time.monotonic() < deadline, f"still on the splash: {state}"
                        await asyncio.sleep(0.25)
                        state = await look(call)
                    await asyncio.sleep(3)  # the splash fades out (0.3 s), the app draws its frame
                    state = await look(call)
                    shot = await call("Page.captureScreenshot", format="png")
                    return base64.b64decode(shot["data"]), state
        finally:
            chromium.terminate()
            chromium.wait(30)
    raise AssertionError("no page in chromium")


async def test_the_served_page_shows_the_app_in_chromium(tmp_path: Path) -> None:
    with serving(["--", "demo", "--speed", "4"], dict(os.environ)) as (port, proc):
        png, state = await screenshot_of_the_app(f"http://127.0.0.1:{port}/")
        assert proc.poll() is None
    (tmp_path / "serve.png").write_bytes(png)  # for a person looking into a failure
    assert state["intro"] == "none" and state["terminal"] == "1", state  # the splash is gone
    colours = pixels(png)
    total = sum(colours.values())
    splash = sum(n for c, n in colours.items() if c in SPLASH_COLOURS)
    # textual-serve's splash is its two colours (99 % of the page); the dashboard is anything but
    assert splash / total < 0.2, (splash / total, colours.most_common(5))
    assert len(colours) > 200  # text, borders, bars: not a blank page
