"""Latency percentiles per scenario from merged histograms (or, for a workload without them, from
its runs' results), with the ratio to the baseline scenario.

Updated by diff: a cell is rewritten only when its text changed, and the table is rebuilt only when
its rows or columns change (another matrix cell, a new histogram name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from katatui.core.stats import Verdict
from katatui.tui.column import ratio_text
from katatui.tui.model import PERCENTILES, Latency
from katatui.views.ratio import ratio_style, verdict_style

LABELS = (*(label for _, label in PERCENTILES), "max")


def latency_label(name: str) -> str:
    """``read_clat_ns`` as ``read``: the table's rows say which direction."""
    return name.split("_", 1)[0]


def format_us(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:,.1f} ms"
    return f"{value:,.0f} µs" if value >= 100 else f"{value:,.1f} µs"


def summary_metric(name: str, label: str) -> str:
    """The summary's metric of a histogram's percentile: ``read_clat_ns`` p99 is ``read_clat_p99_us``."""
    return f"{name.removesuffix('_ns')}_{label.replace('.', '_')}_us"


def cell_text(
    value: float | None,
    ref: float | None,
    *,
    is_reference: bool,
    verdict: Verdict | None = None,
    brief: bool = False,
) -> Text:
    """A percentile and its ratio to the reference's, coloured by the verdict the runs' rounds give
    that metric (the summary's, when it has the percentile), else undecided: a merged histogram has
    no interval."""
    if value is None:
        return Text("–", style="dim", justify="right")
    if brief and not is_reference and ref:  # the ratio alone: the reference column has the value
        ratio = value / ref
        style = verdict_style(verdict) if verdict is not None else ratio_style(ratio, "us")
        return Text(ratio_text(ratio), style=style, justify="right")
    text = Text(format_us(value), justify="right")
    if not is_reference and ref:
        ratio = value / ref
        style = verdict_style(verdict) if verdict is not None else ratio_style(ratio, "us")
        text.append(f" {ratio_text(ratio)}", style=style)
    return text


RESULT_LABELS = ("p50", "p75", "p90", "p95", "p99", "p99.9", "max")


def waiting_text(kind: str) -> str:
    """What the table says before it has a figure: fio's come with its first sample, ab's and
    sysbench's with the end of a run, other workloads have none."""
    if kind == "fio" or not kind:
        return "latency percentiles: waiting for the first histogram"
    if kind in ("ab", "sysbench"):
        return f"latency percentiles: {kind} reports them when a run ends"
    return f"no latency histogram for this workload ({kind})"


class PercentileTable(DataTable[Text]):
    DEFAULT_CSS = """
    PercentileTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True)
        self._shape: tuple[object, ...] = ()
        self._texts: dict[tuple[str, str], str] = {}

    def show(self, scenarios: Sequence[str], latency: Mapping[str, Latency],
             verdicts: Mapping[tuple[str, str], Verdict] | None = None, *,
             results: Mapping[str, Mapping[str, float]] | None = None, kind: str = "") -> None:  # fmt: skip
        """``scenarios``: the reference (the baseline) first. Histograms when there are any, else
        the percentiles runs reported at their end (``results``: scenario -> label -> ms)."""
        names = sorted({n for lat in latency.values() for n in lat.bins})
        results = results or {}
        if names:
            rows = tuple(f"{n}|{label}" for n in names for label in LABELS)
        else:
            found = {label for per in results.values() for label in per}
            rows = tuple(f"latency|{label}" for label in RESULT_LABELS if label in found)
        if not rows:
            self._message(waiting_text(kind))
            return
        ref_name = scenarios[0] if scenarios else ""
        width = self.size.width or 80
        full = 12 + 12 + 17 * (len(scenarios) - 1) + 2 * (len(scenarios) + 1)
        brief = full > width  # too narrow for value and ratio: the others show the ratio alone
        shape = (tuple(scenarios), rows, brief)
        if shape != self._shape:
            self.clear(columns=True)
            self._texts.clear()
            # Widths fixed up front: cells are updated with update_width=False, so they never re-measure.
            self.add_column("latency", key="latency", width=11)
            for s in scenarios:
                if s == ref_name:
                    label, w = s, max(len(s), 10)
                elif brief:
                    label, w = s, max(len(s), 7)
                else:
                    label = f"{s} (vs {ref_name})"
                    w = max(len(label), 17)
                self.add_column(label, key=s, width=min(w, 24))
            for key in rows:
                name, label = key.split("|")
                self.add_row(Text(f"{latency_label(name)} {label}"), *[Text("") for _ in scenarios], key=key)
            self._shape = shape
        if names:
            per_name = {
                name: {s: (latency[s].percentiles(name) if s in latency else {}) for s in scenarios}
                for name in names
            }
        else:  # ms -> µs, as the histograms' figures
            per_name = {
                "latency": {s: {k: v * 1000 for k, v in results.get(s, {}).items()} for s in scenarios}
            }
        for name, per in per_name.items():
            for label in RESULT_LABELS if not names else LABELS:
                row = f"{name}|{label}"
                if row not in rows:
                    continue
                ref = per.get(ref_name, {}).get(label)
                for s in scenarios:
                    metric = summary_metric(name, label) if names else f"latency_{label.replace('.', '_')}_ms"
                    said = (verdicts or {}).get((metric, s))
                    text = cell_text(per[s].get(label), ref, is_reference=s == ref_name, verdict=said,
                                     brief=brief)  # fmt: skip
                    if self._texts.get((row, s)) != text.markup:
                        self._texts[(row, s)] = text.markup
                        self.update_cell(row, s, text, update_width=False)

    def _message(self, text: str) -> None:
        shape = ("message", text)
        if shape == self._shape:
            return
        self.clear(columns=True)
        self._texts.clear()
        self.add_column("latency", key="message")
        self.add_row(Text(text, style="dim"), key="message")
        self._shape = shape
