"""Deterministic event sources for the dashboard (recorded sessions, fed without hosts), and the
one way the dashboard's tests wait: for a condition, never for a fixed time."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from katatui.core import replay
from katatui.core.events import Event, Listener, SessionFinished
from katatui.core.session import SessionReader
from katatui.tui.app import KatatuiApp
from katatui.tui.config import TuiConfig
from katatui.tui.live import LiveScreen
from katatui.tui.start import StartScreen

FIXTURES = Path(__file__).parent / "fixtures"
THREE = FIXTURES / "three_columns.katatui"  # bare | runc | runc-alt, 2 cells, 2 repeats, 2 clients
MISSING = FIXTURES / "missing_runtime.katatui"  # bare | kata-runtime (not installed: fails to start)
SIZE = (160, 48)


def recorded(path: Path) -> list[Event]:
    reader = SessionReader(path)
    try:
        return list(replay.events(reader))
    finally:
        reader.close()


class FakeSource:
    """Sends recorded events on request; records what the user asked the engine to do.

    ``until`` events are sent at once; ``step(n)`` sends more; the session ends with the recorded
    SessionFinished once everything was sent, or with "interrupted" when aborted.
    """

    def __init__(self, events: Sequence[Event], *, until: int | None = None) -> None:
        self.events = [e for e in events if not isinstance(e, SessionFinished)]
        self.final = next((e for e in events if isinstance(e, SessionFinished)), SessionFinished("completed"))
        self.sent = 0
        self.allowed = len(self.events) if until is None else until
        self.session_path: Path | None = None
        self.stopped: list[str] = []
        self.skipped: list[str] = []
        self.aborted = False
        self._wake = asyncio.Event()

    def step(self, n: int) -> None:
        self.allowed = min(len(self.events), self.allowed + n)
        self._wake.set()

    def finish(self) -> None:
        self.step(len(self.events))

    async def run(self, listener: Listener) -> str:
        while True:
            while self.sent < self.allowed and not self.aborted:
                listener(self.events[self.sent])
                self.sent += 1
            if self.aborted:
                listener(SessionFinished("interrupted"))
                return "interrupted"
            if self.sent >= len(self.events):
                listener(self.final)
                return self.final.status
            self._wake.clear()
            await self._wake.wait()

    def stop_run(self, run_id: str) -> str:
        self.stopped.append(run_id)
        return f"fake: stop {run_id}"

    def skip_cell(self, cell: str) -> str:
        self.skipped.append(cell)
        return f"fake: skip {cell}"

    def abort(self) -> None:
        self.aborted = True
        self._wake.set()


@pytest.fixture
def three_events() -> list[Event]:
    return recorded(THREE)


def make_app(source: FakeSource, config: TuiConfig | None = None) -> KatatuiApp:
    return KatatuiApp(source=source, config=config or TuiConfig())


# -- waiting ------------------------------------------------------------------------------------
# Workers, timers, messages and repaints take as long as the machine makes them take: a test waits
# for what it is about to check to be true, up to a deadline far beyond any slow machine's (a test
# that is really broken still fails, with what it waited for). A fixed pause is only for checking
# that something does NOT happen, after waiting for a sign that the app has handled the key.
DEADLINE = 30.0  # seconds, for the app's own work
HOST_DEADLINE = 300.0  # seconds, for work on real hosts (probes, Docker, a short run)
POLL = 0.05
QUIET = 0.5  # seconds the app is given to do something it must not do

S = TypeVar("S", bound=Screen[Any])


async def until(
    pilot: Pilot[Any],
    cond: Callable[[], object],
    what: str,
    *,
    timeout: float = DEADLINE,
    detail: Callable[[], object] | None = None,
) -> None:
    """Let the app run until ``cond()`` holds; fail saying ``what`` never happened after ``timeout``
    seconds (and ``detail()``, what the app had instead).

    Between looks the app runs on the same event loop; a plain sleep costs it nothing, where the
    pilot's pause would walk every widget each time, taking time from the work being waited for."""
    deadline = time.monotonic() + timeout
    while not cond():
        if pilot.app._exception is not None:  # it broke: nothing more will happen
            raise AssertionError(f"the app failed before {what}") from pilot.app._exception
        if time.monotonic() > deadline:
            extra = f": {detail()}" if detail is not None else ""
            raise AssertionError(f"not within {timeout:g} s: {what}{extra}")
        await asyncio.sleep(POLL)


async def quiet(pilot: Pilot[Any]) -> None:
    """Give the app a while to do what a test checks it does NOT do."""
    await pilot.pause(QUIET)


def text_of(app: App[Any], selector: str) -> str:
    """What a widget of the current screen shows ("" while there is none)."""
    found = app.screen.query(selector)
    return str(found.first().render()) if found else ""


def rendered(app: App[Any], selector: str, width: int = SIZE[0]) -> str:
    """What a Static of the current screen shows, rendered as a terminal would (markup read, a Rich
    table drawn); "" while there is none."""
    found = app.screen.query(selector)
    if not found:
        return ""
    widget = found.first()
    assert isinstance(widget, Static)
    console = Console(width=widget.size.width or width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def all_probed(screen: StartScreen) -> bool:
    """The start screen has its profile and the probe of every target of it."""
    return screen.profile is not None and len(screen.probes) == len(screen.profile.targets)


async def screen_up(pilot: Pilot[Any], kind: type[S], what: str = "") -> S:
    """Wait until the current screen is a ``kind`` with its widgets mounted; return it."""

    def up() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, kind) and screen.is_mounted

    await until(pilot, up, what or f"the {kind.__name__}", detail=lambda: pilot.app.screen)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def caught_up(pilot: Pilot[Any], app: KatatuiApp) -> LiveScreen:
    """Everything the source may send so far is sent and applied to the model, and the live screen
    has painted it (not for a display paused with p: it paints nothing)."""

    def done() -> bool:
        source, screen = app.source, app.screen
        if isinstance(source, FakeSource) and source.sent < source.allowed and not source.aborted:
            return False
        return (
            not app._pending
            and isinstance(screen, LiveScreen)
            and screen.is_mounted
            and screen._generation == app.model.generation
            and screen._painted == app.model.version
        )

    await until(pilot, done, "the live screen caught up with the events")
    screen = app.screen
    assert isinstance(screen, LiveScreen)
    return screen
