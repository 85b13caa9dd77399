"""Boot timeline: a short container's launch split into the phases the host and the guest can tell.

Everything is put on the host's clock. katatui notes when it asks Docker for the container and
when Docker reports its exit; Docker's inspect document says when the container was created
(``Created``), started (``State.StartedAt``) and finished (``State.FinishedAt``). For runc that
gives four phases: ``create`` (request to created), ``start`` (created to started: runc create and
start), ``run`` (started to finished) and ``exit`` (finished to katatui hearing of it).

The container's command reads its kernel's ``/proc/uptime`` when it starts and again when it
ends, and prints that kernel's ``dmesg`` in between. The kernel started ``uptime`` seconds before
the command's end, which is Docker's ``FinishedAt``: that puts the kernel's start on the host's
clock without trusting the container's wall clock. Whether the container has a kernel of its own
is read from that moment, not from the runtime's name: the host's kernel started long before
katatui asked for the container (its uptime is the host's, minutes to months), a VM's kernel or
gVisor's sentry (whose clock starts with the sandbox: /proc/uptime 0.07 s as the command starts)
after it. A moment after the request (``OWN_KERNEL_TOLERANCE`` allowed for the clocks) is a
kernel of the container's own; else the launch is split as runc's above. A VM started from a
template, or a restored sandbox, carries an older clock and gets runc's split, which Docker's times
alone still make right.

With a kernel of its own, the launch splits into ``create``, ``sandbox`` (created to the kernel's
start: the shim and the hypervisor process and firmware, or runsc create and start spawning
gVisor's gofer and sentry), then the guest's boot up to the command's first moment. A Linux guest's
dmesg says when the kernel ran init (and systemd, when it is init, how long user space took), as
seeds 002 and 003 split their boot times: ``guest_kernel``, ``guest_userspace`` (init, the agent
and, without systemd's figure, the container's creation) and ``container_start`` (when systemd's
figure splits it off). Without such lines (a guest whose dmesg cannot be read, or gVisor, whose
dmesg is its own made-up lines such as "Starting gVisor...") it is one phase, ``guest_boot``: for
gVisor the sentry's kernel setting up and starting the application. Then ``run`` and ``exit``.

Each phase is a difference of two moments taken in order, each held between the previous moment
and the exit, so no phase is negative and together they make exactly ``boot_total_s``.
"""

from __future__ import annotations

import calendar
import re
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from katatui.core import kata
from katatui.core.errors import WorkloadError
from katatui.core.events import Metric, RawOutput
from katatui.core.workloads.base import ProcedureContext
from katatui.core.workloads.boot import PHASES, BootWorkload

if TYPE_CHECKING:
    from katatui.core.workloads.base import ContainerInspector

# Fixed text: it takes no values from a profile.
SCRIPT = r"""
read up0 rest < /proc/uptime
echo "katatui-boot-uptime-start $up0"
echo "katatui-boot-dmesg"
dmesg 2>/dev/null
echo "katatui-boot-dmesg-end"
read up1 rest < /proc/uptime
echo "katatui-boot-uptime-end $up1"
"""
# How far before katatui's request a kernel's start may seem to lie and still be the container's
# own: the uptime's 0.01 s steps and the daemon's clock estimate (``host_clock_offset``). The host's
# kernel started before its Docker daemon did, so its start lies far earlier.
OWN_KERNEL_TOLERANCE = 0.5
_STAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_docker_time(text: str | None) -> float | None:
    """Seconds since the epoch from Docker's RFC 3339 time with nanoseconds; None for the zero
    time Docker uses for "never" ("0001-01-01T00:00:00Z") or anything unreadable."""
    if not text:
        return None
    match = _STAMP.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if year < 1970:
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    fraction = float("0." + match.group(7)) if match.group(7) else 0.0
    zone = match.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds + fraction


def chain(
    start: float, marks: Sequence[tuple[str, float | None]], end: float, last: str = "exit"
) -> list[tuple[str, float]]:
    """Phases between consecutive known moments; each moment is held within [previous, end]."""
    phases: list[tuple[str, float]] = []
    cur = start
    for name, moment in marks:
        if moment is None:
            continue
        t = min(max(moment, cur), end)
        phases.append((name, t - cur))
        cur = t
    phases.append((last, max(end - cur, 0.0)))
    return phases


def parse_output(text: str) -> tuple[float | None, float | None, str]:
    """(guest uptime at the command's start, at its end, the dmesg between)."""
    up0 = up1 = None
    head, _, rest = text.partition("katatui-boot-dmesg\n")
    dmesg, _, tail = rest.partition("katatui-boot-dmesg-end\n")
    for line in (head + tail).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "katatui-boot-uptime-start":
            up0 = float(parts[1])
        elif len(parts) == 2 and parts[0] == "katatui-boot-uptime-end":
            up1 = float(parts[1])
    return up0, up1, dmesg


def phases_for(
    runtime: str | None,
    *,
    requested: float,
    total: float,
    attrs: Mapping[str, Any],
    output: str,
) -> list[tuple[str, float]]:
    """The phases of one launch, from when katatui asked (on the host's clock) and how long it
    took until Docker reported the exit, Docker's inspect document and what the command printed.
    Moments are taken relative to the request, so the phases add up to ``total``. What the
    command printed decides whether the container had a kernel of its own; ``runtime`` (the
    runtime's name) is not consulted for that."""
    state = attrs.get("State") or {}

    def since(stamp: Any) -> float | None:
        t = parse_docker_time(stamp if isinstance(stamp, str) else None)
        return None if t is None else t - requested

    created, started, finished = (
        since(attrs.get("Created")),
        since(state.get("StartedAt")),
        since(state.get("FinishedAt")),
    )
    up0, up1, dmesg = parse_output(output)
    kernel_start = own_kernel_start(finished, up1)
    if kernel_start is None or finished is None or up0 is None or up1 is None:
        return chain(0.0, [("create", created), ("start", started), ("run", finished)], total)
    command_start = finished - (up1 - up0)
    marks: list[tuple[str, float | None]] = [("create", created), ("sandbox", kernel_start)]
    boot = kata.parse_guest_dmesg(dmesg)
    if boot.kernel_s is not None:
        marks.append(("guest_kernel", kernel_start + boot.kernel_s))
        if boot.userspace_s is not None:
            marks.append(("guest_userspace", kernel_start + boot.kernel_s + boot.userspace_s))
            marks.append(("container_start", command_start))
        else:
            marks.append(("guest_userspace", command_start))
    else:  # gVisor, or a guest's dmesg that cannot be read: its kernel and user space in one
        marks.append(("guest_boot", command_start))
    marks.append(("run", finished))
    return chain(0.0, marks, total)


def own_kernel_start(finished: float | None, up1: float | None) -> float | None:
    """When the container's kernel started, relative to katatui's request, if that kernel is the
    container's own (it started after the request, within ``OWN_KERNEL_TOLERANCE``); None when it
    is the host's or the command's output does not say."""
    if finished is None or up1 is None:
        return None
    start = finished - up1
    return start if start >= -OWN_KERNEL_TOLERANCE else None


class BootProcedure:
    runs_as: Literal["procedure"] = "procedure"
    kind = "boot"

    def __init__(self, workload: BootWorkload) -> None:
        self.workload = workload

    def host_tools(self, launcher: str) -> set[str]:
        return set()

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return 300.0

    async def perform(self, ctx: ProcedureContext) -> dict[str, Metric]:
        launcher = ctx.launcher.inspector()
        if launcher is None:
            raise WorkloadError("the boot timeline is measured for container scenarios only")
        run = ctx.run
        offset = await host_clock_offset(ctx, launcher)
        requested = time.time() + offset
        t0 = time.monotonic()
        proc = await launcher.start(run, 0, ["sh", "-c", SCRIPT], None)
        out = bytearray()
        err = bytearray()
        try:
            while (chunk := await proc.read()) is not None:
                ctx.emit(RawOutput(run.run_id, 0, chunk[0], chunk[1]))
                (out if chunk[0] == "stdout" else err).extend(chunk[1])
            rc = await proc.wait()
            total = time.monotonic() - t0
            attrs = await launcher.attrs(run, 0)
        finally:
            await launcher.release(run, 0)
        if rc != 0:
            said = err.decode(errors="replace").strip().splitlines()[-1:] or ["no error output"]
            raise WorkloadError(f"the boot probe exited with status {rc}: {said[0]}")
        text = out.decode(errors="replace")
        phases = phases_for(run.runtime, requested=requested, total=total, attrs=attrs, output=text)
        metrics = {f"boot_{name}_s": Metric(seconds, "s") for name, seconds in phases}
        metrics["boot_total_s"] = Metric(total, "s")
        return metrics


async def host_clock_offset(ctx: ProcedureContext, launcher: ContainerInspector) -> float:
    """The Docker daemon's clock minus katatui's: 0 on this machine; else from the daemon's own
    ``SystemTime`` (the clock that stamps ``Created``), taken halfway through the quickest of
    three round trips; the split between ``create`` and ``exit`` carries that estimate's error."""
    if ctx.transport.is_local:
        return 0.0
    best: tuple[float, float] | None = None
    for _ in range(3):
        before = time.time()
        said = await launcher.daemon_time()
        after = time.time()
        remote = parse_docker_time(said)
        if remote is not None and (best is None or after - before < best[0]):
            best = (after - before, remote - (before + after) / 2)
    if best is None:
        raise WorkloadError("the Docker daemon reports no SystemTime; the boot timeline needs it")
    return best[1]


def timeline(rows: Iterable[tuple[str, str, float]]) -> dict[str, list[tuple[str, float]]]:
    """Median seconds per phase per scenario from (scenario, metric, value) results, phases in
    their order; ``total`` last."""
    values: dict[str, dict[str, list[float]]] = {}
    for scenario, metric, value in rows:
        if metric.startswith("boot_") and metric.endswith("_s"):
            values.setdefault(scenario, {}).setdefault(metric[5:-2], []).append(value)
    out: dict[str, list[tuple[str, float]]] = {}
    for scenario, by_phase in values.items():
        ordered = [(p, statistics.median(by_phase[p])) for p in PHASES if p in by_phase]
        if "total" in by_phase:
            ordered.append(("total", statistics.median(by_phase["total"])))
        out[scenario] = ordered
    return out
