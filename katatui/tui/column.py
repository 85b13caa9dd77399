"""One scenario's column: its state and a sparkline per live metric, on a scale shared across columns.

The screen computes a ``ColumnView`` per column on each repaint; the widget repaints only when its
view changed, so a quiet column costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from katatui.core.workloads import registry
from katatui.views.labels import format_value

BLOCKS = " ▁▂▃▄▅▆▇█"
SPARK_HEIGHT = 3


def spark_rows(values: Sequence[float], width: int, height: int, top: float) -> list[str]:
    """Bars from zero to ``top`` (the shared scale), newest on the right, ``height`` rows of text."""
    shown = list(values)[-width:] if width > 0 else []
    rows: list[str] = []
    for r in range(height - 1, -1, -1):
        chars = []
        for v in shown:
            eighths = 0 if top <= 0 else round(max(0.0, v) / top * height * 8)
            chars.append(BLOCKS[min(8, max(0, eighths - r * 8))])
        rows.append("".join(chars).rjust(width))
    return rows


def metric_label(metric: str) -> str:
    """The dashboard's name of a metric: its catalogue's ``live_label``, else its own name."""
    spec = registry.metric(metric)
    if spec is not None and spec.live_label is not None:
        return spec.live_label
    return metric.replace("_", " ")


def format_rate(metric: str, value: float) -> str:
    if metric.endswith("_percent"):
        return f"{value:,.0f}%"
    if metric.endswith("_bytes"):
        return format_value(value, "B")
    if metric.endswith("bw_bytes_per_s"):
        return format_value(value, "B/s")
    if metric.endswith("iops"):
        return format_value(value, "IO/s")
    if metric == "bits_per_second":
        return f"{value / 1e9:,.2f} Gbit/s" if value >= 1e8 else f"{value / 1e6:,.1f} Mbit/s"
    return f"{value:,.0f}/s"


@dataclass(frozen=True)
class MetricRow:
    metric: str
    values: tuple[float, ...]
    top: float  # the shared scale: the highest value any column shows for this metric


@dataclass(frozen=True)
class ColumnView:
    title: str
    state: str  # running | finished | failed | waiting | idle
    status: str  # one line saying what the column is doing or waiting for
    rows: tuple[MetricRow, ...]


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
    """

    def __init__(self, scenario: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario
        self.border_title = scenario
        self.view: ColumnView | None = None

    def show(self, view: ColumnView) -> None:
        if view == self.view:
            return
        if self.view is None or view.state != self.view.state:
            for state in ("running", "finished", "failed", "waiting", "idle"):
                self.set_class(view.state == state, f"-{state}")
        self.view = view
        self.border_title = view.title
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        rows = len(self.view.rows) if self.view else 0
        return 2 + rows * (1 + SPARK_HEIGHT)

    def render(self) -> RenderableType:
        view = self.view
        if view is None:
            return Text("waiting for the plan", style="dim")
        width = max(1, self.content_size.width)
        style = {"failed": "bold red", "running": "green", "waiting": "yellow", "finished": "cyan"}
        out = Text(no_wrap=True, overflow="ellipsis")
        status = _fit(view.status, width * 2)
        for line in (status[:width], status[width:]):  # two lines: room for a failure's reason
            out.append(line + "\n", style=style.get(view.state, "dim"))
        dim = view.state in ("waiting", "idle")
        for row in view.rows:
            label = metric_label(row.metric)
            value = format_rate(row.metric, row.values[-1]) if row.values else "–"
            gap = max(1, width - len(label) - len(value))
            out.append(label + " " * gap, style="dim")
            out.append(value + "\n", style="dim" if dim else "bold")
            for line in spark_rows(row.values, width, SPARK_HEIGHT, row.top):
                out.append(line + "\n", style="grey50" if dim else "dodger_blue1")
        out.rstrip()
        return out


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
