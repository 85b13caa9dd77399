"""One scenario's column: its state and, per live metric, the latest value, its ratio to the
baseline scenario with the verdict and interval, and a chart of the whole cell.

The chart's x axis is the cell's own time (every round of every scenario on one axis, the same in
every column) and its y scale is shared by the columns, so a slower scenario is visibly lower and
later. Two shapes: side by side (a bordered column, ``spark`` rows of chart per metric) or stacked
(one line per metric, for terminals too narrow for the columns side by side). A ratio and its
verdict are never cut: the chart gets what is left.

The screen computes a ``ColumnView`` per column on each repaint; the widget repaints only when its
view changed, so a quiet column costs nothing.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from katatui.core.workloads import registry
from katatui.views.labels import format_value

BLOCKS = " ▁▂▃▄▅▆▇█"
SPARK_HEIGHT = 3
BIG = 3  # lines of a value in large type
VERSUS = 28  # "×1.02 undecided [0.93–1.02]†": stacked lines keep this much for the ratio
LABELS = {"latency_p95_ms": "latency p95", "retransmits": "retransmits/s"}
STATE_STYLE = {"failed": "bold red", "running": "green", "waiting": "yellow", "finished": "cyan"}


def spark_rows(values: Sequence[float | None], width: int, height: int, top: float) -> list[str]:
    """Bars from zero to ``top`` (the shared scale), ``height`` rows of text, left-aligned on the
    cell's time axis (a ``None``: no sample in that slot)."""
    shown = list(values)[:width] if width > 0 else []
    rows: list[str] = []
    for r in range(height - 1, -1, -1):
        chars = []
        for v in shown:
            if v is None:
                chars.append(" ")
                continue
            eighths = 0 if top <= 0 else round(max(0.0, v) / top * height * 8)
            if r == 0 and v > 0:
                eighths = max(1, eighths)  # a value above zero shows, however small
            chars.append(BLOCKS[min(8, max(0, eighths - r * 8))])
        rows.append("".join(chars).ljust(width))
    return rows


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``value`` on a scale of ``top`` (a result with no time series: launch, boot)."""
    if width <= 0 or top <= 0:
        return ""
    eighths = round(max(0.0, value) / top * width * 8)
    full, part = divmod(min(eighths, width * 8), 8)
    return ("█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")).ljust(width)


def buckets(points: Sequence[tuple[float, float]], per: float, width: int) -> list[float | None]:
    """Points (seconds on the cell's axis, value, each standing for the second after it) as ``width``
    slots of ``per`` seconds: each slot the mean of its points; a point fills every slot of its
    second when slots are shorter than a second (the chart is as wide as its panel)."""
    sums = [0.0] * width
    counts = [0] * width
    for t, v in points:
        first = int(t / per)
        last = max(first, int((t + 1) / per) - 1)  # a slot shorter than a second: the point's second
        for i in range(max(0, first), min(width - 1, last) + 1):
            sums[i] += v
            counts[i] += 1
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def metric_label(metric: str) -> str:
    """The dashboard's name of a metric: its catalogue's ``live_label``, else its own name."""
    if metric in LABELS:
        return LABELS[metric]
    spec = registry.metric(metric)
    if spec is not None and spec.live_label is not None:
        return spec.live_label
    if spec is not None:
        return spec.label
    return metric.replace("_", " ")


def format_rate(metric: str, value: float) -> str:
    if metric.endswith("_ms"):
        return f"{value:,.2f} ms" if value < 100 else f"{value:,.0f} ms"
    if metric.endswith("_s") and not metric.endswith("_per_s"):
        return f"{value:,.3f} s" if value < 10 else f"{value:,.1f} s"
    if metric.endswith("_percent") or metric.endswith("_percent_mean"):
        return f"{value:,.0f}%"
    if metric.endswith("_bytes"):
        return format_value(value, "B")
    if metric.endswith("bw_bytes_per_s"):
        return format_value(value, "B/s")
    if metric.endswith("iops"):
        return format_value(value, "IO/s")
    if metric.endswith("bits_per_second"):
        return f"{value / 1e9:,.2f} Gbit/s" if value >= 1e8 else f"{value / 1e6:,.1f} Mbit/s"
    if metric == "retransmits":
        return f"{value:,.0f}"
    if metric.endswith(("_per_s", "_per_second", "_iops")):
        return f"{value:,.0f}/s"
    return f"{value:,.4g}"


@dataclass(frozen=True)
class MetricRow:
    metric: str
    points: tuple[tuple[float, float], ...]  # (seconds since the cell started, value), every round
    top: float  # the shared scale: the highest value any column shows for this metric
    span: float = 0.0  # the shared time axis: seconds from the cell's start to its latest point
    live: float | None = None  # the latest value (None: no sample yet)
    versus: str = ""  # "×0.42 worse [0.40–0.44]", "baseline", or "" (nothing to compare yet)
    style: str = "dim"  # the verdict's style (katatui.views.ratio)
    bar: bool = False  # a result without a time series: a horizontal bar of ``live``
    absent: str = ""  # why this column never has the metric (a bare process has no sandbox)


@dataclass(frozen=True)
class ColumnView:
    title: str
    state: str  # running | finished | failed | waiting | idle
    status: str  # one line saying what the column is doing or waiting for
    rows: tuple[MetricRow, ...]
    stacked: bool = False  # one line per metric, columns one above the other
    spark: int = SPARK_HEIGHT  # rows of chart per metric, side by side
    hidden: int = 0  # metrics left out for want of room
    wrap: bool = False  # side by side: a ratio too long for the column takes two lines (every column)
    big: bool = False  # side by side with room to spare: the first metric's value in large type


def row_height(stacked: bool, spark: int, wrap: bool, row: MetricRow, big: bool = False) -> int:
    """Lines one metric takes (side by side: its header, its value in large type if ``big``, its ratio
    line or two, its chart)."""
    if stacked:
        return 1
    return 2 + (BIG if big else 0) + (1 if wrap else 0) + (1 if row.bar else spark)


# Figures in large type, three lines of block characters (which every terminal font and the SVG
# screenshots draw alike); a thousands separator is a gap, a decimal point a dot.
FONT = {
    "0": ("█▀█", "█ █", "█▄█"), "1": ("▀█ ", " █ ", "▄█▄"), "2": ("▀▀█", "█▀▀", "█▄▄"),
    "3": ("▀▀█", " ▀█", "▄▄█"), "4": ("█ █", "▀▀█", "  █"), "5": ("█▀▀", "▀▀█", "▄▄█"),
    "6": ("█▀▀", "█▀█", "█▄█"), "7": ("▀▀█", "  █", "  █"), "8": ("█▀█", "█▀█", "█▄█"),
    "9": ("█▀█", "▀▀█", "▄▄█"), ".": (" ", " ", "▄"), ",": (" ", " ", " "), "-": ("   ", "▀▀▀", "   "),
}  # fmt: skip


def big_lines(value: str) -> list[str]:
    """``57,068 IOPS`` as three lines: the figure in large type, the unit after it on the last line."""
    cut = next((i for i, ch in enumerate(value) if ch not in FONT), len(value))
    number, unit = value[:cut], value[cut:].strip()
    if not any(ch.isdigit() for ch in number):
        return ["", value, ""]
    rows = ["", "", ""]
    for ch in number:
        for i in range(3):
            rows[i] += FONT[ch][i] + ("" if ch == "," else " ")
    rows = [r.rstrip().ljust(max(len(x.rstrip()) for x in rows)) for r in rows]
    rows[2] += " " + unit if unit else ""
    return [r.ljust(len(rows[2])) for r in rows]


class ScenarioColumn(Widget):
    DEFAULT_CSS = """
    ScenarioColumn {
        width: 1fr;
        height: auto;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    ScenarioColumn.-running { border: round $success; }
    ScenarioColumn.-failed { border: heavy $error; background: $error 15%; }
    ScenarioColumn.-waiting { border: round $panel; }
    ScenarioColumn.-stacked { width: 100%; border: none; padding: 0 1; }
    """

    def __init__(self, scenario: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario
        self.border_title = scenario
        self.view: ColumnView | None = None

    def show(self, view: ColumnView) -> None:
        if view == self.view:
            return
        old = self.view
        if old is None or view.state != old.state:
            for state in ("running", "finished", "failed", "waiting", "idle"):
                self.set_class(view.state == state, f"-{state}")
        self.set_class(view.stacked, "-stacked")
        self.view = view
        self.border_title = None if view.stacked else view.title
        layout = old is None or (old.stacked, old.spark, len(old.rows), old.hidden) != (
            view.stacked, view.spark, len(view.rows), view.hidden,
        )  # fmt: skip
        self.refresh(layout=layout)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        view = self.view
        if view is None:
            return 1
        lines = sum(
            row_height(view.stacked, view.spark, view.wrap, r, view.big and i == 0)
            for i, r in enumerate(view.rows)
        )
        head = 1 if view.stacked else 2
        return head + lines + (1 if view.hidden and not view.stacked else 0)

    def render(self) -> RenderableType:
        view = self.view
        if view is None:
            return Text("waiting for the plan", style="dim")
        width = max(1, self.content_size.width)
        return self._stacked(view, width) if view.stacked else self._column(view, width)

    def _column(self, view: ColumnView, width: int) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        status = re.sub(r"(\d) (s|ms)\b", "\\1\u00a0\\2", view.status)  # "4.4 s" stays whole
        lines = textwrap.wrap(status, width, break_on_hyphens=False) or [""]
        if len(lines) > 2:  # two lines: room for a failure's reason
            lines = [lines[0], _fit(" ".join(lines[1:]), width)]
        for line in [*lines, ""][:2]:
            out.append(line + "\n", style=STATE_STYLE.get(view.state, "dim"))
        dim = view.state in ("waiting", "idle")
        for i, row in enumerate(view.rows):
            label = metric_label(row.metric)
            value = _value(view, row)
            if view.big and i == 0:
                large = big_lines(value) if row.live is not None else [value, "", ""]
                if max(len(line) for line in large) > width:
                    large = ["", value, ""]
                out.append(label + "\n", style="dim")
                for line in large:
                    out.append(line.rjust(width) + "\n", style="dim" if dim or row.live is None else "bold")
            else:
                gap = width - len(label) - len(value)
                if gap < 1:  # too narrow for both: the value wins, the label is cut
                    label = _fit(label, max(0, width - len(value) - 1))
                    gap = max(1, width - len(label) - len(value))
                out.append(label + " " * gap, style="dim")
                out.append(value + "\n", style="dim" if dim or row.live is None else "bold")
            for line in versus_lines(row.versus, view.wrap):  # even empty: rows align
                out.append(line.rjust(width) + "\n", style=row.style)
            if row.bar:
                out.append(bar(row.live or 0.0, row.top, width) + "\n", style="dodger_blue1")
                continue
            for line in spark_rows(chart(row, width), width, view.spark, row.top):
                out.append(line + "\n", style="grey50" if dim else "dodger_blue1")
        if view.hidden:
            out.append(f"+{view.hidden} more (a taller terminal shows them)\n", style="dim")
        out.rstrip()
        return out

    def _stacked(self, view: ColumnView, width: int) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        title = view.title
        out.append(title, style="bold reverse red" if view.state == "failed" else "bold")
        out.append("  ")
        status = _fit(view.status, max(1, width - len(title) - 2))
        out.append(status, style=STATE_STYLE.get(view.state, "dim"))
        out.append("\n")
        dim = view.state in ("waiting", "idle")
        label_w = min(16, max(len(metric_label(r.metric)) for r in view.rows) if view.rows else 0)
        for row in view.rows:
            value = _value(view, row)
            label = _fit(metric_label(row.metric), label_w).ljust(label_w)
            out.append("  " + label + " ", style="dim")
            out.append(value.rjust(12) + " ", style="dim" if dim or row.live is None else "bold")
            versus = row.versus
            out.append(versus.ljust(VERSUS) + " ", style=row.style)
            room = width - 2 - label_w - 1 - max(12, len(value)) - 1 - max(VERSUS, len(versus)) - 1
            if room > 0:
                if row.bar:
                    out.append(bar(row.live or 0.0, row.top, room), style="dodger_blue1")
                else:
                    line = spark_rows(chart(row, room), room, 1, row.top)[0]
                    out.append(line, style="grey50" if dim else "dodger_blue1")
            out.append("\n")
        out.rstrip()
        return out


def ratio_text(ratio: float) -> str:
    """``×0.42``; a ratio below 0.1 keeps two significant digits (``×0.0034``, not ``×0.00``)."""
    return f"×{ratio:.2f}" if ratio >= 0.1 or ratio == 0 else f"×{ratio:.2g}"


def versus_lines(versus: str, wrap: bool) -> list[str]:
    """The ratio on one line, or (``wrap``) the ratio and verdict, then the interval."""
    if not wrap:
        return [versus]
    head, sep, interval = versus.partition(" [")
    return [head, (sep + interval).strip()]


def chart(row: MetricRow, width: int) -> list[float | None]:
    """The row's points in ``width`` slots on the cell's time axis (shared by every column)."""
    return buckets(row.points, (row.span + 1) / max(1, width), width)


def _value(view: ColumnView, row: MetricRow) -> str:
    if row.live is not None:
        return format_rate(row.metric, row.live)
    if row.absent:
        return row.absent
    return "no sample yet" if view.state == "running" else "–"


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
