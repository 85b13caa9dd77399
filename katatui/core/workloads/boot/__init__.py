"""Boot timeline: a short container's launch split into phases (Docker's create and start; for a
VM runtime the sandbox, the guest kernel and user space from the guest's dmesg).

``procedure`` measures it and reads the phases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import Procedure

PHASES = (
    "create", "start", "sandbox", "guest_boot", "guest_kernel", "guest_userspace", "container_start", "run",
    "exit",
)  # fmt: skip
LABELS = {
    "create": "create", "start": "start", "sandbox": "sandbox", "guest_boot": "guest boot",
    "guest_kernel": "guest kernel",
    "guest_userspace": "guest user space + agent", "container_start": "container start", "run": "run",
    "exit": "exit",
}  # fmt: skip


class BootWorkload(WorkloadBase):
    """Boot timeline: a short container's launch split into phases (Docker's create and start; for
    a VM runtime the sandbox, the guest kernel and user space from the guest's dmesg)."""

    LAUNCHERS = ("docker",)
    type: Literal["boot"]
    name: str = "boot"


METRICS = {
    "boot_total_s": MetricSpec("s", "boot total", False, headline=True),
    **{f"boot_{p}_s": MetricSpec("s", f"boot {p.replace('_', ' ')}", False) for p in PHASES},
}


def _procedure(workload: BootWorkload) -> Procedure:
    from katatui.core.workloads.boot.procedure import BootProcedure

    return BootProcedure(workload)


UNIT = WorkloadUnit(type="boot", config=BootWorkload, metrics=METRICS, driver=_procedure, report_order=60)
