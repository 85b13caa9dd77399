"""The local machine: asyncio subprocesses, each in its own process group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from katatui.core.errors import TargetError
from katatui.core.transport.base import Process, Stream, StreamedProcess, Transport

if TYPE_CHECKING:
    import docker

READ_SIZE = 65536


class LocalProcess(StreamedProcess):
    def __init__(self, argv: Sequence[str], proc: asyncio.subprocess.Process) -> None:
        super().__init__(argv)
        self._proc = proc
        assert proc.stdout is not None and proc.stderr is not None
        self._pumps = [
            asyncio.create_task(self._pump("stdout", proc.stdout)),
            asyncio.create_task(self._pump("stderr", proc.stderr)),
        ]

    async def _pump(self, name: Stream, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(READ_SIZE):
                await self._queue.put((name, data))
        finally:
            await self._queue.put(None)

    async def wait(self) -> int:
        return await self._proc.wait()

    async def signal(self, name: str) -> None:
        if self._proc.returncode is not None:
            return
        sig = getattr(signal, "SIG" + name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)


class LocalTransport(Transport):
    def __init__(self, name: str = "local") -> None:
        super().__init__(name, "local")

    async def arm_kill(self, targets: Sequence[str], name: str) -> Callable[[], Awaitable[None]]:
        sig = getattr(signal, "SIG" + name)

        async def fire() -> None:
            for t in targets:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    if t.startswith("-"):
                        os.killpg(int(t[1:]), sig)
                    else:
                        os.kill(int(t), sig)

        return fire

    @property
    def is_local(self) -> bool:
        return True

    async def start(self, argv: Sequence[str], *, stdin: bytes | None = None) -> Process:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise TargetError(
                f"on {self.name}: `{argv[0]}` is not installed (not found on PATH); install it and retry"
            ) from exc
        except PermissionError as exc:
            raise TargetError(f"on {self.name}: `{argv[0]}` cannot be executed: {exc}") from exc
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            await proc.stdin.drain()
            proc.stdin.close()
        return LocalProcess(argv, proc)

    async def docker_client(self, socket_path: str | None) -> docker.DockerClient:
        import docker

        def make() -> docker.DockerClient:
            if socket_path:
                client = docker.DockerClient(base_url="unix://" + socket_path, timeout=120)
            else:
                client = docker.from_env(timeout=120)
            client.ping()
            return client

        try:
            return await asyncio.to_thread(make)
        except Exception as exc:  # docker raises several unrelated types for "not reachable"
            where = socket_path or os.environ.get("DOCKER_HOST") or "/var/run/docker.sock"
            raise TargetError(
                f"on {self.name}: cannot reach the Docker daemon at {where} "
                f"({exc.__class__.__name__}: {exc}); "
                "is dockerd running, and may this user use its socket?"
            ) from exc
