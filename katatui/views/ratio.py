"""The verdict on a ratio to the reference (or baseline) column, and its colour.

One rule for every table that shows a ratio: the summary (terminal and screen), ``katatui
compare`` and its screen, the HTML report, Markdown and the live percentile table. The verdict is
:func:`katatui.core.stats.verdict`'s:

- *better* (green) or *worse* (red): the 95% interval excludes 1 and the ratio lies beyond the noise
  band, read by the metric's direction, as its workload's catalogue says (else
  :data:`~katatui.core.report.HIGHER_IS_BETTER` of its unit);
- *same* (grey): the whole interval lies inside the noise band;
- *undecided* (yellow): neither, more rounds are needed (or there is no interval: one round).
"""

from __future__ import annotations

from katatui.core.events import Comparison
from katatui.core.report import Summary, Versus, higher_is_better
from katatui.core.stats import DEFAULT_NOISE, VERDICTS, RatioCI, Verdict, verdict

STYLE: dict[Verdict, str] = {"better": "green", "worse": "red", "same": "dim", "undecided": "yellow"}
HTML_CLASS: dict[Verdict, str] = {"better": "good", "worse": "bad", "same": "dim", "undecided": "noise"}
LEGEND = "green better, red worse, grey same (interval inside the noise band), yellow undecided"


def ratio_verdict(ratio: float, unit: str, ci: RatioCI | None = None, metric: str = "",
                  band: float = DEFAULT_NOISE) -> Verdict:  # fmt: skip
    """What ``ratio`` (a value of ``metric`` over the reference's, in ``unit``) says, given its interval
    ``ci`` and the noise band."""
    return verdict(ratio, ci, higher_is_better(metric, unit), band)


def verdict_style(v: Verdict) -> str:
    """The Rich style of a verdict: green better, red worse, dim same, yellow undecided."""
    return STYLE[v]


def verdict_class(v: Verdict) -> str:
    """The HTML report's CSS class of a verdict (good, bad, dim, noise)."""
    return HTML_CLASS[v]


def versus_style(v: Versus) -> str:
    return STYLE[v.verdict]


def ratio_style(ratio: float, unit: str, ci: RatioCI | None = None, metric: str = "",
                band: float = DEFAULT_NOISE) -> str:  # fmt: skip
    """The Rich style of ``ratio``'s verdict."""
    return STYLE[ratio_verdict(ratio, unit, ci, metric, band)]


def ratio_class(ratio: float, unit: str, ci: RatioCI | None = None, metric: str = "",
                band: float = DEFAULT_NOISE) -> str:  # fmt: skip
    """The HTML report's CSS class of ``ratio``'s verdict (good, bad, dim, noise)."""
    return HTML_CLASS[ratio_verdict(ratio, unit, ci, metric, band)]


def interval_text(v: Versus) -> str:
    """``[0.93–1.02]`` (a † marks Welch's unpaired interval), or ``[1 round]`` without one."""
    if v.ci is None:
        return "[no interval]"
    mark = "†" if v.ci.method == "welch" else ""
    return f"[{v.ci.low:.2f}–{v.ci.high:.2f}]{mark}{level_text(v.ci.level)}"


def comparison_verdict(c: Comparison) -> Verdict:
    """The engine's verdict after a round (an unknown word reads as undecided)."""
    return next((v for v in VERDICTS if v == c.verdict), "undecided")


def comparison_interval(c: Comparison) -> str:
    """The engine's interval after a round, as :func:`interval_text` says a summary's: ``[0.58–1.21]
    99.4%`` (at the level the engine judged it), or ``[1 round]`` without one."""
    if c.low is None or c.high is None:
        return "[1 round]"
    return f"[{c.low:.2f}–{c.high:.2f}]{level_text(c.level)}"


def level_text(level: float) -> str:
    """`` 99.4%`` after an interval that is not a 95% one (a cell under ``repeats = "auto"``)."""
    return "" if abs(level - 0.95) < 1e-9 else f" {level * 100:.1f}%"


def summary_footer(summary: Summary) -> str:
    """:func:`footer` of a session's summary, with the order its rounds ran in and, for cells under
    ``repeats = "auto"``, the level of their intervals."""
    text = footer(summary.methods(), summary.noise_sources(), summary.reference, summary.order)
    if any(summary.alpha(c) < 0.05 for c in summary.stopped):
        text += (
            '; repeats "auto": a cell\'s intervals are at 1 − 5%/K (K: the rounds that could end it, '
            "max_repeats − min_repeats + 1), so that looking after each round keeps 5% in all"
        )
    return text


ORDER_TEXT = {
    "alternating": "rounds in alternating order (A B, then B A) so order effects cancel",
    "fixed": "rounds in the same order every round",
}


def footer(methods: set[str], noise: list[str], reference: str | None, order: str = "") -> str:
    """What the figures are: the methods used, the noise bands and the order of the rounds, for a
    table's caption."""
    parts = [f"median ±CV; ×ratio to {reference}, verdict, [95% interval]"]
    if "paired" in methods:
        parts.append("paired by round (geometric mean of the rounds' ratios, Student's t over rounds)")
    if "welch" in methods:
        parts.append("† unpaired (ratio of means, Welch)")
    if "none" in methods:
        parts.append("[no interval]: one round")
    parts.append("noise band " + (", ".join(noise) if noise else f"±{DEFAULT_NOISE * 100:.0f}% (default)"))
    if order in ORDER_TEXT:
        parts.append(ORDER_TEXT[order])
    parts.append(LEGEND)
    return "; ".join(parts)
