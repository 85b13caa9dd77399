"""ab against nginx: nginx runs in the scenario under test, ab bare on the host.

``parser`` reads ab's report, progress and percentile files; ``driver`` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import Port, PositiveInt, WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import WorkloadDriver


class AbWorkload(WorkloadBase):
    """ab against nginx: nginx runs in the scenario under test, ab bare on the host."""

    AXES = ("concurrency", "keepalive")
    type: Literal["ab"]
    name: str = "ab"
    requests: PositiveInt = 10000
    concurrency: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 10
    keepalive: bool | Annotated[list[bool], Field(min_length=1)] = True
    timelimit: PositiveInt | None = None  # seconds; ab's -t (then at most `requests`)
    port: Port = 8080
    path: Literal["/", "/1k.bin", "/4k.bin", "/16k.bin", "/64k.bin", "/1m.bin"] = "/4k.bin"

    def duration_field(self) -> str | None:
        return "timelimit" if self.timelimit is not None else None  # else `requests` decides


METRICS = {
    "requests_per_second": MetricSpec("req/s", "requests", True, headline=True),
    "latency_p50_ms": MetricSpec("ms", "latency p50", False, headline=True),
    "latency_p99_ms": MetricSpec("ms", "latency p99", False, headline=True),
    "failed_requests": MetricSpec("count", "failed requests", False, headline=True),
    "non_2xx_responses": MetricSpec("count", "non 2xx responses", False, headline=True),
    "time_per_request_ms": MetricSpec("ms", "time per request", False),
    "complete_requests": MetricSpec("count", "complete requests", False),
    "time_taken_s": MetricSpec("s", "time taken", False),
    "transfer_rate_kbytes_per_s": MetricSpec("KiB/s", "transfer rate kbytes", True),
    "latency_p75_ms": MetricSpec("ms", "latency p75", False),
    "latency_p90_ms": MetricSpec("ms", "latency p90", False),
    "latency_p95_ms": MetricSpec("ms", "latency p95", False),
    "latency_p99_9_ms": MetricSpec("ms", "latency p99.9", False),
    "latency_max_ms": MetricSpec("ms", "latency max", False),
    # Per second, from ab's progress lines:
    "requests_per_s": MetricSpec("req/s", "requests", True, live=0, live_label="requests/s"),
    "requests_completed": MetricSpec("count", "requests completed", False),
}


def _driver(workload: AbWorkload) -> WorkloadDriver:
    from katatui.core.workloads.ab.driver import AbDriver

    return AbDriver(workload)


UNIT = WorkloadUnit(
    type="ab",
    config=AbWorkload,
    metrics=METRICS,
    driver=_driver,
    host_tools={"ab": "apache2-utils", "nginx": "nginx-light"},  # nginx: for a bare scenario
    image_tools={"ab": "apache2-utils", "nginx": "nginx-light"},
    report_order=30,
)
