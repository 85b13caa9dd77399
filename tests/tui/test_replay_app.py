"""Replays in the dashboard (Pilot): the shipped demo session through the same screens as a live
run, with pause, seek, step, speed and --from. Assertions are on the replay clock, never on time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from katatui.commands.demo import demo_notice, demo_path
from katatui.core.playback import Timeline
from katatui.core.report import summarize
from katatui.core.session import SessionReader
from katatui.tui.app import KatatuiApp
from katatui.tui.column import ScenarioColumn
from katatui.tui.config import TuiConfig, load_config
from katatui.tui.help import HelpScreen
from katatui.tui.live import LiveScreen
from katatui.tui.model import SessionModel
from katatui.tui.sources import ReplaySource
from katatui.tui.summary import SummaryScreen
from tests.tui.conftest import (
    SIZE,
    FakeSource,
    caught_up,
    make_app,
    quiet,
    recorded,
    screen_up,
    text_of,
    until,
)

DEMO = demo_path()


def replay_app(config: TuiConfig | None = None, **kw: Any) -> tuple[KatatuiApp, ReplaySource]:
    source = ReplaySource(DEMO, **kw)
    return KatatuiApp(source=source, config=config or TuiConfig()), source


async def summary_shown(pilot: Any, app: KatatuiApp) -> None:
    """The summary screen is up and has painted its head (so leaving now is clean)."""

    def shown() -> bool:
        screen = app.screen
        if not isinstance(screen, SummaryScreen) or not screen.is_mounted:
            return False
        heads = screen.query("#summary-head")
        return bool(heads) and "session" in str(heads.first().render())

    await until(pilot, shown, "the summary")


def state(model: SessionModel) -> dict[str, Any]:
    """Everything a screen can show from the model (not its version counters)."""
    return {
        "status": model.status,
        "scenarios": list(model.scenarios),
        "cells": list(model.cells),
        "runs": {
            r: (
                s.status,
                s.reason,
                dict(s.results),
                s.duration,
                s.last_t,
                {k: list(v) for k, v in s.series.items()},
            )
            for r, s in model.runs.items()
        },
        "latency": {k: {n: dict(b) for n, b in v.bins.items()} for k, v in model.latency.items()},
        "log": [(line.level, line.text) for line in model.log],
        "hosts": dict(model.hosts),
        "elapsed": model.elapsed(),
    }


def columns(app: KatatuiApp) -> dict[str, Any]:
    screen = app.screen
    assert isinstance(screen, LiveScreen), screen
    return {c.scenario: c.view for c in screen.query(ScenarioColumn)}


async def test_a_replay_fills_the_live_screen_then_the_summary_like_a_live_run() -> None:
    app, source = replay_app(start=3.0, paused=True)  # the first run, two samples in
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.runs, "loaded")
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(
            pilot,
            lambda: any(v is not None and v.state == "running" and v.rows for v in columns(app).values()),
            "a running column with sparklines",
        )
        assert list(columns(app)) == ["bare", "runc", "crun", "runsc"]
        for _ in range(6):  # ×1 → ×64
            await pilot.press("plus")
        await pilot.press("p")

        def replay_line() -> str:
            return str(screen.query_one("#replay").render())

        await until(pilot, lambda: "×64" in replay_line(), "the speed on the replay line", detail=replay_line)
        assert "replay" in replay_line() and "/ 3:2" in replay_line()
        await summary_shown(pilot, app)
        # The demo holds one real failure: iperf3 under gVisor (a limit of gVisor, named as such).
        assert app.model.status == "failed" and app.status == "failed"
        assert source.playback is not None and source.playback.ended
        # the summary holds the same medians as the headless report of the same file
        reader = SessionReader(DEMO)
        expected = {
            (r.cell, r.metric): {s: st.median for s, st in r.by_scenario.items()}
            for r in summarize(reader).rows
        }
        reader.close()
        shown = {
            (r.cell, r.metric): {s: st.median for s, st in r.by_scenario.items()}
            for r in app.model.summary().rows
        }
        assert shown == expected and len(shown) > 10
        await until(
            pilot,
            lambda: "session failed" in str(app.screen.query_one("#summary-head").render()),
            "the summary's head",
        )
        await pilot.press("q")  # nothing to abort in a replay: quits at once
        await until(pilot, lambda: app.return_value is not None, "the app exiting")
    assert app.return_value == 0


async def test_replay_reaches_the_same_model_as_the_recorded_events_fed_directly() -> None:
    """The same event path as a live run: the model after a replay equals one fed the events."""
    app, _ = replay_app(speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await summary_shown(pilot, app)
        replayed = state(app.model)
    fed = make_app(FakeSource(recorded(DEMO)))
    async with fed.run_test(size=SIZE) as pilot:
        await summary_shown(pilot, fed)
        direct = state(fed.model)
    assert replayed == direct


async def test_pause_stops_the_replay_clock_and_the_data() -> None:
    app, source = replay_app(speed=8.0, start=20.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and source.playback.t > 21, "playing")
        await pilot.press("p")
        pb = source.playback
        assert pb is not None
        # paused, and every event it sent before applied (none is on its way to the model)
        await until(pilot, lambda: pb.paused and not app._pending, "the replay paused")
        t, sent, version = pb.t, pb.sent, app.model.version
        await until(pilot, lambda: "PAUSED" in text_of(app, "#replay"), "PAUSED on the replay line")
        await quiet(pilot)
        assert (pb.t, pb.sent, app.model.version) == (t, sent, version)
        await pilot.press("p")
        await until(pilot, lambda: pb.sent > sent and app.model.version > version, "playing again")
        assert not pb.paused


@pytest.mark.parametrize("every", [None, 10], ids=["from-the-start", "from-a-copy"])
async def test_seek_back_rebuilds_the_state_of_a_fresh_replay_up_to_there(every: int | None) -> None:
    """None: the demo is shorter than one checkpoint interval, so going back starts from scratch;
    10: a copy of the model every 10 events, and going back starts from the last one before 0:50."""
    app, source = replay_app(start=60.0, paused=True, checkpoint_every=every)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.runs, "loaded at 1:00")
        await caught_up(pilot, app)
        ahead = state(app.model)
        await pilot.press("b")  # back 10 s
        pb = source.playback
        assert pb is not None
        await until(pilot, lambda: pb.t == 50.0, "the replay clock at 0:50", detail=lambda: pb.t)
        assert pb.paused
        await caught_up(pilot, app)
        rebuilt, rebuilt_columns = state(app.model), columns(app)
        log_lines = len(app.screen.query_one("#log").lines)  # type: ignore[attr-defined]
        copies = len(app._checkpoints)
    assert rebuilt != ahead
    assert copies == (0 if every is None else pb.timeline.count_until(60.0) // 10)
    fresh, fresh_source = replay_app(start=50.0, paused=True)
    async with fresh.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: fresh_source.playback is not None and fresh.model.runs, "loaded at 0:50")
        await caught_up(pilot, fresh)
        assert state(fresh.model) == rebuilt
        assert columns(fresh) == rebuilt_columns
        assert len(fresh.screen.query_one("#log").lines) == log_lines  # type: ignore[attr-defined]


async def test_from_skips_ahead_and_forward_seeks_on() -> None:
    tl = ReplaySource(DEMO).load()
    app, source = replay_app(start=45.0, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.runs, "loaded")
        pb = source.playback
        assert pb is not None and pb.t == 45.0 and pb.sent == tl.count_until(45.0)
        ended = sum(
            1
            for e, t in zip(tl.events, tl.offsets, strict=True)
            if t <= 45.0 and type(e).__name__ == "RunFinished"
        )
        assert 0 < ended == app.model.done_count()
        await pilot.press("f")
        await until(pilot, lambda: pb.t == 55.0, "the replay clock at 0:55", detail=lambda: pb.t)
        assert pb.sent == tl.count_until(55.0)
        await caught_up(pilot, app)
        assert app.model.done_count() >= ended


async def test_step_and_speed_keys_move_the_replay_clock() -> None:
    app, source = replay_app(start=30.0, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.runs, "loaded")
        pb = source.playback
        assert pb is not None
        tl: Timeline = pb.timeline
        await pilot.press("full_stop")
        step = max(31.0, tl.offsets[tl.count_until(30.0)])
        await until(pilot, lambda: pb.t == step, "one step of the replay clock", detail=lambda: pb.t)
        assert pb.paused and pb.sent == tl.count_until(pb.t)

        async def press_for(key: str, speed: float) -> None:
            await pilot.press(key)
            await until(pilot, lambda: pb.speed == speed, f"{key}: ×{speed:g}", detail=lambda: pb.speed)

        for key, speed in (("plus", 2.0), ("plus", 4.0), ("equals_sign", 8.0), ("minus", 4.0)):
            await press_for(key, speed)
        await until(pilot, lambda: "×4 " in text_of(app, "#replay"), "×4 on the replay line")


async def test_stop_run_and_skip_cell_jump_to_where_they_ended() -> None:
    app, source = replay_app(start=20.0, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.running(), "a run under way")
        pb = source.playback
        assert pb is not None
        run = app.model.running()[0]
        await pilot.press("x")
        end = pb.timeline.end_of_run(run.spec.run_id)
        await until(pilot, lambda: pb.t == end, "the clock at the end of the run", detail=lambda: pb.t)
        await caught_up(pilot, app)
        assert app.model.runs[run.spec.run_id].status == "finished"
        cell = app.model.live_cell()
        assert cell is not None
        await pilot.press("n")
        end = pb.timeline.end_of_cell(cell)
        await until(pilot, lambda: pb.t == end, "the clock at the end of the cell", detail=lambda: pb.t)


async def test_seeking_back_after_the_end_plays_on_from_there() -> None:
    app, source = replay_app(speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await summary_shown(pilot, app)
        await pilot.press("escape")
        await caught_up(pilot, app)
        assert app.model.status == "failed"  # the demo's iperf3 under gVisor
        pb = source.playback
        assert pb is not None
        await pilot.press("p")  # pause first, so the clock stays where the seek put it
        await until(pilot, lambda: pb.paused, "the replay paused")
        await pilot.press("b")
        await until(
            pilot, lambda: pb.t == pb.total - 10.0, "the clock 10 s before the end", detail=lambda: pb.t
        )
        assert not pb.ended
        await until(pilot, lambda: app.session_running, "the replay going on")
        await caught_up(pilot, app)
        assert app.model.status is None  # the summary waits for the end again
        await pilot.press("p")
        await summary_shown(pilot, app)
        assert app.model.status == "failed"


async def test_replay_keys_are_remappable_listed_in_help_and_hidden_in_a_live_run() -> None:
    app, source = replay_app(
        start=30.0, paused=True, config=TuiConfig(keymap={"replay_back": "k"}, seek_seconds=5)
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.playback is not None and app.model.runs, "loaded")
        pb = source.playback
        assert pb is not None
        await pilot.press("k")
        await until(pilot, lambda: pb.t == 25.0, "k going back 5 s", detail=lambda: pb.t)
        await until(pilot, lambda: "k/f ±5 s" in text_of(app, "#replay"), "the keys on the replay line")
        await pilot.press("question_mark")
        help_screen = await screen_up(pilot, HelpScreen)
        ids = {row[3]: row for row in help_screen.rows}
        assert ids["replay_back"][0] == "k" and ids["replay_step"][0] == "."
        assert ids["replay_faster"][0] == "+, ="
    live = make_app(FakeSource(recorded(DEMO), until=30))
    async with live.run_test(size=SIZE) as pilot:
        screen = await caught_up(pilot, live)
        assert screen.check_action("replay_back", ()) is False and screen.check_action("abort", ()) is True
        assert not screen.query_one("#replay").display
        version = live.model.version
        await pilot.press("b")  # no effect in a live run
        await quiet(pilot)
        assert live.screen is screen and live.model.version == version and live.source is not None


async def test_the_demo_says_what_it_is_on_the_live_screen() -> None:
    notice = demo_notice("No Docker on this machine (no /var/run/docker.sock, DOCKER_HOST not set)")
    app = KatatuiApp(source=ReplaySource(DEMO, paused=True), config=TuiConfig(), notice=notice)
    async with app.run_test(size=SIZE) as pilot:

        def painted() -> str:
            return str(app.screen.query_one("#replay").render()) if isinstance(app.screen, LiveScreen) else ""

        await until(pilot, lambda: "replay 0:00 / 3:2" in painted(), "the replay line is painted")
        line = str(app.screen.query_one("#replay").render())
        assert "No Docker on this machine" in line and "Demo: a session recorded on" in line
        assert "PAUSED" in line and "replay 0:00 / 3:2" in line


def test_seek_seconds_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\nreplay_back = "k"\n[replay]\nseek_seconds = 30\n')
    cfg = load_config(path)
    assert cfg.seek_seconds == 30.0 and cfg.keymap == {"replay_back": "k"} and not cfg.problems
    path.write_text('[replay]\nseek_seconds = "ten"\n')
    cfg = load_config(path)
    assert cfg.seek_seconds == 10.0
    assert cfg.problems == (f"{path}: replay.seek_seconds: expected a number of seconds above 0, such as 10",)
