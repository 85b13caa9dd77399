"""Results of a session as tidy rows and as a side-by-side summary."""

from __future__ import annotations

import json
import math
import posixpath
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from katatui.core.cell import Cell
from katatui.core.errors import UserError
from katatui.core.events import RunSpec
from katatui.core.session import ResultRow, RunRow, SessionReader
from katatui.core.stats import (
    DEFAULT_NOISE,
    Describe,
    RatioCI,
    Verdict,
    describe,
    noise_band,
    outliers,
    paired_ratio_ci,
    ratio_ci,
    verdict,
)
from katatui.core.workloads import registry

CSV_HEADER = (
    "run_id", "scenario", "launcher", "runtime", "host", "workload", "variant", "clients", "repeat",
    "metric", "value", "unit",
)  # fmt: skip
# The figures a side-by-side table shows first (the rest stay in csv/json), as the workloads' catalogues
# say.
HEADLINE = registry.headline()
# Whether a bigger value is better, by unit: for a metric no catalogue lists (see ``higher_is_better``).
# Bytes are a footprint here.
HIGHER_IS_BETTER = {
    "B/s": True, "IO/s": True, "bit/s": True, "req/s": True, "ev/s": True, "MiB/s": True,
    "us": False, "ms": False, "s": False, "B": False, "count": False, "%": False,
}  # fmt: skip


def higher_is_better(metric: str, unit: str) -> bool:
    """Whether a bigger value of ``metric`` is better: decides how a ratio is read."""
    spec = registry.metric(metric)
    return spec.higher_is_better if spec is not None else HIGHER_IS_BETTER.get(unit, True)


def tidy_rows(results: Sequence[ResultRow], *, include_partial: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in results:
        if r.partial and not include_partial:
            continue
        s = r.run.spec
        rows.append(
            {
                "run_id": s.run_id,
                "scenario": s.scenario,
                "launcher": s.launcher,
                "runtime": s.runtime or "",
                "host": s.target,
                "workload": s.workload,
                "variant": s.variant_label,
                "clients": s.clients,
                "repeat": s.repeat,
                "metric": r.metric,
                "value": r.value,
                "unit": r.unit,
            }
        )
    return rows


@dataclass(frozen=True)
class Stat:
    values: tuple[float, ...]
    run_ids: tuple[str, ...] = ()
    rounds: tuple[int, ...] = ()  # the round (repeat) of each value, when known

    def by_round(self) -> dict[int, float]:
        """The value of each round (the mean when a round has several runs); empty without rounds."""
        if len(self.rounds) != len(self.values):
            return {}
        grouped: dict[int, list[float]] = {}
        for r, v in zip(self.rounds, self.values, strict=True):
            grouped.setdefault(r, []).append(v)
        return {r: statistics.fmean(v) for r, v in grouped.items()}

    @property
    def d(self) -> Describe:
        return describe(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def cv(self) -> float | None:
        """Coefficient of variation (stdev / mean), the spread a reader should see next to a median."""
        return self.d.cv

    def outlier_runs(self) -> list[str]:
        return [self.run_ids[i] for i in outliers(self.values) if i < len(self.run_ids)]


@dataclass(frozen=True)
class SummaryRow:
    cell: str
    metric: str
    unit: str
    by_scenario: dict[str, Stat]

    def ratio(self, scenario: str, reference: str) -> float | None:
        a, b = self.by_scenario.get(scenario), self.by_scenario.get(reference)
        if a is None or b is None or b.median == 0:
            return None
        return a.median / b.median

    def ratio_ci(self, scenario: str, reference: str) -> RatioCI | None:
        """Paired by round when both sides have the same rounds (2 or more), else Welch's."""
        a, b = self.by_scenario.get(scenario), self.by_scenario.get(reference)
        if a is None or b is None:
            return None
        return interval(a, b)


def interval(a: Stat, b: Stat, alpha: float = 0.05) -> RatioCI | None:
    """The 95% interval (1 − ``alpha`` when paired) of a over b: paired by round when both sides have
    2 or more common rounds, else Welch's unpaired one."""
    ra, rb = a.by_round(), b.by_round()
    common = [r for r in ra if r in rb]
    if len(common) >= 2:
        paired = paired_ratio_ci([(ra[r], rb[r]) for r in sorted(common)], alpha)
        if paired is not None:
            return paired
    return ratio_ci(a.values, b.values)


@dataclass(frozen=True)
class Versus:
    """A scenario against the reference on one row: the ratio shown, its interval and the verdict."""

    scenario: str
    reference: str
    ratio: float
    ci: RatioCI | None
    verdict: Verdict
    noise_band: float
    noise_source: str  # "A/A runc-alt vs runc" or "default"

    @property
    def method(self) -> str:
        return self.ci.method if self.ci is not None else "none"


def versus(row: Any, scenario: str, reference: str, by: Mapping[str, Stat], band: float = DEFAULT_NOISE,
           source: str = "default", alpha: float = 0.05) -> Versus | None:  # fmt: skip
    """``scenario`` against ``reference`` in ``by`` (a row's stats by scenario or column): the ratio
    is the interval's centre (geometric mean of rounds, or ratio of means), else the ratio of medians."""
    a, b = by.get(scenario), by.get(reference)
    if a is None or b is None:
        return None
    ci = interval(a, b, alpha)
    if ci is not None:
        ratio = ci.ratio
    elif b.median:
        ratio = a.median / b.median
    else:
        return None
    if ratio <= 0 or not math.isfinite(ratio):
        return None
    v = verdict(ratio, ci, higher_is_better(row.metric, row.unit), band)
    return Versus(scenario, reference, ratio, ci, v, band, source)


@dataclass(frozen=True)
class Summary:
    scenarios: list[str]
    rows: list[SummaryRow]
    failed: list[tuple[str, str, str]]  # (scenario, cell, reason)
    cells: Mapping[str, Cell] = field(default_factory=dict)  # each row's cell by its key
    baseline: str | None = None  # the scenario ratios are taken to (default: the first)
    # Pairs of scenarios that run the same runtime (A/A): they measure the noise band.
    aa_pairs: tuple[tuple[str, str], ...] = ()
    # Noise bands a `katatui calibrate` run stored for the reference's target: (cell, metric) ->
    # (band, "calibrated 2026-12-06").
    calibrated: Mapping[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    # How the rounds ran: "alternating" (A B, then B A), "fixed" (the same order every round), "" (one
    # round, or one scenario).
    order: str = ""
    # Per cell, why it stopped adding rounds (repeats = "auto"): {"rounds", "outcome", "note"}.
    stopped: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def reference(self) -> str | None:
        if self.baseline and self.baseline in self.scenarios:
            return self.baseline
        return self.scenarios[0] if self.scenarios else None

    def noise(self, row: SummaryRow, scenario: str, reference: str) -> tuple[float, str]:
        """The noise band of ``row`` and where it comes from: the A/A pairs' largest round departure
        from 1 on this row (not for an A/A pair itself: that would judge it by itself), else the
        band a calibration stored for the target, else the default."""
        if not any({scenario, reference} == set(p) for p in self.aa_pairs):
            bands = []
            for x, y in self.aa_pairs:
                a, b = row.by_scenario.get(y), row.by_scenario.get(x)
                ci = interval(a, b) if a is not None and b is not None else None
                if ci is not None and ci.method == "paired":
                    bands.append((noise_band(ci.round_ratios), f"A/A {y} vs {x}"))
            if bands:
                return max(bands)
        stored = self.calibrated.get((row.cell, row.metric))
        if stored is not None:
            return stored
        return DEFAULT_NOISE, "default"

    def versus(self, row: SummaryRow, scenario: str) -> Versus | None:
        """``scenario`` against the reference on ``row`` (None for the reference itself)."""
        ref = self.reference
        if ref is None or scenario == ref:
            return None
        band, source = self.noise(row, scenario, ref)
        return versus(row, scenario, ref, row.by_scenario, band, source, self.alpha(row.cell))

    def alpha(self, cell: str) -> float:
        """The error rate of ``cell``'s intervals: 5%, shared out over the rounds that could end it
        under ``repeats = "auto"`` (Bonferroni: 5% / looks)."""
        looks = self.stopped.get(cell, {}).get("looks", 1)
        return 0.05 / looks if isinstance(looks, int) and not isinstance(looks, bool) and looks > 1 else 0.05

    def methods(self) -> set[str]:
        """The interval methods the ratios used."""
        return {v.method for row in self.rows for s in self.scenarios if (v := self.versus(row, s))}

    def noise_sources(self) -> list[str]:
        """The noise bands used, as a footer says them: "±5% (default)", "A/A runc-alt vs runc"."""
        found: set[str] = set()
        for row in self.rows:
            for s in self.scenarios:
                v = self.versus(row, s)
                if v is not None:
                    found.add(noise_text(v))
        return sorted(found)

    def warnings(self) -> list[str]:
        """Outliers (hyperfine's modified Z-score), and per scenario and cell the metrics still
        undecided (their interval neither excludes 1 beyond the noise band nor lies inside it)."""
        out = []
        ref = self.reference
        undecided: dict[tuple[str, str], list[str]] = {}
        for row in self.rows:
            for s, stat in row.by_scenario.items():
                for run_id in stat.outlier_runs():
                    out.append(f"{s} {row.cell} {row.metric}: run {run_id} is an outlier (modified Z > 3.5)")
                v = self.versus(row, s)
                first = first_round_apart(v)
                if first is not None:
                    out.append(f"{s} vs {ref} {row.cell} {row.metric}: {first}")
                if v is not None and v.verdict == "undecided":
                    undecided.setdefault((s, row.cell), []).append(
                        f"{row.metric} [{v.ci.low:.2f}–{v.ci.high:.2f}]"
                        if v.ci
                        else f"{row.metric} (1 round)"
                    )
        for (s, cell), metrics in undecided.items():
            out.append(f"{s} vs {ref} {cell}: undecided, more rounds needed: {', '.join(metrics)}")
        return self.rounds_notes() + out

    def rounds_notes(self) -> list[str]:
        """Per cell under ``repeats = "auto"``: how many rounds it ran and why it stopped."""
        out = []
        for cell, how in self.stopped.items():
            label = self.cells[cell].label if cell in self.cells else cell
            if how.get("note") or how.get("outcome"):
                out.append(f"{label}: {how.get('note') or how.get('outcome')}")
        return out


def noise_text(v: Versus) -> str:
    """Where a noise band came from, as a footer says it: "±5% (default)", "A/A runc-alt vs runc (per
    metric)", "calibrated 2026-12-06 (per metric)"."""
    if v.noise_source == "default":
        return f"±{DEFAULT_NOISE * 100:.0f}% (default)"
    return f"{v.noise_source} (per metric)"


def calibrated_bands(
    reader: SessionReader, reference: str | None
) -> dict[tuple[str, str], tuple[float, str]]:
    """The noise bands a calibration stored for the reference scenario's target, as the run recorded
    them in the scenario's facts (``noise_bands``): (cell, metric) -> (band, "calibrated DATE")."""
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for (scenario, _target), facts in reader.scenario_facts().items():
        if scenario != reference or not isinstance(facts, dict):
            continue
        out.update(bands_of(facts.get("noise_bands")))
    return out


def bands_of(doc: Any) -> dict[tuple[str, str], tuple[float, str]]:
    """``{cell: {metric: {"band": 0.02, "calibrated_at": "2026-12-06T..."}}}`` as (cell, metric) ->
    (band, "calibrated 2026-12-06"); what is not that shape is left out."""
    out: dict[tuple[str, str], tuple[float, str]] = {}
    if not isinstance(doc, dict):
        return out
    for cell, metrics in doc.items():
        if not isinstance(metrics, dict):
            continue
        for metric, entry in metrics.items():
            band = entry.get("band") if isinstance(entry, dict) else None
            if isinstance(band, int | float) and not isinstance(band, bool) and 0 < band < math.inf:
                when = str(entry.get("calibrated_at", ""))[:10]
                out[(str(cell), str(metric))] = (float(band), f"calibrated {when}".strip())
    return out


def first_round_apart(v: Versus | None) -> str | None:
    """With 3 rounds or more: whether round 1's ratio lies beyond the other rounds' range widened by
    the noise band (a cold first round, or a drifting host), said as a note."""
    if v is None or v.ci is None or v.ci.method != "paired" or len(v.ci.round_ratios) < 3:
        return None
    first, rest = v.ci.round_ratios[0], v.ci.round_ratios[1:]
    low, high = min(rest) / (1 + v.noise_band), max(rest) * (1 + v.noise_band)
    if low <= first <= high:
        return None
    return (f"round 1 differs from the rest (×{first:.2f}, the others ×{min(rest):.2f}–×{max(rest):.2f}): "
            "a cold first round or a drifting host?")  # fmt: skip


def summarize(reader: SessionReader, *, headline_only: bool = True, baseline: str | None = None) -> Summary:
    """The session's summary; ``baseline``: the reference scenario (default: the profile's
    ``baseline``, else the first scenario)."""
    runs = reader.runs()
    scenarios = list(dict.fromkeys(r.spec.scenario for r in runs))
    if baseline is not None and baseline not in scenarios:
        raise UserError(f"--baseline {baseline!r}: expected one of {', '.join(scenarios)}")
    profile = _profile(reader)
    chosen = baseline if baseline is not None else profile.get("baseline")
    chosen = chosen if isinstance(chosen, str) else None
    reference = chosen if chosen in scenarios else (scenarios[0] if scenarios else None)
    return summary_of(
        runs, reader.results(), headline_only=headline_only, baseline=chosen,
        drop_outliers=bool(profile.get("drop_outliers")), aa=aa_pairs(reader, scenarios),
        calibrated=calibrated_bands(reader, reference), stopped=stopped_cells(reader),
    )  # fmt: skip


def stopped_cells(reader: SessionReader) -> dict[str, dict[str, Any]]:
    """Per cell, how many rounds it ran and why it stopped (``repeats = "auto"``), as recorded."""
    try:
        doc = json.loads(reader.meta.get("rounds", "{}"))
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {str(c): v for c, v in doc.items() if isinstance(v, dict)}


def summary_of(
    runs: Sequence[RunRow], results: Sequence[ResultRow], *, headline_only: bool = True,
    baseline: str | None = None, drop_outliers: bool = False, aa: tuple[tuple[str, str], ...] = (),
    calibrated: Mapping[tuple[str, str], tuple[float, str]] | None = None,
    stopped: Mapping[str, Mapping[str, Any]] | None = None,
) -> Summary:  # fmt: skip
    """The summary of ``runs`` and their ``results`` (a session's, or a running engine's so far):
    ``aa`` the A/A pairs, ``calibrated`` the stored noise bands by (cell, metric)."""
    scenarios = list(dict.fromkeys(r.spec.scenario for r in runs))
    grouped: dict[tuple[str, str], dict[str, list[float]]] = {}
    ids: dict[tuple[str, str], dict[str, list[str]]] = {}
    rounds: dict[tuple[str, str], dict[str, list[int]]] = {}
    units: dict[str, str] = {}
    cells: dict[str, Cell] = {}
    for res in results:
        if res.partial or (headline_only and res.metric not in HEADLINE):
            continue
        cell = res.run.spec.cell
        if cell not in cells:
            cells[cell] = res.run.spec.matrix_cell
        grouped.setdefault((cell, res.metric), {}).setdefault(res.run.spec.scenario, []).append(res.value)
        ids.setdefault((cell, res.metric), {}).setdefault(res.run.spec.scenario, []).append(
            res.run.spec.run_id
        )
        rounds.setdefault((cell, res.metric), {}).setdefault(res.run.spec.scenario, []).append(
            res.run.spec.repeat
        )
        units[res.metric] = res.unit
    order = {m: i for i, m in enumerate(HEADLINE)}
    position = {c: i for i, c in enumerate(cells)}

    def stat(values: list[float], run_ids: list[str], rounds: list[int]) -> Stat:
        if drop_outliers:
            out = set(outliers(values))
            values = [v for i, v in enumerate(values) if i not in out]
            run_ids = [r for i, r in enumerate(run_ids) if i not in out]
            rounds = [r for i, r in enumerate(rounds) if i not in out]
        return Stat(tuple(values), tuple(run_ids), tuple(rounds))

    rows = [
        SummaryRow(
            cell,
            metric,
            units[metric],
            {s: stat(v, ids[(cell, metric)][s], rounds[(cell, metric)][s]) for s, v in by.items()},
        )
        for (cell, metric), by in sorted(
            grouped.items(), key=lambda kv: (position[kv[0][0]], order.get(kv[0][1], 99), kv[0][1])
        )
    ]
    failed = [(r.spec.scenario, r.spec.cell, r.reason or r.status) for r in runs if r.status == "failed"]
    return Summary(scenarios, rows, failed, cells, baseline, aa, dict(calibrated or {}), round_order(runs),
                   dict(stopped or {}))  # fmt: skip


def round_order(runs: Sequence[RunRow]) -> str:
    """ "alternating" when a cell's second round ran its scenarios in the reverse order of its first,
    "fixed" when in the same order, "" when no cell has two rounds of two scenarios or more."""
    by_round: dict[tuple[str, int], list[str]] = {}
    for r in sorted(runs, key=lambda r: r.spec.index):
        names = by_round.setdefault((r.spec.cell, r.spec.repeat), [])
        if r.spec.scenario not in names:
            names.append(r.spec.scenario)
    for (cell, rep), first in by_round.items():
        second = by_round.get((cell, rep + 1))
        if rep == 0 and second is not None and len(first) > 1 and sorted(first) == sorted(second):
            return "alternating" if second == first[::-1] else "fixed"
    return ""


def _profile(reader: SessionReader) -> dict[str, Any]:
    try:
        doc = json.loads(reader.meta.get("profile_json", "{}"))
    except (ValueError, AttributeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def aa_pairs(reader: SessionReader, scenarios: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The session's A/A pairs (see :func:`same_pairs`)."""
    return same_pairs([r.spec for r in reader.runs()], reader.scenario_facts(), scenarios)


def same_pairs(specs: Sequence[RunSpec], scenario_facts: Mapping[tuple[str, str], Any],
               scenarios: Sequence[str]) -> tuple[tuple[str, str], ...]:  # fmt: skip
    """Pairs of scenarios (first, second in the session's order) that ran the same thing: the same
    launcher and runtime, or runtime programs the recorded facts say are the same (same program name
    and version), as runc and a second name for runc."""
    identity: dict[str, tuple[str, str]] = {}
    version: dict[str, str] = {}
    for s in specs:
        identity.setdefault(s.scenario, (s.launcher, s.runtime or ""))
    for (scenario, _target), facts in scenario_facts.items():
        program = facts.get("runtime_program") if isinstance(facts, dict) else None
        if isinstance(program, str) and program and scenario in identity:
            identity[scenario] = (identity[scenario][0], posixpath.basename(program))
            if facts.get("runtime_version"):
                version[scenario] = str(facts["runtime_version"])

    def same(x: str, y: str) -> bool:
        vx, vy = version.get(x), version.get(y)
        return identity.get(x) == identity.get(y) and (vx is None or vy is None or vx == vy)

    return tuple(
        (x, y) for i, x in enumerate(scenarios) for y in scenarios[i + 1 :]
        if x in identity and same(x, y)
    )  # fmt: skip
