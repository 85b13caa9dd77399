"""What the dashboard knows about a session, built only from the engine's events.

The model never imports Textual: events go in (``apply``), the screens read it on their repaint
timer. Everything held per run or per stream is bounded, so a long session with many clients
costs the same memory per second as a short one.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from katatui.core import isolation
from katatui.core.cell import Cell
from katatui.core.events import (
    SANDBOX_CLIENT,
    Comparison,
    Event,
    HostFacts,
    LogMessage,
    Metric,
    RoundFinished,
    RunFailed,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    ScenarioFacts,
    SessionFinished,
    SessionStarted,
)
from katatui.core.report import HEADLINE, Stat, Summary, SummaryRow
from katatui.core.workloads import registry
from katatui.core.workloads.fio.parser import percentiles_ns
from katatui.views.summary import round_line

# Live metrics in the order their rows appear, as the workloads' catalogues say; names that arrive
# later and end in one of RATE_SUFFIXES get a row after these.
LIVE_METRICS = registry.live_rows()
RATE_SUFFIXES = ("_per_s", "_per_second", "_iops")
# What the host pays for a run's sandbox (its processes' CPU and memory), shown under the rates.
SANDBOX_METRICS = registry.sandbox_rows()
PERCENTILES = ((50.0, "p50"), (90.0, "p90"), (99.0, "p99"), (99.9, "p99.9"))
HISTORY = 600  # per-second points kept per run and metric
LOG_LINES = 2000
# Per-second figures that are not rates but are worth a row: how clients' values combine in a second.
GAUGES = {"latency_p95_ms": "max", "retransmits": "sum"}  # sysbench's p95, iperf3's retransmits
# The summary's metric a live row is judged by (its ratio, verdict and interval), when not itself.
SUMMARY_OF = {
    "requests_per_s": "requests_per_second",
    "events_per_s": "events_per_second",
    "bits_per_second": "received_bits_per_second",
    "sandbox_cpu_percent": "sandbox_cpu_percent_mean",
    "sandbox_pss_bytes": "sandbox_pss_mean_bytes",
    "host_cpu_busy_percent": "host_cpu_busy_percent_mean",
}
# Why a cell under repeats = "auto" stopped adding rounds, in a few words (RoundFinished.outcome).
STOPPED = {
    "settled": "settled after {n} rounds",
    "max_repeats": "stopped at max_repeats ({n} rounds)",
    "time_budget": "stopped at the time budget ({n} rounds)",
    "skipped": "skipped",
}
# Latency percentiles a run reports only in its results (ab, sysbench): ``latency_p99_ms``.
RESULT_LATENCY = re.compile(r"^latency_(p\d+(?:_\d+)?|max)_ms$")


def is_live_metric(name: str) -> bool:
    return name in LIVE_METRICS or name in GAUGES or name.endswith(RATE_SUFFIXES)


def summary_metric_of(metric: str) -> str:
    return SUMMARY_OF.get(metric, metric)


def metric_order(names: Iterable[str]) -> list[str]:
    known = {m: i for i, m in enumerate(LIVE_METRICS)}
    last = {m: len(known) + 1 + i for i, m in enumerate(SANDBOX_METRICS)}  # after every rate
    return sorted(set(names), key=lambda m: (last.get(m, known.get(m, len(known))), m))


@dataclass
class RunState:
    """One run of the plan. ``series`` holds per-second totals over the run's clients."""

    spec: RunSpec
    status: str = "planned"  # planned | running | finished | failed
    commands: tuple[tuple[str, ...], ...] = ()
    reason: str | None = None
    results: Mapping[str, Metric] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None
    duration: float | None = None
    series: dict[str, deque[float]] = field(default_factory=dict)
    appended: Counter[str] = field(default_factory=Counter)  # points ever added per metric (some dropped)
    last_t: float = 0.0
    _open: dict[int, dict[str, float]] = field(default_factory=dict)
    _reported: Counter[int] = field(default_factory=Counter)

    def add(self, sample: Sample) -> None:
        """Sum clients' rates second by second; a second is closed once every client reported it
        (or a later second has begun, so a dead client cannot hold the display back)."""
        if sample.client >= SANDBOX_CLIENT:  # the sandbox as the host sees it: a series of its own
            if sample.client > SANDBOX_CLIENT:
                return  # the sandboxes of a spread run's other hosts: in its results, not in the column
            for name in SANDBOX_METRICS:
                if name in sample.metrics:
                    self.series.setdefault(name, deque(maxlen=HISTORY)).append(sample.metrics[name])
                    self.appended[name] += 1
            return
        second = round(sample.t)
        acc = self._open.setdefault(second, {})
        for name, value in sample.metrics.items():
            if is_live_metric(name):
                if GAUGES.get(name) == "max":
                    acc[name] = max(acc.get(name, value), value)
                else:
                    acc[name] = acc.get(name, 0.0) + value
        self._reported[second] += 1
        self.last_t = max(self.last_t, sample.t)
        for s in sorted(self._open):
            if self._reported[s] >= self.spec.clients or s < second - 1:
                self._close(s)
            else:
                break

    def close_all(self) -> None:
        for s in sorted(self._open):
            self._close(s)

    def _close(self, second: int) -> None:
        for name, value in self._open.pop(second).items():
            self.series.setdefault(name, deque(maxlen=HISTORY)).append(value)
            self.appended[name] += 1
        del self._reported[second]

    def values(self, metric: str) -> list[float]:
        return list(self.series.get(metric, ()))

    def last(self, metric: str) -> float | None:
        series = self.series.get(metric)
        return series[-1] if series else None


@dataclass
class Latency:
    """Histograms merged over clients, intervals and repeats for one scenario in one cell."""

    bins: dict[str, Counter[int]] = field(default_factory=dict)
    version: int = 0
    _cache: dict[str, tuple[int, dict[str, float]]] = field(default_factory=dict)

    def add(self, hist: Mapping[str, Mapping[int, int]]) -> None:
        for name, bins in hist.items():
            self.bins.setdefault(name, Counter()).update(bins)
        if hist:
            self.version += 1

    def percentiles(self, name: str) -> dict[str, float]:
        """p50 … p99.9 and max in µs, exactly as fio computes them from the same buckets."""
        cached = self._cache.get(name)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        bins = self.bins.get(name)
        out: dict[str, float] = {}
        if bins:
            found = percentiles_ns(bins, [p for p, _ in PERCENTILES])
            for p, label in PERCENTILES:
                v = found[p]
                if v is not None:
                    out[label] = v / 1000.0
            out["max"] = max(k for k, c in bins.items() if c > 0) / 1000.0
        self._cache[name] = (self.version, out)
        return out

    def cdf(self, name: str, points: int = 160) -> tuple[list[float], list[float]]:
        """(latency µs, fraction ≤ it), thinned to about ``points`` steps."""
        bins = self.bins.get(name)
        if not bins:
            return [], []
        keys = sorted(k for k, c in bins.items() if c > 0)
        total = sum(bins[k] for k in keys)
        step = max(1, len(keys) // points)
        xs: list[float] = []
        ys: list[float] = []
        running = 0
        for i, k in enumerate(keys):
            running += bins[k]
            if i % step == 0 or i == len(keys) - 1:
                xs.append(k / 1000.0)
                ys.append(running / total)
        return xs, ys


@dataclass(frozen=True)
class LogLine:
    seq: int
    at: float
    level: str
    text: str


class SessionModel:
    """Everything the screens show, updated event by event."""

    def __init__(self) -> None:
        self.version = 0  # bumps on every event: a panel repaints only when it moved
        self.generation = 0  # bumps on reset: screens drop what they painted from the old state
        self.planned_run_seconds: float | None = None
        self.baseline: str | None = None  # the profile's baseline scenario (ratios are to it)
        # The plan is the most runs the session may take (repeats = "auto": a cell stops once its
        # verdicts are decided, and its later rounds leave the plan).
        self.auto = False
        self._clear()

    def reset(self) -> None:
        """Forget every event (a replay seeking back applies them again from the start)."""
        self._clear()
        self.version += 1
        self.generation += 1

    def restore(self, other: SessionModel) -> None:
        """Take ``other``'s state (a copy kept by a replay), in place: screens hold this object."""
        version, generation = self.version, self.generation
        self.__dict__.update(other.__dict__)
        self.version = max(version, other.version) + 1
        self.generation = generation + 1

    def _clear(self) -> None:
        self.session_id = ""
        self.profile_name = ""
        self.pairing = "sequential"
        self.started_at: float | None = None
        self.last_at: float | None = None
        self.status: str | None = None  # SessionFinished.status once the session ended
        self.runs: dict[str, RunState] = {}
        self.order: list[str] = []
        self.scenarios: list[str] = []
        self.cells: list[str] = []
        self.cell_of: dict[str, Cell] = {}  # each cell by its key
        self.hosts: dict[str, Mapping[str, object]] = {}
        self.fairness: dict[tuple[str, str], Mapping[str, object]] = {}  # (scenario, target) -> record
        self.isolation: dict[str, str] = {}  # scenario -> its sandbox or isolation, in a few words
        self.latency: dict[tuple[str, str], Latency] = {}
        self.rounds: dict[str, RoundFinished] = {}  # each cell's latest round: the engine's verdicts
        # Per cell under repeats = "auto": its rounds, why it stopped and its looks (as a session keeps it).
        self.stopped: dict[str, dict[str, Any]] = {}
        self.dropped = 0  # planned runs that left the plan (their cell stopped early)
        self.ended = 0  # bumps when a run ends: the summary is computed again only then
        self._summary: tuple[tuple[int, str | None], Summary] | None = None
        self.log: deque[LogLine] = deque(maxlen=LOG_LINES)
        self._log_seq = 0

    # -- events ---------------------------------------------------------------------------------
    def apply(self, ev: Event) -> None:
        self.version += 1
        at = getattr(ev, "at", None)
        if isinstance(at, float):
            self.last_at = at if self.last_at is None else max(self.last_at, at)
        if isinstance(ev, Sample):
            run = self.runs.get(ev.run_id)
            if run is not None:
                run.add(ev)
                if ev.hist:
                    key = (run.spec.cell, run.spec.scenario)
                    self.latency.setdefault(key, Latency()).add(ev.hist)
        elif isinstance(ev, SessionStarted):
            self._plan(ev)
        elif isinstance(ev, RunStarted):
            run = self.runs.get(ev.run_id)
            if run is not None:
                run.status, run.commands, run.started_at = "running", ev.commands, ev.at
                for cmd in ev.commands:
                    self._log("command", f"{run.spec.scenario}: $ {' '.join(cmd)}", ev.at)
        elif isinstance(ev, RunFinished):
            run = self.runs.get(ev.run_id)
            if run is not None:
                run.status, run.results, run.duration, run.finished_at = (
                    "finished", ev.results, ev.duration, ev.at,
                )  # fmt: skip
                run.close_all()
                self.ended += 1
        elif isinstance(ev, RunFailed):
            run = self.runs.get(ev.run_id)
            if run is not None:
                run.status, run.reason, run.results, run.finished_at = "failed", ev.reason, ev.partial, ev.at
                run.close_all()
                self.ended += 1
                where = f"{run.spec.scenario} {run.spec.cell} repeat {run.spec.repeat + 1}"
                self._log("error", f"run failed: {where}: {ev.reason}", ev.at)
            else:
                self._log("error", f"run {ev.run_id} failed: {ev.reason}", ev.at)
        elif isinstance(ev, LogMessage):
            self._log(ev.level, ev.text, ev.at)
        elif isinstance(ev, HostFacts):
            self.hosts[ev.target] = ev.facts
        elif isinstance(ev, ScenarioFacts):
            said = isolation.short(ev.facts)
            if said:
                self.isolation[ev.scenario] = said
            record = ev.facts.get("fairness")
            if isinstance(record, Mapping):
                self.fairness[(ev.scenario, ev.target)] = record
        elif isinstance(ev, RoundFinished):
            self._round(ev)
        elif isinstance(ev, SessionFinished):
            self.status = ev.status
            self._log("info" if ev.status == "completed" else "warning", f"session {ev.status}", ev.at)

    def _plan(self, ev: SessionStarted) -> None:
        self.session_id, self.profile_name, self.pairing = ev.session_id, ev.profile_name, ev.pairing
        self.ended += 1
        self.started_at = ev.at
        for spec in ev.runs:
            self.runs[spec.run_id] = RunState(spec)
            self.order.append(spec.run_id)
            if spec.scenario not in self.scenarios:
                self.scenarios.append(spec.scenario)
            if spec.cell not in self.cells:
                self.cells.append(spec.cell)
                self.cell_of[spec.cell] = spec.matrix_cell
        scen = ", ".join(self.scenarios)
        runs = f"{'up to ' if self.auto else ''}{len(ev.runs)} runs"
        self._log("info", f"{ev.profile_name}: {runs}, scenarios {scen}, pairing {ev.pairing}", ev.at)

    def _round(self, ev: RoundFinished) -> None:
        """A round of a cell has run: the engine's verdicts (at the level it used); a cell that stopped
        takes the rounds it no longer needs out of the plan."""
        self.rounds[ev.cell] = ev
        if ev.outcome or ev.looks > 1:
            self.stopped[ev.cell] = {"rounds": ev.round + 1, "outcome": ev.outcome, "note": ev.note,
                                     "looks": ev.looks}  # fmt: skip
        for rid in ev.dropped:
            run = self.runs.get(rid)
            if run is not None and run.status == "planned":
                del self.runs[rid]
                self.order.remove(rid)
                self.dropped += 1
        self.ended += 1  # the summary's levels may have changed
        label = self.cell_of[ev.cell].label if ev.cell in self.cell_of else ev.cell
        self._log("info", round_line(ev, label).plain, ev.at)

    def comparison(self, cell: str, metric: str, scenario: str) -> Comparison | None:
        """The engine's verdict on ``scenario`` against the reference on ``metric`` after the cell's
        latest round (None before its first round ended, or in a session recorded without them)."""
        ev = self.rounds.get(cell)
        if ev is None:
            return None
        return next((c for c in ev.comparisons
                     if c.metric == metric and c.scenario == scenario and c.reference == self.reference),
                    None)  # fmt: skip

    def stop_text(self, cell: str) -> str:
        """Why ``cell`` stopped adding rounds, in a few words ("" while it goes on, or never did)."""
        how = self.stopped.get(cell, {})
        outcome = how.get("outcome")
        if not outcome:
            return ""
        return STOPPED.get(str(outcome), str(outcome)).format(n=how.get("rounds", "?"))

    def open_ended(self, cell: str | None = None) -> bool:
        """Whether the plan may still shrink (of ``cell``, or of any cell): repeats = "auto", and a cell
        that has not stopped has runs to come."""
        if not self.auto:
            return False
        return any(
            r.status in ("planned", "running") and (cell is None or r.spec.cell == cell)
            and not self.stopped.get(r.spec.cell, {}).get("outcome")
            for r in self.runs.values()
        )  # fmt: skip

    def cell_rounds(self, cell: str) -> int:
        """The rounds ``cell`` runs (or, under "auto" while it goes on, the most it may run)."""
        return 1 + max((r.spec.repeat for r in self.runs.values() if r.spec.cell == cell), default=0)

    def _log(self, level: str, text: str, at: float) -> None:
        self._log_seq += 1
        self.log.append(LogLine(self._log_seq, at, level, text))

    # -- questions the screens ask --------------------------------------------------------------
    @property
    def reference(self) -> str | None:
        """The scenario ratios are taken to: the profile's ``baseline``, else the first."""
        if self.baseline and self.baseline in self.scenarios:
            return self.baseline
        return self.scenarios[0] if self.scenarios else None

    def cell_start(self, cell: str) -> float | None:
        """When the cell's first run started (the origin of its shared time axis)."""
        starts = [
            r.started_at for r in self.runs.values() if r.spec.cell == cell and r.started_at is not None
        ]
        return min(starts) if starts else None

    def cell_history(self, cell: str, metric: str) -> dict[str, list[tuple[float, float]]]:
        """Every round of every scenario in ``cell``: (seconds since the cell started, value) per
        scenario, on one time axis."""
        origin = self.cell_start(cell)
        out: dict[str, list[tuple[float, float]]] = {}
        if origin is None:
            return out
        for rid in self.order:
            run = self.runs[rid]
            if run.spec.cell != cell or run.started_at is None:
                continue
            series = run.series.get(metric)
            if not series:
                continue
            at = run.started_at - origin + run.appended[metric] - len(series)  # the oldest kept
            points = out.setdefault(run.spec.scenario, [])
            points.extend((at + i, v) for i, v in enumerate(series))
        return out

    def result_latency(self, cell: str) -> dict[str, dict[str, float]]:
        """Per scenario, the median over its finished runs of the latency percentiles a workload
        reports only at the end (ab's from its -e file, sysbench's p95): label -> ms."""
        by: dict[str, dict[str, list[float]]] = {}
        for rid in self.order:
            run = self.runs[rid]
            if run.spec.cell != cell or run.status != "finished":
                continue
            for name, m in run.results.items():
                found = RESULT_LATENCY.match(name)
                if found:
                    label = found.group(1).replace("_", ".")
                    by.setdefault(run.spec.scenario, {}).setdefault(label, []).append(m.value)
        return {s: {k: statistics.median(v) for k, v in d.items()} for s, d in by.items()}

    def running(self) -> list[RunState]:
        return [self.runs[r] for r in self.order if self.runs[r].status == "running"]

    def done_count(self) -> int:
        return sum(1 for r in self.runs.values() if r.status in ("finished", "failed"))

    def live_cell(self) -> str | None:
        """The cell being measured now, else the last one that started, else the first."""
        running = self.running()
        if running:
            return running[0].spec.cell
        started = [self.runs[r] for r in self.order if self.runs[r].status != "planned"]
        if started:
            return started[-1].spec.cell
        return self.cells[0] if self.cells else None

    def finished_cells(self) -> list[str]:
        """Cells with at least one run that ended: the ones worth switching back to."""
        ended = {r.spec.cell for r in self.runs.values() if r.status in ("finished", "failed")}
        return [c for c in self.cells if c in ended]

    def runs_of(self, cell: str, scenario: str) -> list[RunState]:
        return [
            self.runs[r]
            for r in self.order
            if self.runs[r].spec.cell == cell and self.runs[r].spec.scenario == scenario
        ]

    def shown_run(self, cell: str, scenario: str) -> RunState | None:
        """The run a column shows: the running one, else the latest that started, else None."""
        runs = self.runs_of(cell, scenario)
        running = [r for r in runs if r.status == "running"]
        if running:
            return running[-1]
        started = [r for r in runs if r.status != "planned"]
        return started[-1] if started else None

    def repeats(self) -> int:
        return 1 + max((r.spec.repeat for r in self.runs.values()), default=0)

    def elapsed(self) -> float:
        if self.started_at is None or self.last_at is None:
            return 0.0
        return max(0.0, self.last_at - self.started_at)

    def remaining(self) -> float | None:
        """Seconds left: the mean time per batch so far (or the planned run time) × batches left."""
        if self.status is not None:
            return 0.0
        left = [self.runs[r] for r in self.order if self.runs[r].status in ("planned", "running")]
        if not left:
            return 0.0
        took = [
            r.finished_at - r.started_at
            for r in self.runs.values()
            if r.finished_at is not None and r.started_at is not None
        ]
        per_run = statistics.fmean(took) if took else self.planned_run_seconds
        if per_run is None:
            return None
        if self.pairing == "concurrent":
            batches = len({(r.spec.cell, r.spec.repeat) for r in left})
            return batches * per_run
        return len(left) * per_run

    def summary(self) -> Summary:
        """Medians and spread per cell, metric and scenario, from the runs that finished (computed
        again only once another run ended)."""
        key = (self.ended, self.reference)
        if self._summary is not None and self._summary[0] == key:
            return self._summary[1]
        made = self._make_summary()
        self._summary = (key, made)
        return made

    def _make_summary(self) -> Summary:
        grouped: dict[tuple[str, str], dict[str, list[float]]] = {}
        rounds: dict[tuple[str, str], dict[str, list[int]]] = {}
        units: dict[str, str] = {}
        for rid in self.order:
            run = self.runs[rid]
            if run.status != "finished":
                continue
            for metric, m in run.results.items():
                if metric in HEADLINE:
                    grouped.setdefault((run.spec.cell, metric), {}).setdefault(run.spec.scenario, []).append(
                        m.value
                    )
                    rounds.setdefault((run.spec.cell, metric), {}).setdefault(run.spec.scenario, []).append(
                        run.spec.repeat
                    )
                    units[metric] = m.unit
        order = {m: i for i, m in enumerate(HEADLINE)}

        def stat(values: list[float], repeats: list[int]) -> Stat:
            return Stat(tuple(values), (), tuple(repeats))

        rows = [
            SummaryRow(
                cell, metric, units[metric], {s: stat(v, rounds[(cell, metric)][s]) for s, v in by.items()}
            )
            for (cell, metric), by in sorted(
                grouped.items(), key=lambda kv: (self.cells.index(kv[0][0]), order.get(kv[0][1], 99))
            )
        ]
        failed = [
            (r.spec.scenario, r.spec.cell, r.reason or "failed")
            for r in (self.runs[x] for x in self.order)
            if r.status == "failed"
        ]
        return Summary(list(self.scenarios), rows, failed, dict(self.cell_of), baseline=self.reference,
                       stopped={c: dict(v) for c, v in self.stopped.items()})  # fmt: skip
