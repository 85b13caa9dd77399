"""Rounds as the engine runs them: the verdicts after each round of a cell, and whether the cell
goes on (``repeats = "auto"``: until every headline metric is decided, or ``max_repeats``, or the
cell's ``time_budget``).

The verdicts are the report's own (:func:`katatui.core.report.summary_of`): the same rule decides a
round's line, the end of a cell and the final table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from katatui.core.events import Comparison, Metric, RunSpec
from katatui.core.report import summary_of
from katatui.core.session import ResultRow, RunRow

Outcome = tuple[str, str]  # ("settled" | "max_repeats" | "time_budget" | "", the same in words)


def comparisons(
    specs: Sequence[RunSpec], results: Mapping[str, Mapping[str, Metric]], *, baseline: str | None,
    aa: tuple[tuple[str, str], ...] = (),
    calibrated: Mapping[tuple[str, str], tuple[float, str]] | None = None, looks: int = 1,
) -> tuple[Comparison, ...]:  # fmt: skip
    """Every scenario against the reference on each headline metric of the runs ``specs`` (one
    cell's, so far), from the finished runs' ``results``. ``looks``: how many rounds may end the cell
    (``max_repeats − min_repeats + 1`` under "auto"): its intervals are at 1 − 5%/``looks``
    (Bonferroni), so that looking after every round does not make an A/A pair come out better or
    worse more often than a single look would."""
    runs = [RunRow(s, "finished" if s.run_id in results else "planned", None, None, None, [], None)
            for s in specs]  # fmt: skip
    rows = [ResultRow(r, metric, m.value, m.unit, False)
            for r in runs for metric, m in results.get(r.spec.run_id, {}).items()]  # fmt: skip
    cells = {s.cell: {"looks": looks} for s in specs}
    summary = summary_of(runs, rows, baseline=baseline, aa=aa, calibrated=calibrated, stopped=cells)
    out = []
    for row in summary.rows:
        for s in summary.scenarios:
            v = summary.versus(row, s)
            if v is None:
                continue
            low, high = (v.ci.low, v.ci.high) if v.ci is not None else (None, None)
            level = v.ci.level if v.ci is not None else 0.95
            out.append(Comparison(row.metric, s, v.reference, v.ratio, low, high, v.verdict, v.noise_band,
                                  level))  # fmt: skip
    return tuple(out)


def decided(found: Sequence[Comparison]) -> bool:
    """Whether every comparison has a verdict other than ``undecided``."""
    return all(c.verdict != "undecided" for c in found)


def outcome(found: Sequence[Comparison], rounds: int, *, min_rounds: int, max_rounds: int,
            elapsed: float, budget: float | None) -> Outcome:  # fmt: skip
    """Whether a cell under ``repeats = "auto"`` stops after ``rounds`` rounds, and why: every
    verdict decided (from ``min_rounds`` on), ``max_rounds`` reached, or another round (at the mean
    length so far) would end beyond ``budget`` seconds (from ``min_rounds`` on too: a cell always
    runs those); ("", "") when it goes on."""
    if rounds >= min_rounds and decided(found):
        what = "every headline metric decided" if found else "nothing to compare"
        return "settled", f"settled after {rounds} rounds ({what})"
    if rounds >= max_rounds:
        left = sum(c.verdict == "undecided" for c in found)
        return "max_repeats", f"stopped at max_repeats = {max_rounds} with {left} verdict(s) undecided"
    if budget is not None and rounds >= min_rounds and elapsed + elapsed / rounds > budget:
        left = sum(c.verdict == "undecided" for c in found)
        return "time_budget", (f"stopped at the time budget ({budget:.0f} s) after {rounds} rounds "
                               f"with {left} verdict(s) undecided")  # fmt: skip
    return "", ""
