"""What each workload type accepts in a profile.

A list value on a matrix field is an axis: the plan runs every combination. ``clients`` is always
an axis of its own (processes started together whose results are aggregated).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from katatui.core.schema import Strict, check_name, check_sizes

PositiveInt = Annotated[int, Field(gt=0)]
Port = Annotated[int, Field(ge=1024, le=65535)]


class WorkloadBase(Strict):
    AXES: ClassVar[tuple[str, ...]] = ()
    # Launchers this workload makes sense under (a footprint of "bare" is nothing to measure).
    LAUNCHERS: ClassVar[tuple[str, ...]] = ("bare", "docker", "containerd", "kubernetes")

    name: str
    clients: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 1

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v)

    def axes(self) -> dict[str, list[Any]]:
        """The matrix axes, in a stable order; scalars are axes of one value."""
        return {n: (v if isinstance(v, list) else [v]) for n in self.AXES for v in [getattr(self, n)]}

    def client_counts(self) -> list[int]:
        return self.clients if isinstance(self.clients, list) else [self.clients]


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


class FootprintWorkload(WorkloadBase):
    """Host memory a running sandbox costs: shim, hypervisor, virtiofsd and the container's cgroup."""

    LAUNCHERS = ("docker",)
    type: Literal["footprint"]
    name: str = "footprint"
    settle: Annotated[int, Field(ge=0, le=600)] = 3  # seconds the idle sandbox runs before sampling


class BootWorkload(WorkloadBase):
    """Boot timeline: a short container's launch split into phases (Docker's create and start; for
    a VM runtime the sandbox, the guest kernel and user space from the guest's dmesg)."""

    LAUNCHERS = ("docker",)
    type: Literal["boot"]
    name: str = "boot"


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


Workload = Annotated[
    FioWorkload
    | Iperf3Workload
    | AbWorkload
    | SysbenchWorkload
    | LaunchWorkload
    | FootprintWorkload
    | DdWorkload
    | BootWorkload,
    Field(discriminator="type"),
]
WORKLOAD_TYPES = ("fio", "iperf3", "ab", "sysbench", "launch", "footprint", "dd", "boot")
