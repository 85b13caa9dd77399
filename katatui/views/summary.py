"""The headless client of the engine: a line per finished run, and a side-by-side table at the end."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from katatui.core.events import (
    Event,
    LogMessage,
    RoundFinished,
    RunFailed,
    RunFinished,
    RunSpec,
    RunStarted,
    SessionStarted,
)
from katatui.core.report import Summary
from katatui.views.fit import SplitTable, print_whole, widest
from katatui.views.labels import format_value, metric_label
from katatui.views.ratio import STYLE, interval_text, level_text, summary_footer, versus_style

SHOWN = (
    "read_bw_bytes_per_s", "read_iops", "read_clat_p99_us", "write_bw_bytes_per_s", "write_iops",
    "write_clat_p99_us", "sent_bits_per_second", "received_bits_per_second", "retransmits",
    "requests_per_second", "latency_p99_ms", "events_per_second", "mib_per_s", "bytes_per_s",
    "launch_s", "launch_cold_s", "sandbox_rss_bytes", "sandbox_pss_bytes",
)  # fmt: skip


class HeadlessPrinter:
    """A listener that prints progress; it never blocks the engine for longer than a print."""

    def __init__(self, console: Console, *, verbose: bool = False, auto: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.auto = auto  # repeats = "auto": the plan is the most runs the session may take
        self.runs: dict[str, RunSpec] = {}
        self.total = 0
        self.done = 0
        self.warned: set[str] = set()  # runs a warning was said about (a time limit that cut one short)

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, SessionStarted):
            self.runs = {r.run_id: r for r in ev.runs}
            self.total = len(ev.runs)
            scen = sorted({r.scenario for r in ev.runs}, key=[r.scenario for r in ev.runs].index)
            self.console.print(
                f"[bold]{ev.profile_name}[/]: {'up to ' if self.auto else ''}{self.total} runs, "
                f"scenarios {', '.join(scen)}, "
                f"pairing {ev.pairing}, session {ev.session_id}"
            )
        elif isinstance(ev, RunStarted) and self.verbose:
            for cmd in ev.commands:
                self.console.print(Text("  $ " + " ".join(cmd), style="dim"))
        elif isinstance(ev, RunFinished):
            self.done += 1
            spec = self.runs.get(ev.run_id)
            figures = ", ".join(format_value(ev.results[m].value, ev.results[m].unit) + f" {_short(m)}"
                                for m in SHOWN if m in ev.results)  # fmt: skip
            ok = "[yellow]ok, with the warning above[/]" if ev.run_id in self.warned else "[green]ok[/]"
            self.console.print(f"{self._head(spec)} {ok} {figures} [dim]({ev.duration:.1f} s)[/]")
        elif isinstance(ev, RunFailed):
            self.done += 1
            spec = self.runs.get(ev.run_id)
            self.console.print(f"{self._head(spec)} [red]failed[/]: {Text(ev.reason).markup}")
        elif isinstance(ev, LogMessage):
            if ev.level == "warning" and ev.run_id:
                self.warned.add(ev.run_id)
            style = {"info": "dim", "warning": "yellow", "error": "red"}[ev.level]
            self.console.print(Text(f"{ev.level}: {ev.text}", style=style))
        elif isinstance(ev, RoundFinished):
            self.total -= len(ev.dropped)
            self.console.print(round_line(ev, self._cell_label(ev.cell)))

    def _cell_label(self, cell: str) -> str:
        spec = next((r for r in self.runs.values() if r.cell == cell), None)
        return spec.matrix_cell.label if spec is not None else cell

    def _head(self, spec: RunSpec | None) -> str:
        if spec is None:
            return f"[{self.done}/{self.total}]"
        return (
            f"[{self.done}/{self.total}] [bold]{spec.scenario}[/] {spec.workload} {spec.variant_label} "
            f"clients={spec.clients} repeat={spec.repeat + 1}"
        )


def round_line(ev: RoundFinished, cell: str) -> Text:
    """``round 2 fio randread 4k: runsc vs runc read IOPS ×0.31 worse [0.29–0.33]; ...``, then why the
    cell stops adding rounds, when it does."""
    line = Text(f"round {ev.round + 1} ", style="bold") + Text(f"{cell}:")
    if not ev.comparisons:
        line.append(" nothing to compare", style="dim")
    if ev.comparisons and all(c.low is None for c in ev.comparisons):  # one round: ratios, no verdict yet
        line.append(";".join(f" {c.scenario} vs {c.reference} {metric_label(c.metric)} ×{c.ratio:.2f}"
                              for c in ev.comparisons))  # fmt: skip
        line.append(" (one round: no interval yet)", style="dim")
        return line
    for i, c in enumerate(ev.comparisons):
        line.append(";" if i else "")
        line.append(f" {c.scenario} vs {c.reference} {metric_label(c.metric)} ")
        v = c.verdict if c.verdict in STYLE else "undecided"
        line.append(f"×{c.ratio:.2f} {v}", style=STYLE[v])
        shown = c.low is not None and c.high is not None
        line.append(f" [{c.low:.2f}–{c.high:.2f}]{level_text(c.level)}" if shown else " [one round]",
                    style="dim")  # fmt: skip
    if ev.note:
        line.append(f" — {ev.note}", style="bold")
    return line


def _short(metric: str) -> str:
    return metric_label(metric).removesuffix(" bandwidth").removesuffix(" IOPS")


def summary_table(summary: Summary, title: str) -> SplitTable:
    """The side-by-side table, every figure whole: too wide for the width it gets, it splits the
    scenarios over several tables, each with the reference column (:mod:`katatui.views.fit`)."""
    return SplitTable(lambda columns: _table(summary, title, columns), summary.scenarios,
                      [summary.reference] if summary.reference else [])  # fmt: skip


def print_summary(console: Console, summary: Summary, title: str) -> None:
    """The summary table; output that is not a terminal gets the one table as wide as it needs."""
    print_whole(console, summary_table(summary, title))


def _table(summary: Summary, title: str, scenarios: list[str]) -> Table:
    ref = summary.reference
    caption = escape(summary_footer(summary)) if summary.rows else None  # "[no interval]" is text, not markup
    table = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    table.add_column("cell", overflow="fold", max_width=24)
    table.add_column("metric")
    rows: list[list[Text | str]] = []
    last_cell = None
    for row in summary.rows:
        cells: list[Text | str] = [
            Text(summary.cells[row.cell].label if row.cell in summary.cells and row.cell != last_cell
                 else (row.cell if row.cell != last_cell else "")),
            metric_label(row.metric),
        ]  # fmt: skip
        last_cell = row.cell
        for s in scenarios:
            stat = row.by_scenario.get(s)
            if stat is None:
                cells.append(Text("-", style="dim"))
                continue
            text = Text(format_value(stat.median, row.unit), no_wrap=True)
            if stat.n > 1:
                text.append(f" ±{(stat.cv or 0) * 100:.0f}%", style="dim")
            v = summary.versus(row, s)
            if v is not None:
                text.append(f"\n×{v.ratio:.2f} {v.verdict}", style=versus_style(v))
                text.append("\n" + interval_text(v), style="dim")
            cells.append(text)
        rows.append(cells)
    for i, s in enumerate(scenarios):
        # Wide enough for the longest line of a figure: a figure is never cut nor wrapped.
        table.add_column(s if s == ref else f"{s}\n(vs {ref})", justify="right",
                         min_width=widest([r[2 + i] for r in rows]), no_wrap=True)  # fmt: skip
    for n, cells in enumerate(rows):
        if n and summary.rows[n].cell != summary.rows[n - 1].cell:
            table.add_section()
        table.add_row(*cells)
    return table


def print_notes(console: Console, notes: list[str], most: int = 8) -> None:
    """Statistical notes under the table; the rest are in ``katatui report --format json``."""
    for note in notes[:most]:
        console.print(Text("note: ", style="yellow") + Text(note))
    if len(notes) > most:
        console.print(
            Text(
                f"... and {len(notes) - most} more notes (katatui report SESSION --format json)", style="dim"
            )
        )
