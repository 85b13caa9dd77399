"""One SSH connection per host (asyncssh), with a channel per command.

Honours ``~/.ssh/config``, keys and agents. Host keys are verified against known_hosts unless the
profile says ``trust_new_host_key = true``, in which case a new key is accepted, recorded in
``~/.ssh/known_hosts`` and announced. Commands are argument lists, quoted here with ``shlex``;
each runs under a tiny fixed wrapper that reports its PID so that cancellation can really stop
the remote process (OpenSSH does not deliver channel signals to a command without a terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from katatui.core.address import parse_address
from katatui.core.aio import within
from katatui.core.errors import TargetError
from katatui.core.transport.base import Completed, Process, Stream, StreamedProcess, Transport

if TYPE_CHECKING:
    import docker

READ_SIZE = 65536
PID_MARK = b"katatui-pid:"
# Fixed text: the command's arguments follow as positional parameters, never pasted in.
WRAPPER = 'printf \'katatui-pid:%s\\n\' "$$" >&2; exec "$@"'


class SSHProcess(StreamedProcess):
    def __init__(self, transport: SSHTransport, argv: Sequence[str], proc: Any) -> None:
        super().__init__(argv)
        self._transport = transport
        self._proc = proc
        self.pid: int | None = None
        self._pid_known = asyncio.Event()
        self._returncode: int | None = None
        self._pumps = [
            asyncio.create_task(self._pump("stdout", proc.stdout)),
            asyncio.create_task(self._pump_stderr(proc.stderr)),
        ]

    async def _pump(self, name: Stream, reader: Any) -> None:
        try:
            while data := await reader.read(READ_SIZE):
                await self._queue.put((name, data))
        except (asyncssh.Error, OSError):
            pass
        finally:
            await self._queue.put(None)

    async def _pump_stderr(self, reader: Any) -> None:
        head = b""
        try:
            while not self._pid_known.is_set():
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                head += data
                if b"\n" in head:
                    line, _, rest = head.partition(b"\n")
                    if line.startswith(PID_MARK):
                        self.pid = int(line[len(PID_MARK) :])
                        head = rest
                    self._pid_known.set()
            if head:
                await self._queue.put(("stderr", head))
        except (asyncssh.Error, OSError):
            pass
        finally:
            self._pid_known.set()
        await self._pump("stderr", reader)

    async def wait(self) -> int:
        if self._returncode is not None:
            return self._returncode
        try:
            done = await self._proc.wait()
        except (asyncssh.Error, OSError) as exc:
            self._transport.lost()
            raise TargetError(f"on {self._transport.name}: the SSH connection dropped: {exc}") from exc
        if done.exit_status is not None and done.exit_status >= 0:
            self._returncode = int(done.exit_status)
        elif done.exit_signal:
            import signal as _signal

            name = str(done.exit_signal[0])
            self._returncode = -int(getattr(_signal, "SIG" + name, 1))
        else:
            self._transport.lost()
            raise TargetError(
                f"on {self._transport.name}: the SSH connection dropped while `{self.argv[0]}` was running"
            )
        return self._returncode

    async def signal(self, name: str) -> None:
        if self._returncode is not None:
            return
        await within(self._pid_known.wait(), 10)
        if self.pid is None:
            return
        # sshd makes a command without a terminal a session leader: its PID is its process group,
        # which also holds what a wrapper started (ab under its sh, dd after its setup).
        done = await self._transport.run(["kill", "-s", name, "--", f"-{self.pid}"], timeout=20)
        if not done.ok:
            await self._transport.run(["kill", "-s", name, str(self.pid)], timeout=20)


class SSHTransport(Transport):
    def __init__(
        self,
        name: str,
        address: str,
        *,
        trust_new_host_key: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(name, address)
        self._addr = parse_address(address)
        self._trust = trust_new_host_key
        self._log = log or (lambda _msg: None)
        self._conn: Any = None
        self._forwards: list[Any] = []
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def is_local(self) -> bool:
        return False

    @property
    def how(self) -> str:
        a = self._addr
        return f"ssh {a.user + '@' if a.user else ''}{a.host}{':' + str(a.port) if a.port else ''}"

    async def connect(self) -> None:
        if self._conn is not None:
            return
        kwargs: dict[str, Any] = {}
        if self._addr.port:
            kwargs["port"] = self._addr.port
        if self._addr.user:
            kwargs["username"] = self._addr.user
        known = self._known_keys()
        # Trusting a *new* key is allowed; a key that differs from a recorded one never is.
        trusting = self._trust and not known
        if trusting:
            kwargs["known_hosts"] = None
        try:
            self._conn = await within(asyncssh.connect(self._addr.host, **kwargs), 30)
        except asyncssh.HostKeyNotVerifiable as exc:
            if known:
                raise TargetError(
                    f"target {self.name} ({self.how}): the host's key does not match the one recorded in "
                    f"known_hosts ({exc.reason}). Someone may be intercepting the connection; if the host "
                    f"was reinstalled, remove the old key (ssh-keygen -R {self._known_name()}) and check "
                    "the new one."
                ) from None
            raise TargetError(
                f"target {self.name} ({self.how}): the host key is not in known_hosts ({exc.reason}). "
                "Check the key, then add it (ssh once interactively, or ssh-keyscan), or set "
                "trust_new_host_key = true for this target to accept and record it."
            ) from None
        except asyncssh.PermissionDenied:
            raise TargetError(
                f"target {self.name} ({self.how}): authentication failed; check the user, your key "
                "(IdentityFile in ~/.ssh/config) or ssh-agent"
            ) from None
        except TimeoutError:
            raise TargetError(f"target {self.name} ({self.how}): no answer within 30 s") from None
        except (OSError, asyncssh.Error) as exc:
            raise TargetError(
                f"target {self.name} ({self.how}): cannot connect: {exc}. Is the host up and sshd "
                "listening on that port?"
            ) from None
        if trusting:
            self._remember_key()

    def _known_name(self) -> str:
        a = self._addr
        return a.host if not a.port or a.port == 22 else f"[{a.host}]:{a.port}"

    def _known_keys(self) -> int:
        """How many keys ~/.ssh/known_hosts records for this host (hashed entries included)."""
        path = Path.home() / ".ssh" / "known_hosts"
        if not path.is_file():
            return 0
        try:
            found = asyncssh.read_known_hosts(str(path)).match(self._addr.host, "", self._addr.port or 22)
        except (OSError, ValueError, asyncssh.Error):
            return 0
        return len(found[0]) + len(found[1])

    def _remember_key(self) -> None:
        key = self._conn.get_server_host_key()
        if key is None:
            return
        host = self._known_name()
        line = f"{host} {key.export_public_key('openssh').decode().strip()}\n"
        path = Path.home() / ".ssh" / "known_hosts"
        existing = path.read_text() if path.exists() else ""
        if line not in existing:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            with path.open("a") as fh:
                fh.write(line)
            self._log(f"target {self.name}: trusted a new host key for {host} and added it to {path}")

    async def arm_signal(self, procs: Sequence[Process], name: str) -> Callable[[], Awaitable[None]]:
        return await self.arm_kill(await self._groups(procs), name)

    async def arm_kill(self, targets: Sequence[str], name: str) -> Callable[[], Awaitable[None]]:
        """A remote ``kill`` that waits on its stdin: firing it costs a line, not a new channel."""
        groups = list(targets)
        if not groups:
            return _nothing
        await self.connect()
        script = 'echo armed; read -r _; exec kill -s "$0" -- "$@"'
        try:
            proc = await self._conn.create_process(
                shlex.join(["sh", "-c", script, name, *groups]), encoding=None
            )
            await within(proc.stdout.readline(), 20)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise TargetError(f"on {self.name}: cannot prepare the start signal: {exc}") from exc

        async def fire() -> None:
            proc.stdin.write(b"go\n")
            proc.stdin.write_eof()
            with contextlib.suppress(asyncssh.Error, OSError, TimeoutError):
                await within(proc.wait(), 20)

        return fire

    async def _groups(self, procs: Sequence[Process]) -> list[str]:
        groups = []
        for p in procs:
            # Processes of one channel each, and those of a batch starter (each leads its session).
            known: asyncio.Event | None = getattr(p, "_pid_known", None)
            if known is None or getattr(p, "_returncode", None) is not None:
                continue
            with contextlib.suppress(TimeoutError):
                await within(known.wait(), 10)
            pid = getattr(p, "pid", None)
            if isinstance(pid, int):
                groups.append(f"-{pid}")
        return groups

    async def signal_many(self, procs: Sequence[Process], name: str) -> None:
        """One ``kill`` for all of them: a channel per process would cost about 0.12 s each."""
        groups = await self._groups(procs)
        if groups:
            await self.run(["kill", "-s", name, "--", *groups], timeout=20)

    def lost(self) -> None:
        """The connection dropped: the next command connects again (to clean up, or to go on)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    async def close(self) -> None:
        for fw in self._forwards:
            fw.close()
        self._forwards.clear()
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(TimeoutError, asyncssh.Error, OSError):
                await within(self._conn.wait_closed(), 5)
            self._conn = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    async def start(self, argv: Sequence[str], *, stdin: bytes | None = None) -> Process:
        await self.connect()
        command = shlex.join(["sh", "-c", WRAPPER, "katatui", *argv])
        try:
            proc = await self._conn.create_process(command, encoding=None)
        except (asyncssh.Error, OSError) as exc:
            self.lost()
            raise TargetError(f"on {self.name}: cannot start `{argv[0]}` over SSH: {exc}") from exc
        if stdin is not None:
            proc.stdin.write(stdin)
        proc.stdin.write_eof()
        return SSHProcess(self, argv, proc)

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float | None = None,
        check: bool = False,
    ) -> Completed:
        done = await super().run(argv, input=input, timeout=timeout, check=check)
        if done.returncode == 127 and b"not found" in done.stderr:
            raise TargetError(f"on {self.name}: `{argv[0]}` is not installed (not found on PATH); install it")
        return done

    async def docker_client(self, socket_path: str | None) -> docker.DockerClient:
        """Forward the remote Docker socket to a local one, and talk to it with the Docker SDK."""
        import docker

        await self.connect()
        remote = socket_path or "/var/run/docker.sock"
        if self._tmpdir is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="katatui-ssh-")
        local = os.path.join(self._tmpdir.name, f"docker-{len(self._forwards)}.sock")
        try:
            fw = await self._conn.forward_local_path(local, remote)
        except (asyncssh.Error, OSError) as exc:
            raise TargetError(f"on {self.name}: cannot forward the Docker socket {remote}: {exc}") from exc
        self._forwards.append(fw)

        def make() -> docker.DockerClient:
            client = docker.DockerClient(base_url="unix://" + local, timeout=120)
            client.ping()
            return client

        try:
            return await asyncio.to_thread(make)
        except Exception as exc:  # docker raises several unrelated types for "not reachable"
            raise TargetError(
                f"on {self.name}: cannot reach the Docker daemon at {remote} through SSH "
                f"({exc.__class__.__name__}: {exc}); is dockerd running there, and may this user use "
                "its socket?"
            ) from exc


async def _nothing() -> None:
    return None
