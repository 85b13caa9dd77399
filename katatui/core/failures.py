"""Where a failure happens, and what a known limit of a sandbox looks like.

A run that fails under one runtime while the same cell ran bare or under another runtime in the
session is not the same news as a run that fails everywhere: the first points at the runtime, the
second at the workload or the host. ``Outcomes`` follows a session's runs, adds that context to a
failure's reason as it happens ("fails only under runsc; ran bare and under runc"), and at the
end lists the cells that failed only under some scenarios.

``known_limit`` and ``known_shape`` recognise behaviours of a sandbox that users meet and that are
the sandbox's, not katatui's; each was reproduced with a plain ``docker run`` on gVisor
release-20221219.0 (Debian bookworm's ``runsc``):

- fio with ``ioengine=io_uring`` dies of signal 11 (this gVisor has no usable io_uring);
- iperf3 can fail with "unable to receive results: Resource temporarily unavailable" on gVisor's
  host network (its control connection's non-blocking reads);
- nginx answering ``ab -k`` sits near 40 ms per request (p50 44 ms against 0.3 ms bare): the
  shape of Nagle's algorithm meeting delayed acknowledgements on gVisor's host networking; without
  keep-alive the same runs at about 12 ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from katatui.core.events import Event, Metric, RunFailed, RunFinished, RunSpec, SessionStarted

_SIGSEGV = re.compile(r"signal[ =]11\b|SIGSEGV|exit status 13[49]|double free")
_IPERF_RESULTS = re.compile(r"unable to receive results|Resource temporarily unavailable", re.IGNORECASE)


def known_limit(
    sandbox: str | None, run: RunSpec, reason: str, settings: Mapping[str, Any] | None = None
) -> str | None:
    """The known limit of ``sandbox`` a failure's reason shows, in words; None when none fits.
    ``settings`` are the workload's own (those that are not axes of the variant)."""
    if sandbox != "gVisor":
        return None
    engine = str(run.variant.get("ioengine") or (settings or {}).get("ioengine") or "")
    if run.kind == "fio" and engine == "io_uring" and _SIGSEGV.search(reason):
        return (
            "a limit of gVisor, not of katatui: fio's io_uring engine dies of signal 11 under this gVisor "
            '(it has no usable io_uring); use ioengine = "libaio" to compare gVisor'
        )
    if run.kind == "iperf3" and _IPERF_RESULTS.search(reason):
        return (
            "a limit of gVisor, not of katatui: iperf3's control connection fails on gVisor's host "
            'network ("unable to receive results"); the same test runs bare and under runc'
        )
    return None


def known_shape(sandbox: str | None, run: RunSpec, results: Mapping[str, Metric]) -> str | None:
    """A known shape in a finished run's figures that the user should be told about."""
    if sandbox != "gVisor" or run.kind != "ab":
        return None
    p50 = results.get("latency_p50_ms")
    if (
        p50 is not None
        and 30.0 <= p50.value <= 60.0
        and run.variant.get("keepalive") in (True, "True", "true")
    ):
        return (
            f"ab with keep-alive under gVisor sits at {p50.value:.0f} ms per request (p50): a latency floor "
            "near 40 ms is the shape of Nagle's algorithm meeting delayed ACKs on gVisor's host networking, "
            "not the server's speed; keepalive = false runs at about 12 ms there. "
            "A limit of gVisor, not of katatui"
        )
    return None


def _names(scenarios: Sequence[str]) -> str:
    said = ["bare" if s == "bare" else f"under {s}" for s in scenarios]
    if len(said) <= 1:
        return "".join(said)
    return ", ".join(said[:-1]) + " and " + said[-1]


@dataclass
class Outcomes:
    """Follows a session's runs: per cell and target, which scenarios ran and which failed."""

    sandbox_of: Callable[[str, str], str | None]  # (scenario, target) -> the identified sandbox
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # workload name -> settings
    runs: dict[str, RunSpec] = field(default_factory=dict)
    ok: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    failed: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def observe(self, event: Event) -> Event:
        """The event as listeners should see it: a failure's reason says where else it ran."""
        if isinstance(event, SessionStarted):
            self.runs = {r.run_id: r for r in event.runs}
        elif isinstance(event, RunFinished):
            run = self.runs.get(event.run_id)
            if run is not None:
                _add(self.ok, (run.cell, run.target), self._scenario(run))
                shape = known_shape(self.sandbox_of(self._scenario(run), run.target), run, event.results)
                if shape is not None:
                    self.notes.append(f"{self._scenario(run)}, {run.cell}: {shape}")
        elif isinstance(event, RunFailed) and event.reason != "skipped by the user":
            run = self.runs.get(event.run_id)
            if run is not None:
                return RunFailed(event.run_id, self._explain(run, event.reason), event.partial, at=event.at)
        return event

    @staticmethod
    def _scenario(run: RunSpec) -> str:
        return run.scenario.removesuffix(f"@{run.target}")

    def _explain(self, run: RunSpec, reason: str) -> str:
        scenario = self._scenario(run)
        key = (run.cell, run.target)
        _add(self.failed, key, scenario)
        extra: list[str] = []
        ran = [s for s in self.ok.get(key, []) if s != scenario]
        if ran:
            extra.append(f"fails under {scenario}; the same cell ran {_names(ran)}")
        limit = known_limit(
            self.sandbox_of(scenario, run.target), run, reason, self.settings.get(run.workload)
        )
        if limit is not None:
            extra.append(limit)
        return reason + "".join(f" ({e})" for e in extra)

    def summary(self) -> list[str]:
        """One line per cell that failed only under some scenarios, and the shapes seen."""
        out: list[str] = []
        for key, failed in self.failed.items():
            ran = [s for s in self.ok.get(key, []) if s not in failed]
            if ran:
                cell, target = key
                fails = ", ".join(dict.fromkeys(failed))
                out.append(f"{cell} on {target} fails only under {fails}; it ran {_names(ran)}")
        return out + list(dict.fromkeys(self.notes))


def _add(table: dict[tuple[str, str], list[str]], key: tuple[str, str], scenario: str) -> None:
    names = table.setdefault(key, [])
    if scenario not in names:
        names.append(scenario)


def sandbox_lookup(facts: Mapping[tuple[str, str], Mapping[str, Any]]) -> Callable[[str, str], str | None]:
    """(scenario, target) -> the sandbox the scenario's facts identified."""

    def get(scenario: str, target: str) -> str | None:
        value = facts.get((scenario, target), {}).get("sandbox")
        return str(value) if value else None

    return get
