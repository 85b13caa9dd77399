"""The replay clock on a real recorded session: advance, idle gaps, seek, step, speed, --from times."""

from __future__ import annotations

import pytest

from katatui.commands.demo import demo_path
from katatui.core import replay
from katatui.core.errors import UserError
from katatui.core.events import Event, LogMessage, RunFinished, Sample, SessionFinished, SessionStarted
from katatui.core.playback import SPEEDS, Playback, Timeline, parse_time
from katatui.core.session import SessionReader


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    reader = SessionReader(demo_path())
    try:
        return Timeline.of(list(replay.events(reader)))
    finally:
        reader.close()


def test_the_timeline_is_the_recorded_session(timeline: Timeline) -> None:
    assert sum(isinstance(e, SessionStarted) for e in timeline.events) == 1  # after the host facts
    assert isinstance(timeline.events[-1], SessionFinished)
    assert timeline.final_status() == "failed"  # one real failure: iperf3 under gVisor
    assert list(timeline.offsets) == sorted(timeline.offsets) and timeline.offsets[0] == 0.0
    first = timeline.events[0].at
    assert timeline.total == pytest.approx(timeline.events[-1].at - first)
    assert 60 < timeline.total < 600  # 60 runs of a few seconds each
    assert len(timeline.cells) == 60


def test_advance_moves_by_wall_time_times_speed(timeline: Timeline) -> None:
    pb = Playback(timeline, speed=4.0)
    pb.advance(0.0)
    t0 = pb.t
    moved = pb.advance(2.5)
    assert pb.t == pytest.approx(t0 + 10.0)
    assert pb.sent == timeline.count_until(pb.t)
    assert list(moved.events) == list(timeline.events[: pb.sent]) and not moved.rewind


def test_paused_clock_does_not_move(timeline: Timeline) -> None:
    pb = Playback(timeline)
    pb.advance(3.0)
    pb.paused = True
    t, sent = pb.t, pb.sent
    assert pb.advance(100.0).events == ()
    assert (pb.t, pb.sent) == (t, sent)
    assert pb.wait() is None


def test_long_idle_stretches_are_shortened_to_max_gap() -> None:
    events: list[Event] = [
        LogMessage("info", "a", at=100.0),
        LogMessage("info", "b", at=100.5),
        LogMessage("info", "c", at=400.0),  # five minutes of nothing (an image build)
    ]
    pb = Playback(Timeline.of(events), max_gap=2.0)
    assert [e.text for e in pb.advance(1.0).events] == ["a", "b"]  # type: ignore[union-attr]
    assert pb.wait() == pytest.approx(2.0)  # not 299 s
    assert [e.text for e in pb.advance(2.0).events] == ["c"]  # type: ignore[union-attr]
    assert pb.ended and pb.t == pytest.approx(300.0)


def test_seek_forward_delivers_what_was_skipped(timeline: Timeline) -> None:
    pb = Playback(timeline)
    moved = pb.seek(40.0)
    assert not moved.rewind and pb.t == 40.0
    assert list(moved.events) == list(timeline.events[: timeline.count_until(40.0)])


def test_seek_back_rewinds_to_exactly_what_a_fresh_replay_has(timeline: Timeline) -> None:
    pb = Playback(timeline)
    pb.seek(70.0)
    moved = pb.seek(30.0)
    fresh = Playback(timeline)
    expected = fresh.seek(30.0)
    assert moved.rewind
    assert list(moved.events) == list(expected.events)
    assert (pb.t, pb.sent) == (fresh.t, fresh.sent)


def test_seek_is_clamped_to_the_session(timeline: Timeline) -> None:
    pb = Playback(timeline)
    pb.seek(-5.0)
    assert pb.t == 0.0
    pb.seek(timeline.total + 100)
    assert pb.t == timeline.total and pb.ended


def test_step_pauses_and_moves_one_second_or_to_the_next_event(timeline: Timeline) -> None:
    pb = Playback(timeline)
    pb.seek(20.0)
    moved = pb.step()
    assert pb.paused
    nxt = timeline.offsets[timeline.count_until(20.0)]
    assert pb.t == pytest.approx(max(21.0, nxt))
    assert moved.events  # a step never lands in silence
    # in the middle of a run, a step is one second of samples (or up to the next one, if later)
    first = next(t for e, t in zip(timeline.events, timeline.offsets, strict=True) if isinstance(e, Sample))
    pb.seek(first)
    pb.step()
    assert pb.t == max(first + 1.0, timeline.offsets[timeline.count_until(first)])
    assert isinstance(timeline.events[pb.sent - 1], Sample)


def test_speed_ladder(timeline: Timeline) -> None:
    pb = Playback(timeline, speed=1.0)
    assert [pb.faster(), pb.faster(), pb.slower()] == [2.0, 4.0, 2.0]
    pb.speed = 3.0  # --speed 3 is not on the ladder: the next step is
    assert pb.faster() == 4.0
    for _ in range(20):
        pb.faster()
    assert pb.speed == SPEEDS[-1]
    for _ in range(20):
        pb.slower()
    assert pb.speed == SPEEDS[0]


def test_stop_points_are_where_runs_and_cells_ended(timeline: Timeline) -> None:
    finished = [
        (e, t) for e, t in zip(timeline.events, timeline.offsets, strict=True) if isinstance(e, RunFinished)
    ]
    ev, t = finished[3]
    assert timeline.end_of_run(ev.run_id) == t
    cell = timeline.cells[ev.run_id]
    ends = [t for e, t in finished if timeline.cells[e.run_id] == cell]
    assert timeline.end_of_cell(cell) == max(ends)
    assert timeline.end_of_run("no-such-run") is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("1.5m", 90.0), ("1:30", 90.0), ("1:02:03", 3723.0), ("1h", 3600.0)],
)
def test_parse_time(text: str, seconds: float) -> None:
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5", "1:2:3:4", "5 parsecs"])
def test_parse_time_says_what_it_expects(text: str) -> None:
    with pytest.raises(UserError, match="expected a time into the session"):
        parse_time(text)
