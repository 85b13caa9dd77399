"""One SSH connection per host (asyncssh), with a channel per command.

Honours ``~/.ssh/config``, keys and agents. Host keys are always verified against known_hosts,
looked up as OpenSSH does under the resolved HostName and Port (``[host]:port``), HostKeyAlias and
the name as written. With ``trust_new_host_key = true`` a key is accepted, recorded and announced
only when none of those names has a recorded key; a key that differs from a recorded one never is.
Commands are argument lists, quoted here with ``shlex``;
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
from dataclasses import dataclass
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
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
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
        names = self._host_names()
        keys = _KnownKeys(names, self._trust)
        # Verification is never off: keys are looked up under every name of the host (the resolved
        # HostName and Port, HostKeyAlias, the name as written), and a new key is accepted only when
        # trusting and none of those names has a recorded key.
        kwargs["known_hosts"] = keys.lookup
        kwargs["client_factory"] = keys.client
        try:
            self._conn = await within(asyncssh.connect(self._addr.host, **kwargs), 30)
        except asyncssh.HostKeyNotVerifiable as exc:
            if keys.recorded:
                raise TargetError(
                    f"target {self.name} ({self.how}): the host key has CHANGED: the key the host "
                    f"presented does not match the one recorded in known_hosts for {names.recorded_as} "
                    f"({exc.reason}). Someone may be intercepting the connection (man-in-the-middle); "
                    "katatui does not connect, whatever trust_new_host_key says. If the host was really "
                    f"reinstalled, check its new key out of band, remove the old one (ssh-keygen -R "
                    f"'{names.recorded_as}') and add the new one."
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
        if keys.accepted_new:
            self._remember_key(names)

    def _host_names(self) -> _HostNames:
        """The names OpenSSH would look the host up under, after ~/.ssh/config."""
        a = self._addr
        config_path = Path.home() / ".ssh" / "config"
        config = [str(config_path)] if os.access(config_path, os.R_OK) else []
        opts: dict[str, Any] = {"host": a.host, "config": config}
        if a.port:
            opts["port"] = a.port
        if a.user:
            opts["username"] = a.user
        try:
            options = asyncssh.SSHClientConnectionOptions(**opts)
            host, port = str(options.host or a.host), int(options.port or 22)
            alias = options.host_key_alias
            files = options.known_hosts
        except (OSError, ValueError, asyncssh.Error) as exc:
            raise TargetError(f"target {self.name} ({self.how}): cannot read ~/.ssh/config: {exc}") from None
        default = str(Path.home() / ".ssh" / "known_hosts")
        paths = [str(Path(f).expanduser()) for f in files] if isinstance(files, list | tuple) else []
        return _HostNames(
            written=a.host,
            written_port=a.port or 22,
            host=host,
            port=port,
            alias=str(alias) if alias else None,
            files=[p for p in paths if p] or [default],
        )

    def _remember_key(self, names: _HostNames) -> None:
        key = self._conn.get_server_host_key()
        if key is None:
            return
        host = names.recorded_as
        line = f"{host} {key.export_public_key('openssh').decode().strip()}\n"
        path = Path(names.files[0])
        existing = path.read_text() if path.exists() else ""
        if line not in existing:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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


def _known_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True)
class _HostNames:
    written: str  # as in the target's address (maybe an ssh_config alias)
    written_port: int
    host: str  # HostName and Port after ~/.ssh/config
    port: int
    alias: str | None  # HostKeyAlias
    files: list[str]  # UserKnownHostsFile, first one written to

    @property
    def recorded_as(self) -> str:
        """The name a new key is recorded under, as OpenSSH does."""
        return self.alias or _known_name(self.host, self.port)


class _KnownKeys:
    """known_hosts lookup for one connection, over all the names of the host."""

    def __init__(self, names: _HostNames, trust_new: bool) -> None:
        self.names = names
        self.trust_new = trust_new
        self.recorded = False
        self.accepted_new = False

    def lookup(self, _host: str, addr: str, _port: int | None) -> tuple[list[Any], ...]:
        n = self.names
        merged: list[list[Any]] = [[] for _ in range(7)]
        try:
            files = dict.fromkeys([*n.files, GLOBAL_KNOWN_HOSTS])  # read as OpenSSH does; written: the first
            known = asyncssh.read_known_hosts([f for f in files if os.path.isfile(f)])
        except (OSError, ValueError, asyncssh.Error):
            known = None
        if known is not None:
            queries = [(n.host, addr, n.port), (n.written, "", n.written_port), (n.written, "", n.port)]
            if n.alias:
                queries += [(n.alias, "", n.port), (n.alias, "", 22)]
            for host, address, port in queries:
                found = known.match(host, address, None if port == 22 else port)
                for i, part in enumerate(found):
                    merged[i].extend(x for x in part if x not in merged[i])
        # Any recorded key or authority (revocations aside) means the host is known.
        self.recorded = any(merged[i] for i in (0, 1, 3, 5))
        return tuple(merged)

    def client(self) -> asyncssh.SSHClient:
        return _Client(self)


class _Client(asyncssh.SSHClient):
    def __init__(self, keys: _KnownKeys) -> None:
        self._keys = keys

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        # Only called for a key that matched nothing recorded.
        k = self._keys
        if k.trust_new and not k.recorded:
            k.accepted_new = True
            return True
        return False
