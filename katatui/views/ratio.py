"""The verdict on a ratio to the reference (or baseline) column, and its colour.

One rule for every table that shows a ratio: the summary (terminal and screen), ``katatui
compare`` and its screen, the HTML report and the live percentile table.

- *noise* (yellow): Welch's 95% interval of the ratio of means includes 1, when there is one;
- *even* (dim): the ratio is within 2% of 1;
- *better* (green) or *worse* (red): by the metric's direction, as its workload's catalogue says (else
  :data:`HIGHER_IS_BETTER` of its unit).
"""

from __future__ import annotations

from typing import Literal

from katatui.core.report import higher_is_better
from katatui.core.stats import RatioCI

Verdict = Literal["better", "worse", "even", "noise"]

EVEN = 0.02  # a ratio closer to 1 than this is no difference worth a colour
STYLE: dict[Verdict, str] = {"better": "green", "worse": "red", "even": "dim", "noise": "yellow"}
HTML_CLASS: dict[Verdict, str] = {"better": "good", "worse": "bad", "even": "dim", "noise": "noise"}


def ratio_verdict(ratio: float, unit: str, ci: RatioCI | None = None, metric: str = "") -> Verdict:
    """What ``ratio`` (a value of ``metric`` over the reference's, in ``unit``) says, given its interval
    ``ci``."""
    if ci is not None and not ci.separates:
        return "noise"
    if abs(ratio - 1) < EVEN:
        return "even"
    return "better" if (ratio >= 1) == higher_is_better(metric, unit) else "worse"


def ratio_style(ratio: float, unit: str, ci: RatioCI | None = None, metric: str = "") -> str:
    """The Rich style of ``ratio``: green better, red worse, dim even, yellow within the noise."""
    return STYLE[ratio_verdict(ratio, unit, ci, metric)]


def ratio_class(ratio: float, unit: str, ci: RatioCI | None = None, metric: str = "") -> str:
    """The HTML report's CSS class of ``ratio`` (good, bad, dim, noise)."""
    return HTML_CLASS[ratio_verdict(ratio, unit, ci, metric)]
