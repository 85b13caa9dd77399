"""Guest identity: what a workload sees from inside each container scenario, recorded at the start.

The kernel release inside next to the host's, the type of ``/`` (overlay for runc; 9p
``kataShared`` or virtiofs for Kata), and the CPUs and memory visible inside. A scenario whose
runtime says it is a VM but whose guest kernel equals the host's did not get a VM: seed 001
learned that "Kata startup will fail silently", so katatui says it loudly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from katatui.core import guest, isolation
from katatui.core.errors import KatatuiError
from katatui.core.events import RunSpec
from katatui.core.launchers.base import Launcher, Mount

# A fixed script: it takes no values from a profile.
PROBE = r"""
echo "kernel=$(uname -r)"
echo "nproc=$(nproc 2>/dev/null)"
sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/mem_total_kb=\1/p' /proc/meminfo
echo "---dmesg"
dmesg 2>/dev/null | head -n 3
echo "---mounts"
cat /proc/mounts
"""


def parse_probe(text: str) -> dict[str, Any]:
    head, _, mounts = text.partition("---mounts\n")
    head, _, dmesg = head.partition("---dmesg\n")
    facts: dict[str, Any] = {"dmesg": dmesg} if dmesg.strip() else {}
    for line in head.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key] = int(value) if value.isdigit() else value
    parsed = guest.parse_mounts(mounts)
    facts["mounts"] = mounts
    facts["root_fs"] = guest.root_fs_kind(parsed)
    facts["root_mount"] = next(
        ({"source": m.source, "fstype": m.fstype} for m in reversed(parsed) if m.target == "/"), None
    )
    return facts


READY = "katatui-identity-ready"
# The sandbox stays up (at most 30 s) while its host processes are listed; then it is removed.
HOLD = f'echo "{READY}"\nexec sleep 30\n'


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
    from katatui.core.workloads.footprint.procedure import PS, parse_ps, sandbox_of

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


def seen(
    launcher: str,
    runtime: str | None,
    host_kernel: str | None,
    facts: Mapping[str, Any],
    *,
    program: str | None = None,
    program_version: str | None = None,
    host_roles: Iterable[str] = (),
) -> isolation.Seen:
    """What the probe (``facts``) and the host showed of one scenario, for ``isolation.identify``."""
    return isolation.Seen(
        launcher=launcher,
        runtime=runtime,
        program=program,
        program_version=program_version,
        host_kernel=host_kernel,
        guest_kernel=str(facts["kernel"]) if facts.get("kernel") else None,
        mounts=str(facts.get("mounts") or ""),
        dmesg=str(facts.get("dmesg") or ""),
        host_roles=tuple(host_roles),
    )


def verdict(
    runtime: str | None, host_kernel: str | None, facts: dict[str, Any], *, program: str | None = None
) -> str | None:
    """A loud warning when what the container showed contradicts what its runtime promises."""
    if runtime is None or not host_kernel or "kernel" not in facts:
        return None
    return isolation.identify(seen("docker", runtime, host_kernel, facts, program=program)).warning
