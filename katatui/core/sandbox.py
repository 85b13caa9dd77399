"""The sandbox's own costs, live: host CPU and memory of a run's sandbox processes, once a second.

While a workload runs in containers, the host pays for more than the workload: the shim, and for a
VM runtime the hypervisor (which also carries the guest's CPU time), virtiofsd and vhost threads;
for gVisor the sentry (its kernel in user space, which serves the application's system calls) and
the gofer. Each role of ``proctree.ROLES`` gets its own ``<role>_cpu_percent`` and
``<role>_pss_bytes`` per second and ``<role>_cpu_seconds`` in the results (the vhost threads CPU
only); gVisor's ``container`` is its stub processes, where the application's own code runs.
The sampler finds those processes the way the footprint workload does (the container's init
process, its shim, every process naming the sandbox id, their descendants, and the vhost kernel
threads of any of them) and reads their
``/proc/PID/stat`` CPU ticks and ``smaps_rollup`` RSS/PSS in one command per second. Each second
becomes a ``Sample`` of client ``SANDBOX_CLIENT``; the run's results gain the totals: host CPU
seconds of the sandbox, mean and peak memory, the host's own CPU use, and the throughput per
host CPU second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from katatui.core.errors import KatatuiError
from katatui.core.events import SANDBOX_CLIENT, Event, Metric, Sample
from katatui.core.proctree import KERNEL_ROLES, PS, Proc, parse_ps, sandbox_of
from katatui.core.proctree import ROLES as ROLES  # shim, hypervisor, ..., sentry, gofer, container
from katatui.core.transport.base import Transport

# Fixed text: the PIDs follow as positional parameters.
STAT_SCRIPT = (
    'getconf CLK_TCK; head -n 1 /proc/stat; for p; do printf "pid %s\\n" "$p"; '
    'cat "/proc/$p/stat" 2>/dev/null; grep -E "^(Rss|Pss):" "/proc/$p/smaps_rollup" 2>/dev/null; done; exit 0'
)
PF_KTHREAD = 0x00200000  # /proc/PID/stat flags (field 9): a kernel thread (include/linux/sched.h)
REFRESH = 5.0  # seconds between looks for processes that joined the sandbox
STOP_TRIES = 40  # seconds to wait for the loop to end: more than a read may take (30 s)
RATE_UNITS = {"B/s": "B", "IO/s": "IO", "bit/s": "bit", "req/s": "req", "ev/s": "ev", "MiB/s": "MiB"}


@dataclass(frozen=True)
class ProcStat:
    ticks: int  # utime + stime
    rss_kb: int
    pss_kb: int


def parse_stats(text: str) -> tuple[int, list[int], dict[int, ProcStat]]:
    """Clock ticks per second, the host's ``cpu`` line, and per PID its CPU ticks and memory."""
    lines = text.splitlines()
    hz = int(lines[0]) if lines and lines[0].strip().isdigit() else 100
    host: list[int] = []
    if len(lines) > 1 and lines[1].startswith("cpu "):
        host = [int(x) for x in lines[1].split()[1:] if x.isdigit()]
    out: dict[int, ProcStat] = {}
    pid: int | None = None
    ticks = rss = pss = 0
    seen_stat = kernel = False

    def flush() -> None:
        # A process without memory maps is a zombie (or gone): its figures are no longer the
        # sandbox's. A kernel thread (a vhost worker) has no memory maps either, yet runs: its CPU
        # ticks count, its memory is 0.
        if pid is not None and seen_stat and (rss > 0 or kernel):
            out[pid] = ProcStat(ticks, rss, pss)

    for line in lines[2:]:
        if line.startswith("pid "):
            flush()
            pid, ticks, rss, pss, seen_stat, kernel = int(line.split()[1]), 0, 0, 0, False, False
        elif line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
        elif ")" in line:  # /proc/PID/stat: the command name may hold spaces and parentheses
            rest = line.rsplit(")", 1)[1].split()  # from field 3: state, ppid, ..., flags (9th)
            if len(rest) > 12:
                ticks = int(rest[11]) + int(rest[12])
                seen_stat = True
                kernel = bool(int(rest[6]) & PF_KTHREAD) and rest[0] not in ("Z", "X")
    flush()
    return hz, host, out


def host_busy(before: Sequence[int], after: Sequence[int]) -> float | None:
    """Percent of all host CPUs busy between two ``cpu`` lines of /proc/stat."""
    if len(before) < 5 or len(after) < 5:
        return None
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])
    return 100.0 * (total - idle) / total if total > 0 else None


@dataclass
class Totals:
    cpu_ticks: dict[str, int] = field(default_factory=dict)  # per role
    seconds: float = 0.0
    pss_sum: float = 0.0
    rss_peak: int = 0
    samples: int = 0
    busy: list[float] = field(default_factory=list)


class SandboxSampler:
    """Samples one run's sandboxes until stopped. ``roots`` returns (PID, sandbox id) of the
    run's live containers; the sampler never fails the run: a second it cannot read is skipped."""

    def __init__(
        self,
        run_id: str,
        transport: Transport,
        roots: Callable[[], Awaitable[list[tuple[int, str]]]],
        emit: Callable[[Event], None],
        *,
        interval: float = 1.0,
        client: int = SANDBOX_CLIENT,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.transport = transport
        self._roots = roots
        self.emit = emit
        self.interval = interval
        self.totals = Totals()
        self._task: asyncio.Task[None] | None = None
        self._tree: list[Proc] = []
        self.error: str | None = None
        self._hz = 100
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """End the sampling: at once when it waits, else after the read under way (at most its
        timeout); the flag ends the loop should a cancellation get lost on the way."""
        self._stopping = True
        task = self._task
        if task is None:
            return
        for _ in range(STOP_TRIES):
            if task.done():
                break
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: the loop keeps its own errors in self.error

    async def _find(self) -> None:
        roots = await self._roots()
        if not roots:
            self._tree = []
            return
        listing = await self.transport.run(PS, timeout=30)
        procs = parse_ps(listing.text())
        tree: dict[int, Proc] = {}
        for pid, sandbox_id in roots:
            for p in sandbox_of(procs, pid, sandbox_id):
                tree[p.pid] = p
        self._tree = sorted(tree.values(), key=lambda p: p.pid)

    async def _read(self) -> tuple[int, list[int], dict[int, ProcStat]]:
        done = await self.transport.run(
            ["sh", "-c", STAT_SCRIPT, "sh", *(str(p.pid) for p in self._tree)], timeout=30
        )
        return parse_stats(done.text())

    async def _loop(self) -> None:
        started = time.monotonic()
        last_find = 0.0
        prev: tuple[float, list[int], dict[int, ProcStat]] | None = None
        while not self._stopping:
            try:
                now = time.monotonic()
                # Tools fork their workers after they start: look every second at first.
                if not self._tree or now - last_find >= REFRESH or now - started < REFRESH:
                    await self._find()
                    last_find = now
                # The host's CPU line is read even when no sandbox exists (bare runs).
                hz, host, stats = await self._read()
                at = time.monotonic()
                if prev is not None and at > prev[0]:
                    self._account(at - started, at - prev[0], hz, prev[1], host, prev[2], stats)
                prev = (at, host, stats)
                if len(stats) < len(self._tree):
                    last_find = 0.0  # a process left: look again at the next second
            except KatatuiError as exc:
                self.error = str(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never fail the run for its bookkeeping
                self.error = repr(exc)
            await asyncio.sleep(self.interval)

    def _account(
        self,
        t: float,
        dt: float,
        hz: int,
        host_before: Sequence[int],
        host_after: Sequence[int],
        before: Mapping[int, ProcStat],
        after: Mapping[int, ProcStat],
    ) -> None:
        roles = {p.pid: p.role for p in self._tree}
        metrics: dict[str, float] = {}
        cpu_total = 0.0
        tot = self.totals
        for role in ROLES:
            pids = [pid for pid, r in roles.items() if r == role and pid in after]
            if not pids:
                continue
            ticks = sum(max(0, after[p].ticks - before[p].ticks) for p in pids if p in before)
            tot.cpu_ticks[role] = tot.cpu_ticks.get(role, 0) + ticks
            pct = 100.0 * ticks / hz / dt
            cpu_total += pct
            metrics[f"{role}_cpu_percent"] = pct
            if role not in KERNEL_ROLES:  # kernel threads hold no memory of their own
                metrics[f"{role}_pss_bytes"] = sum(after[p].pss_kb for p in pids) * 1024.0
        busy = host_busy(host_before, host_after)
        if busy is not None:
            metrics["host_cpu_busy_percent"] = busy
            tot.busy.append(busy)
        if after:
            rss = sum(s.rss_kb for s in after.values()) * 1024
            pss = sum(s.pss_kb for s in after.values()) * 1024.0
            metrics["sandbox_cpu_percent"] = cpu_total
            metrics["sandbox_rss_bytes"] = float(rss)
            metrics["sandbox_pss_bytes"] = pss
            tot.seconds += dt
            tot.pss_sum += pss
            tot.rss_peak = max(tot.rss_peak, rss)
            tot.samples += 1
        if not metrics:
            return
        self._hz = hz
        self.emit(Sample(self.run_id, round(t, 3), metrics, self.client))

    @staticmethod
    def combined(samplers: Sequence[SandboxSampler], results: Mapping[str, Metric]) -> dict[str, Metric]:
        """The totals of a run whose clients ran on several hosts (one sampler each)."""
        if len(samplers) == 1:
            return samplers[0].results(results)
        merged = SandboxSampler(
            samplers[0].run_id, samplers[0].transport, samplers[0]._roots, samplers[0].emit
        )
        tot = merged.totals
        for s in samplers:
            for role, ticks in s.totals.cpu_ticks.items():  # ticks in the first host's units
                tot.cpu_ticks[role] = tot.cpu_ticks.get(role, 0) + round(ticks * merged._hz / s._hz)
            tot.busy += s.totals.busy
            if s.totals.samples:
                tot.pss_sum += s.totals.pss_sum / s.totals.samples
                tot.rss_peak += s.totals.rss_peak
                tot.seconds = max(tot.seconds, s.totals.seconds)
        tot.samples = 1 if tot.pss_sum or tot.cpu_ticks else 0
        return merged.results(results)

    def results(self, results: Mapping[str, Metric]) -> dict[str, Metric]:
        """The run's sandbox totals, and its throughput per host CPU second."""
        tot = self.totals
        out: dict[str, Metric] = {}
        if tot.busy:
            out["host_cpu_busy_percent_mean"] = Metric(sum(tot.busy) / len(tot.busy), "%")
        if not tot.samples:
            return out
        hz = self._hz
        cpu_s = sum(tot.cpu_ticks.values()) / hz
        out["sandbox_cpu_seconds"] = Metric(cpu_s, "s")
        out["sandbox_cpu_percent_mean"] = Metric(100.0 * cpu_s / tot.seconds if tot.seconds else 0.0, "%")
        out["sandbox_pss_mean_bytes"] = Metric(tot.pss_sum / tot.samples, "B")
        out["sandbox_rss_peak_bytes"] = Metric(float(tot.rss_peak), "B")
        for role, ticks in tot.cpu_ticks.items():
            out[f"{role}_cpu_seconds"] = Metric(ticks / hz, "s")
        cores = cpu_s / tot.seconds if tot.seconds else 0.0
        if cores > 0.01:
            for name, m in results.items():
                base = RATE_UNITS.get(m.unit)
                if base is None:
                    continue
                stem = name.removesuffix("_per_second").removesuffix("_per_s")
                out[f"{stem}_per_host_cpu_s"] = Metric(m.value / cores, f"{base}/CPU-s")
        return out
