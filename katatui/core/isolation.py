"""What isolates a scenario's workload, identified by evidence rather than by the runtime's name.

A runtime is a name handed to Docker, containerd or a RuntimeClass; the name can say nothing
(``sandbox``, ``secure``) or say something false (a ``kata`` runtime that silently fell back to
runc). So each scenario is identified from what can be seen:

- the program behind the runtime in the daemon's configuration (``/usr/bin/runsc``) and its version;
- the kernel the workload sees against the host's (``uname -r``: gVisor reports 4.4.0, a VM its
  guest kernel, runc and crun the host's own);
- how its ``/`` is provided (overlay for runc and crun; 9p over a file descriptor from gVisor's
  gofer; ``kataShared`` 9p or virtio-fs for Kata);
- what its kernel log says (gVisor's starts with "Starting gVisor...");
- the sandbox's processes on the host (``runsc-sandbox`` and ``runsc-gofer``; a hypervisor and
  virtiofsd for a VM).

The outcome is an ``Identity``: ``isolation`` (``none``, ``shared-kernel``, ``user-space-kernel``,
``vm`` or ``unknown``), the ``sandbox`` product when one is recognised (``gVisor``, ``Kata
Containers``...), the ``evidence`` in words, and a ``warning`` when what was seen contradicts what
the runtime's name promises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from katatui.core import guest

Isolation = Literal["none", "shared-kernel", "user-space-kernel", "vm", "unknown"]
ISOLATIONS: tuple[Isolation, ...] = ("none", "shared-kernel", "user-space-kernel", "vm", "unknown")

# Programs (basenames) whose kind is known. The containerd shims a runtime type names are included.
_GVISOR_PROGRAMS = re.compile(r"^(runsc|containerd-shim-runsc-v1|gvisor.*)$")
_KATA_PROGRAMS = re.compile(r"^(kata-runtime|kata-qemu|kata-clh|kata-fc|containerd-shim-kata.*|kata)$")
_VM_PROGRAMS = {
    "firecracker": "Firecracker",
    "firecracker-containerd": "Firecracker",
    "containerd-shim-aws-firecracker": "Firecracker",
    "cloud-hypervisor": "Cloud Hypervisor",
    "runv": "runV",
    "cc-runtime": "Clear Containers",
}
_SHARED_PROGRAMS = {"runc", "crun", "youki", "containerd-shim-runc-v2", "containerd-shim-runc-v1", "runj"}
_SHARED_NAMES = re.compile(r"(?:^|[^a-z0-9])(?:runc|crun|youki)(?:[^a-z0-9]|$)")
GVISOR_DMESG = "Starting gVisor"


@dataclass(frozen=True)
class Identity:
    isolation: Isolation
    sandbox: str | None
    evidence: tuple[str, ...] = ()
    warning: str | None = None

    def facts(self) -> dict[str, Any]:
        """The keys a scenario's facts carry (``isolation``, ``sandbox``, ``evidence``)."""
        return {"isolation": self.isolation, "sandbox": self.sandbox, "evidence": list(self.evidence)}

    @property
    def label(self) -> str:
        """``user-space-kernel (gVisor)``, ``shared-kernel``, ``none``."""
        return summary(self.facts())


@dataclass
class Seen:
    """What was observed of one scenario; every field may be unknown."""

    launcher: str
    runtime: str | None = None
    program: str | None = None  # the runtime's binary from the daemon's configuration
    program_version: str | None = None
    host_kernel: str | None = None
    guest_kernel: str | None = None
    mounts: str | None = None  # /proc/mounts inside
    dmesg: str | None = None  # the kernel log inside (what could be read)
    host_roles: Iterable[str] = field(default_factory=tuple)  # roles of the sandbox's host processes


def runtime_program(spec: Mapping[str, Any], name: str) -> str:
    """The program behind a Docker runtime entry: ``path``, or the shim a ``runtimeType`` names
    (io.containerd.kata.v2 is containerd-shim-kata-v2), or the name itself."""
    path = spec.get("path")
    if isinstance(path, str) and path:
        return path
    rtype = spec.get("runtimeType") or spec.get("runtime_type")
    if isinstance(rtype, str) and rtype:
        if rtype.startswith("/"):
            return rtype
        parts = rtype.split(".")
        if len(parts) >= 4 and parts[0] == "io" and parts[1] == "containerd":
            return f"containerd-shim-{parts[2]}-{parts[3]}"
        return rtype
    return name


def program_kind(program: str | None) -> tuple[Isolation, str | None] | None:
    """What a runtime's program is known to be: (isolation, sandbox) or None when unknown."""
    if not program:
        return None
    base = PurePosixPath(program.strip()).name.lower()
    if _GVISOR_PROGRAMS.match(base):
        return "user-space-kernel", "gVisor"
    if _KATA_PROGRAMS.match(base):
        return "vm", "Kata Containers"
    if base in _VM_PROGRAMS:
        return "vm", _VM_PROGRAMS[base]
    if base in _SHARED_PROGRAMS:
        return "shared-kernel", None
    return None


def name_kind(name: str | None) -> Isolation | None:
    """What a runtime's name promises: None when the name says nothing (``sandbox``, ``secure``)."""
    if not name:
        return None
    kind = guest.sandbox_kind(name)
    if kind == "gvisor":
        return "user-space-kernel"
    if kind == "vm":
        return "vm"
    return "shared-kernel" if _SHARED_NAMES.search(name.strip().lower()) else None


def _root(mounts: list[guest.Mount]) -> guest.Mount | None:
    root = [m for m in mounts if m.target == "/"]
    return root[-1] if root else None


def identify(seen: Seen) -> Identity:
    """The scenario's isolation from what was seen; the name only decides where nothing else can."""
    if seen.launcher == "bare":
        return Identity("none", None, ("runs directly on the host",))
    evidence: list[str] = []
    by_program = program_kind(seen.program)
    if seen.program:
        version = f" ({seen.program_version})" if seen.program_version else ""
        evidence.append(f"runtime program {seen.program}{version}")
    host = guest.parse_kernel_release(seen.host_kernel or "") if seen.host_kernel else None
    inner = guest.parse_kernel_release(seen.guest_kernel or "") if seen.guest_kernel else None
    own_kernel: bool | None = None
    if host and inner:
        own_kernel = host != inner
        evidence.append(
            f"kernel {inner} inside, {host} on the host" if own_kernel else f"the host's kernel {host}"
        )
    mounts = guest.parse_mounts(seen.mounts or "")
    root = _root(mounts)
    kata_shared = guest.shows_kata_guest(mounts)
    gofer_root = (
        root is not None and root.fstype == "9p" and any(o.startswith("trans=fd") for o in root.options)
    )
    if root is not None:
        source = f" from {root.source}" if root.source not in ("none", "", root.fstype) else ""
        evidence.append(f"/ is {root.fstype}{source}")
    gvisor_log = GVISOR_DMESG in (seen.dmesg or "")
    if gvisor_log:
        evidence.append('its kernel log says "Starting gVisor..."')
    roles = set(seen.host_roles)
    if {"sentry", "gofer"} & roles:
        evidence.append("host processes runsc-sandbox (sentry) and runsc-gofer")
    if "hypervisor" in roles:
        evidence.append("a hypervisor process on the host")

    gvisor_signs = gvisor_log or bool({"sentry", "gofer"} & roles) or (own_kernel is True and gofer_root)
    vm_signs = kata_shared or "hypervisor" in roles
    isolation: Isolation
    sandbox: str | None
    if gvisor_signs and own_kernel is not False:
        isolation, sandbox = "user-space-kernel", "gVisor"
    elif vm_signs and (own_kernel is not False or kata_shared):
        isolation = "vm"
        sandbox = "Kata Containers" if kata_shared else (by_program[1] if by_program else None)
    elif own_kernel is False:
        isolation, sandbox = "shared-kernel", None
    elif own_kernel is True:
        # Another kernel without a known sign: a VM of some kind, or an engine elsewhere.
        if by_program is not None and by_program[0] in ("vm", "user-space-kernel"):
            isolation, sandbox = by_program
        else:
            isolation, sandbox = "unknown", None
            evidence.append("its own kernel, but nothing says which sandbox")
    elif by_program is not None:
        isolation, sandbox = by_program
        evidence.append("identified by its program only: the inside could not be read")
    else:
        isolation, sandbox = "unknown", None
    return Identity(isolation, sandbox, tuple(evidence), _warning(seen, isolation, sandbox, host, inner))


def _warning(
    seen: Seen, isolation: Isolation, sandbox: str | None, host: str | None, inner: str | None
) -> str | None:
    """A loud warning when the runtime's name (or program) promised other isolation than seen."""
    promised = name_kind(seen.runtime)
    by_program = program_kind(seen.program)
    if promised is None and by_program is not None:
        promised = by_program[0]
    runtime = seen.runtime or "?"
    if promised in ("vm", "user-space-kernel") and isolation == "shared-kernel":
        what = "a VM with its own kernel" if promised == "vm" else "gVisor's own kernel"
        return (
            f"WARNING: runtime {runtime!r} should run the container on {what}, but the container "
            f"reported the host's kernel ({host}): the sandbox did not start. Kata startup can fail "
            "silently (no hardware virtualisation, nested virtualisation off, a runtime name the engine "
            "does not know, or a fallback to the default runtime). These results are NOT sandboxed results."
        )
    if promised == "shared-kernel" and isolation in ("vm", "user-space-kernel", "unknown") and inner and host:
        looks = (
            f"it looks like {sandbox} ({isolation})"
            if sandbox
            else "the containers are not running on this host (another engine, a VM in between, or "
            "a sandbox registered under this name)"
        )
        return (
            f"WARNING: runtime {runtime!r} is named like a runtime that shares the host's kernel, but the "
            f"container reported kernel {inner} while the host runs {host}: {looks}; the runtime's name "
            "does not say what runs behind it."
        )
    return None


SHORT = {
    "none": "host",
    "shared-kernel": "shared kernel",
    "user-space-kernel": "user-space kernel",
    "vm": "VM",
    "unknown": "isolation unknown",
}


def short(identity_facts: Mapping[str, Any]) -> str | None:
    """A few words for a column title: the sandbox when known (``gVisor``), else the isolation."""
    sandbox = identity_facts.get("sandbox")
    if sandbox:
        return str(sandbox)
    isolation = identity_facts.get("isolation")
    return SHORT.get(str(isolation)) if isolation else None


def summary(identity_facts: Mapping[str, Any]) -> str:
    """One line for a scenario's facts: ``user-space-kernel (gVisor)``; ``?`` when not identified."""
    isolation = identity_facts.get("isolation")
    if not isolation:
        return "?"
    sandbox = identity_facts.get("sandbox")
    return f"{isolation} ({sandbox})" if sandbox else str(isolation)
