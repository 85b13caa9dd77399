"""What the engine needs from a workload: commands, a parser per client, servers, and a way to combine."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from katatui.core.events import Event, Metric, RunSpec
from katatui.core.transport.base import Stream

if TYPE_CHECKING:
    from katatui.core.transport.base import Process, Transport


@dataclass(frozen=True)
class Reading:
    """One interval of one client: seconds since start, rates, and the interval's histograms."""

    t: float
    metrics: dict[str, float]
    hist: dict[str, dict[int, int]] = field(default_factory=dict)


class ClientParser(Protocol):
    """Turns one client's output into interval samples as it arrives, and a final state at the end."""

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        """New readings found in this chunk."""
        ...

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        """(final state or None, failure reason or None) once the process has exited."""
        ...


@dataclass(frozen=True)
class ServerSpec:
    """A process the client talks to (iperf3 -s, nginx), started first and stopped after the client.

    ``in_scenario``: under the scenario's launcher (nginx for ab: the server is what is measured);
    else bare on the host (the iperf3 server). Ready when ``ready`` appears in its output, or when
    ``probe`` (a host command) succeeds. ``files`` are written into its scratch directory first.
    """

    argv: list[str]
    in_scenario: bool
    ready: bytes | None = None
    probe: list[str] | None = None
    files: Mapping[str, bytes] = field(default_factory=dict)
    name: str = "server"
    persistent: bool = False  # must outlive the client (nginx); else it may end with it (iperf3 -1)


class WorkloadDriver(Protocol):
    """A workload whose clients are commands: katatui starts them (and their servers) and parses
    what they print."""

    runs_as: Literal["tool"]
    kind: str
    needs_scratch: bool
    client_in_scenario: bool  # False: the client runs bare on the host (ab against nginx)

    def host_tools(self, launcher: str) -> set[str]:
        """Programs the host itself must have for this workload under that launcher."""
        ...

    def adapt(self, facts: Mapping[str, Any]) -> None:
        """Adjust to the host a run is about to use (its facts), e.g. a tool's version."""
        ...

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]: ...

    def server(
        self, variant: Mapping[str, Any], client: int, launcher: str, directory: str | None
    ) -> ServerSpec | None: ...

    def parser(self, variant: Mapping[str, Any]) -> ClientParser: ...

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        """Results of a run from the final states of all its clients (histograms merged, rates summed)."""
        ...

    def timeout(self, variant: Mapping[str, Any]) -> float:
        """How long a run may take before it is stopped as hung."""
        ...


class InScenarioDriver:
    """For drivers whose one tool runs in the scenario with no server (fio, sysbench, dd): the host
    needs the tool only when the scenario is bare."""

    runs_as: Literal["tool"] = "tool"
    tool: str
    client_in_scenario = True

    def host_tools(self, launcher: str) -> set[str]:
        return {self.tool} if launcher == "bare" else set()

    def adapt(self, facts: Mapping[str, Any]) -> None:
        pass

    def server(
        self, variant: Mapping[str, Any], client: int, launcher: str, directory: str | None
    ) -> ServerSpec | None:
        return None


class ScenarioLauncher(Protocol):
    """What a procedure does with its scenario's launcher (any ``launchers.base.Launcher``): start
    a container without a mount, and release it."""

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: None) -> Process: ...

    async def release(self, run: RunSpec, client: int) -> None: ...

    def inspector(self) -> ContainerInspector | None:
        """The launcher's containers as their daemon reports them; None when it has none."""
        ...


class ContainerInspector(Protocol):
    """What a launcher whose clients are containers of a daemon can say about them (the boot
    timeline and the footprint procedures measure with it; ``launchers.docker.DockerLauncher``)."""

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: None) -> Process: ...

    async def release(self, run: RunSpec, client: int) -> None: ...

    async def inspect_usage(self, run: RunSpec, client: int) -> tuple[int, int | None, str]:
        """The container's init PID on the host, its cgroup's memory usage in bytes (if
        reported), and its id (the sandbox id its runtime's processes carry)."""
        ...

    async def attrs(self, run: RunSpec, client: int) -> dict[str, Any]:
        """The container's inspect document as it is now (``Created``, ``State.StartedAt``...)."""
        ...

    async def daemon_time(self) -> str:
        """The daemon's own clock, as an RFC 3339 time (what stamps ``Created``)."""
        ...


@dataclass
class ProcedureContext:
    """What a procedure-style workload (launch time, footprint) may use for one run."""

    run: RunSpec
    launcher: ScenarioLauncher
    transport: Transport
    emit: Callable[[Event], None]


class Procedure(Protocol):
    """A workload that is a measurement procedure rather than one tool's output (launch, footprint)."""

    runs_as: Literal["procedure"]
    kind: str

    def host_tools(self, launcher: str) -> set[str]: ...

    async def perform(self, ctx: ProcedureContext) -> dict[str, Metric]: ...

    def timeout(self, variant: Mapping[str, Any]) -> float: ...
