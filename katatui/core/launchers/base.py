"""The launcher interface."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from katatui.core.events import RunSpec
from katatui.core.transport.base import Process, Transport


@dataclass(frozen=True)
class Mount:
    host_path: str
    inner_path: str


class Launcher(abc.ABC):
    """Starts client processes of runs under one kind of isolation on one target."""

    name: str

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

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Remove everything this launcher still holds."""
