"""Kata Containers' configuration and boot, as a host and a guest show them.

``kata-runtime env`` (``kata-runtime kata-env`` in 1.x; ``--json`` for JSON; ``kata-ctl env`` for
the Rust runtime) names the hypervisor, the shared filesystem and the configuration file in use;
the configuration file (``configuration.toml``, one ``[hypervisor.NAME]`` table) holds the VM's
default vCPUs and memory, the virtio-fs cache mode and the DAX window. Seeds 001-003 found that
these decide the results (virtio-9p vs virtio-fs vs a block device; the VM's size), so katatui
records them next to the figures.

A guest's ``dmesg`` tells how long its kernel took to boot: the kernel hands over to user space
at "Run /sbin/init as init process" (or "Run /init" with an initrd), and systemd, when it is the
guest's init, logs "Startup finished in X (kernel) + Y (userspace)", which is how seeds 002 and
003 split their VM boot times.

Samples these were tested on: tests/fixtures/kata/ (sources in its README).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from katatui.core.guest import parse_kata_env

HYPERVISORS = ("qemu", "clh", "cloud-hypervisor", "firecracker", "dragonball", "acrn", "stratovirt", "remote")


@dataclass(frozen=True)
class KataConfig:
    """What a Kata installation will give a sandbox; None where the source does not say."""

    hypervisor: str | None = None  # "qemu", "clh", "firecracker", ... (the configuration's table name)
    hypervisor_path: str | None = None
    machine_type: str | None = None
    shared_fs: str | None = None  # "virtio-fs", "virtio-9p", "virtio-fs-nydus", "none"
    default_vcpus: int | None = None
    default_memory_mib: int | None = None
    virtio_fs_cache: str | None = None  # "never"/"none", "auto", "always", "metadata"
    dax_cache_mib: int | None = None  # virtio_fs_cache_size: 0 means DAX is off
    config_path: str | None = None
    runtime_version: str | None = None
    kernel_path: str | None = None

    @property
    def dax(self) -> bool | None:
        if self.dax_cache_mib is None:
            return None
        return self.dax_cache_mib > 0

    def merged(self, other: KataConfig) -> KataConfig:
        """This one, with the blanks filled in from ``other``."""
        values = {k: v if v is not None else getattr(other, k) for k, v in self.as_dict().items()}
        values.pop("dax", None)
        return replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hypervisor": self.hypervisor,
            "hypervisor_path": self.hypervisor_path,
            "machine_type": self.machine_type,
            "shared_fs": self.shared_fs,
            "default_vcpus": self.default_vcpus,
            "default_memory_mib": self.default_memory_mib,
            "virtio_fs_cache": self.virtio_fs_cache,
            "dax_cache_mib": self.dax_cache_mib,
            "dax": self.dax,
            "config_path": self.config_path,
            "runtime_version": self.runtime_version,
            "kernel_path": self.kernel_path,
        }

    def describe(self) -> str:
        """One line: "qemu (q35), virtio-fs cache auto, DAX off, 1 vCPU, 2048 MiB"."""
        parts = []
        if self.hypervisor or self.hypervisor_path:
            hv = self.hypervisor or str(self.hypervisor_path).rsplit("/", 1)[-1]
            parts.append(f"{hv} ({self.machine_type})" if self.machine_type else hv)
        if self.shared_fs:
            fs = self.shared_fs
            if self.shared_fs.startswith("virtio-fs") and self.virtio_fs_cache:
                fs += f" cache {self.virtio_fs_cache}"
            parts.append(fs)
        if self.dax is not None:
            parts.append(f"DAX {self.dax_cache_mib} MiB" if self.dax else "DAX off")
        if self.default_vcpus is not None:
            parts.append(f"{self.default_vcpus} vCPU" + ("s" if self.default_vcpus != 1 else ""))
        if self.default_memory_mib is not None:
            parts.append(f"{self.default_memory_mib} MiB")
        return ", ".join(parts) or "nothing known"


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_configuration(text: str, path: str | None = None) -> KataConfig:
    """A Kata ``configuration.toml`` (ValueError when it is not TOML or names no hypervisor)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"expected a Kata configuration file (TOML): {exc}") from exc
    tables = data.get("hypervisor")
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("expected a Kata configuration file with a [hypervisor.NAME] table")
    name, table = next(iter(tables.items()))
    if not isinstance(table, Mapping):
        raise ValueError(f"[hypervisor.{name}] is not a table")
    return KataConfig(
        hypervisor=str(name),
        hypervisor_path=_text(table.get("path")),
        machine_type=_text(table.get("machine_type")),
        shared_fs=_text(table.get("shared_fs")),
        default_vcpus=_int(table.get("default_vcpus")),
        default_memory_mib=_int(table.get("default_memory")),
        virtio_fs_cache=_text(table.get("virtio_fs_cache")),
        dax_cache_mib=_int(table.get("virtio_fs_cache_size")),
        config_path=path,
        kernel_path=_text(table.get("kernel")),
    )


def _hypervisor_name(path: str | None) -> str | None:
    if not path:
        return None
    base = path.rsplit("/", 1)[-1].lower()
    if "qemu" in base:
        return "qemu"
    if base.startswith("cloud-hypervisor"):
        return "clh"
    for name in HYPERVISORS:
        if base.startswith(name):
            return name
    return None


def parse_env(text: str) -> KataConfig:
    """``kata-runtime env`` / ``kata-runtime kata-env`` (TOML), ``kata-runtime env --json`` or
    ``kata-ctl env`` output (ValueError when it is neither TOML nor JSON)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected kata-runtime env --json output: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("expected kata-runtime env --json output (a JSON object)")
        from katatui.core.guest import KataEnv

        env: KataEnv = _env_from_mapping(data)
        raw = data
    else:
        env = parse_kata_env(text)
        raw = tomllib.loads(text)
    runtime = raw.get("Runtime") if isinstance(raw.get("Runtime"), Mapping) else {}
    config = runtime.get("Config") if isinstance(runtime, Mapping) else None
    hypervisor = raw.get("Hypervisor") if isinstance(raw.get("Hypervisor"), Mapping) else {}
    return KataConfig(
        hypervisor=_hypervisor_name(env.hypervisor_path),
        hypervisor_path=env.hypervisor_path,
        machine_type=env.machine_type,
        shared_fs=env.shared_fs,
        default_vcpus=_int(hypervisor.get("DefaultVCPUs")) if isinstance(hypervisor, Mapping) else None,
        default_memory_mib=_int(hypervisor.get("DefaultMemory")) if isinstance(hypervisor, Mapping) else None,
        virtio_fs_cache=_text(hypervisor.get("VirtioFSCache")) if isinstance(hypervisor, Mapping) else None,
        config_path=_text(config.get("Path")) if isinstance(config, Mapping) else None,
        runtime_version=env.runtime_version,
        kernel_path=env.kernel_path,
    )


def _env_from_mapping(data: Mapping[str, Any]) -> Any:
    from katatui.core.guest import KataEnv

    def section(key: str) -> Mapping[str, Any]:
        value = data.get(key)
        return value if isinstance(value, Mapping) else {}

    hv, kernel, image, runtime = (
        section("Hypervisor"),
        section("Kernel"),
        section("Image"),
        section("Runtime"),
    )
    version = runtime.get("Version") if isinstance(runtime.get("Version"), Mapping) else {}
    inner = version.get("Version") if isinstance(version, Mapping) else None
    holder = inner if isinstance(inner, Mapping) else version
    semver = holder.get("Semver") if isinstance(holder, Mapping) else None
    hv_version = _text(hv.get("Version"))
    return KataEnv(
        hypervisor_path=_text(hv.get("Path")),
        hypervisor_version=hv_version.splitlines()[0] if hv_version else None,
        machine_type=_text(hv.get("MachineType")),
        shared_fs=_text(hv.get("SharedFS")),
        kernel_path=_text(kernel.get("Path")),
        image_path=_text(image.get("Path")),
        runtime_version=semver if isinstance(semver, str) else None,
    )


# ---------------------------------------------------------------------------------------------
# The guest's boot, from its dmesg


@dataclass(frozen=True)
class GuestBoot:
    """Seconds since the guest kernel started: when it ran init, and what systemd reported."""

    kernel_s: float | None  # the kernel's part: up to "Run ... as init process"
    userspace_s: float | None  # systemd's "(userspace)" figure, when systemd is the init
    last_s: float | None  # the last timestamp in the log
    init: str | None  # the init the kernel ran ("/sbin/init", "/init")


_STAMP = re.compile(r"^\s*(?:<\d+>)?\[\s*(?P<t>\d+\.\d+)\]\s?(?P<msg>.*)$")
_RUN_INIT = re.compile(r"Run (?P<init>\S+) as init process")
_STARTUP = re.compile(r"Startup finished in (?P<parts>.+?) = (?P<total>[\d.]+(?:ms|s|min))")
_PART = re.compile(r"(?P<value>(?:\d+min )?[\d.]+(?:ms|us|s))\s+\((?P<what>\w+)\)")


def _seconds(text: str) -> float:
    total = 0.0
    for num, unit in re.findall(r"([\d.]+)(min|ms|us|s)", text):
        total += float(num) * {"min": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def parse_guest_dmesg(text: str) -> GuestBoot:
    """The boot milestones in a guest's ``dmesg`` (the kernel's ring buffer with timestamps)."""
    kernel_s: float | None = None
    init: str | None = None
    userspace_s: float | None = None
    last: float | None = None
    freeing: float | None = None
    for raw in text.splitlines():
        match = _STAMP.match(raw)
        if match is None:
            continue
        t = float(match.group("t"))
        last = t if last is None else max(last, t)
        msg = match.group("msg")
        if kernel_s is None and (run := _RUN_INIT.search(msg)) is not None:
            kernel_s, init = t, run.group("init")
        elif kernel_s is None and msg.startswith("Freeing unused kernel"):
            freeing = t
        if (started := _STARTUP.search(msg)) is not None:
            for part in _PART.finditer(started.group("parts")):
                if part.group("what") == "userspace":
                    userspace_s = _seconds(part.group("value"))
                elif part.group("what") == "kernel" and kernel_s is None:
                    kernel_s = _seconds(part.group("value"))
    if kernel_s is None:
        kernel_s = freeing  # the last thing the kernel does before it starts init
    return GuestBoot(kernel_s, userspace_s, last, init)
