"""Latency percentiles per scenario from merged histograms, with the ratio to the reference column.

Updated by diff: a cell is rewritten only when its text changed, and the table is rebuilt only when
its rows or columns change (another matrix cell, a new histogram name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from katatui.core.stats import Verdict
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
    value: float | None, ref: float | None, *, is_reference: bool, verdict: Verdict | None = None
) -> Text:
    """A percentile and its ratio to the reference's, coloured by the verdict the runs' rounds give
    that metric (the summary's, when it has the percentile), else undecided: a merged histogram has
    no interval."""
    if value is None:
        return Text("–", style="dim", justify="right")
    text = Text(format_us(value), justify="right")
    if not is_reference and ref:
        ratio = value / ref
        style = verdict_style(verdict) if verdict is not None else ratio_style(ratio, "us")
        text.append(f" ×{ratio:.2f}", style=style)
    return text


class PercentileTable(DataTable[Text]):
    DEFAULT_CSS = """
    PercentileTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True)
        self._shape: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._texts: dict[tuple[str, str], str] = {}

    def show(self, scenarios: Sequence[str], latency: Mapping[str, Latency],
             verdicts: Mapping[tuple[str, str], Verdict] | None = None) -> None:  # fmt: skip
        names = sorted({n for lat in latency.values() for n in lat.bins})
        rows = tuple(f"{n}|{label}" for n in names for label in LABELS)
        shape = (tuple(scenarios), rows)
        if shape != self._shape:
            self.clear(columns=True)
            self._texts.clear()
            # Widths fixed up front: cells are updated with update_width=False, so they never re-measure.
            self.add_column("latency", key="latency", width=12)
            for s in scenarios:
                label = s if s == scenarios[0] else f"{s} (vs {scenarios[0]})"
                self.add_column(label, key=s, width=max(len(label), 10 if s == scenarios[0] else 17))
            for key in rows:
                name, label = key.split("|")
                self.add_row(Text(f"{latency_label(name)} {label}"), *[Text("") for _ in scenarios], key=key)
            self._shape = shape
        ref_name = scenarios[0] if scenarios else ""
        for name in names:
            per = {s: (latency[s].percentiles(name) if s in latency else {}) for s in scenarios}
            for label in LABELS:
                ref = per.get(ref_name, {}).get(label)
                for s in scenarios:
                    said = (verdicts or {}).get((summary_metric(name, label), s))
                    text = cell_text(per[s].get(label), ref, is_reference=s == ref_name, verdict=said)
                    row = f"{name}|{label}"
                    if self._texts.get((row, s)) != text.markup:
                        self._texts[(row, s)] = text.markup
                        self.update_cell(row, s, text, update_width=False)
