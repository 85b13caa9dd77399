"""Statistics a reviewer would trust: spread, outliers, and a confidence interval for each ratio.

The interval for the ratio of two scenarios is Welch's: on the log scale, by the delta method, with
Welch–Satterthwaite degrees of freedom (it does not assume equal variances, and it works for the
handful of repeats a benchmark has). Outliers are flagged as hyperfine does: a modified Z-score
from the median absolute deviation above 3.5 (Iglewicz and Hoaglin).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95% quantiles of Student's t by degrees of freedom; between rows the smaller df is used
# (a slightly wider, conservative interval).
T975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}  # fmt: skip
OUTLIER_Z = 3.5


def t975(df: float) -> float:
    if df >= 1000:
        return 1.960
    usable = [k for k in T975 if k <= max(df, 1)]
    return T975[max(usable)]


@dataclass(frozen=True)
class Describe:
    n: int
    mean: float
    median: float
    stdev: float | None
    cv: float | None
    low: float
    high: float


def describe(values: Sequence[float]) -> Describe:
    n = len(values)
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if n > 1 else None
    cv = sd / mean if sd is not None and mean else None
    return Describe(n, mean, statistics.median(values), sd, cv, min(values), max(values))


def outliers(values: Sequence[float]) -> list[int]:
    """Indexes of values whose modified Z-score exceeds 3.5."""
    if len(values) < 3:
        return []
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    if mad == 0:
        return []
    return [i for i, v in enumerate(values) if abs(0.6745 * (v - med) / mad) > OUTLIER_Z]


@dataclass(frozen=True)
class RatioCI:
    ratio: float  # of means
    low: float
    high: float
    df: float

    @property
    def separates(self) -> bool:
        """Whether the interval excludes 1: the two scenarios differ beyond the noise."""
        return self.low > 1.0 or self.high < 1.0


def ratio_ci(a: Sequence[float], b: Sequence[float]) -> RatioCI | None:
    """95% interval for mean(a) / mean(b) (Welch, log scale); None with fewer than 2 values a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    if ma <= 0 or mb <= 0:
        return None
    va = statistics.variance(a) / (len(a) * ma * ma)
    vb = statistics.variance(b) / (len(b) * mb * mb)
    var = va + vb
    ratio = ma / mb
    if var == 0:
        return RatioCI(ratio, ratio, ratio, math.inf)
    df = var * var / ((va * va) / (len(a) - 1) + (vb * vb) / (len(b) - 1))
    half = t975(df) * math.sqrt(var)
    return RatioCI(ratio, ratio * math.exp(-half), ratio * math.exp(half), df)
