"""Results of a session as tidy rows and as a side-by-side summary."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from katatui.core.cell import Cell
from katatui.core.session import ResultRow, SessionReader
from katatui.core.stats import Describe, RatioCI, describe, outliers, ratio_ci
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
        a, b = self.by_scenario.get(scenario), self.by_scenario.get(reference)
        if a is None or b is None:
            return None
        return ratio_ci(a.values, b.values)


@dataclass(frozen=True)
class Summary:
    scenarios: list[str]
    rows: list[SummaryRow]
    failed: list[tuple[str, str, str]]  # (scenario, cell, reason)
    cells: Mapping[str, Cell] = field(default_factory=dict)  # each row's cell by its key

    @property
    def reference(self) -> str | None:
        return self.scenarios[0] if self.scenarios else None

    def warnings(self) -> list[str]:
        """Outliers (hyperfine's modified Z-score), and per scenario and cell the metrics whose ratio
        the spread cannot separate from 1 (their 95% interval includes 1), one line each."""
        out = []
        ref = self.reference
        unseparated: dict[tuple[str, str], list[str]] = {}
        for row in self.rows:
            for s, stat in row.by_scenario.items():
                for run_id in stat.outlier_runs():
                    out.append(f"{s} {row.cell} {row.metric}: run {run_id} is an outlier (modified Z > 3.5)")
                ci = row.ratio_ci(s, ref) if ref and s != ref else None
                if ci is not None and not ci.separates:
                    unseparated.setdefault((s, row.cell), []).append(
                        f"{row.metric} [{ci.low:.2f}–{ci.high:.2f}]"
                    )
        for (s, cell), metrics in unseparated.items():
            out.append(
                f"{s} vs {ref} {cell}: within the noise (95% interval includes 1): {', '.join(metrics)}"
            )
        return out


def summarize(reader: SessionReader, *, headline_only: bool = True) -> Summary:
    runs = reader.runs()
    scenarios: list[str] = []
    for r in runs:
        if r.spec.scenario not in scenarios:
            scenarios.append(r.spec.scenario)
    grouped: dict[tuple[str, str], dict[str, list[float]]] = {}
    ids: dict[tuple[str, str], dict[str, list[str]]] = {}
    units: dict[str, str] = {}
    cells: dict[str, Cell] = {}
    for res in reader.results():
        if res.partial or (headline_only and res.metric not in HEADLINE):
            continue
        cell = res.run.spec.cell
        if cell not in cells:
            cells[cell] = res.run.spec.matrix_cell
        grouped.setdefault((cell, res.metric), {}).setdefault(res.run.spec.scenario, []).append(res.value)
        ids.setdefault((cell, res.metric), {}).setdefault(res.run.spec.scenario, []).append(
            res.run.spec.run_id
        )
        units[res.metric] = res.unit
    order = {m: i for i, m in enumerate(HEADLINE)}
    position = {c: i for i, c in enumerate(cells)}
    drop = _drops_outliers(reader)

    def stat(values: list[float], run_ids: list[str]) -> Stat:
        if drop:
            out = set(outliers(values))
            values = [v for i, v in enumerate(values) if i not in out]
            run_ids = [r for i, r in enumerate(run_ids) if i not in out]
        return Stat(tuple(values), tuple(run_ids))

    rows = [
        SummaryRow(
            cell,
            metric,
            units[metric],
            {s: stat(v, ids[(cell, metric)][s]) for s, v in by.items()},
        )
        for (cell, metric), by in sorted(
            grouped.items(), key=lambda kv: (position[kv[0][0]], order.get(kv[0][1], 99), kv[0][1])
        )
    ]
    failed = [(r.spec.scenario, r.spec.cell, r.reason or r.status) for r in runs if r.status == "failed"]
    return Summary(scenarios, rows, failed, cells)


def _drops_outliers(reader: SessionReader) -> bool:
    """The profile's ``drop_outliers`` (seed 004's advice: repeat, drop outliers, then average)."""
    try:
        return bool(json.loads(reader.meta.get("profile_json", "{}")).get("drop_outliers"))
    except (ValueError, AttributeError):
        return False
