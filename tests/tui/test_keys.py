"""The keys a user expects: a replay offers its own keys (footer and palette), runs the user stopped
or skipped are counted as such, an incomplete recording says so, and ``katatui replay`` takes the
names ``report`` and ``compare`` take."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.widgets._footer import FooterKey

from katatui.commands.demo import demo_path
from katatui.core.events import Event, RunFailed, RunFinished
from katatui.core.session import SessionReader
from katatui.tui.app import INCOMPLETE, KatatuiApp
from katatui.tui.config import TuiConfig
from katatui.tui.live import LiveScreen
from katatui.tui.outcomes import outcomes
from katatui.tui.sources import ReplaySource
from katatui.tui.summary import SummaryScreen
from tests.test_session_files import crashed_session
from tests.tui.conftest import SIZE, FakeSource, caught_up, make_app, screen_up, text_of, until
from tests.tui.test_compare_screen import shown


def footer_keys(app: KatatuiApp) -> list[str]:
    return [k.description for k in app.screen.query(FooterKey)]


def palette(app: KatatuiApp) -> dict[str, list[str]]:
    """Title -> the help lines as the palette shows them (it reads help as markup)."""
    out: dict[str, list[str]] = {}
    for command in app.get_system_commands(app.screen):
        out.setdefault(command.title, []).append(Content.from_markup(command.help).plain)
    return out


async def test_a_replay_offers_replay_keys_and_a_live_run_its_own(three_events: list[Event]) -> None:
    source = ReplaySource(demo_path(), start=20.0, paused=True)
    app = KatatuiApp(source=source, config=TuiConfig())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.running(), "a run under way")
        await until(pilot, lambda: "End of run" in footer_keys(app), "the replay's footer")
        shown = footer_keys(app)
        assert {"End of run", "End of cell", "Back", "Forward", "Pause"} <= set(shown)
        assert not {"Stop run", "Skip cell", "Abort"} & set(shown)
        commands = palette(app)
        assert "Abort" not in commands and "Stop run" not in commands and "Skip cell" not in commands
        assert len(commands["Screenshot"]) == 1 and len(commands["Quit"]) == 1
        assert any("[replay] seek_seconds" in line for line in commands["Back"])  # kept as text
        # x in a replay goes on to where the run ended, as the footer says
        pb = source.playback
        assert pb is not None
        run = app.model.running()[0]
        await pilot.press("x")
        end = pb.timeline.end_of_run(run.spec.run_id)
        await until(pilot, lambda: pb.t == end, "the clock at the end of the run", detail=lambda: pb.t)

    live = make_app(FakeSource(three_events, until=30))
    async with live.run_test(size=SIZE) as pilot:
        await caught_up(pilot, live)
        await until(pilot, lambda: "Stop run" in footer_keys(live), "the live footer")
        shown = footer_keys(live)
        assert {"Stop run", "Skip cell", "Abort"} <= set(shown)
        assert not {"End of run", "End of cell", "Back", "Forward"} & set(shown)
        commands = palette(live)
        assert "Abort" in commands and "End of run" not in commands
        assert len(commands["Screenshot"]) == 1 and len(commands["Quit"]) == 1


def ended_by_user(events: list[Event]) -> tuple[list[Event], str, str]:
    """The recording with its first finished run stopped by the user, its second skipped."""
    finished = [e for e in events if isinstance(e, RunFinished)]
    stopped, skipped = finished[0].run_id, finished[1].run_id
    out: list[Event] = []
    for e in events:
        if isinstance(e, RunFinished) and e.run_id == stopped:
            out.append(RunFailed(stopped, "stopped by the user", e.results, e.at))
        elif isinstance(e, RunFinished) and e.run_id == skipped:
            out.append(RunFailed(skipped, "skipped by the user", {}, e.at))
        else:
            out.append(e)
    return out, stopped, skipped


async def test_stopped_and_skipped_runs_are_not_failures(three_events: list[Event]) -> None:
    events, stopped, skipped = ended_by_user(three_events)
    app = make_app(FakeSource(events))
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, SummaryScreen, "the summary at the end")
        await until(pilot, lambda: "skipped" in text_of(app, "#summary-head"), "the counts")
        head = text_of(app, "#summary-head")
        assert "1 stopped" in head and "1 skipped" in head and "failed" not in head
        counted = outcomes(app.model)
        assert (counted.failed, counted.stopped, counted.skipped) == (0, 1, 1)
        assert counted.finished == len(app.model.runs) - 2
        assert app.model.runs[stopped].reason == "stopped by the user"
        assert app.model.runs[skipped].reason == "skipped by the user"
        table = app.screen.query_one("#summary-table")
        await until(pilot, lambda: "skipped:" in shown(table), "the runs ended by the user listed",
                    detail=lambda: shown(table))  # fmt: skip
        body = shown(table)
        assert "skipped:" in body and "stopped:" in body and "failed:" not in body
        await pilot.press("escape")
        await screen_up(pilot, LiveScreen)
        progress = text_of(app, "#progress")
        assert "1 stopped" in progress and "1 skipped" in progress and "failed" not in progress
    assert app.exit_status() == 0  # the user's own choices are no failure


async def test_a_recording_cut_off_is_incomplete_not_running(tmp_path: Path) -> None:
    path = crashed_session(tmp_path)
    with SessionReader(path) as reader:
        assert reader.status.startswith("incomplete")
    source = ReplaySource(path, speed=0)
    app = KatatuiApp(source=source, config=TuiConfig())
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, SummaryScreen, "the summary at the end of the recording")
        await until(pilot, lambda: "incomplete" in text_of(app, "#summary-head"), "incomplete said")
        head = text_of(app, "#summary-head")
        assert "running" not in head and "interrupted" not in head
        assert app.model.status == INCOMPLETE


def test_replay_takes_library_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from katatui.cli import main

    sessions = tmp_path / "data" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(demo_path(), sessions / "the-demo.katatui")
    with SessionReader(sessions / "the-demo.katatui") as reader:
        session_id = reader.meta["session_id"]
    monkeypatch.setenv("KATATUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    opened: list[KatatuiApp] = []

    def run(self: KatatuiApp, *args: Any, **kw: Any) -> int:
        opened.append(self)
        return 0

    monkeypatch.setattr(KatatuiApp, "run", run)
    for name in ("the-demo", "the-demo.katatui", session_id, "the-d"):
        assert main(["replay", name]) == 0, name
        source = opened[-1].source
        assert isinstance(source, ReplaySource) and source.session_path == sessions / "the-demo.katatui", name
    assert main(["replay", "no-such-session"]) == 2
