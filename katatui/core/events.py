"""Typed events: the only thing that flows from the engine to its listeners.

The session store, the headless printer and the TUI all receive the same events; a replayed
session produces them again from disk, so a listener cannot tell live from replay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from katatui.core.cell import Cell


@dataclass(frozen=True)
class RunSpec:
    """One run of the plan: a workload variant under one scenario on one target."""

    run_id: str
    index: int
    cell: str  # identifies the matrix cell: workload + variant + clients (same for every scenario)
    scenario: str
    launcher: str
    runtime: str | None
    target: str
    workload: str  # the workload's name in the profile
    kind: str  # the workload type: "fio", ...
    variant: Mapping[str, Any]
    clients: int
    repeat: int
    # The target of each client when the run's clients are spread over several targets (empty:
    # every client runs on ``target``).
    hosts: tuple[str, ...] = ()

    def host_of(self, client: int) -> str:
        return self.hosts[client] if client < len(self.hosts) else self.target

    @property
    def variant_label(self) -> str:
        """``rw=randread,bs=4k,iodepth=8,numjobs=1``: the variant as the run recorded it."""
        return Cell(self.workload, self.kind, self.variant, self.clients).variant_text

    @property
    def matrix_cell(self) -> Cell:
        """The run's cell, typed; ``cell`` is its key (as stored, by older sessions too)."""
        return Cell.recorded(self.cell, self.workload, self.kind, self.variant, self.clients)


@dataclass(frozen=True)
class Metric:
    value: float
    unit: str


@dataclass(frozen=True)
class SessionStarted:
    session_id: str
    profile_name: str
    pairing: str
    runs: tuple[RunSpec, ...]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class HostFacts:
    target: str
    facts: Mapping[str, Any]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ScenarioFacts:
    """What a scenario's sandbox looks like from inside (guest kernel, root filesystem, CPUs, memory)."""

    scenario: str
    target: str
    facts: Mapping[str, Any]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    commands: tuple[tuple[str, ...], ...]  # one argument list per client
    at: float = field(default_factory=time.time)


# The client number of the samples that describe a run's sandbox as the host sees it (CPU and
# memory of the shim, hypervisor, virtiofsd and container processes, CPU of the vhost kernel
# threads), apart from the tools' own.
SANDBOX_CLIENT = 2000


@dataclass(frozen=True)
class Sample:
    run_id: str
    t: float  # seconds since the run started
    metrics: Mapping[str, float]
    client: int = 0
    # Latency histograms of the interval (name -> bucket value -> count), e.g. "read_clat_ns".
    hist: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RawOutput:
    """Bytes exactly as a tool printed them; kept so that nothing is locked in."""

    run_id: str
    client: int
    stream: Literal["stdout", "stderr"]
    data: bytes
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RunFacts:
    """The conditions a run met: the host's state before and during it, the page cache, what its
    scenario saw. Several may arrive for one run (before, then during); later keys add to earlier."""

    run_id: str
    facts: Mapping[str, Any]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    results: Mapping[str, Metric]
    duration: float
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RunFailed:
    run_id: str
    reason: str
    partial: Mapping[str, Metric] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class LogMessage:
    level: Literal["info", "warning", "error"]
    text: str
    run_id: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Comparison:
    """A scenario against the reference on one metric of a cell, as the rounds so far say it."""

    metric: str
    scenario: str
    reference: str
    ratio: float
    low: float | None  # the 95% interval (None with one round)
    high: float | None
    verdict: str  # better, worse, same, undecided
    noise_band: float
    level: float = 0.95  # the interval's confidence (higher under repeats = "auto", see RoundFinished)


@dataclass(frozen=True)
class RoundFinished:
    """Every scenario of round ``round`` (0-based) of ``cell`` has run: the verdicts so far. When the
    cell stops adding rounds, ``outcome`` says why ("settled", "max_repeats", "time_budget") with
    ``note`` in words, and ``dropped`` lists the planned runs of later rounds it no longer needs."""

    cell: str
    round: int
    comparisons: tuple[Comparison, ...]
    outcome: str = ""
    note: str = ""
    dropped: tuple[str, ...] = ()
    # Under repeats = "auto": the rounds that could end the cell (max_repeats − min_repeats + 1); its
    # intervals are at 1 − 5%/looks so that looking after each round keeps 5% in all (Bonferroni).
    looks: int = 1
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class SessionFinished:
    status: Literal["completed", "failed", "interrupted"]
    at: float = field(default_factory=time.time)


Event = (
    SessionStarted
    | HostFacts
    | ScenarioFacts
    | RunStarted
    | Sample
    | RawOutput
    | RunFacts
    | RunFinished
    | RunFailed
    | LogMessage
    | RoundFinished
    | SessionFinished
)
Listener = Callable[[Event], None]
