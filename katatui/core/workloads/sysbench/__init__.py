"""sysbench cpu or memory, in the scenario; overhead is read against the bare scenario.

``parser`` reads sysbench's report and interval lines; ``driver`` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator

from katatui.core.schema import check_sizes
from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import PositiveInt, WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import WorkloadDriver


class SysbenchWorkload(WorkloadBase):
    """sysbench cpu or memory, in the scenario; overhead is read against the bare scenario."""

    AXES = ("test", "threads")
    type: Literal["sysbench"]
    name: str = "sysbench"
    test: Literal["cpu", "memory"] | Annotated[list[Literal["cpu", "memory"]], Field(min_length=1)] = "cpu"
    threads: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 1
    time: PositiveInt = 10
    events: Annotated[int, Field(ge=0)] = 0  # 0: no limit (time decides)
    cpu_max_prime: PositiveInt = 20000
    memory_block_size: str = "1K"
    memory_total_size: str = "100G"
    memory_oper: Literal["read", "write"] = "write"

    @field_validator("memory_block_size", "memory_total_size")
    @classmethod
    def _sizes(cls, v: Any) -> Any:
        return check_sizes(v)

    def duration_field(self) -> str | None:
        return "time"


METRICS = {
    "events_per_second": MetricSpec("ev/s", "events", True, headline=True),
    "mib_per_s": MetricSpec("MiB/s", "mib", True, headline=True),  # memory; also per second
    "latency_avg_ms": MetricSpec("ms", "latency avg", False, headline=True),
    "latency_p95_ms": MetricSpec("ms", "latency p95", False, headline=True),  # also per second
    "total_events": MetricSpec("count", "total events", False),
    "total_time_s": MetricSpec("s", "total time", False),
    "latency_min_ms": MetricSpec("ms", "latency min", False),
    "latency_max_ms": MetricSpec("ms", "latency max", False),
    "total_mib": MetricSpec("MiB", "total mib", True),
    # Per second, from the interval lines:
    "events_per_s": MetricSpec("ev/s", "events", True, live=0, live_label="events/s"),
}


def _driver(workload: SysbenchWorkload) -> WorkloadDriver:
    from katatui.core.workloads.sysbench.driver import SysbenchDriver

    return SysbenchDriver(workload)


UNIT = WorkloadUnit(
    type="sysbench",
    config=SysbenchWorkload,
    metrics=METRICS,
    driver=_driver,
    host_tools={"sysbench": "sysbench"},
    image_tools={"sysbench": "sysbench"},
    report_order=40,
)
