"""The guest identity probe run through a launcher: the script of ``core.identity`` in the
smallest container of a scenario, and the roles of its host processes while it is up."""

from __future__ import annotations

from typing import Any

from katatui.core.errors import KatatuiError
from katatui.core.events import RunSpec
from katatui.core.identity import HOLD, PROBE, READY, parse_probe
from katatui.core.launchers.base import Launcher, Mount
from katatui.core.proctree import PS, parse_ps, sandbox_of


async def probe_guest(launcher: Launcher, scenario: str, index: int) -> dict[str, Any]:
    """Start the smallest container under the scenario's runtime and read what it sees; while
    it is up, the roles of its host processes (``host_roles``: shim, sentry, gofer, hypervisor...)."""
    runtime = getattr(launcher, "runtime", None)
    spec = RunSpec(f"guest{index}", -1, "guest-identity", scenario, launcher.name, runtime,
                   launcher.transport.name, "guest", "guest", {}, 1, 0)  # fmt: skip
    proc = await launcher.start(spec, 0, ["sh", "-c", PROBE + HOLD], None)
    out = bytearray()
    roles: list[str] = []
    try:
        while (chunk := await proc.read()) is not None:
            if chunk[0] == "stdout":
                out += chunk[1]
                if READY.encode() in out:
                    roles = await host_roles(launcher, spec)
                    break
    finally:
        await launcher.release(spec, 0)
    facts = parse_probe(out.decode(errors="replace").split(READY)[0])
    if roles:
        facts["host_roles"] = roles
    return facts


async def host_roles(launcher: Launcher, spec: RunSpec) -> list[str]:
    """The roles of a live container's host processes (empty where they cannot be seen)."""
    try:
        roots = await launcher.sandbox_roots(spec)
        if not roots:
            return []
        procs = parse_ps((await launcher.transport.run(PS, timeout=30)).text())
    except KatatuiError:
        return []
    found = {p.role for pid, sandbox_id in roots for p in sandbox_of(procs, pid, sandbox_id)}
    return sorted(found)


async def output_of(launcher: Launcher, spec: RunSpec, argv: list[str], mount: Mount | None) -> str:
    """Run ``argv`` once in the scenario (client 0 of ``spec``) and return what it printed on
    stdout; whatever it started is released."""
    proc = await launcher.start(spec, 0, argv, mount)
    out = bytearray()
    try:
        while (chunk := await proc.read()) is not None:
            if chunk[0] == "stdout":
                out += chunk[1]
        await proc.wait()
    finally:
        await launcher.release(spec, 0)
    return out.decode(errors="replace")
