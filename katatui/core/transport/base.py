"""The transport interface: start argument lists on a host and stream their output.

Commands are always argument lists. A transport that has to go through a shell (SSH does) quotes
every argument itself; nothing from a profile is ever pasted into a command string.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from katatui.core.aio import within
from katatui.core.errors import CommandError, TargetError

if TYPE_CHECKING:
    import docker

Stream = Literal["stdout", "stderr"]


@dataclass(frozen=True)
class Completed:
    """A finished command: its exit status and everything it printed."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def text(self) -> str:
        return self.stdout.decode(errors="replace")


class Process(abc.ABC):
    """A running command. Output arrives as (stream, bytes) chunks in the order it was read."""

    argv: tuple[str, ...]

    @abc.abstractmethod
    async def read(self) -> tuple[Stream, bytes] | None:
        """Next chunk of output, or None when both streams are closed."""

    @abc.abstractmethod
    async def wait(self) -> int:
        """Wait for the command to exit and return its exit status (negative: killed by signal)."""

    @abc.abstractmethod
    async def signal(self, name: str) -> None:
        """Send a signal by name ("INT", "TERM", "KILL") to the command on its host."""

    async def stop(self, grace: float = 10.0) -> int:
        """Interrupt the command, then terminate and kill it if it does not exit in time."""
        for sig, wait in (("INT", grace), ("TERM", 3.0), ("KILL", 3.0)):
            with contextlib.suppress(ProcessLookupError):
                await self.signal(sig)
            try:
                return await within(asyncio.shield(self.wait()), wait)
            except TimeoutError:
                continue
        return await self.wait()


class StreamedProcess(Process):
    """A process whose two output streams are pumped into one queue; each pump ends with None."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = tuple(argv)
        self._queue: asyncio.Queue[tuple[Stream, bytes] | None] = asyncio.Queue()
        self._open = 2  # streams not yet closed

    async def read(self) -> tuple[Stream, bytes] | None:
        while self._open:
            item = await self._queue.get()
            if item is not None:
                return item
            self._open -= 1
        return None


class Transport(abc.ABC):
    """One host. ``name`` is the target's name in the profile; ``address`` says how it is reached."""

    def __init__(self, name: str, address: str) -> None:
        self.name = name
        self.address = address

    @property
    @abc.abstractmethod
    def is_local(self) -> bool:
        """True when commands run on the machine katatui runs on."""

    async def connect(self) -> None:  # noqa: B027 - optional hook
        """Open the connection (a no-op for the local machine)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Close the connection and everything forwarded through it."""

    @abc.abstractmethod
    async def start(self, argv: Sequence[str], *, stdin: bytes | None = None) -> Process:
        """Start ``argv`` and return at once; read its output from the returned process."""

    async def arm_signal(self, procs: Sequence[Process], name: str) -> Callable[[], Awaitable[None]]:
        """Prepare to signal ``procs`` at once; the returned call fires (for a start barrier: arm
        every host first, then fire them all, so the slow part is done before the start)."""

        async def fire() -> None:
            await self.signal_many(procs, name)

        return fire

    async def arm_kill(self, targets: Sequence[str], name: str) -> Callable[[], Awaitable[None]]:
        """Prepare a ``kill -s NAME -- TARGETS`` (PIDs, or -PGIDs) on this host; the call fires it."""

        async def fire() -> None:
            if targets:
                await self.run(["kill", "-s", name, "--", *targets], timeout=20)

        return fire

    async def signal_many(self, procs: Sequence[Process], name: str) -> None:
        """Signal several processes this transport started, as close together as it can."""
        await asyncio.gather(*(p.signal(name) for p in procs), return_exceptions=True)

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float | None = None,
        check: bool = False,
    ) -> Completed:
        """Run ``argv`` to completion and collect its output."""
        proc = await self.start(argv, stdin=input)
        out: list[bytes] = []
        err: list[bytes] = []

        async def collect() -> int:
            while (chunk := await proc.read()) is not None:
                (out if chunk[0] == "stdout" else err).append(chunk[1])
            return await proc.wait()

        try:
            rc = await within(collect(), timeout)
        except TimeoutError:
            await proc.stop(grace=2.0)
            raise TargetError(f"on {self.name}: `{argv[0]}` did not finish within {timeout:.0f} s") from None
        except asyncio.CancelledError:  # interrupted: the command must not outlive katatui
            # Shielded (a second cancellation must not cut the stop short), and its outcome always
            # read: once the connection is closed under it, its failure is nobody's news.
            stopping = asyncio.ensure_future(within(proc.stop(grace=2.0), 15))
            stopping.add_done_callback(_read_outcome)
            with contextlib.suppress(Exception):
                await asyncio.shield(stopping)
            raise
        done = Completed(tuple(argv), rc, b"".join(out), b"".join(err))
        if check and not done.ok:
            raise CommandError(self.name, list(argv), rc, done.stderr.decode(errors="replace"))
        return done

    @abc.abstractmethod
    async def docker_client(self, socket_path: str | None) -> docker.DockerClient:
        """A Docker SDK client for the Docker daemon on this host.

        ``socket_path`` is the daemon's unix socket on the host; None means the default
        (``DOCKER_HOST`` for the local machine, ``/var/run/docker.sock`` on a remote one).
        """


def _read_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
