"""The launcher interface."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from katatui.core.events import RunSpec
from katatui.core.transport.base import Process, Transport
from katatui.core.workloads.base import ContainerInspector


@dataclass(frozen=True)
class Mount:
    host_path: str
    inner_path: str


BARRIER_NAME = "katatui-barrier"  # $0 of the start barrier's shell (see core/runner.py)
# Fixed text: the PIDs follow as positional parameters; prints each PID and its command line.
CMDLINES = 'for p; do printf "%s " "$p"; tr "\\0\\n" "  " < "/proc/$p/cmdline" 2>/dev/null; echo; done'


async def arm_host_kill(
    transport: Transport, pids: Sequence[int], count: int, name: str
) -> Callable[[], Awaitable[None]] | None:
    """A start barrier's signal sent from the host to the containers' first processes, armed:
    only when every one of the ``count`` PIDs is a barrier shell of ours (runc and its kind, whose
    container processes are host processes). None otherwise (a VM runtime reports the shim's or
    the hypervisor's PID, which must never get the signal)."""
    if len(pids) != count:
        return None
    listing = await transport.run(["sh", "-c", CMDLINES, "sh", *map(str, pids)], timeout=30)
    ours = [line.split()[0] for line in listing.text().splitlines() if f" {BARRIER_NAME} " in line]
    if len(ours) != count:
        return None
    return await transport.arm_kill(ours, name)


class Launcher(abc.ABC):
    """Starts client processes of runs under one kind of isolation on one target."""

    name: str
    # Whether a started client can be signalled (the start barrier releases clients with SIGUSR1).
    barrier: bool = True
    # Where a container's scratch directory lives: "volume" (a host directory) or in the container.
    scratch_mode: str = "volume"

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @abc.abstractmethod
    def scratch_path(self, host_path: str | None) -> str:
        """Where a client sees its scratch directory (``host_path`` on the host, if any)."""

    @abc.abstractmethod
    def needs_host_scratch(self, mode: str) -> bool:
        """Whether the scratch directory lives on the host (else inside the container)."""

    @abc.abstractmethod
    def describe(self, run: RunSpec, argv: Sequence[str], mount: Mount | None) -> list[str]:
        """The equivalent command line, for the log and the session (what a person could re-run)."""

    @abc.abstractmethod
    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> Process:
        """Start one client and return its process; its output streams as it arrives."""

    async def arm_signal(self, procs: Sequence[Process], name: str) -> Callable[[], Awaitable[None]]:
        """Prepare to signal the started ``procs`` together (a start barrier); the call fires."""
        return await self.transport.arm_signal(procs, name)

    def inspector(self) -> ContainerInspector | None:
        """This launcher's containers as a daemon reports them; None when it starts none a
        daemon can be asked about."""
        return None

    async def sandbox_roots(self, run: RunSpec) -> list[tuple[int, str]]:
        """(host PID, sandbox id) of each live container of ``run``, for the sandbox sampler;
        empty when the launcher starts nothing but host processes."""
        return []

    async def start_many(
        self, run: RunSpec, clients: Sequence[tuple[int, Sequence[str], Mount | None]]
    ) -> list[Process]:
        """Start several clients of one run, given as (client, argv, mount), in that order.

        Launchers that can start many at the cost of one (one API round for all pods, one remote
        starter for many processes) override this; the default starts them one after another.
        """
        return [await self.start(run, client, argv, mount) for client, argv, mount in clients]

    async def release(self, run: RunSpec, client: int) -> None:  # noqa: B027 - optional hook
        """Remove what ``start`` created (containers); called when the run ends, fails or is interrupted."""

    async def release_many(self, run: RunSpec, clients: Sequence[int]) -> None:
        """Release several clients of one run at once; one that fails does not keep the others.

        The default releases them concurrently; a launcher that can remove many at the cost of
        one (one ``ctr`` command for every container) overrides this."""
        await asyncio.gather(*(self.release(run, c) for c in clients), return_exceptions=True)

    def release_notes(self) -> list[str]:
        """What releasing left undone that the session should be told (each thing once): say,
        containers a daemon that stopped answering still holds. Empty when there is nothing."""
        return []

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Remove everything this launcher still holds."""
