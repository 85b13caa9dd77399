"""What a container reports about the machine it runs on, and whether that is the sandbox asked for.

Kata Containers runs each pod in a VM with its own kernel; gVisor runs it on its own user-space
kernel; runc shares the host's. Seed study 001 warns that Kata "startup fails silently" without
hardware virtualisation, and a runtime that is misconfigured (or silently replaced by the default
runtime) still runs the benchmark, only not in the sandbox the user meant to measure. These pure
helpers read the small outputs a run can collect cheaply (``uname``, ``/proc/mounts`` or
``mount``, ``/proc/meminfo``, ``free``, ``kata-runtime check`` / ``kata-env``, ``ps`` on the
host) so the engine can say so loudly instead of reporting runc numbers as Kata numbers.

Samples of real Kata output these were tested on: tests/fixtures/kata/ (sources in its README).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

SandboxKind = Literal["vm", "gvisor", "container"]
RootFsKind = Literal["overlay", "9p", "virtiofs", "block", "other", "unknown"]


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str
    options: tuple[str, ...] = ()


_MOUNT_LINE = re.compile(
    r"^(?P<source>.+?) on (?P<target>.+?) type (?P<fstype>\S+)(?: \((?P<options>[^)]*)\))?$"
)
_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    """/proc/mounts escapes space, tab, newline and backslash as \\040, \\011, \\012, \\134."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Mount]:
    """Mounts from ``mount`` output ("SRC on DIR type FS (OPTS)"), ``/proc/mounts``
    ("SRC DIR FS OPTS 0 0") or ``/proc/self/mountinfo``; other lines are skipped."""
    mounts: list[Mount] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if (m := _MOUNT_LINE.match(line)) is not None:
            options = tuple(o for o in (m.group("options") or "").split(",") if o)
            mounts.append(Mount(m.group("source"), m.group("target"), m.group("fstype"), options))
            continue
        fields = line.split()
        if " - " in line and len(fields) >= 10 and fields[0].isdigit():  # mountinfo
            before, after = line.split(" - ", 1)
            left, right = before.split(), after.split()
            if len(left) >= 6 and len(right) >= 2:
                options = tuple(left[5].split(",")) + tuple(right[2].split(",") if len(right) > 2 else ())
                mounts.append(Mount(_unescape(right[1]), _unescape(left[4]), right[0], options))
            continue
        if len(fields) in (4, 6) and (len(fields) == 4 or (fields[4].isdigit() and fields[5].isdigit())):
            mounts.append(
                Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2], tuple(fields[3].split(",")))
            )
    return mounts


_BLOCK_FS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "erofs", "squashfs", "vfat"})


def root_fs_kind(mounts: Iterable[Mount]) -> RootFsKind:
    """How the container's ``/`` is provided: "overlay" (runc's usual overlayfs), "9p" or
    "virtiofs" (Kata's shared filesystem, source ``kataShared``), "block" (a block device, e.g.
    Kata with devicemapper or a virtio-blk rootfs), "other", or "unknown" (no ``/`` mount seen).
    The last mount on ``/`` wins, as later mounts hide earlier ones."""
    root = [m for m in mounts if m.target == "/"]
    if not root:
        return "unknown"
    last = root[-1]
    fstype = last.fstype.lower()
    if fstype == "overlay":
        return "overlay"
    if fstype == "9p":
        return "9p"
    if fstype == "virtiofs":
        return "virtiofs"
    if fstype in _BLOCK_FS or (last.source.startswith("/dev/") and not fstype.startswith(("fuse", "tmpfs"))):
        return "block"
    return "other"


def parse_meminfo_total_kb(text: str) -> int | None:
    """``MemTotal`` from ``/proc/meminfo``, in kB (kernel's kB = KiB)."""
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def parse_free_total(text: str) -> int | None:
    """The "total" of the ``Mem:`` line of ``free`` output, in the unit ``free`` was asked for
    (``free -m``: MiB). Works for procps and BusyBox ``free``."""
    match = re.search(r"^Mem:\s+(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


_RELEASE = re.compile(r"\d+\.\d+[\w.+~-]*")


def parse_kernel_release(text: str) -> str | None:
    """The kernel release from ``uname -r``, ``uname -a``, ``/proc/version`` or a dmesg
    "Linux version" line: "4.19.86-5.container", "6.12.47", "3.10.0-1062.12.1.el7.x86_64"."""
    stripped = text.strip()
    if not stripped:
        return None
    version = re.search(r"Linux version (\S+)", stripped)
    if version is not None:
        return version.group(1)
    first = stripped.splitlines()[0].split()
    if len(first) == 1 and _RELEASE.fullmatch(first[0]):
        return first[0]  # uname -r
    if len(first) >= 3 and first[0] == "Linux" and _RELEASE.match(first[2]):
        return first[2]  # uname -a: "Linux HOSTNAME RELEASE #1 SMP ..."
    return None


_VM_NAMES = re.compile(
    r"(?:^|[^a-z0-9])(?:kata|firecracker|cc-runtime|clear-containers?|runv|cloud-hypervisor)(?:[^a-z0-9]|$)"
)
_GVISOR_NAMES = re.compile(r"(?:^|[^a-z0-9])(?:runsc|gvisor)(?:[^a-z0-9]|$)")


def sandbox_kind(runtime_name: str) -> SandboxKind:
    """What a runtime name (Docker runtime, containerd runtime type, RuntimeClass handler or
    binary path) stands for: "vm" (Kata and other VM runtimes: kata, kata-qemu, kata-clh,
    kata-fc, io.containerd.kata.v2, containerd-shim-kata-v2, kata-runtime, firecracker...),
    "gvisor" (runsc: a user-space kernel, a sandbox but not a VM) or "container" (runc, crun...)."""
    name = runtime_name.strip().lower()
    if _GVISOR_NAMES.search(name):
        return "gvisor"
    if _VM_NAMES.search(name):
        return "vm"
    return "container"


def looks_like_vm_runtime(runtime_name: str) -> bool:
    """Whether the runtime is expected to give the container its own kernel in a VM."""
    return sandbox_kind(runtime_name) == "vm"


def _release(kernel: str | None) -> str | None:
    if kernel is None or not kernel.strip():
        return None
    return parse_kernel_release(kernel) or kernel.strip()


def shows_kata_guest(mounts: Iterable[Mount]) -> bool:
    """Whether a container's mounts come from a Kata VM: the host shares files into the guest
    with the ``kataShared`` tag (9p or virtio-fs), for ``/`` or at least /etc/hosts and friends."""
    return any(m.source == "kataShared" for m in mounts)


# ---------------------------------------------------------------------------------------------
# Host-side Kata evidence: kata-runtime check / kata-env, and the processes of a sandbox


@dataclass(frozen=True)
class KataCheck:
    """``kata-runtime check`` (``kata-check`` in 1.x): None where the output does not say."""

    capable: bool | None
    can_create: bool | None
    errors: tuple[str, ...] = ()


_LOGFMT_ERROR = re.compile(r'level=error msg="(?P<msg>[^"]*)"(?P<rest>.*)$')
_LOGRUS_ERROR = re.compile(r"^ERRO\[\d+\]\s+(?P<msg>.+?)\s{2,}(?P<rest>\S+=.*)$")
_DESCRIPTION = re.compile(r'description=(?:"(?P<q>[^"]*)"|(?P<w>\S+))')


def parse_kata_check(text: str) -> KataCheck:
    """The verdict lines and the error messages of ``kata-runtime check``."""
    capable: bool | None = None
    can_create: bool | None = None
    errors: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if "System is not capable of running Kata Containers" in line:
            capable = False
        elif "System is capable of running Kata Containers" in line:
            capable = True
        if "System can currently create Kata Containers" in line:
            can_create = True
        elif "System cannot currently create Kata Containers" in line:
            can_create = False
        match = _LOGFMT_ERROR.search(line) or _LOGRUS_ERROR.match(line)
        if match is not None:
            message = match.group("msg").strip()
            if "not capable of running" in message:
                continue
            described = _DESCRIPTION.search(match.group("rest"))
            if described is not None:
                message += f" ({described.group('q') or described.group('w')})"
            if message not in errors:
                errors.append(message)
    return KataCheck(capable, can_create, tuple(errors))


@dataclass(frozen=True)
class KataEnv:
    """The parts of ``kata-runtime kata-env`` (TOML) that change what a benchmark measures."""

    hypervisor_path: str | None
    hypervisor_version: str | None
    machine_type: str | None
    shared_fs: str | None  # "virtio-fs", "virtio-9p", ...
    kernel_path: str | None
    image_path: str | None
    runtime_version: str | None


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def parse_kata_env(text: str) -> KataEnv:
    """``kata-runtime kata-env`` output (ValueError when it is not TOML)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"expected kata-runtime kata-env output (TOML): {exc}") from exc
    hypervisor, kernel, image = (
        _section(data, "Hypervisor"),
        _section(data, "Kernel"),
        _section(data, "Image"),
    )
    runtime = _section(data, "Runtime")
    version = _section(_section(runtime, "Version"), "Version") or _section(runtime, "Version")
    semver = version.get("Semver")
    hv_version = _str(hypervisor, "Version")
    return KataEnv(
        hypervisor_path=_str(hypervisor, "Path"),
        hypervisor_version=hv_version.splitlines()[0] if hv_version else None,
        machine_type=_str(hypervisor, "MachineType"),
        shared_fs=_str(hypervisor, "SharedFS"),
        kernel_path=_str(kernel, "Path"),
        image_path=_str(image, "Path"),
        runtime_version=semver if isinstance(semver, str) else None,
    )


@dataclass(frozen=True)
class VmProcess:
    """A host process that belongs to a VM sandbox."""

    pid: int | None
    kind: str  # "qemu", "cloud-hypervisor", "firecracker", "virtiofsd", "kata-shim"
    command: str


_VM_PROCESS = re.compile(
    r"(?:^|\s)(?P<exe>\S*?(?P<name>qemu-[\w-]*system-\w+|qemu-kvm|cloud-hypervisor|firecracker"
    r"|virtiofsd[\w-]*|containerd-shim-kata-v2|kata-shim))(?=\s|$)"
)
_KINDS = {"cloud-hypervisor": "cloud-hypervisor", "firecracker": "firecracker"}


def vm_processes(ps_text: str) -> list[VmProcess]:
    """Hypervisor, virtiofsd and Kata shim processes in ``ps -ef`` / ``ps aux`` / BusyBox ``ps``
    output taken on the host: evidence that a VM sandbox is really running."""
    found: list[VmProcess] = []
    for raw in ps_text.splitlines():
        line = raw.rstrip()
        match = _VM_PROCESS.search(line)
        if match is None:
            continue
        before = line[: match.start("exe")].split()
        if before and before[-1] in ("grep", "fgrep", "egrep", "pgrep"):
            continue
        pid = next((int(token) for token in before if token.isdigit()), None)
        name = match.group("name")
        if name.startswith("qemu"):
            kind = "qemu"
        elif name.startswith("virtiofsd"):
            kind = "virtiofsd"
        elif name in _KINDS:
            kind = _KINDS[name]
        else:
            kind = "kata-shim"
        found.append(VmProcess(pid, kind, line[match.start("exe") :]))
    return found
