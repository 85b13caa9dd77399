"""Preparing every scenario's launcher for the engine (bare, Docker, containerd, Kubernetes): reach
the daemon or cluster once per target (or cluster), remove what a crashed katatui left there, make
sure the image and the runtime exist, and record the facts worth keeping next to the results.
Nothing above the launchers touches a daemon's own code: its failures arrive as KatatuiErrors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from katatui.core.errors import KatatuiError, TargetError, UserError
from katatui.core.launchers import docker as docker_launcher
from katatui.core.launchers.bare import BareLauncher
from katatui.core.launchers.base import Launcher
from katatui.core.launchers.containerd import (
    ContainerdLauncher,
    Ctr,
    ensure_image,
    remove_leftovers,
    shim_binary,
)
from katatui.core.profile import Profile, TargetConfig
from katatui.core.transport.base import Transport

if TYPE_CHECKING:
    import docker

    from katatui.core.launchers.kubernetes import KubeCluster
    from katatui.core.plan import ResolvedScenario

Log = Callable[[str, str], None]  # (level, text)


class Host(Protocol):
    """What preparing a launcher needs of a reached target (``core.hosts.Host``)."""

    name: str
    config: TargetConfig
    transport: Transport
    docker: docker.DockerClient | None
    docker_error: str | None
    facts: dict[str, Any]


def scratch_mode(profile: Profile) -> str:
    """Where container scenarios keep their scratch directory: the workloads' common ``scratch``
    setting, or a host volume when they differ."""
    modes = {getattr(w, "scratch", "volume") for w in profile.workloads}
    return modes.pop() if len(modes) == 1 else "volume"


Facts = Callable[[str, str, dict[str, Any]], None]  # (scenario, target, facts)


class LauncherSetup:
    def __init__(
        self,
        profile: Profile,
        session_id: str,
        *,
        log: Log,
        facts: Facts,
        local_docker: docker.DockerClient | None = None,
    ) -> None:
        self.profile = profile
        self.session_id = session_id
        self.log = log
        self.facts = facts
        self.local_docker = local_docker
        self._ctr: dict[str, tuple[Ctr, str] | KatatuiError] = {}
        self._images: dict[tuple[str, str], str | KatatuiError] = {}
        self._cluster: KubeCluster | KatatuiError | None = None
        self._runtime_classes: dict[str, Any] = {}
        self._own_docker: list[docker.DockerClient] = []
        self._dockers: list[docker.DockerClient] = []  # targets' daemons this session runs on
        self._probes = 0

    async def docker_ready(self, host: Host) -> None:
        """Remove the containers a katatui that stopped without cleaning up left on the target's
        Docker daemon; at the end, :meth:`close` removes this session's."""
        assert host.docker is not None
        self._dockers.append(host.docker)
        removed = await docker_launcher.daemon_call(host.name, docker_launcher.remove_leftovers(host.docker))
        if removed:
            self.log("warning", f"target {host.name}: removed containers left by a katatui that "
                     f"stopped without cleaning up: {', '.join(removed)}")  # fmt: skip

    async def prepare(self, sc: ResolvedScenario, host: Host) -> Launcher:
        """The scenario's launcher on that target; raises a KatatuiError saying why it cannot run.

        A Docker or bare scenario's identity is the engine's to record (with its fairness
        probe); containerd's and Kubernetes' are recorded here."""
        target, transport, config, target_docker = host.name, host.transport, host.config, host.docker
        host_kernel = host.facts.get("kernel")
        if sc.launcher == "bare":
            return BareLauncher(transport)
        assert sc.runtime is not None
        if sc.launcher == "docker":
            return await self._docker(sc, host)
        if sc.launcher == "containerd":
            launcher, facts = await self._containerd(sc, target, transport, config, target_docker)
        elif sc.launcher == "kubernetes":
            launcher, facts = await self._kubernetes(sc, target, transport)
            host_kernel = None  # the pod's node is not the target: no kernel to compare with
        else:
            raise UserError(f"unknown launcher {sc.launcher!r}")
        await self._identify(sc, target, launcher, facts, host_kernel)
        self.facts(sc.name, target, facts)
        return launcher

    async def _identify(
        self,
        sc: ResolvedScenario,
        target: str,
        launcher: Launcher,
        facts: dict[str, Any],
        host_kernel: str | None,
    ) -> None:
        """What isolates the scenario, from what its sandbox shows inside (kernel, /, kernel log,
        CPUs, memory) and on the host, as for Docker."""
        from katatui.core import isolation
        from katatui.core.identity import seen
        from katatui.core.launchers.identity import probe_guest

        self._probes += 1
        try:
            guest = await probe_guest(launcher, sc.name, self._probes)
        except KatatuiError as exc:
            self.log("warning", f"scenario {sc.name} on {target}: could not read its guest identity: {exc}")
            return
        facts.update(guest)
        program = facts.get("runc_binary") or facts.get("shim")
        # With a runc_binary, the runtime's name names the runc shim, not what runs under it.
        promise = str(facts["runc_binary"]) if facts.get("runc_binary") else sc.runtime
        found = isolation.identify(
            seen(sc.launcher, promise, host_kernel, guest, program=str(program) if program else None,
                 host_roles=guest.get("host_roles", ()))
        )  # fmt: skip
        facts.update(found.facts())
        if host_kernel:
            facts["host_kernel"] = host_kernel
        if found.warning:
            facts["isolation_warning"] = found.warning
            self.log("error", f"scenario {sc.name} on {target}: {found.warning}")
        mib = int(guest.get("mem_total_kb", 0)) // 1024
        self.log("info", f"{sc.name} on {target}: {found.label}: kernel {guest.get('kernel')}, "
                 f"/ is {guest.get('root_fs')}, {guest.get('nproc')} CPUs, {mib} MiB")  # fmt: skip

    # -- Docker ---------------------------------------------------------------------------------
    async def _docker(self, sc: ResolvedScenario, host: Host) -> Launcher:
        assert sc.runtime is not None
        if host.docker is None:
            raise TargetError(host.docker_error or f"Docker is not reachable on {host.name}")
        runtimes = host.facts.get("docker", {}).get("runtimes", [])
        if sc.runtime not in runtimes:
            raise TargetError(
                f"Docker on {host.name} has no runtime {sc.runtime!r} (it has: {', '.join(runtimes)}); "
                "register it in /etc/docker/daemon.json or remove the scenario"
            )
        from katatui.core.image import IMAGE_TAG, image_present
        from katatui.core.image import ensure_image as ensure_docker_image

        if sc.image != IMAGE_TAG:  # the user's own image: use it as it is, never build or replace it
            if not await image_present(host.docker, sc.image):
                raise TargetError(
                    f"image {sc.image} is not on {host.name}; load it there (docker load / docker pull), "
                    f"or leave 'image' unset to use katatui's own {IMAGE_TAG}"
                )
        else:
            did = await ensure_docker_image(
                host.transport, host.docker, sc.image, local_client=self.local_docker,
                log=lambda m: self.log("info", f"{host.name}: {m}"),
            )  # fmt: skip
            if did != "present":
                self.log("info", f"target {host.name}: image {sc.image}: {did}")
        return docker_launcher.DockerLauncher(
            host.transport, host.docker, runtime=sc.runtime, image=sc.image, session_id=self.session_id,
            limits=sc.limits or self.profile.limits, scratch_mode=scratch_mode(self.profile),
        )  # fmt: skip

    # -- containerd -----------------------------------------------------------------------------
    async def _ctr_for(self, target: str, transport: Transport, config: TargetConfig) -> tuple[Ctr, str]:
        if target not in self._ctr:
            ctr = Ctr(transport, config.containerd_socket)
            try:
                version = await ctr.check()
                removed = await remove_leftovers(ctr)
                if removed:
                    self.log(
                        "warning",
                        f"target {target}: removed containerd containers left by a katatui "
                        f"that stopped without cleaning up: {', '.join(removed)}",
                    )
                self._ctr[target] = (ctr, version)
            except KatatuiError as exc:
                self._ctr[target] = exc
        got = self._ctr[target]
        if isinstance(got, KatatuiError):
            raise got
        return got

    async def _containerd(
        self,
        sc: ResolvedScenario,
        target: str,
        transport: Transport,
        config: TargetConfig,
        target_docker: docker.DockerClient | None,
    ) -> tuple[Launcher, dict[str, Any]]:
        assert sc.runtime is not None
        ctr, version = await self._ctr_for(target, transport, config)
        shim = await ctr.find_shim(sc.runtime)
        if shim is None:
            raise TargetError(
                f"containerd on {target} has no shim for runtime {sc.runtime!r} (looked for "
                f"{shim_binary(sc.runtime)} on PATH, next to containerd and in /opt/kata/bin); "
                "install it (Kata Containers provides containerd-shim-kata-v2) or fix the scenario's runtime"
            )
        key = (target, sc.image)
        if key not in self._images:
            try:
                self._images[key] = await ensure_image(
                    ctr,
                    sc.image,
                    await self._image_sources(transport, config, target_docker),
                    lambda m: self.log("info", m),
                )
            except KatatuiError as exc:
                self._images[key] = exc
        did = self._images[key]
        if isinstance(did, KatatuiError):
            raise did
        if did != "present":
            self.log("info", f"target {target}: image {sc.image}: {did}")
        facts: dict[str, Any] = {"launcher": "containerd", "containerd_version": version,
                                 "containerd_socket": ctr.socket, "runtime": sc.runtime, "shim": shim,
                                 "namespace": "katatui"}  # fmt: skip
        launcher = ContainerdLauncher(
            transport, runtime=sc.runtime, image=sc.image, session_id=self.session_id,
            limits=sc.limits or self.profile.limits, socket=config.containerd_socket,
            runc_binary=sc.runc_binary,
        )  # fmt: skip
        if sc.runc_binary:
            facts["runc_binary"] = sc.runc_binary
        return launcher, facts

    async def _image_sources(
        self, transport: Transport, config: TargetConfig, target_docker: docker.DockerClient | None
    ) -> list[docker.DockerClient]:
        """Docker daemons the image may come from: the target's, then the local one."""
        sources = []
        if target_docker is not None:
            sources.append(target_docker)
        else:
            with contextlib.suppress(KatatuiError):
                client = await transport.docker_client(config.docker_socket)
                self._own_docker.append(client)
                sources.append(client)
        if self.local_docker is not None:
            sources.append(self.local_docker)
        elif not transport.is_local:
            from katatui.core.transport.local import LocalTransport

            with contextlib.suppress(KatatuiError):
                client = await LocalTransport().docker_client(None)
                self._own_docker.append(client)
                sources.append(client)
        return sources

    # -- Kubernetes -----------------------------------------------------------------------------
    async def _cluster_ready(self) -> KubeCluster:
        from katatui.core.launchers.kubernetes import KubeCluster

        if self._cluster is None:
            try:
                cluster = await KubeCluster.connect(self.profile.kubernetes)
                try:
                    removed = await cluster.prepare_namespace()
                    self._runtime_classes = await cluster.runtime_classes()
                except KatatuiError:
                    cluster.close()
                    raise
                if removed:
                    self.log(
                        "warning",
                        f"Kubernetes namespace {cluster.namespace}: removed what a katatui that "
                        f"stopped without cleaning up left: {', '.join(removed)}",
                    )
                self._cluster = cluster
            except KatatuiError as exc:
                self._cluster = exc
        if isinstance(self._cluster, KatatuiError):
            raise self._cluster
        return self._cluster

    async def _kubernetes(
        self, sc: ResolvedScenario, target: str, transport: Transport
    ) -> tuple[Launcher, dict[str, Any]]:
        from katatui.core.launchers.kubernetes import KubernetesLauncher

        assert sc.runtime is not None
        cluster = await self._cluster_ready()
        rc = self._runtime_classes.get(sc.runtime)
        if rc is None:
            have = ", ".join(f"{r.name} (handler {r.handler})" for r in self._runtime_classes.values())
            raise UserError(
                f"the cluster (context {cluster.context}) has no RuntimeClass {sc.runtime!r} "
                f"(it has: {have or 'none'}); create it, or set the scenario's runtime to one of those"
            )
        cfg = self.profile.kubernetes
        facts: dict[str, Any] = {
            "launcher": "kubernetes",
            "context": cluster.context,
            "server": cluster.server,
            "namespace": cluster.namespace,
            "runtime_class": rc.name,
            "handler": rc.handler,
            "pod_overhead": rc.overhead,
            "node_selector": dict(cfg.node_selector),
        }
        if rc.overhead:
            said = ", ".join(f"{k} {v}" for k, v in rc.overhead.items())
            self.log(
                "info", f"{sc.name}: RuntimeClass {rc.name} (handler {rc.handler}) adds pod overhead {said}"
            )
        launcher = KubernetesLauncher(
            transport, cluster, runtime_class=rc.name, image=sc.image, session_id=self.session_id,
            limits=sc.limits or self.profile.limits, scratch_mode=scratch_mode(self.profile),
        )  # fmt: skip
        return launcher, facts

    async def close(self) -> None:
        """Remove what this session still has in Docker, containerd and Kubernetes; close the
        clients this setup opened (the targets' own Docker clients are their hosts' to close)."""
        for client in self._dockers:
            with contextlib.suppress(Exception):
                await docker_launcher.remove_session(client, self.session_id)
        for got in self._ctr.values():
            if not isinstance(got, KatatuiError):
                with contextlib.suppress(Exception):
                    await remove_leftovers(got[0], session_id=self.session_id)
        cluster = self._cluster
        if cluster is not None and not isinstance(cluster, KatatuiError):
            with contextlib.suppress(Exception):
                await cluster.remove_session(self.session_id)
            cluster.close()
        for client in self._own_docker:
            with contextlib.suppress(Exception):
                client.close()
