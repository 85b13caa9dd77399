"""The latency CDF: one line per scenario on a log axis, from the same merged histograms."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from katatui.tui.model import Latency
from katatui.tui.percentiles import latency_label, waiting_text

COLORS = ("cyan", "orange", "magenta", "green", "red", "blue", "yellow", "white")  # plotext's names
MIN_INTERVAL = 1.0
DECADES = {-1: "0.1µs", 0: "1µs", 1: "10µs", 2: "100µs", 3: "1ms", 4: "10ms", 5: "100ms", 6: "1s", 7: "10s"}
RICH = {"orange": "orange1"}  # where Rich names the same colour differently


class LatencyCDF(PlotextPlot):
    DEFAULT_CSS = """
    LatencyCDF { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: tuple[object, ...] = ()
        self._at = 0.0

    def show(self, scenarios: Sequence[str], latency: Mapping[str, Latency]) -> None:
        self.show_with(scenarios, latency)

    def show_with(
        self,
        scenarios: Sequence[str],
        latency: Mapping[str, Latency],
        *,
        results: Mapping[str, Mapping[str, float]] | None = None,
        kind: str = "",
    ) -> None:
        """The histograms' CDF, else (ab, sysbench) the percentiles the runs reported at their end
        (``results``: scenario -> label -> ms) as the points of a CDF."""
        names = sorted({n for lat in latency.values() for n in lat.bins})
        name = "read_clat_ns" if "read_clat_ns" in names else (names[0] if names else None)
        if name is None:
            self._show_points(scenarios, results or {}, kind)
            return
        stamp = (name, tuple(scenarios), tuple(latency[s].version if s in latency else -1 for s in scenarios))
        if stamp == self._drawn:
            return
        now = time.monotonic()
        if self._drawn and now - self._at < MIN_INTERVAL and stamp[:2] == self._drawn[:2]:
            return  # plotext's redraw is the costliest paint: at most once a second for new data
        self._drawn, self._at = stamp, now
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = [(i, latency[s].cdf(name)) for i, s in enumerate(scenarios) if s in latency]
        series = [(i, xy) for i, xy in series if len(xy[0]) >= 2 and min(xy[0]) > 0]
        if not series:
            plt.title(f"{latency_label(name)} latency CDF: waiting for more samples")
        else:
            self._draw(f"{latency_label(name)} completion latency CDF (µs, log scale)", series)
        self.refresh()

    def _draw(self, title: str, series: Sequence[tuple[int, tuple[list[float], list[float]]]],
              marker: str = "braille") -> None:  # fmt: skip
        plt = self.plt
        plt.title(title)
        # Our own log axis: plotext's xscale("log") re-applies log10 to the data on every
        # render, so the lines drift left as the widget repaints.
        plt.ylim(0, 1)
        lo = min(min(xs) for _, (xs, _) in series)
        hi = max(max(xs) for _, (xs, _) in series)
        ticks = [d for d in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
        plt.xticks([float(t) for t in ticks], [DECADES.get(d, f"1e{d} µs") for d in ticks])
        for i, (xs, ys) in series:  # plotext's own legend breaks on some series: ours is legend()
            logx = [math.log10(x) for x in xs]
            plt.plot(logx, ys, color=COLORS[i % len(COLORS)], marker=marker)

    def _show_points(self, scenarios: Sequence[str], results: Mapping[str, Mapping[str, float]],
                     kind: str) -> None:  # fmt: skip
        figures = tuple(sorted((s, tuple(sorted(v.items()))) for s, v in results.items()))
        stamp = ("results", tuple(scenarios), figures, kind)
        if stamp == self._drawn:
            return
        self._drawn, self._at = stamp, time.monotonic()
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = []
        for i, s in enumerate(scenarios):
            pts = sorted(
                (ms * 1000, 1.0 if label == "max" else float(label[1:]) / 100)
                for label, ms in results.get(s, {}).items()
                if ms > 0
            )
            if len(pts) >= 2:
                series.append((i, ([x for x, _ in pts], [y for _, y in pts])))
        if series:
            self._draw("latency CDF from reported percentiles (µs, log)", series)
        else:
            plt.title(waiting_text(kind).replace("percentiles", "CDF"))
        self.refresh()

    def render(self) -> RenderResult:
        try:
            return super().render()
        except (ValueError, ZeroDivisionError, IndexError) as exc:  # plotext on a degenerate axis
            return Text(f"latency CDF: cannot draw this data yet ({exc})", style="dim")

    @staticmethod
    def legend(scenarios: Sequence[str]) -> Text:
        out = Text(" ")
        for i, s in enumerate(scenarios):
            color = COLORS[i % len(COLORS)]
            out.append("━━ ", style=RICH.get(color, color))
            out.append(f"{s}   ")
        return out
