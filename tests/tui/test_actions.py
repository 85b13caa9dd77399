"""Every key action, on a live screen fed by recorded events through a fake engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.events import Event, RunStarted, Sample
from katatui.tui.app import KatatuiApp
from katatui.tui.config import TuiConfig, load_config
from katatui.tui.dialogs import ConfirmAbort, ScreenshotPath, TooSmall
from katatui.tui.help import HelpScreen
from katatui.tui.keys import ACTIONS
from katatui.tui.live import LiveScreen
from katatui.tui.summary import SummaryScreen
from tests.tui.conftest import SIZE, FakeSource, make_app


def into_second_cell(events: list[Event]) -> int:
    """Just after the second cell's first two samples."""
    cells: list[str] = []
    specs = {r.run_id: r.cell for e in events if hasattr(e, "runs") for r in e.runs}  # type: ignore[attr-defined]
    for i, e in enumerate(events):
        if isinstance(e, RunStarted) and specs[e.run_id] not in cells:
            cells.append(specs[e.run_id])
        if len(cells) == 2 and isinstance(e, Sample):
            return i + 2
    raise AssertionError("no second cell")


def live(app: KatatuiApp) -> LiveScreen:
    assert isinstance(app.screen, LiveScreen), app.screen
    return app.screen


async def test_pause_freezes_the_display_not_the_data(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=12)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.4)
        await pilot.press("p")
        screen = live(app)
        assert screen.paused and "PAUSED" in str(screen.query_one("#progress").render())
        before = app.model.version
        painted = [c.view for c in screen._columns.values()]
        src.step(6)
        await pilot.pause(0.6)
        assert app.model.version > before  # events still arrive
        assert [c.view for c in screen._columns.values()] == painted  # but nothing repaints
        await pilot.press("p")
        await pilot.pause(0.4)
        assert not screen.paused
        assert [c.view for c in screen._columns.values()] != painted


async def test_stop_run_skip_cell_and_switching_cells(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=into_second_cell(three_events))
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        screen = live(app)
        (running,) = app.model.running()
        await pilot.press("x")
        await pilot.press("n")
        await pilot.pause(0.3)
        assert src.stopped == [running.spec.run_id]
        assert src.skipped == [running.spec.cell]
        first, second = app.model.cells
        assert screen.shown_cell() == second
        await pilot.press("left_square_bracket")
        await pilot.pause(0.2)
        assert screen.pinned == first and "viewing a finished cell" in str(
            screen.query_one("#progress").render()
        )
        await pilot.press("right_square_bracket")
        assert screen.pinned is None
        await pilot.press("left_square_bracket", "l")
        assert screen.pinned is None and screen.shown_cell() == second
        log = "\n".join(str(line.text) for line in screen.query_one("#log").lines)
        assert "fake: stop" in log and "fake: skip" in log


async def test_summary_then_back(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=len(three_events) // 2)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("t")
        await pilot.pause(0.2)
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_abort_asks_then_cleans_up_and_exits_130(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=30)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmAbort)
        await pilot.press("n")
        assert not src.aborted
        await pilot.press("a", "y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert src.aborted and app.model.status == "interrupted"
        assert app.exit_status() == 130


async def test_quit_while_running_aborts_first(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=30)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("q", "y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
    assert src.aborted
    assert app.return_value == 130


async def test_screenshots(
    three_events: list[Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(FakeSource(three_events, until=20))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("s")
        await pilot.pause(0.2)
        (saved,) = (tmp_path / "screenshots").glob("katatui-live-*.svg")
        assert "<svg" in saved.read_text()
        await pilot.press("S")
        assert isinstance(app.screen, ScreenshotPath)
        field = app.screen.query_one("#screenshot-path")
        field.value = str(tmp_path / "chosen" / "mine.svg")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert (tmp_path / "chosen" / "mine.svg").is_file()


async def test_help_lists_every_action_with_its_key(three_events: list[Event]) -> None:
    app = make_app(FakeSource(three_events, until=5), TuiConfig(keymap={"pause": "z"}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        rows = {row[3]: row for row in app.screen.rows}
        assert set(rows) == {a.id for a in ACTIONS}
        assert rows["pause"][0] == "z" and rows["prev_cell"][0] == "["
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_keys_are_remapped_from_the_config_file(
    three_events: list[Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[keys]\npause = "z"\nnot_an_action = "k"\n')
    monkeypatch.setenv("KATATUI_CONFIG", str(cfg))
    config = load_config()
    assert config.keymap == {"pause": "z"}
    assert "not_an_action" in config.problems[0]
    app = make_app(FakeSource(three_events, until=5), config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press("p")
        assert not live(app).paused
        await pilot.press("z")
        assert live(app).paused
        log = "\n".join(str(line.text) for line in live(app).query_one("#log").lines)
        assert "not_an_action" in log  # a typo in the config is reported, not fatal


async def test_every_action_is_in_the_command_palette(three_events: list[Event]) -> None:
    app = make_app(FakeSource(three_events, until=5))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {a.description for a in ACTIONS if a.scope in ("app", "live")} <= titles


async def test_a_small_terminal_says_how_big_it_must_be(three_events: list[Event]) -> None:
    app = make_app(FakeSource(three_events, until=5))
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause(0.2)
        assert isinstance(app.screen, TooSmall)
        assert "100×30" in str(app.screen.query_one("#too-small").render())
        assert "80×20" in str(app.screen.query_one("#too-small").render())
        await pilot.resize_terminal(*SIZE)
        await pilot.pause(0.3)
        assert isinstance(app.screen, LiveScreen)
