"""``containerd``: the workload runs in a container that ``ctr`` starts, under a shim runtime
(``io.containerd.runc.v2``, ``io.containerd.kata.v2``, ...), without Docker in between.

Every command goes through the target's transport (locally, or over the SSH connection) as an
argument list. Containers live in containerd's namespace ``katatui`` and carry katatui's labels
(session, run, owner); ``ctr run --rm`` removes a container when its task exits, ``release`` and
``close`` remove whatever is left (a killed ``ctr``), and ``remove_leftovers`` removes the ones a
katatui that is no longer running left behind. Output streams from ``ctr run``'s own stdout and
stderr, which it copies from the task as it runs; it forwards signals to the task, so an interrupt
reaches fio as it does under Docker. The benchmark image is imported into the namespace from a
Docker daemon that has it (``docker save`` -> ``ctr images import``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from katatui.core.errors import TargetError
from katatui.core.events import RunSpec
from katatui.core.launchers.base import Launcher, Mount, arm_host_kill
from katatui.core.launchers.docker import (
    CONTAINER_SCRATCH,
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_SESSION,
    VOLUME_PATH,
)
from katatui.core.profile import Limits, parse_size
from katatui.core.scratch import owner_alive, owner_tag
from katatui.core.transport.base import Process, Transport

if TYPE_CHECKING:
    import docker

NAMESPACE = "katatui"
DEFAULT_SOCKET = "/run/containerd/containerd.sock"
# Fixed text: the socket, then the container ids follow as positional parameters.
REMOVE = (
    "a=$1; shift; for c; do "
    'ctr --address "$a" --namespace katatui tasks kill --all --signal SIGKILL "$c" >/dev/null 2>&1; '
    'ctr --address "$a" --namespace katatui tasks delete --force "$c" >/dev/null 2>&1; '
    'ctr --address "$a" --namespace katatui containers delete "$c" >/dev/null 2>&1; '
    "done; true"
)
# Fixed text: where a runtime's shim is, if anywhere containerd would look (its PATH, its own dir).
FIND_SHIM = (
    's=$1; command -v "$s" && exit 0; d=$(dirname "$(command -v containerd 2>/dev/null || echo /x/x)"); '
    'for p in "$d/$s" /usr/local/bin/"$s" /usr/bin/"$s" /opt/kata/bin/"$s"; do '
    '[ -x "$p" ] && echo "$p" && exit 0; done; exit 1'
)


def image_ref(name: str) -> str:
    """The fully qualified reference containerd uses for a Docker-style image name."""
    first, sep, _rest = name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost"):
        name = "docker.io/" + (name if sep else "library/" + name)
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        name += ":latest"
    return name


def shim_binary(runtime: str) -> str | None:
    """``io.containerd.kata.v2`` -> ``containerd-shim-kata-v2`` (None for a path or another form)."""
    parts = runtime.split(".")
    if len(parts) == 4 and parts[0] == "io" and parts[1] == "containerd" and parts[3].startswith("v"):
        return f"containerd-shim-{parts[2]}-{parts[3]}"
    return None


class Ctr:
    """``ctr`` against one containerd socket, in katatui's namespace, on one target."""

    def __init__(self, transport: Transport, socket: str | None) -> None:
        self.transport = transport
        self.socket = socket or DEFAULT_SOCKET

    def argv(self, *args: str) -> list[str]:
        return ["ctr", "--address", self.socket, "--namespace", NAMESPACE, *args]

    async def check(self) -> str:
        """containerd's version; a clear error when ctr is missing or the socket does not answer."""
        done = await self.transport.run(self.argv("version"), timeout=30)
        if not done.ok:
            said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no error output"]
            raise TargetError(
                f"on {self.transport.name}: containerd does not answer at {self.socket} ({said[0]}); is it "
                "running, is containerd_socket right for that target, and may this user use the socket?"
            )
        for line in done.text().splitlines()[::-1]:
            if line.strip().startswith("Version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    async def has_image(self, ref: str) -> bool:
        done = await self.transport.run(self.argv("images", "ls", "-q", f"name=={ref}"), timeout=60)
        return done.ok and ref in done.text().split()

    async def import_image(self, data: bytes) -> None:
        done = await self.transport.run(self.argv("images", "import", "-"), input=data, timeout=900)
        if not done.ok:
            said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no error output"]
            raise TargetError(f"on {self.transport.name}: ctr images import failed: {said[0]}")

    async def containers(self) -> list[str]:
        done = await self.transport.run(self.argv("containers", "ls", "-q"), timeout=60)
        return done.text().split() if done.ok else []

    async def labels(self, cid: str) -> dict[str, str]:
        done = await self.transport.run(self.argv("containers", "info", cid), timeout=60)
        if not done.ok:
            return {}
        try:
            return dict(json.loads(done.stdout).get("Labels") or {})
        except ValueError:
            return {}

    async def remove(self, ids: Sequence[str]) -> None:
        if ids:
            await self.transport.run(["sh", "-c", REMOVE, "sh", self.socket, *ids], timeout=120)

    async def find_shim(self, runtime: str) -> str | None:
        binary = shim_binary(runtime)
        if binary is None:
            return runtime  # a path or a name containerd resolves itself: let ctr say if it is wrong
        done = await self.transport.run(["sh", "-c", FIND_SHIM, "sh", binary], timeout=30)
        return done.text().strip() or None if done.ok else None


class ContainerdLauncher(Launcher):
    name = "containerd"

    def __init__(
        self,
        transport: Transport,
        *,
        runtime: str,
        image: str,
        session_id: str,
        limits: Limits,
        socket: str | None = None,
        runc_binary: str | None = None,
    ) -> None:
        super().__init__(transport)
        self.ctr = Ctr(transport, socket)
        self.runtime = runtime
        self.runc_binary = runc_binary  # the OCI runtime the runc shim runs instead of runc
        self.image = image_ref(image)
        self.session_id = session_id
        self.limits = limits
        self._owner = owner_tag()
        self._started: set[tuple[str, int]] = set()
        self._by_proc: dict[int, tuple[RunSpec, int]] = {}  # id(process) -> its run and client

    def needs_host_scratch(self, mode: str) -> bool:
        return mode == "volume"

    def scratch_path(self, host_path: str | None) -> str:
        return VOLUME_PATH if host_path is not None else CONTAINER_SCRATCH

    def container_id(self, run: RunSpec, client: int) -> str:
        return f"katatui-{self.session_id}-{run.run_id}-{client}"

    def describe(self, run: RunSpec, argv: Sequence[str], mount: Mount | None) -> list[str]:
        return self._argv(run, 0, argv, mount)

    def _argv(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> list[str]:
        cmd = self.ctr.argv("run", "--rm", "--runtime", self.runtime, "--net-host")
        if self.runc_binary:
            cmd += ["--runc-binary", self.runc_binary]
        for key, value in (
            (LABEL_SESSION, self.session_id),
            (LABEL_RUN, run.run_id),
            (LABEL_OWNER, self._owner),
        ):
            cmd += ["--label", f"{key}={value}"]
        if self.limits.cpus:
            cmd += ["--cpus", str(self.limits.cpus)]
        if self.limits.memory:
            cmd += ["--memory-limit", str(parse_size(self.limits.memory))]
        if mount:
            if any(c in mount.host_path + mount.inner_path for c in ",="):
                raise TargetError(
                    f"the scratch path {mount.host_path} has ',' or '=', which ctr --mount cannot take"
                )
            cmd += ["--mount", f"type=bind,src={mount.host_path},dst={mount.inner_path},options=rbind:rw"]
        else:
            cmd += ["--cwd", CONTAINER_SCRATCH]  # the runtime creates it in the container's own layer
        # "--": the image and what follows are never read as ctr's options, whatever they hold.
        return [*cmd, "--", self.image, self.container_id(run, client), *argv]

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> Process:
        cmd = self._argv(run, client, argv, mount)
        self._started.add((run.run_id, client))
        proc = await self.transport.start(cmd)
        self._by_proc[id(proc)] = (run, client)
        return proc

    async def start_many(
        self, run: RunSpec, clients: Sequence[tuple[int, Sequence[str], Mount | None]]
    ) -> list[Process]:
        """Every client's ``ctr run`` through one SSH channel (see katatui.core.transport.batch)."""
        from katatui.core.transport.batch import start_many

        cmds = [self._argv(run, client, argv, mount) for client, argv, mount in clients]
        self._started.update((run.run_id, client) for client, _, _ in clients)
        procs = await start_many(self.transport, cmds)
        for proc, (client, _, _) in zip(procs, clients, strict=True):
            self._by_proc[id(proc)] = (run, client)
        return procs

    async def arm_signal(self, procs: Sequence[Process], name: str) -> Callable[[], Awaitable[None]]:
        """``ctr run`` forwards signals to its task only once it has set that up, which can be
        after the task printed its first line: a barrier signals the task itself. From the host
        where the task's first process is ours (runc and its kind); else ``ctr tasks kill``."""
        ids = [self.container_id(run, c) for run, c in self._barrier_ids(procs)]
        done = await self.transport.run(self.ctr.argv("tasks", "ls"), timeout=30)
        pids = []
        for line in done.text().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ids and parts[1].isdigit():
                pids.append(int(parts[1]))
        fire = await arm_host_kill(self.transport, pids, len(ids), name)
        if fire is not None:
            return fire
        script = (
            "a=$1; s=$2; shift 2; for c; do"
            ' ctr --address "$a" --namespace katatui tasks kill --signal "SIG$s" "$c" & done; wait'
        )

        async def through_ctr() -> None:
            await self.transport.run(["sh", "-c", script, "sh", self.ctr.socket, name, *ids], timeout=60)

        return through_ctr

    def _barrier_ids(self, procs: Sequence[Process]) -> list[tuple[RunSpec, int]]:
        return [self._by_proc[id(p)] for p in procs if id(p) in self._by_proc]

    async def release(self, run: RunSpec, client: int) -> None:
        await self.release_many(run, [client])

    async def release_many(self, run: RunSpec, clients: Sequence[int]) -> None:
        """One ``ctr`` command removes every one of them (a command per client over SSH would
        open as many sessions at once)."""
        wanted = set(clients)
        for key, (held_run, client) in list(self._by_proc.items()):
            if held_run == run and client in wanted:
                del self._by_proc[key]
        ids = []
        for client in clients:
            if (run.run_id, client) in self._started:
                self._started.discard((run.run_id, client))
                ids.append(self.container_id(run, client))
        await self.ctr.remove(ids)

    async def close(self) -> None:
        ids = [f"katatui-{self.session_id}-{r}-{c}" for r, c in self._started]
        self._started.clear()
        with contextlib.suppress(Exception):
            await self.ctr.remove(ids)


async def remove_leftovers(ctr: Ctr, *, everything: bool = False, session_id: str | None = None) -> list[str]:
    """Remove katatui's containers in containerd whose katatui is no longer running (or all of them,
    or those of one session)."""
    gone = []
    for cid in await ctr.containers():
        labels = await ctr.labels(cid)
        if LABEL_SESSION not in labels:
            continue
        owner = labels.get(LABEL_OWNER, "")
        if session_id is not None:
            hit = labels[LABEL_SESSION] == session_id
        else:
            hit = everything or not owner or not owner_alive(owner)
        if hit:
            gone.append(cid)
    await ctr.remove(gone)
    return gone


async def ensure_image(
    ctr: Ctr,
    image: str,
    sources: Sequence[docker.DockerClient],
    log: Callable[[str], None],
) -> str:
    """Make sure containerd's katatui namespace has ``image``: present, or imported from the first
    Docker daemon in ``sources`` that has it."""
    from katatui.core.image import image_present

    ref = image_ref(image)
    if await ctr.has_image(ref):
        return "present"
    for client in sources:
        with contextlib.suppress(TargetError):
            if not await image_present(client, image):
                continue

            def save(client: Any = client) -> bytes:
                return b"".join(client.images.get(image).save(named=True))

            log(f"importing {image} into containerd (namespace {NAMESPACE}) on {ctr.transport.name}")
            try:
                data = await asyncio.to_thread(save)
            except Exception as exc:
                raise TargetError(f"docker save {image} failed: {exc}") from exc
            await ctr.import_image(data)
            if not await ctr.has_image(ref):
                raise TargetError(
                    f"on {ctr.transport.name}: containerd does not list {ref} after importing {image}"
                )
            return "imported from Docker"
    raise TargetError(
        f"image {image} is neither in containerd's namespace {NAMESPACE} on {ctr.transport.name} nor in a "
        f"Docker daemon katatui can reach; import it there: docker save {image} | ctr -n {NAMESPACE} images "
        "import -  (or build it first with `katatui image build --from-host`)"
    )
