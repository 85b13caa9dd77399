"""Launch time: from the request to the exit of a short command (``run --rm IMAGE uname -a``).

``procedure`` measures it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import Procedure


class LaunchWorkload(WorkloadBase):
    """Launch time: from the request to the exit of a short command (``run --rm IMAGE uname -a``)."""

    type: Literal["launch"]
    name: str = "launch"
    command: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: ["uname", "-a"])

    @field_validator("command")
    @classmethod
    def _command(cls, v: list[str]) -> list[str]:
        if any("\n" in a or "\0" in a for a in v):
            raise ValueError("command arguments cannot contain newlines")
        return v


METRICS = {
    "launch_s": MetricSpec("s", "launch", False, headline=True),
    "launch_cold_s": MetricSpec("s", "launch cold", False, headline=True),  # each cell's first repeat
}


def _procedure(workload: LaunchWorkload) -> Procedure:
    from katatui.core.workloads.launch.procedure import LaunchProcedure

    return LaunchProcedure(workload)


UNIT = WorkloadUnit(type="launch", config=LaunchWorkload, metrics=METRICS, driver=_procedure, report_order=50)
