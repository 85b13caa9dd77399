"""The live screen driven by recorded events: columns, percentiles, CDF, progress, log, failures."""

from __future__ import annotations

from katatui.core.events import Event, RunFailed, RunFinished, RunStarted, Sample
from katatui.tui.column import ScenarioColumn
from katatui.tui.percentiles import PercentileTable
from katatui.tui.summary import SummaryScreen
from katatui.views.ratio import STYLE
from tests.tui.conftest import (
    MISSING,
    SIZE,
    FakeSource,
    caught_up,
    make_app,
    recorded,
    rendered,
    screen_up,
    until,
)


def index_of_samples(events: list[Event], n: int) -> int:
    """The position just after the n-th Sample: mid-run, with a few seconds of data."""
    seen = 0
    for i, e in enumerate(events):
        if isinstance(e, Sample):
            seen += 1
            if seen == n:
                return i + 1
    raise AssertionError("not enough samples")


async def test_columns_fill_as_samples_arrive(three_events: list[Event]) -> None:
    src = FakeSource(three_events, until=index_of_samples(three_events, 6))
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        screen = await caught_up(pilot, app)
        cols = {c.scenario: c for c in screen.query(ScenarioColumn)}
        assert list(cols) == ["bare", "runc", "runc-alt"]
        bare = cols["bare"].view
        assert bare is not None and bare.state == "running"
        assert [r.metric for r in bare.rows] == ["read_bw_bytes_per_s", "read_iops"]
        assert bare.rows[0].points and bare.rows[0].top >= max(v for _, v in bare.rows[0].points)
        runc = cols["runc"].view
        assert runc is not None and runc.state == "waiting" and "waiting for bare" in runc.status
        # every column shares the same scale for the same metric
        assert {c.view.rows[0].top for c in cols.values() if c.view} == {bare.rows[0].top}
        table = screen.query_one(PercentileTable)
        assert table.row_count == 5  # read p50, p90, p99, p99.9, max
        assert str(table.get_cell("read_clat_ns|p50", "bare")).endswith("µs")
        progress = str(screen.query_one("#progress").render())
        assert "cell 1/2" in progress and "run 1/12" in progress
        src.finish()
        await screen_up(pilot, SummaryScreen, "the summary, opened by the finish")


async def test_percentile_ratios_are_coloured_by_the_better_side(three_events: list[Event]) -> None:
    src = FakeSource(three_events)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, SummaryScreen, "the summary at the end")
        await pilot.press("escape")  # back from the summary to the live screen
        screen = await caught_up(pilot, app)
        table = screen.query_one(PercentileTable)
        cell = table.get_cell("write_clat_ns|p99", "runc-alt")
        text = cell.plain
        assert "×" in text
        style = str(cell.spans[-1].style)
        # The summary's verdict on that percentile over the rounds (one rule, one colour)
        summary = screen.model.summary()
        row = next(
            r for r in summary.rows if r.metric == "write_clat_p99_us" and r.cell == screen.shown_cell()
        )
        v = summary.versus(row, "runc-alt")
        assert v is not None and style == STYLE[v.verdict]
        # a percentile the summary does not judge has no interval: undecided
        other = table.get_cell("write_clat_ns|p90", "runc-alt")
        assert "×" in other.plain and str(other.spans[-1].style) == STYLE["undecided"]


async def test_a_run_that_fails_mid_run_turns_its_column_red(three_events: list[Event]) -> None:
    """A host that drops: its run fails with the reason; the other columns go on."""
    cut = index_of_samples(three_events, 4)
    running = next(e.run_id for e in reversed(three_events[:cut]) if isinstance(e, RunStarted))
    reason = "target local: SSH connection lost (Connection reset by peer)"
    rest = [e for e in three_events[cut:] if getattr(e, "run_id", None) != running]
    events = [*three_events[:cut], RunFailed(running, reason), *rest]
    after = [i for i, e in enumerate(events) if i > cut and isinstance(e, Sample)]
    src = FakeSource(events, until=after[1] + 1)  # the next scenario is two seconds in
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        screen = await caught_up(pilot, app)
        cols = {c.scenario: c for c in screen.query(ScenarioColumn)}
        failed = cols["bare"]
        assert failed.view is not None and failed.view.state == "failed"
        assert "SSH connection lost" in failed.view.status
        assert failed.has_class("-failed")
        assert cols["runc"].view is not None and cols["runc"].view.state == "running"
        log = "\n".join(str(line.text) for line in screen.query_one("#log").lines)
        assert "SSH connection lost" in log
        src.finish()
        await until(pilot, lambda: app.status is not None and not app.session_running, "the session's end")
        assert app.exit_status() == 1


async def test_a_scenario_that_cannot_start() -> None:
    """kata-runtime is not registered on the test dockerd: its column says so, bare runs."""
    events = recorded(MISSING)
    src = FakeSource(events)
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, SummaryScreen, "the summary at the end")
        await pilot.press("escape")
        screen = await caught_up(pilot, app)
        cols = {c.scenario: c for c in screen.query(ScenarioColumn)}
        kata = cols["kata-runtime"].view
        assert kata is not None and kata.state == "failed" and "no runtime 'kata-runtime'" in kata.status
        bare = cols["bare"].view
        assert bare is not None and bare.state == "finished"
        assert app.exit_status() == 1
        assert any(isinstance(e, RunFinished) for e in events)


async def test_the_summary_caption_says_what_one_round_shows(three_events: list[Event]) -> None:
    """After the first round only, every ratio is without an interval: the caption says what
    "[no interval]" means, as text (Rich markup would swallow the brackets)."""
    ends = [i for i, e in enumerate(three_events) if isinstance(e, RunFinished)]
    src = FakeSource(three_events, until=ends[2] + 1)  # bare, runc, runc-alt of round 1 of cell 1
    app = make_app(src)
    async with app.run_test(size=SIZE) as pilot:
        await caught_up(pilot, app)
        await pilot.press("t")
        await screen_up(pilot, SummaryScreen)
        await until(
            pilot,
            lambda: "one round" in rendered(app, "#summary-table"),
            "the caption",
            detail=lambda: rendered(app, "#summary-table"),
        )
        text = " ".join(rendered(app, "#summary-table").split())
        assert "[no interval]: one round" in text and "; : one round" not in text
        assert "[95% interval]" in text
