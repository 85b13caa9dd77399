"""dd with direct I/O (seed 003): write, or write then read, a file in the scratch directory.

``parser`` reads dd's summary (GNU coreutils or BusyBox); ``driver`` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator

from katatui.core.schema import check_sizes
from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import PositiveInt, WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import WorkloadDriver


class DdWorkload(WorkloadBase):
    """dd with direct I/O (seed 003): write then read a file in the scratch directory."""

    AXES = ("mode", "bs")
    type: Literal["dd"]
    name: str = "dd"
    mode: Literal["read", "write"] | Annotated[list[Literal["read", "write"]], Field(min_length=1)] = "write"
    bs: str | Annotated[list[str], Field(min_length=1)] = "4k"
    count: PositiveInt = 4096
    direct: bool = True
    scratch: Literal["volume", "container"] = "volume"

    @field_validator("bs")
    @classmethod
    def _sizes(cls, v: Any) -> Any:
        return check_sizes(v)


METRICS = {
    "bytes_per_s": MetricSpec("B/s", "bytes", True, headline=True),
    "bytes": MetricSpec("B", "bytes", False),
    "seconds": MetricSpec("s", "seconds", False),
}


def _driver(workload: DdWorkload) -> WorkloadDriver:
    from katatui.core.workloads.dd.driver import DdDriver

    return DdDriver(workload)


UNIT = WorkloadUnit(
    type="dd",
    config=DdWorkload,
    metrics=METRICS,
    driver=_driver,
    host_tools={"dd": "coreutils"},
    image_tools={"dd": "coreutils"},  # the same dd as bare runs use, not busybox's applet
    report_order=80,
)
