"""Deterministic event sources for the dashboard: recorded sessions, fed without hosts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from katatui.core import replay
from katatui.core.events import Event, Listener, SessionFinished
from katatui.core.session import SessionReader
from katatui.tui.app import KatatuiApp
from katatui.tui.config import TuiConfig

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
