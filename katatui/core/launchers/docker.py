"""``docker``: the workload runs in a container under a named runtime (runc, kata-runtime, ...).

Uses the Docker SDK against the target's daemon (locally, or through the SSH connection's
forwarded socket). Every container carries katatui's labels and is removed when its run ends,
fails or is interrupted; ``remove_leftovers`` finds the ones a crashed katatui left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from katatui.core.errors import DaemonError, TargetError
from katatui.core.events import RunSpec
from katatui.core.isolation import runtime_program
from katatui.core.launchers.base import Launcher, Mount, arm_host_kill
from katatui.core.profile import Limits, parse_size
from katatui.core.scratch import owner_alive, owner_tag
from katatui.core.transport.base import Process, Stream, StreamedProcess, Transport

if TYPE_CHECKING:
    import docker

T = TypeVar("T")
_SIGNALS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="katatui-signal")
# Removals of a run's containers go together, in a pool of their own: the default executor (a few
# threads on a small host) is the one that starts containers. Fewer than the Docker client's 10
# pooled connections: past those urllib3 warns on stderr of each connection it discards.
_REMOVALS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="katatui-remove")
WAIT_POLL = 60.0  # seconds of one wait for a container's exit; then the daemon is pinged, and again
PING_TIMEOUT = 30.0  # for the daemon to answer a ping while a container's wait goes on
LABEL_SESSION = "io.katatui.session"
LABEL_RUN = "io.katatui.run"
LABEL_OWNER = "io.katatui.owner"
VOLUME_PATH = "/scratch"
CONTAINER_SCRATCH = "/katatui-scratch"


@dataclass
class DaemonHealth:
    """What this session knows of one Docker daemon (one client object, shared by every launcher
    on it): whether it stopped answering, and the containers katatui could not remove from it
    since. A daemon that did not answer once is not asked again: each further call would wait for
    the client's whole timeout, one after another."""

    failure: str | None = None  # the first failure, once the daemon did not answer
    left: set[str] = field(default_factory=set)  # containers not removed because of it
    told: bool = False  # the session has been told what is left
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def silent(self) -> bool:
        return self.failure is not None

    def note(self, exc: BaseException) -> bool:
        """Remember ``exc`` when it is the daemon not answering (not an answer such as a 404);
        whether it was."""
        if not daemon_silent(exc):
            return False
        with self.lock:
            if self.failure is None:
                self.failure = f"{exc.__class__.__name__}: {exc}"
        return True

    def refusal(self, target: str) -> str:
        return (f"the Docker daemon on {target} did not answer earlier in this session ({self.failure}); "
                "katatui starts no more containers there: check `docker ps` there, and restart dockerd "
                "if that hangs too")  # fmt: skip

    def refuse(self, target: str) -> None:
        """Raise a DaemonError when the daemon did not answer earlier."""
        if self.failure is not None:
            raise DaemonError(self.refusal(target))


_HEALTH: weakref.WeakKeyDictionary[Any, DaemonHealth] = weakref.WeakKeyDictionary()
_HEALTH_LOCK = threading.Lock()


def daemon_health(client: docker.DockerClient) -> DaemonHealth:
    """The health of ``client``'s daemon as this session saw it (one record per client object)."""
    with _HEALTH_LOCK:
        found = _HEALTH.get(client)
        if found is None:
            found = _HEALTH[client] = DaemonHealth()
        return found


class DockerProcess(StreamedProcess):
    """A container's main process. Its output comes through an attach made before the container
    starts, the way ``docker run`` does it: nothing the command prints is missed, and the stream
    ends when the container's stdio closes. Followed logs (``docker logs -f``) are not used: the
    daemon holds an inotify instance per follower, so 64 clients with two streams each took all
    128 that root may have by default, and starved every other program on the host of them."""

    def __init__(
        self, argv: Sequence[str], client: docker.DockerClient, container: Any, attached: Any, target: str
    ) -> None:
        super().__init__(argv)
        self._target = target
        self._health = daemon_health(client)
        self._open = 1  # one pump delivers both streams
        self._client = client
        self._container = container
        self._attached = attached
        self._loop = asyncio.get_running_loop()
        self._returncode: int | None = None
        threading.Thread(target=self._pump, name=f"attach-{container.short_id}", daemon=True).start()

    def _put(self, item: tuple[Stream, bytes] | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has ended: nobody reads any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _pump(self) -> None:
        from docker.utils.socket import STDERR, frames_iter

        received = {"stdout": 0, "stderr": 0}
        try:
            for number, data in frames_iter(self._attached, False):  # type: ignore[no-untyped-call]
                name: Stream = "stderr" if number == STDERR else "stdout"
                if data:
                    received[name] += len(data)
                    self._put((name, data))
        except Exception as exc:  # the daemon went away: say so on the stream the parser ignores
            self._put(("stderr", f"katatui: lost the container's output: {exc}\n".encode()))
        finally:
            _close_socket(self._attached)
        try:
            # Belt and braces: the stored log is complete once the container exited.
            for name in ("stdout", "stderr") if not self._health.silent else ():
                with contextlib.suppress(Exception):  # best effort: the container may be gone already
                    which = {"stdout": name == "stdout", "stderr": name == "stderr"}
                    whole = self._client.api.logs(self._container.id, stream=False, follow=False, **which)
                    if isinstance(whole, bytes) and len(whole) > received[name]:
                        self._put((name, whole[received[name] :]))
        finally:
            self._put(None)

    async def wait(self) -> int:
        """The container's exit status. Waits as long as the tool runs, in bounded waits: after
        each the daemon must still answer a ping, else its silence is a DaemonError (an unbounded
        wait on a daemon that hangs held its thread for ever)."""
        lost = f"lost the container {self._container.short_id}"
        while self._returncode is None:
            try:
                status = await asyncio.to_thread(self._container.wait, timeout=WAIT_POLL)
            except Exception as exc:
                if _read_timed_out(exc):  # the tool still runs, or the daemon hangs: ask it
                    self._health.refuse(self._target)
                    try:
                        await asyncio.to_thread(_ping, self._client, PING_TIMEOUT)
                    except Exception as late:
                        if not self._health.note(late):
                            raise TargetError(f"{lost}: {late}") from exc
                        raise DaemonError(daemon_message(self._target, late)) from late
                    continue  # it answers: wait again
                if self._health.note(exc):
                    raise DaemonError(daemon_message(self._target, exc)) from exc
                raise TargetError(f"{lost}: {exc}") from exc
            self._returncode = int(status.get("StatusCode", -1))
        return self._returncode

    async def signal(self, name: str) -> None:
        if self._returncode is not None or self._health.silent:
            return
        with contextlib.suppress(Exception):  # already gone: nothing to signal
            # A pool of its own: a start barrier signals every client at once, and the default
            # executor (a few threads on a small host) would queue them one after the other.
            await asyncio.get_running_loop().run_in_executor(
                _SIGNALS, functools.partial(self._container.kill, signal="SIG" + name)
            )


class DockerLauncher(Launcher):
    name = "docker"

    def __init__(
        self,
        transport: Transport,
        client: docker.DockerClient,
        *,
        runtime: str,
        image: str,
        session_id: str,
        limits: Limits,
        scratch_mode: str = "volume",
    ) -> None:
        super().__init__(transport)
        self.client = client
        self.runtime = runtime
        self.image = image
        self.session_id = session_id
        self.limits = limits
        self.scratch_mode = scratch_mode
        self.health = daemon_health(client)
        self._containers: dict[tuple[str, int], Any] = {}
        self.unremoved: list[str] = []  # ids of containers a silent daemon kept

    def needs_host_scratch(self, mode: str) -> bool:
        return mode == "volume"

    def scratch_path(self, host_path: str | None) -> str:
        return VOLUME_PATH if host_path is not None else CONTAINER_SCRATCH

    def _limit_args(self) -> list[str]:
        args = []
        if self.limits.cpus:
            args += ["--cpus", str(self.limits.cpus)]
        if self.limits.memory:
            args += ["--memory", self.limits.memory]
        return args

    def describe(self, run: RunSpec, argv: Sequence[str], mount: Mount | None) -> list[str]:
        cmd = ["docker", "run", "--rm", "--runtime", self.runtime, "--network", "host"]
        cmd += self._limit_args()
        if mount:
            cmd += ["-v", f"{mount.host_path}:{mount.inner_path}"]
        else:
            cmd += ["-w", CONTAINER_SCRATCH]
        return [*cmd, self.image, *argv]

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> Process:
        kwargs: dict[str, Any] = {
            "image": self.image,
            "command": list(argv),
            "runtime": self.runtime,
            "network_mode": "host",
            "labels": {
                LABEL_SESSION: self.session_id,
                LABEL_RUN: run.run_id,
                LABEL_OWNER: owner_tag(),
            },
            "name": f"katatui-{self.session_id}-{run.run_id}-{client}",
            "detach": True,
        }
        if mount:
            kwargs["volumes"] = {mount.host_path: {"bind": mount.inner_path, "mode": "rw"}}
        else:
            kwargs["working_dir"] = CONTAINER_SCRATCH  # Docker creates it in the container's own layer
        if self.limits.cpus:
            kwargs["nano_cpus"] = int(self.limits.cpus * 1e9)
        if self.limits.memory:
            kwargs["mem_limit"] = parse_size(self.limits.memory)

        def create() -> tuple[Any, Any]:
            self.health.refuse(self.transport.name)  # queued behind starts that found it silent
            try:
                container = self.client.containers.create(**kwargs)
                self._containers[(run.run_id, client)] = container
                attached = attach(self.client, str(container.id))
                try:
                    container.start()
                except BaseException:
                    _close_socket(attached)
                    raise
            except Exception as exc:
                self.health.note(exc)
                raise
            return container, attached

        self.health.refuse(self.transport.name)
        pending = asyncio.ensure_future(asyncio.to_thread(create))
        try:
            container, attached = await asyncio.shield(pending)
        except asyncio.CancelledError:
            # The thread goes on creating and starting it: wait for it, then remove what it made.
            with contextlib.suppress(Exception):
                _close_socket((await pending)[1])
            await self.release(run, client)
            raise
        except DaemonError:
            raise
        except Exception as exc:
            raise TargetError(_explain(exc, self.transport.name, self.runtime, self.image)) from exc
        return DockerProcess(argv, self.client, container, attached, self.transport.name)

    async def _call(self, work: Callable[[], T]) -> T:
        """``work`` (calls to the daemon) in a thread; the daemon's silence is a DaemonError, and
        once it was silent the daemon is not asked again."""

        def guarded() -> T:
            self.health.refuse(self.transport.name)
            try:
                return work()
            except Exception as exc:
                self.health.note(exc)
                raise

        return await daemon_call(self.transport.name, asyncio.to_thread(guarded))

    async def inspect_usage(self, run: RunSpec, client: int) -> tuple[int, int | None, str]:
        """The container's init PID on the host, its cgroup's memory usage in bytes (if reported),
        and its id (which is the sandbox id Kata's processes carry on their command lines)."""
        container = self._containers[(run.run_id, client)]

        def work() -> tuple[int, int | None, str]:
            container.reload()
            pid = int(container.attrs.get("State", {}).get("Pid") or 0)
            stats = container.stats(stream=False)
            usage = (stats.get("memory_stats") or {}).get("usage")
            return pid, int(usage) if usage is not None else None, str(container.id)

        return await self._call(work)

    async def arm_signal(self, procs: Sequence[Process], name: str) -> Callable[[], Awaitable[None]]:
        """Docker handles kill requests one at a time (64 took about a second here), so a barrier
        signals from the host instead where the container's first process is a host process of
        our own (runc and its kind: its command line carries the barrier's name). Anything else
        (a VM runtime, whose PID is the shim's or the hypervisor's) goes through the API."""
        containers = [p for p in procs if isinstance(p, DockerProcess)]
        found = [pid for pid, _ in await _host_pids([p._container for p in containers])]
        fire = await arm_host_kill(self.transport, found, len(containers), name)
        if fire is None:  # not all ours on the host: the API for each
            return await super().arm_signal(procs, name)
        return fire

    async def sandbox_roots(self, run: RunSpec) -> list[tuple[int, str]]:
        if self.health.silent:
            return []
        held = [c for (run_id, _), c in list(self._containers.items()) if run_id == run.run_id]
        return await _host_pids(held)

    async def attrs(self, run: RunSpec, client: int) -> dict[str, Any]:
        """The container's inspect document as it is now (``Created``, ``State.StartedAt``...)."""
        container = self._containers[(run.run_id, client)]

        def work() -> dict[str, Any]:
            container.reload()
            return dict(container.attrs)

        return await self._call(work)

    def inspector(self) -> DockerLauncher:
        return self

    async def daemon_time(self) -> str:
        """The daemon's own clock (``SystemTime`` of ``docker info``), as it words it."""
        info = await self._call(self.client.info)
        return str(info.get("SystemTime") or "")

    async def release(self, run: RunSpec, client: int) -> None:
        await self.release_key((run.run_id, client))

    async def close(self) -> None:
        await asyncio.gather(*(self.release_key(key) for key in list(self._containers)))

    async def release_key(self, key: tuple[str, int]) -> None:
        container = self._containers.pop(key, None)
        if container is None:
            return
        health = self.health

        def work() -> bool:
            """Whether the container is gone (or was already): False when the daemon is silent."""
            if health.silent:  # checked here too: removals queue behind the one that timed out
                return False
            try:
                container.remove(force=True, v=True)
            except Exception as exc:
                return not health.note(exc)  # an answer (404: already removed) is not silence
            return True

        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(_REMOVALS, work):
            cid = str(container.id)
            self.unremoved.append(cid)
            with health.lock:
                health.left.add(cid)

    def release_notes(self) -> list[str]:
        health = self.health
        with health.lock:
            if health.told or not health.left:
                return []
            health.told = True
            count = len(health.left)
        left = f"{count} containers of this session were" if count != 1 else "1 container of this session was"
        return [f"on {self.transport.name}: the Docker daemon did not answer ({health.failure}); {left} "
                "left there: `katatui cleanup` (or katatui's next start) removes them by their label once "
                "the daemon answers again"]  # fmt: skip


def attach(client: docker.DockerClient, container_id: str) -> Any:
    """The raw socket of an attach to both output streams (made before the container starts, so
    it sees everything). No read timeout: a tool may print nothing for minutes."""
    sock = client.api.attach_socket(container_id, params={"stdout": 1, "stderr": 1, "stream": 1})
    for s in (sock, getattr(sock, "_sock", None)):
        if s is not None and hasattr(s, "settimeout"):
            s.settimeout(None)
    return sock


def _close_socket(sock: Any) -> None:
    """Wake a reader blocked on an attach socket and close it."""
    raw = getattr(sock, "_sock", sock)
    with contextlib.suppress(Exception):
        raw.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        sock.close()


async def _host_pids(containers: Sequence[Any]) -> list[tuple[int, str]]:
    """(host PID of the first process, container id) of each container still running."""

    def work() -> list[tuple[int, str]]:
        out = []
        for container in containers:
            with contextlib.suppress(Exception):  # gone already
                container.reload()
                pid = int(container.attrs.get("State", {}).get("Pid") or 0)
                if pid:
                    out.append((pid, str(container.id)))
        return out

    return await asyncio.to_thread(work) if containers else []


def _read_timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` is a request's read timeout (through a Unix socket requests words it as a
    ConnectionError "Read timed out.")."""
    import requests.exceptions

    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    return isinstance(exc, requests.exceptions.ConnectionError) and "read timed out" in str(exc).lower()


def _ping(client: docker.DockerClient, timeout: float) -> None:
    """Raise unless the daemon answers a ping within ``timeout`` seconds (not the client's own).
    Any answer will do: an error status is still the daemon answering."""
    api = client.api
    api.get(f"{api.base_url}/_ping", timeout=timeout).close()


def _explain(exc: Exception, target: str, runtime: str, image: str) -> str:
    text = str(getattr(exc, "explanation", None) or exc)
    low = text.lower()
    if "connection aborted" in low or "connection refused" in low or isinstance(exc, ConnectionError):
        return (f"on {target}: the Docker daemon went away while starting the container under {runtime!r} "
                f"({text}); check that dockerd is running there (`docker info`)")  # fmt: skip
    if "executable file not found" in low or "no such file or directory" in low:
        return (f"on {target}: image {image} lacks the workload's program ({text}); use katatui's image "
                "(`katatui image build --from-host`) or add the tool to yours")  # fmt: skip
    if "unknown runtime" in low:
        return (f"on {target}: Docker has no runtime {runtime!r} ({text}); register it in "
                "/etc/docker/daemon.json under \"runtimes\" or remove the scenario")  # fmt: skip
    if "timed out" in low:
        return (f"on {target}: Docker did not start the container under {runtime!r} in time ({text}); the "
                "runtime may be stuck: check `docker ps` and the runtime's processes there")  # fmt: skip
    if "no such image" in low:
        return f"on {target}: image {image} is missing ({text}); run `katatui image build --from-host`"
    return f"on {target}: Docker could not start the container under {runtime!r}: {text}"


async def remove_leftovers(client: docker.DockerClient, *, everything: bool = False) -> list[str]:
    """Remove katatui's containers whose katatui is no longer running (or all of them)."""

    def work() -> list[str]:
        removed = []
        for c in client.containers.list(all=True, filters={"label": LABEL_SESSION}, ignore_removed=True):
            owner = c.labels.get(LABEL_OWNER, "")
            if everything or not owner or not owner_alive(owner):
                with contextlib.suppress(Exception):
                    c.remove(force=True, v=True)
                    removed.append(str(c.name))
        return removed

    return await asyncio.to_thread(work)


async def remove_session(client: docker.DockerClient, session_id: str) -> list[str]:
    """Remove every container of one session (the last line of defence on exit). A daemon that did
    not answer earlier is not asked: the next start or ``katatui cleanup`` removes them."""
    if daemon_health(client).silent:
        return []

    def work() -> list[str]:
        removed = []
        for c in client.containers.list(
            all=True, filters={"label": f"{LABEL_SESSION}={session_id}"}, ignore_removed=True
        ):
            with contextlib.suppress(Exception):
                c.remove(force=True, v=True)
                removed.append(str(c.name))
        return removed

    return await asyncio.to_thread(work)


def daemon_trouble(exc: BaseException) -> bool:
    """Whether ``exc`` is the Docker daemon failing to answer (a timeout, a dropped connection or
    an API error), rather than a bug of katatui's."""
    import docker.errors
    import requests.exceptions

    return isinstance(exc, (docker.errors.DockerException, requests.exceptions.RequestException))


def daemon_silent(exc: BaseException) -> bool:
    """Whether ``exc`` is the Docker daemon not answering at all (a timeout, a refused or dropped
    connection), as opposed to an answer that is an error (a 404 for a container already gone)."""
    import docker.errors

    return daemon_trouble(exc) and not isinstance(exc, docker.errors.APIError)


def daemon_message(target: str, exc: BaseException) -> str:
    text = str(exc)
    if "timed out" in text.lower():
        return (f"on {target}: the Docker daemon did not answer in time ({text}); it may be stuck on one "
                "container: check `docker ps` there, and restart dockerd if that hangs too")  # fmt: skip
    return f"on {target}: the Docker daemon failed ({exc.__class__.__name__}: {text})"


async def daemon_call(target: str, call: Awaitable[T]) -> T:
    """``call``'s result; the daemon failing to answer becomes a DaemonError that says so."""
    try:
        return await call
    except Exception as exc:
        if not daemon_trouble(exc):
            raise
        raise DaemonError(daemon_message(target, exc)) from exc


async def reach(
    transport: Transport, socket: str | None, target: str
) -> tuple[docker.DockerClient, dict[str, Any]]:
    """The target's Docker daemon and its facts (version, runtimes and their programs, storage
    and cgroup drivers)."""
    client = await transport.docker_client(socket)
    try:
        facts = await daemon_call(target, docker_facts(client))
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(client.close)
        raise
    return client, facts


async def docker_facts(client: docker.DockerClient) -> dict[str, Any]:
    info = await asyncio.to_thread(client.info)
    version = await asyncio.to_thread(client.version)
    return {
        "docker_version": version.get("Version"),
        "runtimes": sorted((info.get("Runtimes") or {}).keys()),
        "runtime_programs": {
            name: runtime_program(spec if isinstance(spec, dict) else {}, name)
            for name, spec in (info.get("Runtimes") or {}).items()
        },
        "default_runtime": info.get("DefaultRuntime"),
        "storage_driver": info.get("Driver"),
        "cgroup_version": info.get("CgroupVersion"),
        "cgroup_driver": info.get("CgroupDriver"),
        "kernel": info.get("KernelVersion"),
    }
