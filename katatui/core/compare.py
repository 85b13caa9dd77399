"""Sessions side by side: cells matched by workload kind, variant and clients across sessions.

Each (session, scenario) pair is a column. A cell's key leaves out the workload's name in the
profile, so ``fio`` in last week's profile meets ``fio-4k`` in today's when they ran the same
variant with the same number of clients. Medians side by side, the ratio of each column to the
baseline column (the first, unless chosen) with its 95% interval and verdict: paired by round
between two columns of one session, as in a single session's report; Welch's unpaired interval of
the ratio of means across sessions, where nothing pairs. Published reference figures can be laid
beside, labelled as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from katatui.core import reference as ref
from katatui.core.cell import Cell
from katatui.core.errors import UserError
from katatui.core.events import RunSpec
from katatui.core.report import HEADLINE, Stat, Summary, Versus, interval, stopped_cells, versus
from katatui.core.session import ResultRow, SessionReader
from katatui.core.stats import RatioCI, ratio_ci

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True, order=True)
class CellKey:
    """What makes two runs comparable across sessions."""

    kind: str
    variant: str  # "rw=randread,bs=4k,iodepth=4,numjobs=1"
    clients: int
    # The variant's settings one by one (["rw=randread", "bs=4k", ...]), as the cell gives them.
    words: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.variant.replace(',', ' ')} clients={self.clients}".replace("  ", " ")

    @staticmethod
    def of(spec: RunSpec) -> CellKey:
        cell = Cell(spec.workload, spec.kind, spec.variant, spec.clients)  # the name is left out
        return CellKey(cell.kind, cell.variant_text, cell.clients, tuple(cell.variant_words))


@dataclass(frozen=True)
class SessionInfo:
    letter: str
    path: Path
    profile: str
    status: str
    session_id: str
    label: str


@dataclass(frozen=True)
class Column:
    session: str  # letter
    scenario: str

    @property
    def label(self) -> str:
        return f"{self.session}:{self.scenario}"


@dataclass(frozen=True)
class CompareRow:
    key: CellKey
    metric: str
    unit: str
    by_column: dict[str, Stat]  # Column.label -> the runs' values
    published: tuple[ref.Match, ...] = ()
    # Session letter -> the error rate of this cell's paired intervals there (5%, or 5%/K for a cell
    # that ran under repeats = "auto", as its own report has it).
    alphas: Mapping[str, float] = field(default_factory=dict)

    def ratio(self, column: str, baseline: str) -> float | None:
        a, b = self.by_column.get(column), self.by_column.get(baseline)
        if a is None or b is None or b.median == 0:
            return None
        return a.median / b.median

    def ratio_ci(self, column: str, baseline: str) -> RatioCI | None:
        """Paired by round between two columns of one session; Welch's across sessions (no pairing)."""
        a, b = self.by_column.get(column), self.by_column.get(baseline)
        if a is None or b is None:
            return None
        if _session(column) == _session(baseline):
            return interval(a, b, self.alphas.get(_session(column), 0.05))
        return ratio_ci(a.values, b.values)

    def versus(self, column: str, baseline: str) -> Versus | None:
        """The ratio of ``column`` to ``baseline``, its interval and verdict (default noise band)."""
        if column == baseline:
            return None
        if _session(column) == _session(baseline):
            alpha = self.alphas.get(_session(column), 0.05)
            return versus(self, column, baseline, self.by_column, alpha=alpha)
        unpaired = {
            k: Stat(v.values, v.run_ids) for k, v in self.by_column.items() if k in (column, baseline)
        }
        return versus(self, column, baseline, unpaired)


def _session(column: str) -> str:
    return column.split(":", 1)[0]


@dataclass(frozen=True)
class Comparison:
    sessions: list[SessionInfo]
    columns: list[Column]
    baseline: str
    rows: list[CompareRow]
    only_in: list[tuple[str, str]]  # (session letter, cell label) of cells no other session has
    seed: str | None = None

    @property
    def column_labels(self) -> list[str]:
        return [c.label for c in self.columns]


Collected = dict[tuple[CellKey, str, str], tuple[list[float], list[str], str, list[int]]]


def collect(reader: SessionReader) -> Collected:
    """(cell key, scenario, metric) -> (values, run ids, unit, rounds) of a session's finished runs."""
    out: Collected = {}
    results: list[ResultRow] = reader.results()
    for r in results:
        if r.partial:
            continue
        key = (CellKey.of(r.run.spec), r.run.spec.scenario, r.metric)
        values, ids, _, rounds = out.setdefault(key, ([], [], r.unit, []))
        values.append(r.value)
        ids.append(r.run.spec.run_id)
        rounds.append(r.run.spec.repeat)
    return out


def compare(
    paths: Sequence[str | Path],
    *,
    baseline: str | None = None,
    all_metrics: bool = False,
    seed: str | None = None,
) -> Comparison:
    """Compare sessions; ``seed`` lays that study's published figures beside the matching rows."""
    if not paths:
        raise UserError("compare: give at least one session")
    if len(paths) > len(LETTERS):
        raise UserError(f"compare: at most {len(LETTERS)} sessions at once")
    sessions: list[SessionInfo] = []
    columns: list[Column] = []
    data: dict[tuple[CellKey, str], dict[str, tuple[list[float], list[str], list[int]]]] = {}
    units: dict[str, str] = {}
    keys_by_session: dict[str, set[CellKey]] = {}
    key_order: list[CellKey] = []
    variants: dict[str, dict[str, Any]] = {}
    alphas: dict[CellKey, dict[str, float]] = {}
    for letter, path in zip(LETTERS, paths, strict=False):
        with SessionReader(path) as reader:
            for run in reader.runs():
                variants.setdefault(run.spec.variant_label, dict(run.spec.variant))
            stopped = Summary([], [], [], stopped=stopped_cells(reader))
            for run in reader.runs():
                if stopped.alpha(run.spec.cell) < 0.05:
                    alphas.setdefault(CellKey.of(run.spec), {})[letter] = stopped.alpha(run.spec.cell)
            sessions.append(
                SessionInfo(letter, Path(path), reader.meta.get("profile_name", ""), reader.status,
                            reader.meta.get("session_id", ""), reader.meta.get("label", ""))
            )  # fmt: skip
            scenarios: list[str] = []
            for r in reader.runs():
                if r.spec.scenario not in scenarios:
                    scenarios.append(r.spec.scenario)
            collected = collect(reader)
        for s in scenarios:
            columns.append(Column(letter, s))
        for (key, scenario, metric), (values, ids, unit, rounds) in collected.items():
            if not all_metrics and metric not in HEADLINE:
                continue
            units[metric] = unit
            data.setdefault((key, metric), {})[Column(letter, scenario).label] = (values, ids, rounds)
            keys_by_session.setdefault(letter, set()).add(key)
            if key not in key_order:
                key_order.append(key)
    labels = [c.label for c in columns]
    if baseline is None:
        base = labels[0] if labels else ""
    elif baseline in labels:
        base = baseline
    elif any(c.scenario == baseline for c in columns):  # a scenario's name: its first column
        base = next(c.label for c in columns if c.scenario == baseline)
    else:
        raise UserError(f"--baseline {baseline!r}: expected one of {', '.join(labels)}")
    shared = set(key_order)
    only_in: list[tuple[str, str]] = []
    if len(sessions) > 1:
        shared = {k for k in key_order if sum(k in keys for keys in keys_by_session.values()) > 1}
        only_in = [
            (letter, k.label) for letter, keys in keys_by_session.items() for k in key_order
            if k in keys and k not in shared
        ]  # fmt: skip
    order = {m: i for i, m in enumerate(HEADLINE)}
    rows = []
    for (key, metric), by in sorted(
        data.items(), key=lambda kv: (key_order.index(kv[0][0]), order.get(kv[0][1], 99), kv[0][1])
    ):
        if key not in shared:
            continue
        published: tuple[ref.Match, ...] = ()
        if seed is not None:
            published = tuple(ref.lookup(seed, key.kind, variants.get(key.variant, {}), key.clients, metric))
        rows.append(
            CompareRow(key, metric, units[metric],
                       {c: Stat(tuple(v), tuple(i), tuple(r)) for c, (v, i, r) in by.items()}, published,
                       alphas.get(key, {}))
        )  # fmt: skip
    return Comparison(sessions, columns, base, rows, only_in, seed)


def to_records(cmp: Comparison) -> list[dict[str, object]]:
    """One record per row and column (and per published figure): the shape of csv and json."""
    out: list[dict[str, object]] = []
    for row in cmp.rows:
        for col in cmp.column_labels:
            stat = row.by_column.get(col)
            if stat is None:
                continue
            d = stat.d
            v = row.versus(col, cmp.baseline)
            ci = v.ci if v is not None else None
            out.append(
                {
                    "workload": row.key.kind,
                    "variant": row.key.variant,
                    "clients": row.key.clients,
                    "metric": row.metric,
                    "unit": row.unit,
                    "column": col,
                    "source": "session",
                    "n": d.n,
                    "median": d.median,
                    "mean": d.mean,
                    "stdev": d.stdev,
                    "cv": d.cv,
                    "baseline": cmp.baseline,
                    "ratio_of_medians": row.ratio(col, cmp.baseline) if col != cmp.baseline else None,
                    "ratio_ci95_low": ci.low if ci else None,
                    "ratio_ci95_high": ci.high if ci else None,
                    "level": ci.level if ci else None,  # the interval's confidence (see "ratio_ci95_*")
                    "ratio": v.ratio if v else None,
                    "method": v.method if v else None,
                    "rounds": (ci.rounds if ci else 1) if v else None,
                    "p_value": ci.p_value if ci else None,
                    "verdict": v.verdict if v else None,
                    "noise_band": v.noise_band if v else None,
                }
            )
        for m in row.published:
            out.append(
                {
                    "workload": row.key.kind,
                    "variant": row.key.variant,
                    "clients": row.key.clients,
                    "metric": row.metric,
                    "unit": m.unit,
                    "column": m.label,
                    "source": f"{ref.PUBLISHED_LABEL}: {m.figure.seed}",
                    "n": 1,
                    "median": m.value,
                    "mean": m.value,
                    "stdev": None,
                    "cv": None,
                    "baseline": cmp.baseline,
                    "ratio_of_medians": None,
                    "ratio_ci95_low": None,
                    "ratio_ci95_high": None,
                    "level": None,
                    "ratio": None,
                    "method": None,
                    "rounds": None,
                    "p_value": None,
                    "verdict": None,
                    "noise_band": None,
                }
            )
    return out
