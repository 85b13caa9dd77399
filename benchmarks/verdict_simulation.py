"""The verdict rule on rounds drawn with a known truth: how often the paired interval covers the true
ratio, how often an A/A pair is called better or worse (fixed rounds, and ``repeats = "auto"`` with
its stopping rule), how soon a 7x slowdown is called worse, and paired against Welch's interval
widths on a drifting host. The tests (tests/test_verdicts.py, tests/test_rounds.py) assert the
bounds; this prints the figures. Nothing to install, no host needed. Run by hand:
    python benchmarks/verdict_simulation.py [--seeds 1000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics

from katatui.core import rounds
from katatui.core.events import Metric, RunSpec
from katatui.core.stats import DEFAULT_NOISE, paired_ratio_ci, ratio_ci, verdict


def draw(rng: random.Random, n: int, truth: float, noise: float, drift: float) -> list[tuple[float, float]]:
    """``n`` rounds (B, A), B = truth × A, lognormal noise per value, a drift per round hitting both."""
    out = []
    for _ in range(n):
        host = 1000.0 * math.exp(rng.gauss(0, drift))
        out.append((host * truth * math.exp(rng.gauss(0, noise)), host * math.exp(rng.gauss(0, noise))))
    return out


def auto_verdict(rng: random.Random, truth: float, noise: float, low: int, high: int) -> tuple[int, str]:
    """Rounds under ``repeats = "auto"`` until the cell stops: (rounds, verdict)."""
    data = draw(rng, high, truth, noise, 0.2)
    specs, results = [], {}
    for rep, (b, a) in enumerate(data):
        for name, value in (("runc", a), ("x", b)):
            s = RunSpec(
                f"{name}{rep}", len(specs), "c", name, "docker", name, "local", "fio", "fio", {}, 1, rep
            )
            specs.append(s)
            results[s.run_id] = {"read_iops": Metric(value, "IO/s")}
    for n in range(1, high + 1):
        found = rounds.comparisons([s for s in specs if s.repeat < n], results, baseline="runc",
                                   looks=high - low + 1)  # fmt: skip
        what, _ = rounds.outcome(found, n, min_rounds=low, max_rounds=high, elapsed=n, budget=None)
        if what:
            return n, found[0].verdict
    raise AssertionError("never stopped")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=1000)
    seeds = ap.parse_args().seeds
    print(f"coverage of the paired 95% interval ({seeds} seeds each; the tests want 95% ± 2%)")
    for n, truth, noise, drift in ((2, 0.5, 0.05, 0.2), (3, 0.8, 0.05, 0.2), (5, 1.3, 0.1, 0.0),
                                   (10, 1 / 7, 0.02, 0.3), (20, 1.0, 0.03, 0.1)):  # fmt: skip
        covered = 0
        for seed in range(seeds):
            ci = paired_ratio_ci(draw(random.Random(seed), n, truth, noise, drift))
            covered += ci is not None and ci.low <= truth <= ci.high
        print(
            f"  {n:2d} rounds, truth ×{truth:.3f}, noise {noise:.0%}, drift {drift:.0%}: "
            f"{covered / seeds:.1%}"
        )
    print("A/A pair called better or worse (fixed rounds, band ±5%; the tests want at most 5%)")
    for n, noise in ((2, 0.02), (3, 0.05), (5, 0.1), (10, 0.2)):
        called = 0
        for seed in range(seeds):
            ci = paired_ratio_ci(draw(random.Random(seed), n, 1.0, noise, 0.2))
            called += ci is not None and verdict(ci.ratio, ci, True, DEFAULT_NOISE) in ("better", "worse")
        print(f"  {n:2d} rounds, noise {noise:.0%}: {called / seeds:.1%}")
    print('A/A pair called better or worse under repeats = "auto" (2 to 10 rounds, intervals at 1 − 5%/9)')
    for noise in (0.01, 0.03, 0.1):
        results = [auto_verdict(random.Random(seed), 1.0, noise, 2, 10) for seed in range(seeds)]
        called = sum(v in ("better", "worse") for _, v in results)
        mean_rounds = statistics.fmean(n for n, _ in results)
        print(f"  noise {noise:.0%}: {called / seeds:.1%} (mean {mean_rounds:.1f} rounds)")
    worse2 = sum(
        (ci := paired_ratio_ci(draw(random.Random(seed), 2, 1 / 7, 0.02, 0.3))) is not None
        and verdict(ci.ratio, ci, True, DEFAULT_NOISE) == "worse"
        for seed in range(seeds)
    )
    auto7 = [auto_verdict(random.Random(seed), 1 / 7, 0.02, 2, 10) for seed in range(seeds)]
    print(f"7x slowdown, 2% noise: worse from 2 rounds in {worse2 / seeds:.1%}; under auto worse in "
          f"{sum(v == 'worse' for _, v in auto7) / seeds:.1%}, after "
          f"{statistics.fmean(n for n, _ in auto7):.2f} "
          "rounds on average")  # fmt: skip
    paired, welch = [], []
    for seed in range(seeds):
        data = draw(random.Random(seed), 5, 0.9, 0.02, 0.2)
        p, w = paired_ratio_ci(data), ratio_ci([b for b, _ in data], [a for _, a in data])
        if p is not None and w is not None:
            paired.append(math.log(p.high / p.low))
            welch.append(math.log(w.high / w.low))
    print(f"drifting host (5 rounds, 2% noise, 20% drift): median log-width paired "
          f"{statistics.median(paired):.3f}, "
          f"Welch {statistics.median(welch):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
