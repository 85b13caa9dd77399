"""Statistics a reviewer would trust: spread, outliers, a confidence interval for each ratio and a
verdict on it.

The round is the unit. Scenarios run in interleaved rounds, and a host's drift hits both sides of a
round alike, so the ratio of a scenario to the baseline is taken per round: log(Bᵢ/Aᵢ); the ratio
shown is their geometric mean, its 95% interval Student's t over the rounds (n−1 degrees of freedom),
with an exact sign-flip permutation p-value over the rounds' log ratios (distribution-free), as
Firecracker's A/B tests do (:func:`paired_ratio_ci`).

Where there is no pairing (sessions compared across), the interval is Welch's: on the log scale, by
the delta method, with Welch–Satterthwaite degrees of freedom (:func:`ratio_ci`).

The verdict (:func:`verdict`) is Pinpoint's and criterion.rs's: ``better`` or ``worse`` when the
interval excludes 1 and the ratio lies beyond the noise band, ``same`` when the whole interval lies
inside the noise band, else ``undecided`` (more rounds needed).

Outliers are flagged as hyperfine does: a modified Z-score from the median absolute deviation above
3.5 (Iglewicz and Hoaglin).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

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


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (Lentz's continued fraction)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):
        return 1.0 - betainc(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):  # fmt: skip
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-12:
            break
    return front * f / a


def t_critical(df: float, alpha: float = 0.05) -> float:
    """The two-sided critical value of Student's t: P(|T| > t) = ``alpha`` with ``df`` degrees of
    freedom. At 5% it is :func:`t975`'s table; otherwise found by bisection on the t distribution's
    tail, I_{df/(df+t²)}(df/2, 1/2)."""
    if alpha == 0.05:
        return t975(df)
    low, high = 0.0, 1e7
    for _ in range(200):
        mid = (low + high) / 2
        if betainc(df / 2, 0.5, df / (df + mid * mid)) > alpha:
            low = mid
        else:
            high = mid
        if high - low < 1e-9 * max(1.0, mid):
            break
    return high


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


Method = Literal["paired", "welch"]
Verdict = Literal["better", "worse", "same", "undecided"]
VERDICTS: tuple[Verdict, ...] = ("better", "worse", "same", "undecided")
DEFAULT_NOISE = 0.05  # the noise band (±5%) when the session has no A/A pair to measure it
MIN_NOISE = 0.01  # an A/A pair's band is never narrower than this
METHOD_TEXT: dict[str, str] = {
    "paired": "paired by round: geometric mean of the rounds' ratios, Student's t over rounds, sign-flip p",
    "welch": "unpaired: ratio of means, Welch's interval",
}
EXACT_FLIPS = 16  # up to this many rounds the sign-flip test enumerates every assignment


@dataclass(frozen=True)
class RatioCI:
    ratio: float  # paired: geometric mean of the rounds' ratios; welch: ratio of means
    low: float
    high: float
    df: float
    method: Method = "welch"
    rounds: int = 0  # paired: the rounds; welch: the smaller side's runs
    p_value: float | None = None  # paired: exact sign-flip permutation test over the rounds
    round_ratios: tuple[float, ...] = ()
    level: float = 0.95  # the interval's confidence

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
    n = min(len(a), len(b))
    if var == 0:
        return RatioCI(ratio, ratio, ratio, math.inf, "welch", n)
    df = var * var / ((va * va) / (len(a) - 1) + (vb * vb) / (len(b) - 1))
    half = t975(df) * math.sqrt(var)
    return RatioCI(ratio, ratio * math.exp(-half), ratio * math.exp(half), df, "welch", n)


def sign_flip_p(d: Sequence[float], *, draws: int = 20000) -> float:
    """Two-sided p-value of the sign-flip permutation test that the ``d`` are centred on 0: the share of
    sign assignments whose |sum| reaches the observed one. Exact up to :data:`EXACT_FLIPS` values, else
    ``draws`` seeded random assignments."""
    n = len(d)
    if n == 0:
        return 1.0
    observed = abs(math.fsum(d)) * (1 - 1e-12)
    if n <= EXACT_FLIPS:
        sums = [0.0]
        for x in d:
            sums = [t + x for t in sums] + [t - x for t in sums]
        return sum(1 for t in sums if abs(t) >= observed) / len(sums)
    rng = random.Random(0)
    hits = sum(
        1 for _ in range(draws) if abs(math.fsum(x if rng.random() < 0.5 else -x for x in d)) >= observed
    )
    return (hits + 1) / (draws + 1)


def paired_ratio_ci(pairs: Sequence[tuple[float, float]], alpha: float = 0.05) -> RatioCI | None:
    """95% interval (1 − ``alpha``) of B/A from rounds ``(Bᵢ, Aᵢ)``: the geometric mean of Bᵢ/Aᵢ with
    Student's t over the rounds' log ratios (n−1 df), and the sign-flip p-value; None with fewer than
    2 usable rounds (a value of 0 or less has no log)."""
    logs = [math.log(b / a) for b, a in pairs if a > 0 and b > 0]
    n = len(logs)
    if n < 2:
        return None
    mean = statistics.fmean(logs)
    ratio = math.exp(mean)
    sd = statistics.stdev(logs)
    half = t_critical(n - 1, alpha) * sd / math.sqrt(n)
    return RatioCI(
        ratio, math.exp(mean - half), math.exp(mean + half), n - 1, "paired", n, sign_flip_p(logs),
        tuple(math.exp(x) for x in logs), 1 - alpha,
    )  # fmt: skip


def inside(ci: RatioCI, band: float) -> bool:
    """Whether the whole interval lies inside the noise band ±``band`` (symmetric on the log scale)."""
    edge = math.log1p(band)
    return -edge <= math.log(ci.low) and math.log(ci.high) <= edge


def verdict(ratio: float, ci: RatioCI | None, higher_is_better: bool, band: float) -> Verdict:
    """``better``/``worse`` (by the metric's direction) when the interval excludes 1 and the ratio is
    beyond the noise band; ``same`` when the whole interval is inside the band; else ``undecided``."""
    if ci is None or ci.low <= 0:
        return "undecided"
    if inside(ci, band):
        return "same"
    if ci.separates and abs(math.log(ratio)) > math.log1p(band):
        return "better" if (ratio > 1) == higher_is_better else "worse"
    return "undecided"


def noise_band(aa_ratios: Sequence[float]) -> float:
    """The noise band an A/A pair measured: its largest single-round departure from 1 (at least
    :data:`MIN_NOISE`)."""
    logs = [abs(math.log(r)) for r in aa_ratios if r > 0]
    if not logs:
        return DEFAULT_NOISE
    return max(MIN_NOISE, math.expm1(max(logs)))
