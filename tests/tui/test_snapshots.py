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
from tests.tui.conftest import FIXTURES, SIZE, FakeSource, make_app

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
        await pilot.pause(0.3)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_live_screen(snap_compare: Any, three_events: list[Event]) -> None:
    samples = [i for i, e in enumerate(three_events) if isinstance(e, Sample)]
    app = make_app(FakeSource(three_events, until=samples[40] + 1))  # mid-way through the second cell

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.pause(0.8)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_summary_screen(snap_compare: Any, three_events: list[Event]) -> None:
    src = FakeSource(three_events)
    # relative to the repository, so the picture is the same wherever the checkout is
    src.session_path = (FIXTURES / "three_columns.katatui").relative_to(Path.cwd())
    app = make_app(src)

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.5)

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
    app = KatatuiApp(first=SessionsScreen(FIXTURES.relative_to(Path.cwd())))

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)
        await pilot.press("m", "down", "down", "m")  # two sessions marked to compare

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_compare_screen(snap_compare: Any) -> None:
    base = FIXTURES.relative_to(Path.cwd())
    paths = [base / "three_columns.katatui", base / "three_columns_later.katatui"]
    app = KatatuiApp(first=CompareScreen(paths))

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
