"""The dashboard at every size from 80×24 up, and every workload's panels, on real recorded sessions.

The shipped demo (katatui/data/demo.katatui) is a real recording of bare, runc, crun and gVisor
(runsc) running fio, iperf3, nginx under ab, sysbench, launch, footprint and boot: each test drives
the app through it at 80×24, 120×40 and 200×60 and reads what the screen shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot

from katatui.core.events import Event
from katatui.tui import start
from katatui.tui.app import KatatuiApp
from katatui.tui.column import ScenarioColumn, versus_lines
from katatui.tui.dialogs import TooSmall
from katatui.tui.live import LiveScreen
from katatui.tui.percentiles import PercentileTable
from katatui.tui.sessions import SessionsScreen
from katatui.tui.start import StartScreen
from katatui.tui.summary import SummaryScreen
from tests.tui.conftest import FakeSource, all_probed, caught_up, make_app, recorded, screen_up, until
from tests.tui.test_snapshots import fixed_probe

DEMO = Path(__file__).resolve().parents[2] / "katatui" / "data" / "demo.katatui"
SIZES = [(80, 24), (120, 40), (200, 60)]


@pytest.fixture(scope="module")
def demo_events() -> list[Event]:
    return recorded(DEMO)


def screen_text(app: KatatuiApp) -> str:
    """Every line the terminal shows, as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def show_cell(pilot: Pilot[Any], screen: LiveScreen, kind: str) -> str:
    """Pin the live screen on the first cell of workload ``kind``; return its key."""
    cell = next(c for c in screen.model.cells if screen.model.cell_of[c].kind == kind)
    screen.pinned = cell
    screen.repaint(force=True)
    await pilot.pause()
    return cell


async def finished_demo(pilot: Pilot[Any], app: KatatuiApp) -> LiveScreen:
    await screen_up(pilot, SummaryScreen, "the summary at the end")
    await pilot.press("escape")
    return await caught_up(pilot, app)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_live_shows_every_ratio_whole(size: tuple[int, int], demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events))
    async with app.run_test(size=size) as pilot:
        screen = await finished_demo(pilot, app)
        assert not isinstance(app.screen, TooSmall)
        for kind in ("fio", "iperf3", "ab", "sysbench"):
            await show_cell(pilot, screen, kind)
            text = screen_text(app)
            cols = {c.scenario: c.view for c in screen.query(ScenarioColumn)}
            assert set(cols) == {"bare", "runc", "crun", "runsc"}
            for scenario, view in cols.items():
                assert view is not None and view.rows, f"{kind}: {scenario} has no row"
                first = view.rows[0]
                assert first.versus, f"{kind}: {scenario} has no ratio"
                assert all(part in text for part in versus_lines(first.versus, True)), (
                    f"{kind}: {scenario}'s {first.versus!r} is not whole on screen"
                )
                if scenario != "bare":
                    assert first.versus.startswith("×")
            # the column names the sandbox
            assert "runsc · gVisor" in text
            # the status line breaks between phrases, never inside one
            progress = str(screen.query_one("#progress").render())
            assert "elapsed" in progress and "remaining" in progress
            for line in progress.splitlines():
                assert not line.endswith(("elap", "remain", "sessio")), progress


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_summary_keeps_every_ratio_whole(size: tuple[int, int], demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events))
    async with app.run_test(size=size) as pilot:
        summary = await screen_up(pilot, SummaryScreen, "the summary at the end")
        assert not isinstance(app.screen, TooSmall)
        body = summary.query_one("#summary-table")
        await until(pilot, lambda: body.content_size.width > 0, "the summary laid out")
        console = Console(width=body.content_size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(body.content)
        text = console.export_text()
        model = summary.model
        s = model.summary()
        for row in s.rows[:6]:
            for scenario in ("runc", "crun", "runsc"):
                v = s.versus(row, scenario)
                if v is not None:
                    assert f"×{v.ratio:.2f}" in text, f"{row.metric} {scenario}: ×{v.ratio:.2f} cut"


async def test_the_summary_tables_right_border_stays_left_of_the_scrollbar(demo_events: list[Event]) -> None:
    """At 80 columns the summary scrolls: its scrollbar takes the last column, and every table line
    ends with its border in the 79 before it (the value columns never wrap, the cell and metric
    columns give way)."""
    app = make_app(FakeSource(demo_events))
    async with app.run_test(size=(80, 24)) as pilot:
        summary = await screen_up(pilot, SummaryScreen, "the summary at the end")
        body = summary.query_one("#summary-body")
        await until(pilot, lambda: body.show_vertical_scrollbar and "┏" in screen_text(app), "the table")
        lines = [
            line[:79].rstrip() for line in screen_text(app).splitlines() if line.startswith(("┏", "┃", "│"))
        ]
        assert lines
        for line in lines:
            assert line.endswith(("┓", "┃", "│", "┤", "┩", "┛", "┘")), f"the border is cut: {line!r}"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_start_screen_fits(size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start, "probe_target", fixed_probe)
    app = KatatuiApp(profile_path=DEMO.with_suffix(".toml"))
    async with app.run_test(size=size) as pilot:
        screen = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: all_probed(screen), "every target probed")
        await pilot.pause()
        assert not isinstance(app.screen, TooSmall)
        text = screen_text(app)
        assert "Targets" in text and "Scenarios" in text and "Start" in text


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_sessions_screen_fits(
    size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATATUI_DATA_DIR", str(tmp_path))
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "demo.katatui").write_bytes(DEMO.read_bytes())
    app = KatatuiApp(first=SessionsScreen())
    async with app.run_test(size=size) as pilot:
        await screen_up(pilot, SessionsScreen)
        await until(pilot, lambda: "1 of 1 sessions" in screen_text(app), "the session listed")
        assert not isinstance(app.screen, TooSmall)
        assert "demo" in screen_text(app)


async def test_below_the_minimum_a_message_not_a_blank(demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events, until=50))
    async with app.run_test(size=(59, 20)) as pilot:
        await screen_up(pilot, TooSmall)
        await until(pilot, lambda: "at least 60×20" in screen_text(app), "the notice on screen")
        await pilot.resize_terminal(60, 20)
        await screen_up(pilot, LiveScreen, "the live screen at 60×20")


@pytest.mark.parametrize("kind", ["fio", "ab", "iperf3", "sysbench", "launch"])
async def test_every_workload_fills_its_panels(kind: str, demo_events: list[Event]) -> None:
    """After the run, the latency panel has figures (fio: its histograms; ab and sysbench: the
    percentiles they reported) or says there are none; the rate rows have values and charts."""
    app = make_app(FakeSource(demo_events))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await finished_demo(pilot, app)
        await show_cell(pilot, screen, kind)
        table = screen.query_one(PercentileTable)
        await until(pilot, lambda: table.row_count > 0, "the latency panel")
        first = "".join(str(table.get_row_at(0)))
        if kind == "fio":
            assert table.row_count >= 5 and "µs" in str(table.get_cell("read_clat_ns|p50", "bare"))
        elif kind == "ab":
            assert {"latency|p50", "latency|p99", "latency|max"} <= {str(k.value) for k in table.rows}
            assert "×" in str(table.get_cell("latency|p99", "runsc"))
        elif kind == "sysbench":
            assert "latency|p95" in {str(k.value) for k in table.rows}
        else:
            assert "no latency histogram for this workload" in first
        assert "waiting for the first histogram" not in first
        cols = {c.scenario: c.view for c in screen.query(ScenarioColumn)}
        for scenario, view in cols.items():
            assert view is not None and view.rows, f"{kind}: {scenario} shows nothing"
            row = view.rows[0]
            assert row.live is not None, f"{kind}: {scenario} has no value"
            if kind != "launch":
                assert row.points and not row.bar  # a chart of the whole cell
            else:
                assert row.bar


async def test_ratios_are_to_the_profiles_baseline(demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events))
    app.model.baseline = "runc"
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await finished_demo(pilot, app)
        screen.model.baseline = "runc"
        await show_cell(pilot, screen, "fio")
        cols = {c.scenario: c.view for c in screen.query(ScenarioColumn)}
        assert cols["runc"] is not None and cols["runc"].rows[0].versus.startswith("baseline")
        assert cols["bare"] is not None and cols["bare"].rows[0].versus.startswith("×")
        table = screen.query_one(PercentileTable)
        assert [str(c.key.value) for c in table.ordered_columns][1] == "runc"


async def test_a_running_run_ticks_before_its_first_sample(demo_events: list[Event]) -> None:
    """No sample yet: the column says so (not 0) and its seconds still move."""
    from katatui.core.events import RunStarted

    first = next(i for i, e in enumerate(demo_events) if isinstance(e, RunStarted))
    app = make_app(FakeSource(demo_events, until=first + 1))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await caught_up(pilot, app)
        screen.repaint(force=True)
        await pilot.pause()
        text = screen_text(app)
        assert "● running" in text
        col = next(c for c in screen.query(ScenarioColumn) if c.view and c.view.state == "running")
        assert col.view is not None and col.view.rows and all(r.live is None for r in col.view.rows)
        assert "no sample yet" in text
        before = col.view.status
        await until(pilot, lambda: col.view is not None and col.view.status != before, "the seconds moving")


async def test_a_replay_takes_ratios_to_the_recorded_baseline(tmp_path: Path) -> None:
    """A session whose profile names ``baseline = "runc"``: the replay's columns and percentiles
    take their ratios to runc, not to the first column."""
    import json
    import sqlite3

    from katatui.tui.sources import ReplaySource

    copy = tmp_path / "baseline.katatui"
    copy.write_bytes(DEMO.read_bytes())
    with sqlite3.connect(copy) as db:
        (text,) = db.execute("SELECT value FROM meta WHERE key = 'profile_json'").fetchone()
        doc = json.loads(text)
        doc["baseline"] = "runc"
        db.execute("UPDATE meta SET value = ? WHERE key = 'profile_json'", (json.dumps(doc),))
    source = ReplaySource(copy, speed=0)
    assert source.baseline == "runc"
    assert ReplaySource(DEMO).baseline is None
    app = KatatuiApp(source=source)
    async with app.run_test(size=(160, 48)) as pilot:
        await screen_up(pilot, SummaryScreen, "the summary at the end of the replay")
        await pilot.press("escape")
        screen = await screen_up(pilot, LiveScreen)
        await show_cell(pilot, screen, "fio")
        cols = {c.scenario: c.view for c in screen.query(ScenarioColumn)}
        assert cols["runc"] is not None and cols["runc"].rows[0].versus.startswith("baseline")
        assert cols["bare"] is not None and cols["bare"].rows[0].versus.startswith("×")


def test_the_status_line_breaks_between_phrases() -> None:
    from katatui.tui.live import flow

    label = "fio randread bs=4k iodepth=4 numjobs=1 clients=1"
    phrases = ["demo", "cell 1/8", label, "repeat 2/2", "run 6/60", "sequential pairing", "elapsed 0:26"]
    for width in range(20, 140):
        text = flow([(p, "") for p in phrases], width, 2, cuttable=2).plain
        lines = text.split("\n")
        assert len(lines) <= 2
        for line in lines:
            assert len(line) <= width
            for shown in line.split("  "):
                whole = shown in phrases
                cut = shown.endswith("…") and label.startswith(shown[:-1])
                assert whole or cut, f"{width}: {shown!r} is not a whole phrase"
        if width >= 80:  # the run's counts stay on screen at 80 columns
            assert "run 6/60" in text and "elapsed 0:26" in text


async def test_a_bare_column_says_it_has_no_sandbox(demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await finished_demo(pilot, app)
        await show_cell(pilot, screen, "fio")
        cols = {c.scenario: c.view for c in screen.query(ScenarioColumn)}
        sandbox = {s: [r for r in v.rows if r.metric.startswith("sandbox_")] for s, v in cols.items() if v}
        assert sandbox["bare"] and all(r.absent == "no sandbox" for r in sandbox["bare"])
        assert sandbox["runsc"] and not any(r.absent for r in sandbox["runsc"])
        assert "no sandbox" in screen_text(app)
