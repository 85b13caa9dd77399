"""Snapshots of the main screens at 160×48 (pytest-textual-snapshot; update with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from katatui.core.events import Event, Sample
from katatui.core.profile import TargetConfig
from katatui.tui import start
from katatui.tui.app import KatatuiApp
from katatui.tui.choices import TargetProbe
from katatui.tui.compare import CompareScreen
from katatui.tui.sessions import SessionsScreen
from katatui.tui.start import StartScreen
from katatui.tui.summary import SummaryScreen
from tests.tui.conftest import (
    FIXTURES,
    SIZE,
    FakeSource,
    all_probed,
    caught_up,
    make_app,
    screen_up,
    text_of,
    until,
)

FACTS = {
    "os": "Debian GNU/Linux 12 (bookworm)",
    "kernel": "6.1.0",
    "nproc": 2,
    "tools": {"fio": "/usr/bin/fio"},
    "docker": {"docker_version": "20.10.24"},
}


async def fixed_probe(name: str, cfg: TargetConfig, *, docker: bool) -> TargetProbe:
    return TargetProbe(name, "local", facts=FACTS, runtimes=("io.containerd.runc.v2", "runc", "runc-alt"))


def test_start_screen(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start, "probe_target", fixed_probe)
    app = KatatuiApp(profile_path=Path("tests/tui/fixtures/three_columns.toml"))

    async def settle(pilot: Pilot[Any]) -> None:
        screen = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: all_probed(screen), "every target probed")
        await until(pilot, lambda: "runs, about" in text_of(app, "#estimate"), "the cost")
        await pilot.app.workers.wait_for_complete()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_live_screen(snap_compare: Any, three_events: list[Event]) -> None:
    samples = [i for i, e in enumerate(three_events) if isinstance(e, Sample)]
    app = make_app(FakeSource(three_events, until=samples[40] + 1))  # mid-way through the second cell

    async def settle(pilot: Pilot[Any]) -> None:
        await caught_up(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_summary_screen(snap_compare: Any, three_events: list[Event]) -> None:
    src = FakeSource(three_events)
    # relative to the repository, so the picture is the same wherever the checkout is
    src.session_path = (FIXTURES / "three_columns.katatui").relative_to(Path.cwd())
    app = make_app(src)

    async def settle(pilot: Pilot[Any]) -> None:
        await screen_up(pilot, SummaryScreen)
        await until(pilot, lambda: "session completed" in text_of(app, "#summary-head"), "the summary's head")
        await pilot.app.workers.wait_for_complete()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dates in UTC, so that the sessions' times read the same on every machine."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_sessions_screen(snap_compare: Any, utc: None) -> None:
    # relative to the repository, so the picture is the same wherever the checkout is
    screen = SessionsScreen(FIXTURES.relative_to(Path.cwd()))
    app = KatatuiApp(first=screen)

    async def settle(pilot: Pilot[Any]) -> None:
        await screen_up(pilot, SessionsScreen)
        await until(pilot, lambda: screen.loaded, "the list")
        await pilot.press("m", "down", "down", "m")  # two sessions marked to compare
        await until(pilot, lambda: len(screen.marked) == 2, "two sessions marked")

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_compare_screen(snap_compare: Any) -> None:
    base = FIXTURES.relative_to(Path.cwd())
    paths = [base / "three_columns.katatui", base / "three_columns_later.katatui"]
    screen = CompareScreen(paths)
    app = KatatuiApp(first=screen)

    async def settle(pilot: Pilot[Any]) -> None:
        await screen_up(pilot, CompareScreen)
        await until(pilot, lambda: screen.loaded, "the comparison")

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
