"""Footprint: the host memory a running sandbox costs (shim, hypervisor, virtiofsd, the container's
cgroup), found through its process tree.

``procedure`` finds the processes and measures them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from katatui.core.proctree import KERNEL_ROLES as KERNEL_ROLES
from katatui.core.proctree import ROLES as ROLES
from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import Procedure

# How the dashboard names a role's figures, where its name says too little.
ROLE_LABELS = {"sentry": "gVisor sentry", "gofer": "gVisor gofer"}


class FootprintWorkload(WorkloadBase):
    """Host memory a running sandbox costs: shim, hypervisor, virtiofsd and the container's cgroup."""

    LAUNCHERS = ("docker",)
    type: Literal["footprint"]
    name: str = "footprint"
    settle: Annotated[int, Field(ge=0, le=600)] = 3  # seconds the idle sandbox runs before sampling

    def duration_field(self) -> str | None:
        return "settle"


def _memory(role: str, kind: str) -> MetricSpec:
    """A role's RSS or PSS (``kind``), in bytes."""
    live = f"{ROLE_LABELS[role]} {kind.upper()}" if role in ROLE_LABELS else None
    return MetricSpec("B", f"{role} {kind}", False, live_label=live)


_HEADLINE = ("sandbox_rss_bytes", "sandbox_pss_bytes", "hypervisor_rss_bytes", "virtiofsd_rss_bytes",
             "shim_rss_bytes", "sentry_rss_bytes", "gofer_rss_bytes", "container_rss_bytes", "vhost_threads",
             "cgroup_memory_bytes")  # fmt: skip
_ALL = {
    "sandbox_rss_bytes": MetricSpec("B", "sandbox rss", False),
    "sandbox_pss_bytes": MetricSpec("B", "sandbox pss", False, live_label="sandbox PSS"),
    "sandbox_processes": MetricSpec("count", "sandbox processes", False),
    "cgroup_memory_bytes": MetricSpec("B", "cgroup memory", False),
    **{f"{r}_threads": MetricSpec("count", f"{r} threads", False) for r in ROLES if r in KERNEL_ROLES},
    **{f"{r}_{k}_bytes": _memory(r, k) for r in ROLES if r not in KERNEL_ROLES for k in ("rss", "pss")},
}
# The headline ones first, in table order.
METRICS = {
    **{m: MetricSpec(s.unit, s.label, s.higher_is_better, headline=True, live_label=s.live_label)
       for m in _HEADLINE for s in [_ALL[m]]},
    **{m: s for m, s in _ALL.items() if m not in _HEADLINE},
}  # fmt: skip


def _procedure(workload: FootprintWorkload) -> Procedure:
    from katatui.core.workloads.footprint.procedure import FootprintProcedure

    return FootprintProcedure(workload)


UNIT = WorkloadUnit(
    type="footprint", config=FootprintWorkload, metrics=METRICS, driver=_procedure, report_order=70
)
