"""Guest identity: what a workload sees from inside each container scenario, recorded at the start.

The kernel release inside next to the host's, the type of ``/`` (overlay for runc; 9p
``kataShared`` or virtiofs for Kata), and the CPUs and memory visible inside. A scenario whose
runtime says it is a VM but whose guest kernel equals the host's did not get a VM: seed 001
learned that "Kata startup will fail silently", so katatui says it loudly.

The probe's script and how its output is read; ``launchers.identity`` runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from katatui.core import guest, isolation

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
