"""The compare screen: two or more saved sessions side by side.

Cells are matched by workload kind, variant and clients (:mod:`katatui.core.compare`, the same
comparison as ``katatui compare``): medians per column, the ratio of medians to the baseline
column with its 95% interval and verdict (Welch's unpaired interval across sessions), and, for
the highlighted cell, the latency CDFs of every column overlaid (from the histograms of all its
runs). A seed study's published figures can be laid beside, labelled as figures from other
hardware.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from katatui.core import reference
from katatui.core.compare import LETTERS, CellKey, CompareRow, Comparison, compare
from katatui.core.errors import UserError
from katatui.core.session import SessionReader
from katatui.tui.cdf import DECADES, LatencyCDF
from katatui.tui.keys import bindings
from katatui.tui.model import Latency
from katatui.tui.percentiles import latency_label
from katatui.views.compare import cell_text
from katatui.views.labels import format_value, metric_label

Curves = dict[CellKey, dict[str, Latency]]  # cell -> column label -> merged histograms


def curves(paths: Sequence[Path]) -> Curves:
    """Every session's histograms summed per matched cell and column (``LETTER:scenario``)."""
    out: Curves = {}
    version = 0
    for letter, path in zip(LETTERS, paths, strict=False):
        with SessionReader(path) as reader:
            keys = {r.spec.cell: CellKey.of(r.spec) for r in reader.runs()}
            totals = reader.histogram_totals()
        for (cell, scenario, name), bins in totals.items():
            key = keys.get(cell)
            if key is None or not bins:
                continue
            lat = out.setdefault(key, {}).get(f"{letter}:{scenario}")
            if lat is None:
                version += 1  # distinct per curve, so the plot redraws when the cell changes
                lat = out[key][f"{letter}:{scenario}"] = Latency(version=version)
            lat.bins.setdefault(name, Counter()).update(bins)
    return out


@dataclass(frozen=True)
class Loaded:
    comparison: Comparison
    curves: Curves


# Colours of the 256-colour palette (plotext and Rich name them alike), twelve that stay apart on
# dark and light terminals; each session draws with a line style of its own besides.
SERIES_COLORS = (51, 208, 201, 46, 196, 33, 226, 250, 141, 130, 218, 30)
# plotext markers: a session's line style, and the glyphs the legend shows for it
LINE_STYLES = (("braille", "━━"), ("•", "••"), ("+", "++"), ("x", "××"), ("*", "**"), ("o", "oo"))


@dataclass(frozen=True)
class SeriesStyle:
    color: int  # 256-colour palette index
    marker: str  # plotext's marker
    glyph: str  # how the legend draws the line

    @property
    def rich(self) -> str:
        return f"color({self.color})"


def series_styles(columns: Sequence[str]) -> dict[str, SeriesStyle]:
    """A style per column (``LETTER:scenario``): its own colour (twelve before one comes back),
    and its session's line style, so that two columns never look alike up to 12 series and A's
    crun and B's runc are told apart by colour and by line."""
    letters = sorted({c.split(":", 1)[0] for c in columns if ":" in c})
    out: dict[str, SeriesStyle] = {}
    for i, column in enumerate(columns):
        letter = column.split(":", 1)[0] if ":" in column else ""
        marker, glyph = LINE_STYLES[(letters.index(letter) if letter in letters else 0) % len(LINE_STYLES)]
        out[column] = SeriesStyle(SERIES_COLORS[i % len(SERIES_COLORS)], marker, glyph)
    return out


class CompareCDF(LatencyCDF):
    """The live screen's CDF on the same log axis, one colour and line style per column, redrawn
    whenever another cell is shown."""

    def show(self, scenarios: Sequence[str], latency: Mapping[str, Latency]) -> None:
        styles = series_styles(scenarios)
        names = sorted({n for lat in latency.values() for n in lat.bins})
        name = "read_clat_ns" if "read_clat_ns" in names else (names[0] if names else None)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = [(s, latency[s].cdf(name)) for s in scenarios if s in latency] if name else []
        series = [(s, xy) for s, xy in series if len(xy[0]) >= 2 and min(xy[0]) > 0]
        if name is None or not series:
            plt.title("latency CDF: no histogram with enough samples in this cell")
        else:
            plt.title(f"{latency_label(name)} completion latency CDF (µs, log scale)")
            plt.ylim(0, 1)
            lo = min(min(xs) for _, (xs, _) in series)
            hi = max(max(xs) for _, (xs, _) in series)
            ticks = list(range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1))
            plt.xticks([float(t) for t in ticks], [DECADES.get(d, f"1e{d} µs") for d in ticks])
            for s, (xs, ys) in series:
                style = styles[s]
                plt.plot([math.log10(x) for x in xs], ys, color=style.color, marker=style.marker)
        self.refresh()

    @staticmethod
    def legend(scenarios: Sequence[str]) -> Text:
        out = Text(" ")
        for column, style in series_styles(scenarios).items():
            out.append(f"{style.glyph} ", style=style.rich)
            out.append(f"{column}   ")
        return out


def label_lines(key: CellKey, rows: int, width: int = 24) -> list[str]:
    """The cell's label in lines of about ``width`` characters, spread over its ``rows`` rows (the
    last row takes whatever is left), so that the cell column stays narrow."""
    words = [key.kind, *key.words, f"clients={key.clients}"]
    lines: list[str] = []
    for word in (w for w in words if w):
        if lines and len(lines[-1]) + 1 + len(word) <= width and len(lines) > 1:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > rows > 0:
        lines[rows - 1 :] = [" ".join(lines[rows - 1 :])]
    return lines + [""] * (rows - len(lines))


def ratio_text(cmp: Comparison, row: CompareRow, column: str) -> Text:
    """A cell of the table: the median (±cv), then ×ratio [95% interval], as ``katatui compare``."""
    value, ratio, style = cell_text(cmp, row, column)
    text = Text(value, no_wrap=True)
    if ratio:
        text.append("\n" + ratio, style=style)
    return text


class CompareScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("compare")
    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    #compare-head { height: auto; padding: 0 1; background: $boost; }
    #compare-table { height: 1fr; min-height: 8; }
    #compare-plot { height: 16; }
    #compare-cdf-title { height: 1; padding: 0 1; }
    #compare-legend { height: auto; max-height: 3; }
    #compare-only { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """

    def __init__(
        self, paths: Sequence[Path], *, seed: str | None = None, baseline: str | None = None
    ) -> None:
        super().__init__()
        self.paths = list(paths)
        self.seed = seed
        self.baseline = baseline
        self.comparison: Comparison | None = None
        self.curves: Curves = {}
        self.loaded = False  # the first comparison is on the screen (tests wait on it)
        self.show_published = False  # scroll the published figures into view once they are shown

    def compose(self) -> ComposeResult:
        yield Static(f"katatui: comparing {len(self.paths)} sessions…", id="compare-head")
        # the cell and metric columns stay while the sessions' columns scroll (left / right)
        yield DataTable[str | Text](id="compare-table", cursor_type="row", fixed_columns=2)
        with Vertical(id="compare-plot"):
            yield Static(id="compare-cdf-title")
            yield CompareCDF(id="compare-cdf")
            yield Static(id="compare-legend")
        yield Static(id="compare-only")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compare-table", DataTable).focus()
        self.load(with_curves=True)

    def on_screen_resume(self) -> None:
        self.app.call_after_refresh(getattr(self.app, "check_size", lambda: None))

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def load(self, *, with_curves: bool = False) -> None:
        def compute() -> Loaded:
            cmp = compare(self.paths, baseline=self.baseline, seed=self.seed)
            return Loaded(cmp, curves(self.paths) if with_curves else self.curves)

        try:
            loaded = await asyncio.to_thread(compute)
        except UserError as exc:
            self.query_one("#compare-head", Static).update(Text(f"cannot compare: {exc}", style="bold red"))
            self.notify(str(exc), title="cannot compare", severity="error", timeout=10, markup=False)
            self.loaded = True
            return
        self.comparison, self.curves = loaded.comparison, loaded.curves
        self.baseline = loaded.comparison.baseline
        self.show()
        self.loaded = True

    # -- painting -------------------------------------------------------------------------------
    def show(self) -> None:
        cmp = self.comparison
        if cmp is None:
            return
        head = Text()
        head.append("katatui compare", style="bold")
        head.append(f" · medians; ×ratio to {cmp.baseline}, verdict [95% interval: paired within a session, "
                    "† Welch across sessions]\n")  # fmt: skip
        for s in cmp.sessions:
            head.append(f"{s.letter}", style="bold")
            head.append(f": {s.path} ({s.profile}, {s.status})" + (f" [{s.label}]" if s.label else "") + "\n")
        head.append("← → scroll the columns (cell and metric stay)\n", style="dim")
        if cmp.seed is not None:
            head.append(f"{reference.PUBLISHED_LABEL}: ", style="bold magenta")
            head.append(reference.SEED_TITLES.get(cmp.seed, cmp.seed), style="magenta")
            if not any(r.published for r in cmp.rows):
                head.append(" (no figure of that study matches these cells)", style="dim")
        head.rstrip()
        self.query_one("#compare-head", Static).update(head)

        table = self.query_one("#compare-table", DataTable)
        row_at = table.cursor_row
        table.clear(columns=True)
        table.add_column("cell", key="cell")
        table.add_column("metric", key="metric")
        for col in cmp.column_labels:
            label = Text(col, style="bold underline" if col == cmp.baseline else "bold")
            table.add_column(label, key=col)
        published = cmp.seed is not None
        if published:
            # short: beside the frozen columns it must fit an 80-column terminal (the head says it all)
            table.add_column(Text("published (other hw)", style="magenta"), key="published")
        per_cell = Counter(row.key for row in cmp.rows)
        labels: dict[CellKey, list[str]] = {}
        for i, row in enumerate(cmp.rows):
            if row.key not in labels:
                labels[row.key] = label_lines(row.key, per_cell[row.key])
            part = labels[row.key].pop(0)
            cells: list[str | Text] = [Text(part, style="bold" if part == row.key.kind else ""),
                                       metric_label(row.metric)]  # fmt: skip
            cells += [ratio_text(cmp, row, col) for col in cmp.column_labels]
            if published:
                cells.append(
                    Text("\n".join(f"{m.label}: {format_value(m.value, m.unit)}" for m in row.published),
                         style="magenta")
                )  # fmt: skip
            table.add_row(*cells, key=str(i), height=None)
        if not cmp.rows:
            self.query_one("#compare-cdf-title", Static).update(
                Text("no cell (workload, variant, clients) is in more than one session", style="yellow")
            )
        elif table.row_count:
            table.move_cursor(row=min(max(row_at, 0), table.row_count - 1))
        if published and self.show_published:
            self.show_published = False
            table.call_after_refresh(lambda: table.scroll_to(x=table.max_scroll_x, animate=False))
        only = Text()
        for letter, cell in cmp.only_in:
            only.append(f"only in {letter}: {cell}\n", style="dim")
        only.rstrip()
        widget = self.query_one("#compare-only", Static)
        widget.update(only)
        widget.display = bool(cmp.only_in)
        self.show_cdf()

    def current_row(self) -> CompareRow | None:
        cmp = self.comparison
        table = self.query_one("#compare-table", DataTable)
        if cmp is None or not cmp.rows or table.row_count == 0:
            return None
        return cmp.rows[min(max(table.cursor_row, 0), len(cmp.rows) - 1)]

    @on(DataTable.RowHighlighted, "#compare-table")
    def _highlighted(self) -> None:
        self.show_cdf()

    def show_cdf(self) -> None:
        cmp, row = self.comparison, self.current_row()
        title = self.query_one("#compare-cdf-title", Static)
        plot = self.query_one("#compare-cdf", CompareCDF)
        legend = self.query_one("#compare-legend", Static)
        if cmp is None or row is None:
            plot.display = legend.display = False
            return
        by_column = self.curves.get(row.key, {})
        columns = [c for c in cmp.column_labels if c in by_column]
        if not columns:
            title.update(Text(f"{row.key.label}: no latency histograms in this cell", style="dim"))
            plot.display = legend.display = False
            return
        title.update(
            Text.assemble((row.key.label, "bold"), ": latency CDF of every run in each column, overlaid")
        )
        plot.display = legend.display = True
        plot.show(columns, by_column)
        legend.update(CompareCDF.legend(columns))

    # -- actions --------------------------------------------------------------------------------
    def action_baseline(self) -> None:
        cmp = self.comparison
        if cmp is None or not cmp.column_labels:
            return
        labels = cmp.column_labels
        self.baseline = labels[(labels.index(cmp.baseline) + 1) % len(labels)]
        self.notify(f"ratios to {self.baseline}")
        self.load()

    def action_reference(self) -> None:
        seeds: list[str | None] = [None, *reference.seed_ids()]
        self.seed = seeds[(seeds.index(self.seed) + 1) % len(seeds) if self.seed in seeds else 0]
        self.notify(
            f"{reference.PUBLISHED_LABEL}: {reference.SEED_TITLES.get(self.seed, self.seed)}"
            " (the last columns: ← → scroll)" if self.seed else "no published figures"
        )  # fmt: skip
        self.show_published = self.seed is not None
        self.load()

    def action_back(self) -> None:
        stack = self.app.screen_stack
        if len(stack) > 1 and stack[-2].id != "_default":  # a screen to go back to
            self.app.pop_screen()
        else:
            self.notify("q quits", severity="information")
