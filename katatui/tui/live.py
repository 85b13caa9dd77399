"""The live screen: one column per scenario, percentiles, the latency CDF, progress and the log.

Events only update the model; this screen repaints on a timer, in one batch, and only while it
is the visible screen and not paused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from katatui.tui.cdf import LatencyCDF
from katatui.tui.clock import clock
from katatui.tui.column import ColumnView, MetricRow, ScenarioColumn
from katatui.tui.keys import bindings
from katatui.tui.model import Latency, SessionModel, metric_order
from katatui.tui.outcomes import ended_by_user, outcomes
from katatui.tui.percentiles import PercentileTable

if TYPE_CHECKING:
    from katatui.tui.app import KatatuiApp

REPAINT_HZ = 4
LOG_STYLES = {"info": "dim", "warning": "yellow", "error": "bold red", "command": "grey62"}


class LiveScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("live") + bindings("replay")
    DEFAULT_CSS = """
    LiveScreen { layout: vertical; }
    #progress { height: 2; padding: 0 1; background: $boost; }
    #replay { height: auto; max-height: 4; padding: 0 1; background: $boost; display: none; }
    #columns { height: auto; max-height: 60%; }
    #bottom { height: 1fr; min-height: 8; }
    #percentiles { width: 1fr; }
    #cdf-box { width: 1fr; }
    #cdf-legend { height: 1; }
    #log { height: 7; border-top: solid $panel-lighten-2; }
    """

    def __init__(self, model: SessionModel) -> None:
        super().__init__()
        self.model = model
        self.pinned: str | None = None  # a finished cell the user chose; None follows the live one
        self.paused = False
        self._painted = -1
        self._logged = 0
        self._columns: dict[str, ScenarioColumn] = {}
        self._generation = model.generation
        self._replay_line = ""

    @property
    def katatui(self) -> KatatuiApp:
        return cast("KatatuiApp", self.app)

    def on_screen_resume(self) -> None:
        self.app.call_after_refresh(getattr(self.app, "check_size", lambda: None))

    def compose(self) -> ComposeResult:
        yield Static(id="progress")
        yield Static(id="replay")
        yield Horizontal(id="columns")
        with Horizontal(id="bottom"):
            yield PercentileTable(id="percentiles")
            with Vertical(id="cdf-box"):
                yield LatencyCDF(id="cdf")
                yield Static(id="cdf-legend")
        yield RichLog(id="log", max_lines=500, wrap=True, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#replay", Static).display = self.replaying
        self.set_interval(1 / REPAINT_HZ, self.repaint)
        self.repaint(force=True)

    @property
    def replaying(self) -> bool:
        return getattr(self.app, "replay", None) is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only in a replay; nothing to stop, skip or abort in one (its x and n are
        the replay's own)."""
        if action.startswith("replay_"):
            return self.replaying
        if action in ("abort", "stop_run", "skip_cell"):
            return not self.replaying
        return True

    # -- painting -------------------------------------------------------------------------------
    def shown_cell(self) -> str | None:
        return self.pinned or self.model.live_cell()

    def repaint(self, force: bool = False) -> None:
        if self.replaying and self.is_current:
            self._paint_replay()
        if self.model.generation != self._generation:
            self._restart()
        if not force and (self.paused or not self.is_current or self.model.version == self._painted):
            return
        self._painted = self.model.version
        with self.app.batch_update():
            self._paint_columns()
            self._paint_latency()
            self._paint_progress()
            self._paint_log()

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

    def _paint_columns(self) -> None:
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
        shown = {s: m.shown_run(cell, s) for s in m.scenarios}
        metrics = metric_order(k for r in shown.values() if r is not None for k in r.series)
        width = max((c.content_size.width for c in self._columns.values()), default=40) or 40
        tops = {
            k: max(
                (max(r.values(k)[-width:], default=0.0) for r in shown.values() if r is not None), default=0.0
            )
            for k in metrics
        }
        for s, col in self._columns.items():
            run = shown.get(s)
            state, status = self._status(cell, s)
            rows = tuple(MetricRow(k, tuple(run.values(k)[-width:]) if run else (), tops[k]) for k in metrics)
            said = m.isolation.get(s) or m.isolation.get(s.rsplit("@", 1)[0])
            col.show(ColumnView(f"{s} · {said}" if said else s, state, status, rows))

    def _status(self, cell: str, scenario: str) -> tuple[str, str]:
        m = self.model
        runs = m.runs_of(cell, scenario)
        if not runs:
            return "idle", "not in this cell"
        reps = len(runs)
        for r in runs:
            if r.status == "running":
                return "running", f"● running · repeat {r.spec.repeat + 1}/{reps} · {r.last_t:.0f} s"
        ended = [r for r in runs if r.status in ("finished", "failed")]
        if ended and ended[-1].status == "failed":
            if (how := ended_by_user(ended[-1].reason)) is not None:
                return "idle", f"■ {how} by the user"
            return "failed", f"✗ failed: {ended[-1].reason}"
        if len(ended) == reps:
            took = ended[-1].duration
            return "finished", f"✓ {reps} repeat(s) done" + (f" · last {took:.1f} s" if took else "")
        if m.status is not None:
            return "idle", f"not run: session {m.status}"
        busy = [r.spec.scenario for r in m.running()]
        nxt = len(ended) + 1
        if busy:
            return "waiting", f"waiting for {', '.join(busy)} (repeat {nxt}/{reps}, {m.pairing} pairing)"
        return "waiting", f"waiting to start (repeat {nxt}/{reps})"

    def _paint_latency(self) -> None:
        cell = self.shown_cell()
        if cell is None:
            return
        lat: dict[str, Latency] = {
            s: self.model.latency[(cell, s)] for s in self.model.scenarios if (cell, s) in self.model.latency
        }
        summary = self.model.summary()
        verdicts = {
            (row.metric, s): v.verdict
            for row in summary.rows if row.cell == cell
            for s in summary.scenarios if (v := summary.versus(row, s)) is not None
        }  # fmt: skip
        self.query_one(PercentileTable).show(self.model.scenarios, lat, verdicts)
        cdf = self.query_one(LatencyCDF)
        if cdf.size.width and cdf.size.height:
            cdf.show(self.model.scenarios, lat)
            self.query_one("#cdf-legend", Static).update(LatencyCDF.legend(self.model.scenarios))

    def _paint_progress(self) -> None:
        m = self.model
        cell = self.shown_cell()
        total = len(m.order)
        line1 = Text()
        line1.append(f"{m.profile_name or 'katatui'} ", style="bold")
        if cell is not None:
            idx = m.cells.index(cell) + 1 if cell in m.cells else 0
            line1.append(f"cell {idx}/{len(m.cells)} ", style="bold cyan")
            line1.append(m.cell_of[cell].label)
        running = m.running()
        if running:
            line1.append(f"  repeat {running[0].spec.repeat + 1}/{m.repeats()}")
        line2 = Text()
        line2.append(f"run {min(total, m.done_count() + len(running))}/{total}  ")
        line2.append_text(outcomes(m).ended_text())
        line2.append(f"elapsed {clock(m.elapsed())}  ")
        remaining = m.remaining()
        line2.append("remaining " + ("~" + clock(remaining) if remaining is not None else "unknown") + "  ")
        if m.status is not None:
            line2.append(
                f"session {m.status}  ", style="bold green" if m.status == "completed" else "bold red"
            )
        if self.pinned is not None:
            line2.append("viewing a finished cell (l: follow live)  ", style="reverse")
        if self.paused:
            line2.append(" PAUSED (p: resume) ", style="reverse yellow")
        self.query_one("#progress", Static).update(Text("\n").join([line1, line2]))

    def _paint_log(self) -> None:
        log = self.query_one(RichLog)
        for line in self.model.log:
            if line.seq > self._logged:
                log.write(Text(line.text, style=LOG_STYLES.get(line.level, "")))
                self._logged = line.seq

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
