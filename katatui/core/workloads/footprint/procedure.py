"""Footprint: the host memory a running sandbox costs, found through its process tree.

The container's init process (Docker's ``State.Pid``) leads to its shim (the nearest ancestor, or
itself, whose name starts with ``containerd-shim``), and every process whose command line names
the sandbox's id belongs to it too: Kata 2's hypervisor is re-parented to init, so the tree below
the shim alone would miss it (``qemu ... -name sandbox-<id>``, ``virtiofsd ... sandboxes/<id>/``).
The sandbox is those processes and everything below them: for runc the shim and the container's
processes; for Kata the shim, the hypervisor (qemu, cloud-hypervisor, firecracker) and virtiofsd,
as seed 002 measured; and the kernel's vhost workers of those processes (see ``vhost_owner``).
For gVisor (runsc) the shim, the gofer and the sentry (``runsc-sandbox``, gVisor's kernel in user
space, whose PID is Docker's ``State.Pid``), both children of the shim, and below the sentry the
stub processes that hold the application's address spaces (ptrace and systrap platforms; under
KVM the application runs in the sentry's own threads and there are none). Sentry and gofer are
re-executions of the runsc binary through /proc/self/exe, so their comm is ``exe``: their roles
come from their command lines (see ``runsc_role``), and only the stubs count as the container.
RSS comes from ``ps``, PSS from ``/proc/PID/smaps_rollup``; the container's cgroup usage from
Docker.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from katatui.core.errors import WorkloadError
from katatui.core.events import Metric
from katatui.core.workloads.base import ProcedureContext
from katatui.core.workloads.footprint import KERNEL_ROLES, ROLES, FootprintWorkload

PS = ["ps", "-e", "-ww", "-o", "pid=,ppid=,rss=,comm=,args="]
# Fixed text: the PIDs follow as positional parameters.
PSS_SCRIPT = 'for p; do printf "pid %s\\n" "$p"; cat "/proc/$p/smaps_rollup" 2>/dev/null; done'
HYPERVISORS = re.compile(r"^(qemu|cloud-hyperviso|firecracker|kata-qemu|dragonball)", re.IGNORECASE)
KTHREADD = 2  # the parent of every kernel thread
# The vhost worker of a VM's vhost-net / vhost-vsock device does the device's work in the host
# kernel. drivers/vhost/vhost.c names it after the process that made itself the device's owner
# (VHOST_SET_OWNER): ``kthread_create(vhost_worker, ..., "vhost-%d", current->pid)`` up to Linux
# 6.3, so it is a kernel thread ``vhost-<owner PID>`` whose parent is kthreadd (PID 2), not the
# hypervisor: the process tree misses it, and its CPU time is not in the hypervisor's. Linux 6.4
# made it a ``vhost_task`` (``vhost_task_create``, ``copy_process`` with ``.user_worker = 1``;
# commit 6e890c5d5021 "vhost: use vhost_tasks for worker threads"), and commit f9010dbdce91
# "fork, vhost: Use CLONE_THREAD to fix freezer/ps regression" made it a thread of the owner,
# still named ``vhost-<PID>``: ``ps -e`` no longer lists it and its time is already in the
# owner's /proc/PID/stat, so only kernel threads (parent kthreadd) are taken here, and never a
# thread of a listed process. The 2025 series "vhost: Reintroduce kthread mode support in vhost"
# (Cindy Lu) brings the kernel-thread worker back as a choice (``fork_owner`` off), named alike.
# Stefan Hajnoczi, "QEMU Internals: vhost architecture" (2011): "the vhost driver creates a kernel
# thread called vhost-$pid, where $pid is the QEMU process pid".
# ``current->pid`` is the id of the calling thread: the PID when the main thread sets the owner
# (QEMU's device setup and QMP hot-plug run there); a worker named after another thread's id is
# not matched.
VHOST = re.compile(r"vhost-(\d+)")
# gVisor re-executes its own binary for the sandbox's processes with argv[0] naming them
# (runsc/sandbox/sandbox.go: "runsc-sandbox" running the ``boot`` command; runsc/container/gofer.go:
# "runsc-gofer" running ``gofer``). Older releases, and runsc run by hand, show the binary's own
# name with the command among its arguments: the first argument that is one of runsc's commands
# (flag values such as ``--network host`` are not commands; a container id after ``create`` is not
# taken for one).
RUNSC_PROCESSES = {"runsc-sandbox": "sentry", "runsc-gofer": "gofer"}
RUNSC_COMMANDS = frozenset({
    "boot", "gofer", "checkpoint", "create", "debug", "delete", "do", "events", "exec", "flags", "help",
    "install", "kill", "list", "metric-server", "mitigate", "pause", "port-forward", "ps", "restore",
    "resume", "run", "spec", "start", "state", "statefile", "symbolize", "syscalls", "tar", "trace",
    "uninstall", "usage", "wait",
})  # fmt: skip
RUNSC_COMMAND_ROLES = {"boot": "sentry", "gofer": "gofer"}


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    rss_kb: int
    comm: str
    args: str = ""

    @property
    def role(self) -> str:
        if vhost_owner(self) is not None:
            return "vhost"
        if self.comm.startswith("containerd-shim"):
            return "shim"
        if (runsc := runsc_role(self.args)) is not None:
            return runsc
        if HYPERVISORS.match(self.comm):
            return "hypervisor"
        if self.comm.startswith("virtiofsd"):
            return "virtiofsd"
        return "container"


def vhost_owner(proc: Proc) -> int | None:
    """The PID whose vhost device a kernel thread ``vhost-<PID>`` serves; None for anything else
    (user processes, other kernel threads such as ``kvm-pit/<PID>``)."""
    if proc.ppid != KTHREADD:
        return None
    m = VHOST.fullmatch(proc.comm)
    return int(m.group(1)) if m else None


def runsc_role(args: str) -> str | None:
    """``sentry`` or ``gofer`` for a gVisor sandbox's process, from its command line (never from
    its comm, ``exe`` for both and for the stubs alike); None for anything else."""
    argv = args.split()
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if name in RUNSC_PROCESSES:
        return RUNSC_PROCESSES[name]
    if not name.startswith("runsc"):
        return None
    command = next((a for a in argv[1:] if a in RUNSC_COMMANDS), None)
    return RUNSC_COMMAND_ROLES.get(command or "")


def runsc_bundle(args: str) -> str | None:
    """The OCI bundle a runsc process serves (``--bundle=DIR`` or ``--bundle DIR``): a sentry and
    its gofer name the same one."""
    argv = args.split()
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if flag in ("--bundle", "-bundle"):
            if eq:
                return value or None
            return argv[i + 1] if i + 1 < len(argv) else None
    return None


def parse_ps(text: str) -> dict[int, Proc]:
    """``ps -e -ww -o pid=,ppid=,rss=,comm=,args=`` output by PID (comm has no spaces in practice)."""
    procs = {}
    for line in text.splitlines():
        parts = line.split(None, 4)
        if len(parts) >= 4 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
            args = parts[4].strip() if len(parts) > 4 else ""
            procs[int(parts[0])] = Proc(int(parts[0]), int(parts[1]), int(parts[2]), parts[3].strip(), args)
    return procs


def sandbox_of(procs: Mapping[int, Proc], pid: int, sandbox_id: str = "") -> list[Proc]:
    """The sandbox's processes: the shim above (or at) ``pid``, every process whose command line
    names ``sandbox_id`` (at least 12 characters, so it cannot match by chance), and all their
    descendants; just ``pid``'s tree if neither is found. A gVisor sentry's gofer (its sibling
    under the shim) is found with the shim; without a shim, by the bundle both name. Then the
    vhost kernel threads of any of those processes (``vhost-<PID>``, children of kthreadd)."""
    top = pid
    cur = procs.get(pid)
    while cur is not None:
        if cur.comm.startswith("containerd-shim"):
            top = cur.pid
            break
        cur = procs.get(cur.ppid)
    roots = [top]
    if len(sandbox_id) >= 12:
        roots += [p.pid for p in procs.values() if sandbox_id in p.args and p.pid != top]
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found: list[Proc] = []
    seen: set[int] = set()

    def take(todo: list[int]) -> None:
        while todo:
            pid_ = todo.pop()
            if pid_ in procs and pid_ not in seen:
                seen.add(pid_)
                found.append(procs[pid_])
                todo.extend(children.get(pid_, []))

    take(roots)
    bundles = {runsc_bundle(p.args) for p in found if p.role == "sentry"} - {None}
    if bundles:
        take([p.pid for p in procs.values() if p.role == "gofer" and runsc_bundle(p.args) in bundles])
    found += [p for p in procs.values() if p.pid not in seen and vhost_owner(p) in seen]
    return sorted(found, key=lambda p: p.pid)


def parse_pss(text: str) -> dict[int, int]:
    """PSS in kB per PID from the output of ``PSS_SCRIPT``."""
    out: dict[int, int] = {}
    pid = None
    for line in text.splitlines():
        if line.startswith("pid "):
            pid = int(line.split()[1])
        elif pid is not None and line.startswith("Pss:"):
            out[pid] = int(line.split()[1])
    return out


def footprint_metrics(
    tree: Sequence[Proc], pss_kb: Mapping[int, int], cgroup_bytes: int | None
) -> dict[str, Metric]:
    out: dict[str, Metric] = {
        "sandbox_rss_bytes": Metric(sum(p.rss_kb for p in tree) * 1024.0, "B"),
        "sandbox_processes": Metric(float(len(tree)), "count"),
    }
    if pss_kb:
        out["sandbox_pss_bytes"] = Metric(sum(pss_kb.get(p.pid, 0) for p in tree) * 1024.0, "B")
    for role in ROLES:
        members = [p for p in tree if p.role == role]
        if members and role in KERNEL_ROLES:  # kernel threads hold no memory of their own
            out[f"{role}_threads"] = Metric(float(len(members)), "count")
        elif members:
            out[f"{role}_rss_bytes"] = Metric(sum(p.rss_kb for p in members) * 1024.0, "B")
            if pss_kb:
                out[f"{role}_pss_bytes"] = Metric(sum(pss_kb.get(p.pid, 0) for p in members) * 1024.0, "B")
    if cgroup_bytes is not None:
        out["cgroup_memory_bytes"] = Metric(float(cgroup_bytes), "B")
    return out


def describe(tree: Iterable[Proc]) -> str:
    """The processes with their PIDs and RSS, each named by its role where its comm says little:
    gVisor's sentry and gofer (comm ``exe``), and ``stub`` for the processes below a sentry that
    hold the application's address spaces (comm ``exe`` too)."""
    procs = list(tree)
    roles = {p.pid: p.role for p in procs}
    parents = {p.pid: p.ppid for p in procs}

    def under_sentry(pid: int) -> bool:
        seen: set[int] = set()
        while pid in parents and pid not in seen:
            seen.add(pid)
            pid = parents[pid]
            if roles.get(pid) == "sentry":
                return True
        return False

    def name(p: Proc) -> str:
        if roles[p.pid] in ("sentry", "gofer"):
            return roles[p.pid]
        return "stub" if roles[p.pid] == "container" and under_sentry(p.pid) else p.comm

    return ", ".join(f"{name(p)}[{p.pid}] {p.rss_kb} kB" for p in procs)


class FootprintProcedure:
    runs_as: Literal["procedure"] = "procedure"
    kind = "footprint"

    def __init__(self, workload: FootprintWorkload) -> None:
        self.workload = workload

    def host_tools(self, launcher: str) -> set[str]:
        return set()

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return self.workload.settle + 120.0

    async def perform(self, ctx: ProcedureContext) -> dict[str, Metric]:
        launcher = ctx.launcher.inspector()
        if launcher is None:
            raise WorkloadError("footprint is measured for container scenarios only")
        run = ctx.run
        await launcher.start(run, 0, ["sleep", str(self.workload.settle + 120)], None)
        try:
            await asyncio.sleep(self.workload.settle)
            pid, cgroup, sandbox_id = await launcher.inspect_usage(run, 0)
            if not pid:
                raise WorkloadError("the container is not running (Docker reports no PID)")
            listing = await ctx.transport.run(PS, timeout=30, check=True)
            tree = sandbox_of(parse_ps(listing.text()), pid, sandbox_id)
            if not tree:
                raise WorkloadError(f"process {pid} of the container is not visible on the host")
            pss = await ctx.transport.run(
                ["sh", "-c", PSS_SCRIPT, "sh", *(str(p.pid) for p in tree)], timeout=30
            )
            metrics = footprint_metrics(tree, parse_pss(pss.text()), cgroup)
            from katatui.core.events import LogMessage

            ctx.emit(LogMessage("info", f"{run.scenario} sandbox: {describe(tree)}", run.run_id))
            return metrics
        finally:
            # Removed by force: `sleep` as PID 1 ignores SIGINT and SIGTERM; its log readers end with it.
            await launcher.release(run, 0)
