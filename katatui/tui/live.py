"""The live screen: one column per scenario, percentiles, the latency CDF, progress and the log.

Events only update the model; this screen repaints on a timer, in one batch, and only while it
is the visible screen and not paused. Each panel is given only what it shows and repaints only
when that changed.

The layout follows the terminal (from 60×20 up): columns side by side when each gets 30 cells,
else one above the other, one line per metric; charts lose rows, then metrics, before anything
else; below 120×40 the percentiles, the CDF and the log share one panel (``v`` switches).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from katatui.core.report import Summary
from katatui.core.workloads import registry
from katatui.tui.cdf import LatencyCDF
from katatui.tui.clock import clock
from katatui.tui.column import ColumnView, MetricRow, ScenarioColumn, ratio_text, row_height
from katatui.tui.keys import bindings
from katatui.tui.model import Latency, RunState, SessionModel, metric_order, summary_metric_of
from katatui.tui.outcomes import ended_by_user, outcomes
from katatui.tui.percentiles import PercentileTable
from katatui.views.ratio import (
    comparison_interval,
    comparison_verdict,
    interval_text,
    ratio_style,
    verdict_style,
)

if TYPE_CHECKING:
    from katatui.tui.app import KatatuiApp

REPAINT_HZ = 4
LOG_STYLES = {"info": "dim", "warning": "yellow", "error": "bold red", "command": "grey62"}
PANELS = ("percentiles", "CDF", "log")
SIDE_BY_SIDE = 30  # cells a column needs to stand beside the others
QUIET = 1.5  # seconds without an event after which a running run's time moves on the wall clock
LATENCY_EVERY = 1.0  # seconds between repaints of the percentiles and the CDF for new figures
FULL = (120, 40)  # from this size on, percentiles and CDF side by side with the log below


class LiveScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("live"),
        *bindings("replay"),
    ]
    DEFAULT_CSS = """
    LiveScreen { layout: vertical; }
    #progress { height: 2; padding: 0 1; background: $boost; }
    #replay { height: auto; max-height: 4; padding: 0 1; background: $boost; display: none; }
    #columns { height: auto; }
    #columns.-stacked { layout: vertical; }
    #panel-tabs { height: 1; padding: 0 1; display: none; }
    #bottom { height: 1fr; min-height: 5; }
    #percentiles { width: 3fr; }
    #cdf-box { width: 2fr; }
    #cdf-legend { height: 1; }
    #log { height: 7; border-top: solid $panel-lighten-2; }
    LiveScreen.-compact #panel-tabs { display: block; }
    LiveScreen.-compact #log { height: 1fr; border-top: none; }
    """

    def __init__(self, model: SessionModel) -> None:
        super().__init__()
        self.model = model
        self.pinned: str | None = None  # a finished cell the user chose; None follows the live one
        self.paused = False
        self.panel = 0  # on a small terminal: which of PANELS is shown
        self._painted = -1
        self._logged = 0
        self._columns: dict[str, ScenarioColumn] = {}
        self._generation = model.generation
        self._replay_line = ""
        self._tick = -1
        self._seen = (0.0, time.monotonic())  # the last event's time, and when it arrived
        self._shape: tuple[object, ...] = ()
        self._progress: Text | None = None
        self._latency_key: tuple[object, ...] = ()
        self._latency_at = 0.0
        self._latency_pending = False
        self._legend: Text | None = None

    @property
    def katatui(self) -> KatatuiApp:
        return cast("KatatuiApp", self.app)

    def on_screen_resume(self) -> None:
        self.app.call_after_refresh(getattr(self.app, "check_size", lambda: None))

    def compose(self) -> ComposeResult:
        yield Static(id="progress")
        yield Static(id="replay")
        yield Horizontal(id="columns")
        yield Static(id="panel-tabs")
        with Horizontal(id="bottom"):
            yield PercentileTable(id="percentiles")
            with Vertical(id="cdf-box"):
                yield LatencyCDF(id="cdf")
                yield Static(id="cdf-legend")
        yield RichLog(id="log", max_lines=500, wrap=True, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#replay", Static).display = self.replaying
        source = getattr(self.app, "source", None)
        if source is not None:
            self.model.baseline = getattr(source, "baseline", None)
            self.model.auto = bool(getattr(source, "auto", False))
        self.set_interval(1 / REPAINT_HZ, self.repaint)
        self.repaint(force=True)

    def on_resize(self) -> None:
        if self.is_mounted:
            self.call_after_refresh(self.repaint, True)

    @property
    def replaying(self) -> bool:
        return getattr(self.app, "replay", None) is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only in a replay; nothing to stop, skip or abort in one (its x and n are
        the replay's own); the panel key on a small terminal."""
        if action.startswith("replay_"):
            return self.replaying
        if action in ("abort", "stop_run", "skip_cell"):
            return not self.replaying
        if action == "next_panel":
            return self.has_class("-compact")
        return True

    # -- painting -------------------------------------------------------------------------------
    def shown_cell(self) -> str | None:
        return self.pinned or self.model.live_cell()

    def repaint(self, force: bool = False) -> None:
        if self.replaying and self.is_current:
            self._paint_replay()
        if self.model.generation != self._generation:
            self._restart()
        running = bool(self.model.running())
        tick = int(self._now()) if running else -1
        moved = self.model.version != self._painted or tick != self._tick or self._latency_pending
        if not force and (self.paused or not self.is_current or not moved):
            return
        self._painted, self._tick = self.model.version, tick
        with self.app.batch_update():
            self._paint_layout()
            summary = self.model.summary()
            self._paint_columns(summary)
            self._paint_latency(summary)
            self._paint_progress()
            self._paint_log()

    def _now(self) -> float:
        """The time runs are measured against: the last event's, moved on by the time since it
        arrived (a slow run's seconds tick before its first sample); in a replay, the last event's."""
        last = self.model.last_at or 0.0
        if last != self._seen[0]:
            self._seen = (last, time.monotonic())
        if self.replaying or self.model.status is not None:
            return last
        quiet = time.monotonic() - self._seen[1]
        return last + quiet if quiet >= QUIET else last  # events arriving move the clock themselves

    def _restart(self) -> None:
        """The model was reset (a replay went back): drop the log lines painted from the old one,
        and the chosen cell if it has not finished by now."""
        self._generation = self.model.generation
        if self.pinned not in self.model.finished_cells():
            self.pinned = None
        self.query_one(RichLog).clear()
        self._logged = 0
        self._painted = -1

    def _paint_replay(self) -> None:
        """The replay's clock: time / total, speed, playing or paused."""
        rp = self.katatui.replay
        if rp is None or rp.playback is None:
            return
        pb = rp.playback
        if pb.ended:
            state = "END"
        elif pb.paused:
            state = "PAUSED"
        else:
            state = "PLAYING"
        line = f"{state}  replay {clock(pb.t)} / {clock(pb.total)}  ×{pb.speed:g}"
        if line == self._replay_line:
            return
        self._replay_line = line
        text = Text()
        text.append(f" {state} ", style="reverse yellow" if pb.paused else "reverse green")
        text.append(f"  replay {clock(pb.t)} / {clock(pb.total)}  ", style="bold")
        text.append(f"×{pb.speed:g}  ")
        text.append(f"{self.katatui.replay_keys()}", style="dim")
        if self.katatui.notice:  # the demo says what it is (and why it plays instead of a run)
            text.append("\n" + self.katatui.notice, style="yellow")
        self.query_one("#replay", Static).update(text)

    # -- layout ---------------------------------------------------------------------------------
    def _paint_layout(self) -> None:
        """Side by side or stacked, full or compact, and which panel shows on a small terminal."""
        w, h = self.size
        compact = w < FULL[0] or h < FULL[1]
        n = max(1, len(self.model.scenarios))
        stacked = w // n < SIDE_BY_SIDE
        shape = (compact, stacked, self.panel)
        if shape == self._shape:
            return
        self._shape = shape
        self.set_class(compact, "-compact")
        self.query_one("#columns").set_class(stacked, "-stacked")
        panel = PANELS[self.panel] if compact else ""
        bottom = self.query_one("#bottom")
        bottom.display = not compact or panel != "log"
        self.query_one("#percentiles").display = not compact or panel == "percentiles"
        self.query_one("#cdf-box").display = not compact or panel == "CDF"
        self.query_one(RichLog).display = not compact or panel == "log"
        tabs = Text(" ")
        for i, name in enumerate(PANELS):
            tabs.append(f" {name} ", style="reverse bold" if i == self.panel else "dim")
            tabs.append(" ")
        tabs.append(" v: next", style="dim")
        self.query_one("#panel-tabs", Static).update(tabs, layout=False)
        self.refresh_bindings()
        self.call_after_refresh(self.repaint, True)  # the panels once they have their new sizes

    def _room(self) -> int:
        """Lines the columns may take: what the progress, the panels and the footer leave."""
        w, h = self.size
        compact = w < FULL[0] or h < FULL[1]
        replay = self.query_one("#replay").outer_size.height if self.replaying else 0
        cdf = PANELS[self.panel] == "CDF"  # a CDF needs room to be read
        bottom = 18 if not compact else max(12, h // 2) if cdf else max(6, h // 3)
        return max(2, h - 3 - replay - bottom)

    def _paint_columns(self, summary: Summary) -> None:
        m = self.model
        holder = self.query_one("#columns", Horizontal)
        for s in m.scenarios:
            if s not in self._columns:
                col = ScenarioColumn(s)
                self._columns[s] = col
                holder.mount(col)
        cell = self.shown_cell()
        if cell is None:
            return
        stacked = bool(self._shape) and bool(self._shape[1])
        shown = {s: m.shown_run(cell, s) for s in m.scenarios}
        metrics = metric_order(k for r in shown.values() if r is not None for k in r.series)
        if not metrics and any(r is not None and r.status == "running" for r in shown.values()):
            metrics = expected_rows(m.cell_of[cell].kind)  # their rows say "no sample yet"
        ref = m.reference
        rows: dict[str, list[MetricRow]] = {s: [] for s in m.scenarios}
        for k in metrics:
            history = m.cell_history(cell, k)
            span = max((pts[-1][0] for pts in history.values() if pts), default=0.0)
            top = max((v for pts in history.values() for _, v in pts), default=0.0)
            for s in m.scenarios:
                run = shown.get(s)
                versus, style = self._versus(summary, cell, k, s, ref)
                points = tuple(history.get(s, ()))
                absent = (
                    "no sandbox" if run and run.spec.launcher == "bare" and k.startswith("sandbox_") else ""
                )
                live = run.last(k) if run else None
                rows[s].append(MetricRow(k, points, top, span, live, versus, style, absent=absent))
        if not metrics:  # a workload with results only (launch, boot, footprint): bars of them
            self._result_rows(cell, summary, ref, rows)
        col_width = self.size.width // max(1, len(self._columns)) - 4
        wrap = not stacked and any(len(r.versus) > col_width for rs in rows.values() for r in rs)
        keep, spark, big = self._fit(rows, stacked, wrap)
        for s, col in self._columns.items():
            state, status = self._status(cell, s)
            said = m.isolation.get(s) or m.isolation.get(s.rsplit("@", 1)[0])
            these = tuple(rows.get(s, ())[:keep])
            hidden = len(rows.get(s, ())) - len(these)
            title = f"{s} · {said}" if said else s
            col.show(ColumnView(title, state, status, these, stacked, spark, hidden, wrap, big))

    def _fit(self, rows: dict[str, list[MetricRow]], stacked: bool, wrap: bool) -> tuple[int, int, bool]:
        """How many metrics the columns show, how many rows of chart each gets, and whether the
        first value is in large type: charts lose rows, then metrics, before anything else."""
        room = self._room()
        count = max((len(r) for r in rows.values()), default=0)
        sample = next((r for r in rows.values() if r), [])
        if stacked:
            per = room // max(1, len(rows)) - 1
            return max(1, min(count, per)), 1, False
        for spark, big in ((3, True), (3, False), (2, False), (1, False)):
            need = 4 + sum(row_height(False, spark, wrap, r, big and i == 0) for i, r in enumerate(sample))
            if need <= room:
                return count, spark, big
        keep = count
        while keep > 1 and 5 + sum(row_height(False, 1, wrap, r) for r in sample[:keep]) > room:
            keep -= 1
        return keep, 1, False

    def _versus(self, summary: Summary, cell: str, metric: str, scenario: str,
                ref: str | None) -> tuple[str, str]:  # fmt: skip
        """The ratio to the baseline with its verdict and interval: the engine's after the cell's
        latest round (at the level it judged it, so that the screen and the report agree), else the
        summary's of the rounds that finished, else the live ratio of the runs' means so far."""
        if ref is None:
            return "", "dim"
        if scenario == ref:
            if self._mean(cell, ref, metric) is None:
                return "", "dim"  # the baseline has no such figure (bare has no sandbox)
            return f"baseline ({ref})" if len(ref) < 14 else "baseline", "dim"
        name = summary_metric_of(metric)
        said = self._engine_versus(cell, name, scenario)
        if said is not None:
            return said
        row = next((r for r in summary.rows if r.cell == cell and r.metric == name), None)
        if row is not None and (v := summary.versus(row, scenario)) is not None:
            ci = f" {interval_text(v)}" if v.ci is not None else " [1 round]"
            return f"{ratio_text(v.ratio)} {v.verdict}{ci}", verdict_style(v.verdict)
        mine, theirs = self._mean(cell, scenario, metric), self._mean(cell, ref, metric)
        if mine is None or not theirs:
            return "", "dim"
        ratio = mine / theirs
        return f"{ratio_text(ratio)} so far", ratio_style(ratio, "", None, metric)

    def _engine_versus(self, cell: str, metric: str, scenario: str) -> tuple[str, str] | None:
        """The engine's verdict after the cell's latest round, as a column says it (None: none yet)."""
        c = self.model.comparison(cell, metric, scenario)
        if c is None:
            return None
        v = comparison_verdict(c)
        return f"{ratio_text(c.ratio)} {v} {comparison_interval(c)}", verdict_style(v)

    def _mean(self, cell: str, scenario: str, metric: str) -> float | None:
        values = [v for r in self.model.runs_of(cell, scenario) for v in r.series.get(metric, ())]
        return sum(values) / len(values) if values else None

    def _result_rows(self, cell: str, summary: Summary, ref: str | None,
                     rows: dict[str, list[MetricRow]]) -> None:  # fmt: skip
        """Bars of the results of a workload without a time series, on a scale shared by columns."""
        found = [r for r in summary.rows if r.cell == cell]
        for row in found:
            medians = {s: st.median for s, st in row.by_scenario.items() if st.values}
            top = max(medians.values(), default=0.0)
            for s in self.model.scenarios:
                versus, style = ("", "dim")
                if ref is not None and s == ref:
                    versus = "baseline"
                elif ref is not None and (said := self._engine_versus(cell, row.metric, s)) is not None:
                    versus, style = said
                elif ref is not None and (v := summary.versus(row, s)) is not None:
                    ci = f" {interval_text(v)}" if v.ci is not None else " [1 round]"
                    versus, style = f"{ratio_text(v.ratio)} {v.verdict}{ci}", verdict_style(v.verdict)
                rows[s].append(MetricRow(row.metric, (), top, 0.0, medians.get(s), versus, style, bar=True))

    def _status(self, cell: str, scenario: str) -> tuple[str, str]:
        m = self.model
        runs = m.runs_of(cell, scenario)
        if not runs:
            return "idle", "not in this cell"
        reps = len(runs)
        most = f"≤{reps}" if m.open_ended(cell) else str(reps)  # "auto": the cell may stop before
        for r in runs:
            if r.status == "running":
                return "running", f"● running · repeat {r.spec.repeat + 1}/{most} · {self._elapsed(r)}"
        ended = [r for r in runs if r.status in ("finished", "failed")]
        if ended and ended[-1].status == "failed":
            if (how := ended_by_user(ended[-1].reason)) is not None:
                return "idle", f"■ {how} by the user"
            return "failed", f"✗ failed: {ended[-1].reason}"
        if len(ended) == reps:
            took = ended[-1].duration
            why = m.stop_text(cell)
            return "finished", f"✓ {reps} repeat(s) done" + (f" · {why}" if why else "") + (
                f" · last {took:.1f} s" if took else ""
            )
        if m.status is not None:
            return "idle", f"not run: session {m.status}"
        busy = [r.spec.scenario for r in m.running()]
        nxt = len(ended) + 1
        if busy:
            return "waiting", f"waiting for {', '.join(busy)} (repeat {nxt}/{most}, {m.pairing} pairing)"
        return "waiting", f"waiting to start (repeat {nxt}/{most})"

    def _elapsed(self, run: RunState) -> str:
        """A running run's seconds, ticking with the clock even before its first sample."""
        seconds = run.last_t
        if run.started_at is not None:
            seconds = max(seconds, self._now() - run.started_at)
        return f"{seconds:.0f} s"

    def _paint_latency(self, summary: Summary) -> None:
        cell = self.shown_cell()
        if cell is None:
            return
        m = self.model
        lat: dict[str, Latency] = {s: m.latency[(cell, s)] for s in m.scenarios if (cell, s) in m.latency}
        results = {} if lat else m.result_latency(cell)
        table = self.query_one(PercentileTable)
        cdf = self.query_one(LatencyCDF)
        done = m.rounds.get(cell)
        where = (cell, m.reference, self._shape, self.size, table.size, cdf.size, len(summary.rows),
                 done.round if done is not None else -1)  # fmt: skip
        key = (*where, tuple(x.version for x in lat.values()), tuple(results.items()))
        if key == self._latency_key:
            self._latency_pending = False
            return
        now = time.monotonic()
        if key[: len(where)] == self._latency_key[: len(where)] and now - self._latency_at < LATENCY_EVERY:
            self._latency_pending = True  # new figures only: at most once a second (a later repaint)
            return
        self._latency_key, self._latency_at, self._latency_pending = key, now, False
        verdicts = {
            (row.metric, s): v.verdict
            for row in summary.rows if row.cell == cell
            for s in summary.scenarios if (v := summary.versus(row, s)) is not None
        }  # fmt: skip
        # The engine's verdicts after the latest round, where it gave them.
        said = done.comparisons if done is not None else ()
        verdicts.update(
            {(c.metric, c.scenario): comparison_verdict(c) for c in said if c.reference == m.reference}
        )
        kinds = {r.spec.kind for r in m.runs.values() if r.spec.cell == cell}
        kind = next(iter(kinds), "")
        order = [m.reference, *(s for s in m.scenarios if s != m.reference)] if m.reference else []
        if table.display:
            table.show(order, lat, verdicts, results=results, kind=kind)
        if cdf.display and cdf.size.width and cdf.size.height:
            cdf.show_with(m.scenarios, lat, results=results, kind=kind)
            legend = LatencyCDF.legend(m.scenarios)
            if legend != self._legend:
                self._legend = legend
                self.query_one("#cdf-legend", Static).update(legend, layout=False)

    def _paint_progress(self) -> None:
        m = self.model
        cell = self.shown_cell()
        total = len(m.order)
        parts: list[tuple[str, str]] = [(f"{m.profile_name or 'katatui'}", "bold")]
        label = -1
        if cell is not None:
            idx = m.cells.index(cell) + 1 if cell in m.cells else 0
            parts.append((f"cell {idx}/{len(m.cells)}", "bold cyan"))
            label = len(parts)
            parts.append((m.cell_of[cell].label, ""))
        running = m.running()
        if running:
            now = running[0].spec
            most = "≤" if m.open_ended(now.cell) else ""
            parts.append((f"repeat {now.repeat + 1}/{most}{m.cell_rounds(now.cell)}", ""))
        if cell is not None and m.stop_text(cell):
            parts.append((m.stop_text(cell), "bold"))
        upto = "up to " if m.open_ended() else ""  # runs a cell under "auto" may not need
        parts.append((f"run {min(total, m.done_count() + len(running))}/{upto}{total}", ""))
        ended = outcomes(m)
        for count, what, style in (
            (ended.failed, "failed", "bold red"),
            (ended.stopped, "stopped", "yellow"),
            (ended.skipped, "skipped", "yellow"),
        ):
            if count:
                parts.append((f"{count} {what}", style))
        parts.append((f"elapsed {clock(m.elapsed())}", ""))
        remaining = m.remaining()
        left = ("at most ~" if upto else "~") + clock(remaining) if remaining is not None else "unknown"
        parts.append(("remaining " + left, ""))
        if m.status is not None:
            parts.append((f"session {m.status}", "bold green" if m.status == "completed" else "bold red"))
        if self.pinned is not None:
            parts.append(("viewing a finished cell (l: follow live)", "reverse"))
        if self.paused:
            parts.append((" PAUSED (p: resume) ", "reverse yellow"))
        text = flow(parts, max(20, self.size.width - 2), 2, cuttable=label)
        if text != self._progress:
            self._progress = text
            self.query_one("#progress", Static).update(text, layout=False)  # two lines, always

    def _paint_log(self) -> None:
        log = self.query_one(RichLog)
        for line in self.model.log:
            if line.seq > self._logged:
                log.write(Text(line.text, style=LOG_STYLES.get(line.level, "")))
                self._logged = line.seq

    def action_next_panel(self) -> None:
        self.panel = (self.panel + 1) % len(PANELS)
        self.repaint(force=True)

    # -- actions --------------------------------------------------------------------------------
    def action_pause(self) -> None:
        if self.replaying:
            self.katatui.replay_control("pause")
            self._paint_replay()
            return
        self.paused = not self.paused
        self.repaint(force=True)
        self.notify("display paused; the run goes on" if self.paused else "display resumed")

    def _step_cell(self, step: int) -> None:
        cells = self.model.finished_cells()
        live = self.model.live_cell()
        if live is not None and live not in cells:
            cells.append(live)
        if not cells:
            self.notify("no finished cell yet", severity="warning")
            return
        current = self.shown_cell()
        i = cells.index(current) if current in cells else len(cells) - 1
        target = cells[max(0, min(len(cells) - 1, i + step))]
        self.pinned = None if target == live else target
        self.repaint(force=True)

    def action_prev_cell(self) -> None:
        self._step_cell(-1)

    def action_next_cell(self) -> None:
        self._step_cell(+1)

    def action_follow(self) -> None:
        self.pinned = None
        self.repaint(force=True)

    def action_stop_run(self) -> None:
        running = self.model.running()
        if not running:
            self.notify("no run is being measured", severity="warning")
            return
        for run in running:
            self.katatui.stop_run(run.spec.run_id)

    def action_skip_cell(self) -> None:
        cell = self.model.live_cell()
        if cell is None or self.model.status is not None:
            self.notify("nothing to skip", severity="warning")
            return
        self.katatui.skip_cell(cell)

    def action_summary(self) -> None:
        self.katatui.show_summary()

    def action_abort(self) -> None:
        self.katatui.confirm_abort()

    def _replay(self, what: str) -> None:
        self.katatui.replay_control(what)
        self._paint_replay()

    def action_replay_back(self) -> None:
        self._replay("back")

    def action_replay_forward(self) -> None:
        self._replay("forward")

    def action_replay_step(self) -> None:
        self._replay("step")

    def action_replay_slower(self) -> None:
        self._replay("slower")

    def action_replay_faster(self) -> None:
        self._replay("faster")


def expected_rows(kind: str) -> list[str]:
    """The live rows a workload's catalogue promises (before its first sample)."""
    unit = registry.UNITS.get(kind)
    if unit is None:
        return []
    return metric_order(m for m, spec in unit.metrics.items() if spec.live is not None)


def flow(parts: list[tuple[str, str]], width: int, lines: int, cuttable: int = -1) -> Text:
    """Phrases laid out on ``lines`` lines of ``width``, broken between phrases, never inside one
    (a phrase longer than a line is cut with an ellipsis; so is the ``cuttable``-th where it does
    not fit, rather than push the phrases after it off the last line)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    line, used = 1, 0
    for i, (phrase, style) in enumerate(parts):
        if len(phrase) > width:
            phrase = phrase[: width - 1] + "…"
        room = width - used - (2 if used else 0)
        if i == cuttable and len(phrase) > room >= 12:
            phrase = phrase[: room - 1] + "…"
        need = len(phrase) + (2 if used else 0)
        if used and used + need > width:
            if line == lines:
                break
            out.append("\n")
            line, used, need = line + 1, 0, len(phrase)
        if used:
            out.append("  ")
        out.append(phrase, style=style)
        used += need
    return out
