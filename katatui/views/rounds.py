"""Ratio by round: each round's ratio of a scenario to the reference, drawn so that a drifting host
or a cold first round shows (a text strip for the terminal and Markdown, an SVG for HTML)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from katatui.core.report import Summary, Versus
from katatui.views.labels import metric_label

STRIP = 25  # characters of a text strip


@dataclass(frozen=True)
class RoundRow:
    cell: str  # the cell's label
    metric: str  # the metric's label
    scenario: str
    versus: Versus

    @property
    def ratios(self) -> tuple[float, ...]:
        return self.versus.ci.round_ratios if self.versus.ci is not None else ()


def round_rows(summary: Summary) -> list[RoundRow]:
    """Every paired comparison with 2 rounds or more, in the table's order."""
    out = []
    for row in summary.rows:
        label = summary.cells[row.cell].label if row.cell in summary.cells else row.cell
        for s in summary.scenarios:
            v = summary.versus(row, s)
            if v is not None and v.ci is not None and v.ci.method == "paired" and len(v.ci.round_ratios) >= 2:
                out.append(RoundRow(label, metric_label(row.metric), s, v))
    return out


def _span(ratios: Sequence[float], band: float) -> tuple[float, float]:
    """The log-scale span a plot shows: the rounds' ratios, ×1 and the noise band around it."""
    logs = [math.log(r) for r in ratios if r > 0] + [-math.log1p(band), math.log1p(band)]
    low, high = min(logs), max(logs)
    pad = (high - low) * 0.05 or 0.01
    return low - pad, high + pad


def strip(ratios: Sequence[float], band: float, width: int = STRIP) -> str:
    """A text plot of the rounds' ratios on a log scale: each round's number (1–9, then ``*``) where its
    ratio lies, ``│`` at ×1 and ``░`` over the noise band; left is lower."""
    low, high = _span(ratios, band)

    def at(log_value: float) -> int:
        return min(width - 1, max(0, round((log_value - low) / (high - low) * (width - 1))))

    cells = ["·"] * width
    for i in range(at(-math.log1p(band)), at(math.log1p(band)) + 1):
        cells[i] = "░"
    cells[at(0.0)] = "│"
    for n, r in enumerate(ratios, start=1):
        if r > 0:
            cells[at(math.log(r))] = str(n) if n < 10 else "*"
    return "".join(cells)


def ratios_text(ratios: Sequence[float]) -> str:
    return " ".join(f"×{r:.2f}" for r in ratios)


def markdown(summary: Summary) -> str:
    """The ratio-by-round table in Markdown (empty without 2 paired rounds anywhere)."""
    rows = round_rows(summary)
    if not rows:
        return ""
    lines = [f"#### Ratio by round (to {summary.reference})", "",
             "Each round's ratio; the strip is a log scale, lower to the left: the round's number where "
             "its ratio lies, │ at ×1, ░ the noise band.", "",
             "| cell | metric | scenario | by round | plot |", "|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r.cell} | {r.metric} | {r.scenario} | {ratios_text(r.ratios)} | "
                     f"`{strip(r.ratios, r.versus.noise_band)}` |")  # fmt: skip
    return "\n".join(lines) + "\n"


def svg(ratios: Sequence[float], band: float, title: str) -> str:
    """A small chart of the rounds' ratios: one dot per round on a log scale, the noise band shaded
    and ×1 dashed."""
    width, height, left, right, top, bottom = 240, 120, 44, 8, 20, 22
    low, high = _span(ratios, band)
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(log_value: float) -> float:
        return top + plot_h - (log_value - low) / (high - low) * plot_h

    def x(i: int) -> float:
        return left + (plot_w * i / (len(ratios) - 1) if len(ratios) > 1 else plot_w / 2)

    edge = math.log1p(band)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="rounds"><title>{_esc(title)}</title>',
        f'<text x="{width / 2}" y="13" text-anchor="middle" font-size="11">{_esc(title)}</text>',
        f'<rect x="{left}" y="{y(edge):.1f}" width="{plot_w}" height="{y(-edge) - y(edge):.1f}" '
        'fill="#eee" class="band"/>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{left - 4}" y="{y(0) + 4:.1f}" text-anchor="end" font-size="10">×1</text>',
    ]
    for value, at in ((high, top + 8), (low, top + plot_h)):
        parts.append(
            f'<text x="{left - 4}" y="{at}" text-anchor="end" font-size="10">×{math.exp(value):.2g}</text>'
        )
    points = [(x(i), y(math.log(r))) for i, r in enumerate(ratios) if r > 0]
    if len(points) > 1:
        parts.append('<polyline fill="none" stroke="#4477aa" points="'
                     + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')  # fmt: skip
    for i, r in enumerate(ratios):
        if r > 0:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(math.log(r)):.1f}" r="3" fill="#4477aa" '
                         f'data-round="{i + 1}" data-ratio="{r:.6g}"><title>round {i + 1}: ×{r:.3f}'
                         "</title></circle>")  # fmt: skip
            parts.append(f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="middle" font-size="10">'
                         f"{i + 1}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
