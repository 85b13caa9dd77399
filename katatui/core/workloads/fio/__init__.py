"""fio: block I/O in the scenario, patterns × block sizes × iodepths × numjobs × client counts.

``parser`` reads fio's JSON output; ``driver`` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from katatui.core.schema import check_sizes
from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import PositiveInt, WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import WorkloadDriver

FioRW = Literal["read", "write", "randread", "randwrite", "rw", "randrw"]


class FioWorkload(WorkloadBase):
    """fio: patterns × block sizes × iodepths × numjobs × client counts."""

    AXES = ("rw", "bs", "iodepth", "numjobs")
    type: Literal["fio"]
    name: str = "fio"
    rw: FioRW | Annotated[list[FioRW], Field(min_length=1)] = "randread"
    bs: str | Annotated[list[str], Field(min_length=1)] = "4k"
    iodepth: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 1
    numjobs: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 1
    direct: bool = True
    size: str = "64m"
    runtime: PositiveInt = 10
    ramp_time: Annotated[int, Field(ge=0)] = 0
    ioengine: Literal["libaio", "io_uring", "psync", "sync", "posixaio", "mmap"] = "libaio"
    rwmixread: Annotated[int, Field(ge=0, le=100)] = 50
    scratch: Literal["volume", "container"] = "volume"
    filename: str | None = None
    allow_existing_file: bool = False

    @field_validator("bs", "size")
    @classmethod
    def _sizes(cls, v: Any) -> Any:
        return check_sizes(v)

    @model_validator(mode="after")
    def _file(self) -> FioWorkload:
        if self.filename is not None:
            if not self.filename.startswith("/"):
                raise ValueError(f"filename must be an absolute path, got {self.filename!r}")
            if not self.allow_existing_file:
                raise ValueError(
                    f"filename {self.filename!r} points fio at an existing file or device, which it would "
                    "overwrite; katatui refuses unless you also set allow_existing_file = true. Without "
                    "'filename', fio writes only inside a scratch directory katatui creates and removes."
                )
        return self

    def duration_field(self) -> str | None:
        return "runtime"

    def planned_seconds(self) -> float | None:
        return float(self.runtime + self.ramp_time)


def _direction(d: str, live: int) -> dict[str, MetricSpec]:
    """One direction's metrics (``read`` or ``write``); the headline ones first, in table order."""
    return {
        f"{d}_bw_bytes_per_s": MetricSpec(
            "B/s", f"{d} bandwidth", True, headline=True, live=live, live_label=f"{d} bandwidth"
        ),
        f"{d}_iops": MetricSpec(
            "IO/s", f"{d} IOPS", True, headline=True, live=live + 2, live_label=f"{d} IOPS"
        ),
        f"{d}_clat_p50_us": MetricSpec("us", f"{d} p50", False, headline=True),
        f"{d}_clat_p99_us": MetricSpec("us", f"{d} p99", False, headline=True),
        f"{d}_clat_p90_us": MetricSpec("us", f"{d} p90", False),
        f"{d}_clat_p99_9_us": MetricSpec("us", f"{d} p99.9", False),
        f"{d}_clat_mean_us": MetricSpec("us", f"{d} mean", False),
        f"{d}_clat_max_us": MetricSpec("us", f"{d} max", False),
        f"{d}_io_bytes": MetricSpec("B", f"{d} io.bytes", False),
    }


# Live rows: read then write bandwidth, then read then write IOPS.
METRICS = {**_direction("read", 0), **_direction("write", 1)}


def _driver(workload: FioWorkload) -> WorkloadDriver:
    from katatui.core.workloads.fio.driver import FioDriver

    return FioDriver(workload)


UNIT = WorkloadUnit(
    type="fio",
    config=FioWorkload,
    metrics=METRICS,
    driver=_driver,
    host_tools={"fio": "fio"},
    image_tools={"fio": "fio"},
    report_order=10,
)
