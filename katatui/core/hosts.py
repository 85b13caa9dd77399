"""One way to reach a host: the transport a target's address names (this machine, or SSH), one
probe of a target (its facts, the workload programs it has, its Docker daemon's runtimes and
facts), how katatui words a program the host lacks, and which targets a profile's Docker
scenarios need and how their scratch directories are made.

The engine, ``katatui doctor`` and the start screen's probe all reach targets through here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from katatui.core.address import parse_address
from katatui.core.errors import KatatuiError
from katatui.core.profile import Profile, TargetConfig
from katatui.core.transport.base import Transport
from katatui.core.transport.local import LocalTransport

if TYPE_CHECKING:
    import docker

T = TypeVar("T")
# What a probe reports as the target's trouble rather than raising: katatui's own errors, and a
# socket or a deadline that gave out.
PROBE_ERRORS = (KatatuiError, OSError, TimeoutError)


def make_transport(name: str, cfg: TargetConfig, log: Callable[[str], None]) -> Transport:
    if parse_address(cfg.host).kind == "local":
        return LocalTransport(name)
    from katatui.core.transport.ssh import SSHTransport

    return SSHTransport(name, cfg.host, trust_new_host_key=cfg.trust_new_host_key, log=log)


def uses_docker(profile: Profile, target: str) -> bool:
    """Whether one of the profile's Docker scenarios runs on ``target``."""
    return any(
        sc.launcher == "docker" and (sc.targets is None or target in sc.targets) for sc in profile.scenarios
    )


def not_installed(tools: Iterable[str], host: str) -> str:
    """``fio, iperf3 not installed on HOST``."""
    return f"{', '.join(tools)} not installed on {host}"


def debian_packages(tools: Iterable[str]) -> str:
    """The Debian packages that bring ``tools``, space-separated and sorted: for ``apt-get install``."""
    from katatui.core.workloads import registry

    packages = registry.host_tools()  # the Debian package of each program, as the workloads say
    return " ".join(sorted({packages.get(t, t) for t in tools}))


def install_hint(tools: Iterable[str]) -> str:
    """``install it (Debian: apt-get install PACKAGES)``."""
    return f"install it (Debian: apt-get install {debian_packages(tools)})"


def missing_tools(needed: Iterable[str], have: Mapping[str, Any], host: str) -> str | None:
    """Why ``host`` cannot run what needs ``needed`` (the programs it lacks, and how to get
    them); None when it has them all."""
    missing = sorted(t for t in needed if t not in have)
    if not missing:
        return None
    return f"{not_installed(missing, host)}; {install_hint(missing)}"


@dataclass
class Host:
    """A target as one probe found it: its transport (connected unless ``error`` says why not),
    its facts (kernel, CPUs, memory, programs; Docker's under ``"docker"``) and, when asked for,
    its Docker daemon."""

    name: str
    config: TargetConfig
    transport: Transport
    error: str | None = None
    connected: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    docker: docker.DockerClient | None = None
    docker_error: str | None = None

    @property
    def address(self) -> str:
        return self.transport.address

    @property
    def runtimes(self) -> tuple[str, ...] | None:
        """The runtimes Docker reports; None when it was not asked or did not answer."""
        if self.docker is None:
            return None
        return tuple((self.facts.get("docker") or {}).get("runtimes") or ())

    @classmethod
    def of(cls, name: str, cfg: TargetConfig, log: Callable[[str], None] = lambda _m: None) -> Host:
        """The target, not reached yet: its transport, made from its address."""
        return cls(name, cfg, make_transport(name, cfg, log))

    async def probe(self, *, docker: bool, timeout: float | None = None) -> Host:
        """Reach the target and read what it is: connect, probe its facts and (with ``docker``)
        reach its Docker daemon for its runtimes and facts. Trouble is not raised but recorded:
        ``error`` (unreachable, or the probe failed) or ``docker_error``. Each step waits at most
        ``timeout`` seconds. The caller closes the host."""
        from katatui.core import hostfacts

        def bounded(step: Awaitable[T]) -> Awaitable[T]:
            if timeout is None:
                return step
            from katatui.core.aio import within

            return within(step, timeout)

        try:
            await bounded(self.transport.connect())
            self.connected = True
            self.facts = await bounded(hostfacts.probe(self.transport))
        except PROBE_ERRORS as exc:
            self.error = str(exc) or type(exc).__name__
            return self
        if docker:
            from katatui.core.launchers.docker import reach

            try:
                self.docker, self.facts["docker"] = await bounded(
                    reach(self.transport, self.config.docker_socket, self.name)
                )
            except PROBE_ERRORS as exc:
                self.docker_error = str(exc) or type(exc).__name__
        return self

    async def close(self) -> None:
        """Close the Docker client and the transport."""
        if self.docker is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.docker.close)
            self.docker = None
        with contextlib.suppress(Exception):
            await self.transport.close()


async def probe(
    name: str,
    cfg: TargetConfig,
    *,
    docker: bool,
    log: Callable[[str], None] = lambda _m: None,
    timeout: float | None = None,
) -> Host:
    """One target reached and probed (see :meth:`Host.probe`)."""
    return await Host.of(name, cfg, log).probe(docker=docker, timeout=timeout)
