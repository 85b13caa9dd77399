"""The live screen under ``repeats = "auto"``: each round's verdicts at the level the engine judged
them (1 − 5%/K), the interval narrowing round by round, why a cell stopped, and a plan that shrinks
by the rounds a settled cell no longer needs.

The events are the engine's own: its round statistics (:mod:`katatui.core.rounds`) decide each
round's verdicts and when the cell stops, over runs of a fio cell whose figures are given."""

from __future__ import annotations

from katatui.core import rounds
from katatui.core.events import (
    Comparison,
    Event,
    Metric,
    RoundFinished,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    SessionFinished,
    SessionStarted,
)
from katatui.tui.column import ScenarioColumn
from katatui.tui.live import LiveScreen
from katatui.tui.summary import SummaryScreen
from tests.tui.conftest import SIZE, FakeSource, caught_up, make_app, rendered, screen_up, text_of, until

CELL = "fio[rw=randread]"
LOW, HIGH = 2, 10  # min_repeats, max_repeats: 9 rounds may end the cell, intervals at 1 − 5%/9
# x's read IOPS over runc's, round by round: about 0.84, noisy at first.
RATIOS = (0.80, 0.88, 0.84, 0.83, 0.85, 0.84, 0.86, 0.83, 0.84, 0.85)


def spec(scenario: str, rep: int | str, index: int = 0) -> RunSpec:
    return RunSpec(f"{scenario}-{rep}", index, CELL, scenario, "docker", scenario, "local", "fio", "fio",
                   {"rw": "randread"}, 1, int(rep))  # fmt: skip


def auto_session() -> tuple[list[Event], list[int]]:
    """The events of an "auto" session of runc (the reference) and x, alternating their order, and
    the position just after each RoundFinished."""
    specs = [spec(name, rep, 2 * rep + i) for rep in range(HIGH)
             for i, name in enumerate(("runc", "x") if rep % 2 == 0 else ("x", "runc"))]  # fmt: skip
    t = 1_800_000_000.0
    events: list[Event] = [SessionStarted("auto", "auto", "sequential", tuple(specs), at=t)]
    results: dict[str, dict[str, Metric]] = {}
    ends: list[int] = []
    for rep in range(HIGH):
        for s in (s for s in specs if s.repeat == rep):
            value = 1000.0 * (RATIOS[rep] if s.scenario == "x" else 1.0)
            events.append(RunStarted(s.run_id, (("fio", "--name=x"),), at=t + 1))
            events += [Sample(s.run_id, float(sec), {"read_iops": value}, at=t + 1 + sec) for sec in (1, 2)]
            results[s.run_id] = {"read_iops": Metric(value, "IO/s")}
            events.append(RunFinished(s.run_id, results[s.run_id], 2.0, at=t + 4))
            t += 4
        found = rounds.comparisons([s for s in specs if s.repeat <= rep], results, baseline="runc",
                                   looks=HIGH - LOW + 1)  # fmt: skip
        what, note = rounds.outcome(found, rep + 1, min_rounds=LOW, max_rounds=HIGH, elapsed=rep + 1.0,
                                    budget=None)  # fmt: skip
        dropped = tuple(s.run_id for s in specs if s.repeat > rep) if what else ()
        events.append(RoundFinished(CELL, rep, found, what, note, dropped, HIGH - LOW + 1, at=t))
        ends.append(len(events))
        if what:
            break
    events.append(SessionFinished("completed", at=t + 1))
    return events, ends


def said(events: list[Event], end: int) -> Comparison:
    ev = events[end - 1]
    assert isinstance(ev, RoundFinished)
    (c,) = ev.comparisons
    return c


def x_column(screen: LiveScreen) -> tuple[str, str]:
    """The x column's read IOPS verdict and its status line."""
    col = next(c for c in screen.query(ScenarioColumn) if c.scenario == "x")
    assert col.view is not None
    row = next(r for r in col.view.rows if r.metric == "read_iops")
    return row.versus, col.view.status


async def test_live_verdicts_are_the_engines_and_the_plan_shrinks_when_a_cell_settles() -> None:
    events, ends = auto_session()
    assert len(ends) == 4  # the cell settles after 4 of its 10 rounds: 12 runs leave the plan
    src = FakeSource(events, until=3)  # the plan, runc's first run started, one sample
    src.auto = True  # type: ignore[attr-defined]  # as a LiveSource of a profile with repeats = "auto"
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        screen = await caught_up(pilot, app)
        progress = text_of(app, "#progress")
        assert "run 1/up to 20" in progress and "repeat 1/≤10" in progress

        widths = []
        for n, end in enumerate(ends[:3], 1):
            src.step(end - src.allowed)
            screen = await caught_up(pilot, app)
            versus, _status = x_column(screen)
            c = said(events, end)
            if n == 1:
                assert versus == f"×{c.ratio:.2f} undecided [1 round]"
                continue
            assert c.low is not None and c.high is not None and c.level < 0.995
            # the engine's verdict, at its level (99.4%), as the report will say it
            assert versus == f"×{c.ratio:.2f} {c.verdict} [{c.low:.2f}–{c.high:.2f}] 99.4%"
            widths.append(c.high - c.low)
        assert widths[1] < widths[0]  # the interval narrows as rounds finish
        # After 3 rounds a 95% interval would already call x worse; at 1 − 5%/9 it is undecided.
        assert "undecided" in x_column(screen)[0]
        finished = [e for e in events[: ends[2]] if isinstance(e, RunFinished)]
        specs = [spec(*e.run_id.split("-")) for e in finished]
        at95 = rounds.comparisons(specs, {e.run_id: dict(e.results) for e in finished}, baseline="runc")
        assert at95[0].verdict == "worse"
        assert "run 6/up to 20" in text_of(app, "#progress")
        assert "remaining at most ~" in text_of(app, "#progress")

        src.step(ends[3] - src.allowed)  # round 4: every verdict decided, the cell stops, the session ends
        summary = await screen_up(pilot, SummaryScreen, "the summary at the end")
        await until(pilot, lambda: "worse" in rendered(app, "#summary-table"), "the summary's verdict")
        table = " ".join(rendered(app, "#summary-table").split())
        c = said(events, ends[3])
        # the summary judges x as the engine did, at the same level
        assert c.verdict == "worse" and f"×{c.ratio:.2f} worse" in table and "1 − 5%/K" in table
        assert f"[{c.low:.2f}–{c.high:.2f}] 99.4%" in table
        assert summary.model.dropped == 12

        await pilot.press("escape")  # back to the live screen
        screen = await caught_up(pilot, app)
        versus, status = x_column(screen)
        assert versus == f"×{c.ratio:.2f} worse [{c.low:.2f}–{c.high:.2f}] 99.4%"
        assert "✓ 4 repeat(s) done · settled after 4 rounds" in status
        progress = text_of(app, "#progress")
        assert "run 8/8" in progress and "up to" not in progress and "settled after 4 rounds" in progress
        log = [line.text for line in app.model.log]
        assert any(
            "round 4 " in t and "— settled after 4 rounds (every headline metric decided)" in t for t in log
        )
        assert any("round 3 " in t and "undecided [" in t and "99.4%" in t for t in log)
