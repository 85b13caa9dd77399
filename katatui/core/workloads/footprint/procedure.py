"""Footprint: the host memory a running sandbox costs, found through its process tree (which
processes belong to a sandbox, and the role of each, is ``katatui.core.proctree``'s). RSS comes
from ``ps``, PSS from ``/proc/PID/smaps_rollup``; the container's cgroup usage from Docker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from katatui.core.errors import WorkloadError
from katatui.core.events import Metric
from katatui.core.proctree import (
    KERNEL_ROLES,
    PS,
    PSS_SCRIPT,
    ROLES,
    Proc,
    describe,
    parse_ps,
    parse_pss,
    sandbox_of,
)
from katatui.core.workloads.base import ProcedureContext
from katatui.core.workloads.footprint import FootprintWorkload


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
