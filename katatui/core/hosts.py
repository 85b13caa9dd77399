"""One way to reach a host: the transport a target's address names (this machine, or SSH), and
how katatui words a program the host lacks.

The engine, ``katatui doctor`` and the start screen's probe all reach targets through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from katatui.core.address import parse_address
from katatui.core.profile import TargetConfig
from katatui.core.transport.base import Transport
from katatui.core.transport.local import LocalTransport


def make_transport(name: str, cfg: TargetConfig, log: Callable[[str], None]) -> Transport:
    if parse_address(cfg.host).kind == "local":
        return LocalTransport(name)
    from katatui.core.transport.ssh import SSHTransport

    return SSHTransport(name, cfg.host, trust_new_host_key=cfg.trust_new_host_key, log=log)


def not_installed(tools: Iterable[str], host: str) -> str:
    """``fio, iperf3 not installed on HOST``."""
    return f"{', '.join(tools)} not installed on {host}"


def debian_packages(tools: Iterable[str]) -> str:
    """The Debian packages that bring ``tools``, space-separated and sorted: for ``apt-get install``."""
    from katatui.core.workloads import registry

    packages = registry.host_tools()  # the Debian package of each program, as the workloads say
    return " ".join(sorted({packages.get(t, t) for t in tools}))
