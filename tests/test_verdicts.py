"""Paired ratios and verdicts, by simulation on rounds drawn with a known truth (seeded, fast), and
the headless table keeping every figure whole."""

from __future__ import annotations

import io
import math
import random
import statistics

from rich.console import Console

from katatui.core.report import Stat, SummaryRow, interval, summarize
from katatui.core.stats import DEFAULT_NOISE, paired_ratio_ci, ratio_ci, sign_flip_p, verdict

SEEDS = 1000


def rounds(rng: random.Random, n: int, truth: float, noise: float, drift: float = 0.0,
           ) -> list[tuple[float, float]]:  # fmt: skip
    """``n`` rounds (B, A): B's true value is ``truth`` times A's; each value has a lognormal noise
    of ``noise``; a host drift of ``drift`` (a lognormal per round) hits both sides of a round alike."""
    out = []
    for _ in range(n):
        host = 1000.0 * math.exp(rng.gauss(0, drift))
        a = host * math.exp(rng.gauss(0, noise))
        b = host * truth * math.exp(rng.gauss(0, noise))
        out.append((b, a))
    return out


def test_the_paired_interval_covers_the_truth_95_percent_of_the_time() -> None:
    for n, truth, noise, drift in ((3, 0.8, 0.05, 0.2), (5, 1.3, 0.1, 0.0), (10, 1 / 7, 0.02, 0.3)):
        covered = 0
        for seed in range(SEEDS):
            ci = paired_ratio_ci(rounds(random.Random(seed), n, truth, noise, drift))
            assert ci is not None and ci.method == "paired" and ci.rounds == n
            covered += ci.low <= truth <= ci.high
        assert abs(covered / SEEDS - 0.95) <= 0.02, (n, truth, noise, drift, covered / SEEDS)


def test_an_aa_pair_is_rarely_called_better_or_worse() -> None:
    for n, noise in ((2, 0.02), (3, 0.05), (5, 0.1), (10, 0.2)):
        called = 0
        for seed in range(SEEDS):
            ci = paired_ratio_ci(rounds(random.Random(seed), n, 1.0, noise, drift=0.2))
            assert ci is not None
            called += verdict(ci.ratio, ci, True, DEFAULT_NOISE) in ("better", "worse")
        assert called / SEEDS <= 0.05, (n, noise, called / SEEDS)


def test_a_7x_slowdown_with_2_percent_noise_is_worse_from_2_rounds() -> None:
    for seed in range(SEEDS):
        ci = paired_ratio_ci(rounds(random.Random(seed), 2, 1 / 7, 0.02, drift=0.3))
        assert ci is not None and ci.high < 1
        assert verdict(ci.ratio, ci, True, DEFAULT_NOISE) == "worse"  # IOPS: lower is worse
        assert verdict(1 / ci.ratio, paired_ratio_ci([(a, b) for b, a in rounds(random.Random(seed), 2, 1 / 7,
                       0.02, 0.3)]), False, DEFAULT_NOISE) == "worse"  # latency 7x up: worse  # fmt: skip


def test_a_drifting_host_gives_a_narrower_paired_interval_than_welch() -> None:
    paired, unpaired = [], []
    for seed in range(200):
        data = rounds(random.Random(seed), 5, 0.9, 0.02, drift=0.2)
        p = paired_ratio_ci(data)
        w = ratio_ci([b for b, _ in data], [a for _, a in data])
        assert p is not None and w is not None
        paired.append(math.log(p.high / p.low))
        unpaired.append(math.log(w.high / w.low))
    assert statistics.median(paired) < statistics.median(unpaired) / 3


def test_a_tight_aa_pair_is_same_and_a_short_one_undecided() -> None:
    rng = random.Random(1)
    assert verdict(1.0, paired_ratio_ci(rounds(rng, 20, 1.0, 0.005)), True, DEFAULT_NOISE) == "same"
    assert verdict(1.0, paired_ratio_ci(rounds(rng, 2, 1.0, 0.1)), True, DEFAULT_NOISE) == "undecided"


def test_sign_flip_p_is_exact() -> None:
    assert sign_flip_p([0.1, 0.2]) == 0.5  # 2 of 4 assignments reach |0.3|
    assert sign_flip_p([0.1, 0.2, 0.3, 0.4, 0.5]) == 2 / 32
    assert sign_flip_p([0.1, -0.1]) == 1.0
    assert 0 < sign_flip_p([0.1] * 20) < 0.001  # beyond the exact range: seeded random flips


def test_rounds_pair_when_both_sides_have_them_else_welch() -> None:
    a = Stat((10.0, 20.0, 30.0), ("a1", "a2", "a3"), (0, 1, 2))
    b = Stat((5.0, 10.0, 15.0), ("b1", "b2", "b3"), (0, 1, 2))
    ci = interval(b, a)
    assert ci is not None and ci.method == "paired" and ci.rounds == 3
    assert ci.ratio == ci.low == ci.high == 0.5 and ci.p_value == 0.25
    unpaired = interval(Stat(b.values), Stat(a.values))
    assert unpaired is not None and unpaired.method == "welch" and unpaired.low < 0.5 < unpaired.high
    row = SummaryRow("c", "read_iops", "IO/s", {"x": a, "y": b})
    assert row.ratio_ci("y", "x") == ci


def test_the_table_keeps_every_figure_whole_at_80_columns() -> None:
    """Issue 16 item 9: piped or at 80 columns the table printed ``221.6 MiB…`` and ``×1.04 [0.…``."""
    from katatui.commands.demo import demo_path
    from katatui.core.session import SessionReader
    from katatui.views.summary import print_summary

    with SessionReader(demo_path()) as reader:
        summary = summarize(reader)
    figures = []
    for row in summary.rows:
        for s in summary.scenarios:
            v = summary.versus(row, s)
            if v is not None:
                figures.append(f"×{v.ratio:.2f} {v.verdict}")
                if v.ci is not None:
                    figures.append(f"[{v.ci.low:.2f}–{v.ci.high:.2f}]")
    assert figures
    for terminal in (True, False):
        buf = io.StringIO()
        console = Console(file=buf, width=80, force_terminal=terminal, color_system=None)
        print_summary(console, summary, "demo")
        text = buf.getvalue()
        assert "…" not in text
        for figure in figures:
            assert figure in text, (terminal, figure)
        widths = {len(line) for line in text.splitlines()}
        assert max(widths) <= 80 if terminal else max(widths) > 80  # split on a terminal, else wide


def test_a_first_round_apart_from_the_rest_is_noted() -> None:
    from katatui.core.report import Summary

    a = Stat((100.0, 100.0, 100.0, 100.0), ("a1", "a2", "a3", "a4"), (0, 1, 2, 3))
    cold = Stat((50.0, 90.0, 91.0, 89.0), ("b1", "b2", "b3", "b4"), (0, 1, 2, 3))
    warm = Stat((90.5, 90.0, 91.0, 89.0), ("c1", "c2", "c3", "c4"), (0, 1, 2, 3))
    row = SummaryRow("c", "read_iops", "IO/s", {"x": a, "cold": cold, "warm": warm})
    notes = Summary(["x", "cold", "warm"], [row], []).warnings()
    assert any("cold vs x" in n and "round 1 differs" in n for n in notes), notes
    assert not any("warm vs x" in n and "round 1" in n for n in notes), notes
