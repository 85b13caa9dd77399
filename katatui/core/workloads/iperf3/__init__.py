"""iperf3: network throughput; the client runs in the scenario, the server bare on the target host
(or on another target, or in a pod of its own under Kubernetes).

``parser`` reads iperf3's output (``-J``, ``--json-stream`` or text); ``driver`` runs it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import Port, PositiveInt, WorkloadBase

if TYPE_CHECKING:
    from katatui.core.workloads.base import WorkloadDriver


class Iperf3Workload(WorkloadBase):
    """iperf3: the client runs in the scenario; the server bare on the target host (or another target)."""

    AXES = ("streams", "reverse")
    type: Literal["iperf3"]
    name: str = "iperf3"
    streams: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 1
    reverse: bool | Annotated[list[bool], Field(min_length=1)] = False
    duration: PositiveInt = 10
    udp: bool = False
    bitrate: str | None = None  # UDP target rate, iperf3's -b (e.g. "100M")
    port: Port = 5201
    server_target: str | None = None  # another target runs the server (bare); default: the scenario's host
    server_address: str = "127.0.0.1"  # where the server listens and the client connects

    @field_validator("bitrate")
    @classmethod
    def _bitrate(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9]+(\.[0-9]+)?[KMGkmg]?", v):
            raise ValueError(f"expected a rate such as 100M or 1G, got {v!r}")
        return v

    @field_validator("server_address")
    @classmethod
    def _address(cls, v: str) -> str:
        if not v or v.startswith("-") or any(c.isspace() for c in v):
            raise ValueError(f"expected a host name or IP address, got {v!r}")
        return v

    def duration_field(self) -> str | None:
        return "duration"


METRICS = {
    "sent_bits_per_second": MetricSpec("bit/s", "sent", True, headline=True),
    "received_bits_per_second": MetricSpec("bit/s", "received", True, headline=True),
    "retransmits": MetricSpec("count", "retransmits", False, headline=True),
    "jitter_ms": MetricSpec("ms", "jitter", False, headline=True),
    "lost_percent": MetricSpec("%", "lost percent", False, headline=True),
    "cpu_local_percent": MetricSpec("%", "cpu local percent", False),
    "cpu_remote_percent": MetricSpec("%", "cpu remote percent", False),
    # Per second, as the client reports its intervals:
    "bits_per_second": MetricSpec("bit/s", "bits", True, live=0, live_label="network bits/s"),
}


def _driver(workload: Iperf3Workload) -> WorkloadDriver:
    from katatui.core.workloads.iperf3.driver import Iperf3Driver

    return Iperf3Driver(workload)


UNIT = WorkloadUnit(
    type="iperf3",
    config=Iperf3Workload,
    metrics=METRICS,
    driver=_driver,
    host_tools={"iperf3": "iperf3"},
    image_tools={"iperf3": "iperf3"},
    report_order=20,
)
