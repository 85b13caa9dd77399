"""Every key action, on a live screen fed by recorded events through a fake engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.events import Event, RunStarted, Sample
from katatui.tui.config import TuiConfig, load_config
from katatui.tui.dialogs import ConfirmAbort, ScreenshotPath, TooSmall
from katatui.tui.help import HelpScreen
from katatui.tui.keys import ACTIONS
from katatui.tui.live import LiveScreen
from katatui.tui.summary import SummaryScreen
from tests.tui.conftest import SIZE, FakeSource, caught_up, make_app, quiet, screen_up, text_of, until


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


async def test_pause_freezes_the_display_not_the_data(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=12)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        screen = await caught_up(pilot, app)
        await pilot.press("p")
        await until(
            pilot, lambda: screen.paused and "PAUSED" in text_of(app, "#progress"), "the display paused"
        )
        before = app.model.version
        painted = [c.view for c in screen._columns.values()]
        src.step(6)
        await until(
            pilot, lambda: src.sent == 18 and not app._pending, "six more events applied"
        )  # events still arrive
        assert app.model.version > before
        await quiet(pilot)  # the repaint timer's turns
        assert [c.view for c in screen._columns.values()] == painted  # but nothing repaints
        await pilot.press("p")
        await until(pilot, lambda: not screen.paused, "the display resumed")
        await until(
            pilot, lambda: [c.view for c in screen._columns.values()] != painted, "the new events painted"
        )


async def test_stop_run_skip_cell_and_switching_cells(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=into_second_cell(three_events))
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        screen = await caught_up(pilot, app)
        (running,) = app.model.running()
        await pilot.press("x")
        await pilot.press("n")
        await until(pilot, lambda: src.stopped and src.skipped, "the stop and the skip sent to the engine")
        assert src.stopped == [running.spec.run_id]
        assert src.skipped == [running.spec.cell]
        first, second = app.model.cells
        assert screen.shown_cell() == second
        await pilot.press("left_square_bracket")
        await until(
            pilot,
            lambda: screen.pinned == first and "viewing a finished cell" in text_of(app, "#progress"),
            "the first cell shown",
        )
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: screen.pinned is None, "the live cell followed again")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: screen.pinned == first, "the first cell shown again")
        await pilot.press("l")
        await until(pilot, lambda: screen.pinned is None, "l follows the live cell")
        assert screen.shown_cell() == second

        def log() -> str:
            return "\n".join(str(line.text) for line in screen.query_one("#log").lines)  # type: ignore[attr-defined]

        await until(
            pilot, lambda: "fake: stop" in log() and "fake: skip" in log(), "the log lines", detail=log
        )


async def test_summary_then_back(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=len(three_events) // 2)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await caught_up(pilot, app)
        await pilot.press("t")
        await screen_up(pilot, SummaryScreen)
        await pilot.press("escape")
        await screen_up(pilot, LiveScreen, "back on the live screen")


async def test_abort_asks_then_cleans_up_and_exits_130(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=30)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await caught_up(pilot, app)
        await pilot.press("a")
        await screen_up(pilot, ConfirmAbort, "the question")
        await pilot.press("n")
        await screen_up(pilot, LiveScreen, "the question answered")
        assert not src.aborted
        await pilot.press("a")
        await screen_up(pilot, ConfirmAbort, "the question again")
        await pilot.press("y")
        await until(
            pilot,
            lambda: app.status is not None and app.model.status is not None,
            "the session over",
            detail=lambda: (src.aborted, app.status, app.model.status),
        )
        assert src.aborted and app.status == app.model.status == "interrupted"
        assert app.exit_status() == 130


async def test_quit_while_running_aborts_first(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=30)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await caught_up(pilot, app)
        await pilot.press("q")
        await screen_up(pilot, ConfirmAbort, "the question")
        await pilot.press("y")
        await until(pilot, lambda: app.return_value is not None, "the app exiting")
    assert src.aborted
    assert app.return_value == 130


async def test_screenshots(
    three_events: list[Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(FakeSource(three_events, until=20))
    async with app.run_test(size=SIZE) as pilot:
        await caught_up(pilot, app)
        await pilot.press("s")
        await until(
            pilot, lambda: list((tmp_path / "screenshots").glob("katatui-live-*.svg")), "the screenshot"
        )
        (saved,) = (tmp_path / "screenshots").glob("katatui-live-*.svg")
        assert "<svg" in saved.read_text()
        await pilot.press("S")
        dialog = await screen_up(pilot, ScreenshotPath)
        field = dialog.query_one("#screenshot-path")
        field.value = str(tmp_path / "chosen" / "mine.svg")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: (tmp_path / "chosen" / "mine.svg").is_file(), "the screenshot where asked")


async def test_help_lists_every_action_with_its_key(three_events: list[Event]) -> None:
    app = make_app(FakeSource(three_events, until=5), TuiConfig(keymap={"pause": "z"}))
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, LiveScreen)
        await pilot.press("question_mark")
        help_screen = await screen_up(pilot, HelpScreen)
        rows = {row[3]: row for row in help_screen.rows}
        assert set(rows) == {a.id for a in ACTIONS}
        assert rows["pause"][0] == "z" and rows["prev_cell"][0] == "["
        await pilot.press("escape")
        await screen_up(pilot, LiveScreen, "back on the live screen")


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
        screen = await caught_up(pilot, app)
        log = "\n".join(str(line.text) for line in screen.query_one("#log").lines)  # type: ignore[attr-defined]
        assert "not_an_action" in log  # a typo in the config is reported, not fatal
        await pilot.press("p")
        await quiet(pilot)  # no longer the pause key: nothing to wait for
        assert not screen.paused
        await pilot.press("z")
        await until(pilot, lambda: screen.paused, "z pausing the display")


async def test_every_action_is_in_the_command_palette(three_events: list[Event]) -> None:
    app = make_app(FakeSource(three_events, until=5))
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_up(pilot, LiveScreen)
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {a.description for a in ACTIONS if a.scope in ("app", "live")} <= titles


async def test_a_small_terminal_says_how_big_it_must_be(three_events: list[Event]) -> None:
    app = make_app(FakeSource(three_events, until=5))
    async with app.run_test(size=(59, 19)) as pilot:
        await screen_up(pilot, TooSmall)
        await until(pilot, lambda: "60×20" in text_of(app, "#too-small"), "the notice")
        assert "59×19" in text_of(app, "#too-small")
        await pilot.resize_terminal(*SIZE)
        await screen_up(pilot, LiveScreen, "the live screen once the terminal is big enough")
