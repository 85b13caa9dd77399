"""Guest identity: what a workload sees from inside each container scenario, recorded at the start.

The kernel release inside next to the host's, the type of ``/`` (overlay for runc; 9p
``kataShared`` or virtiofs for Kata), and the CPUs and memory visible inside. A scenario whose
runtime says it is a VM but whose guest kernel equals the host's did not get a VM: seed 001
learned that "Kata startup will fail silently", so katatui says it loudly.
"""

from __future__ import annotations

from typing import Any

from katatui.core import guest
from katatui.core.events import RunSpec
from katatui.core.launchers.base import Launcher, Mount

# A fixed script: it takes no values from a profile.
PROBE = r"""
echo "kernel=$(uname -r)"
echo "nproc=$(nproc 2>/dev/null)"
sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/mem_total_kb=\1/p' /proc/meminfo
echo "---mounts"
cat /proc/mounts
"""


def parse_probe(text: str) -> dict[str, Any]:
    head, _, mounts = text.partition("---mounts\n")
    facts: dict[str, Any] = {}
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


async def probe_guest(launcher: Launcher, scenario: str, index: int) -> dict[str, Any]:
    """Start the smallest container under the scenario's runtime and read what it sees."""
    runtime = getattr(launcher, "runtime", None)
    spec = RunSpec(f"guest{index}", -1, "guest-identity", scenario, launcher.name, runtime,
                   launcher.transport.name, "guest", "guest", {}, 1, 0)  # fmt: skip
    return parse_probe(await output_of(launcher, spec, ["sh", "-c", PROBE], None))


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


def verdict(runtime: str | None, host_kernel: str | None, facts: dict[str, Any]) -> str | None:
    if runtime is None or not host_kernel or "kernel" not in facts:
        return None
    mounts = guest.parse_mounts(str(facts.get("mounts", "")))
    return guest.isolation_verdict(runtime, host_kernel, str(facts["kernel"]), guest_mounts=mounts or None)
