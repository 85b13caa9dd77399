"""The host probe: CPU virtualisation flags, ``/dev/kvm`` (opened, and asked KVM_GET_API_VERSION
and KVM_CREATE_VM by a fixed python3 snippet), nested virtualisation when the host is itself a VM,
the kernel modules Kata needs (vhost, vhost_vsock, vhost_net) and the programs on the host; then
the Docker, containerd and Kata checks of the same target. Seed 001 learned that Kata "startup
fails silently" without hardware virtualisation: a VM runtime on a host without a usable
``/dev/kvm`` fails here, before a run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from katatui.core import guest
from katatui.core.doctor.checks import Check, HostReport, Status, parse_kv, try_run
from katatui.core.doctor.containerd import containerd_host_checks
from katatui.core.doctor.docker import docker_host_checks
from katatui.core.doctor.kata import kata_checks
from katatui.core.plan import registered_runtimes
from katatui.core.transport.base import Transport

if TYPE_CHECKING:
    import docker

KATA_MODULES = ("vhost", "vhost_vsock", "vhost_net")

# A fixed script: it takes no values from a profile.
HOST_PROBE = r"""
echo "kernel=$(uname -r)"
flags=$(sed -n 's/^flags[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
echo "flags=$flags"
if [ -e /dev/kvm ]; then echo kvm=present; else echo kvm=absent; fi
for m in kvm_intel kvm_amd; do
  f=/sys/module/$m/parameters/nested
  if [ -r "$f" ]; then echo "nested_$m=$(cat "$f")"; fi
done
if [ -r /proc/modules ]; then echo modules=yes; else echo modules=no; fi
for m in kvm kvm_intel kvm_amd vhost vhost_vsock vhost_net; do
  if [ -r /proc/modules ] && grep -q "^$m " /proc/modules; then echo "module_$m=loaded"
  elif [ -d "/sys/module/$m" ]; then echo "module_$m=builtin"
  elif modinfo -n "$m" >/dev/null 2>&1 || /sbin/modinfo -n "$m" >/dev/null 2>&1
  then echo "module_$m=available"
  else echo "module_$m=unknown"; fi
done
for d in vhost-vsock vhost-net; do if [ -e "/dev/$d" ]; then echo "dev_$d=present"; fi; done
for t in python3 kata-runtime kata-ctl containerd; do p=$(command -v "$t") && echo "tool_$t=$p"; done
"""

# Fixed text: opens /dev/kvm and asks the two questions a hypervisor asks first.
KVM_PROBE = r"""
import fcntl, os
try:
    fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
except OSError as exc:
    print("open_error=%s" % exc.strerror)
    raise SystemExit(0)
print("api=%d" % fcntl.ioctl(fd, 0xAE00))
try:
    vm = fcntl.ioctl(fd, 0xAE01, 0)
    os.close(vm)
    print("create_vm=ok")
except OSError as exc:
    print("create_vm_error=%s" % exc.strerror)
"""


# -- pure: facts become checks ---------------------------------------------------------------------


def cpu_checks(
    probe: Mapping[str, str], kvm_probe: Mapping[str, str], vm_runtimes: Sequence[str]
) -> list[Check]:
    """Virtualisation flags, /dev/kvm and nested virtualisation. A missing piece fails when a VM
    runtime is registered (it cannot work), else warns (only VM runtimes need it)."""
    bad: Status = "fail" if vm_runtimes else "warn"
    needing = (
        f" (needed by {', '.join(vm_runtimes)})"
        if vm_runtimes
        else " (only VM runtimes such as Kata need it)"
    )
    flags = set(probe.get("flags", "").split())
    in_vm = "hypervisor" in flags
    checks: list[Check] = []
    usable = "api" in kvm_probe and "create_vm" in kvm_probe
    if flags & {"vmx", "svm"}:
        which = "vmx (Intel VT-x)" if "vmx" in flags else "svm (AMD-V)"
        checks.append(Check("cpu virtualisation", "pass", f"the CPU shows {which}"))
    elif usable:
        checks.append(
            Check(
                "cpu virtualisation",
                "pass",
                "the CPU shows neither vmx nor svm, but /dev/kvm works (a paravirtual KVM "
                "such as kvm_pvm, or flags hidden by the hypervisor)",
            )
        )
    else:
        where = "this host is itself a VM whose hypervisor does not pass them on" if in_vm else "not offered"
        checks.append(
            Check(
                "cpu virtualisation",
                bad,
                f"no vmx or svm flag in /proc/cpuinfo: {where}{needing}",
                "enable VT-x/AMD-V in the firmware, or nested virtualisation on the outer hypervisor",
            )
        )
    if probe.get("kvm") != "present":
        checks.append(
            Check(
                "/dev/kvm",
                bad,
                f"/dev/kvm does not exist{needing}",
                "load kvm_intel or kvm_amd (modprobe) on a host with virtualisation enabled",
            )
        )
    elif "open_error" in kvm_probe:
        checks.append(
            Check(
                "/dev/kvm",
                bad,
                f"/dev/kvm cannot be opened: {kvm_probe['open_error']}{needing}",
                "run as root or add the user to the kvm group",
            )
        )
    elif "api" in kvm_probe:
        api = kvm_probe["api"]
        if "create_vm" in kvm_probe:
            checks.append(Check("/dev/kvm", "pass", f"opened; KVM API version {api}; a VM can be created"))
        else:
            err = kvm_probe.get("create_vm_error", "unknown error")
            checks.append(
                Check(
                    "/dev/kvm",
                    bad,
                    f"KVM API version {api}, but KVM_CREATE_VM failed: {err}{needing}",
                    "check dmesg for KVM errors; another hypervisor may hold VT-x",
                )
            )
    else:
        checks.append(
            Check(
                "/dev/kvm",
                "warn",
                "/dev/kvm exists but could not be tested (no python3 on the host)",
                "install python3 on the host so katatui can open /dev/kvm",
            )
        )
    nested = {k.removeprefix("nested_"): v for k, v in probe.items() if k.startswith("nested_")}
    if in_vm:
        on = [m for m, v in nested.items() if v.upper() in ("Y", "1")]
        if usable:
            checks.append(
                Check(
                    "nested virtualisation",
                    "pass",
                    "this host is a VM (hypervisor flag) and KVM works inside it"
                    + (f" (nested on in {', '.join(on)})" if on else ""),
                )
            )
        else:
            checks.append(
                Check(
                    "nested virtualisation",
                    bad,
                    f"this host is a VM and KVM does not work inside it{needing}",
                    "turn on nested virtualisation on the outer host "
                    "(kvm_intel nested=1 / kvm_amd nested=1) or use bare metal",
                )
            )
    elif nested:
        state = ", ".join(f"{m}={v}" for m, v in nested.items())
        checks.append(Check("nested virtualisation", "pass", f"not a VM; nested parameter {state}"))
    return checks


def module_checks(probe: Mapping[str, str], vm_runtimes: Sequence[str]) -> list[Check]:
    """vhost, vhost_vsock (Kata's agent channel) and vhost_net (its network)."""
    states = {m: probe.get(f"module_{m}", "unknown") for m in KATA_MODULES}
    devices = {"vhost_vsock": probe.get("dev_vhost-vsock"), "vhost_net": probe.get("dev_vhost-net")}
    ready = [m for m, s in states.items() if s in ("loaded", "builtin") or devices.get(m)]
    loadable = [m for m, s in states.items() if s == "available" and m not in ready]
    unknown = [m for m in KATA_MODULES if m not in ready and m not in loadable]
    if not unknown and not loadable:
        return [Check("kernel modules", "pass", f"{', '.join(KATA_MODULES)} are in the kernel")]
    if not unknown:
        return [
            Check(
                "kernel modules",
                "pass",
                f"{', '.join(loadable)} not loaded but installed (loaded on first use)"
                + (f"; {', '.join(ready)} loaded" if ready else ""),
                f"modprobe {' '.join(loadable)} to load them now",
            )
        ]
    how = (
        "not in /sys/module, and the kernel has no loadable modules (/proc/modules is missing)"
        if probe.get("modules") == "no"
        else "neither loaded nor found by modinfo"
    )
    status: Status = "fail" if vm_runtimes else "warn"
    return [
        Check(
            "kernel modules",
            status,
            f"{', '.join(unknown)}: {how}; Kata needs vhost_vsock for its agent"
            + (f" (needed by {', '.join(vm_runtimes)})" if vm_runtimes else ""),
            f"modprobe {' '.join(unknown)}, or use a kernel built with CONFIG_VHOST_VSOCK and "
            "CONFIG_VHOST_NET",
        )
    ]


# -- the host: commands through the transport --------------------------------------------------------


async def check_host(
    transport: Transport, client: docker.DockerClient | None, docker_error: str | None = None
) -> HostReport:
    """Every host check on one target (``client``: its Docker daemon, None if unreachable)."""
    report = HostReport(transport.name, transport.address)
    probe = parse_kv((await transport.run(["sh", "-c", HOST_PROBE], timeout=60)).text())
    tools = {k.removeprefix("tool_"): v for k, v in probe.items() if k.startswith("tool_")}
    report.facts.update(kernel=probe.get("kernel"), tools=tools)
    kvm_probe: dict[str, str] = {}
    if probe.get("kvm") == "present" and "python3" in tools:
        got = await try_run(transport, ["python3", "-c", KVM_PROBE], timeout=30)
        if got is not None:
            kvm_probe = parse_kv(got[1])
    report.facts["kvm_usable"] = "api" in kvm_probe and "create_vm" in kvm_probe
    report.facts["kvm_api_version"] = int(kvm_probe["api"]) if kvm_probe.get("api", "").isdigit() else None
    report.facts["in_vm"] = "hypervisor" in probe.get("flags", "").split()

    docker_runtimes: dict[str, Any] = {}
    if client is not None:
        try:
            info = await asyncio.to_thread(client.info)
            docker_runtimes = dict(info.get("Runtimes") or {})
            report.facts["docker_default_runtime"] = info.get("DefaultRuntime")
        except Exception as exc:  # the daemon went away between connect and info
            docker_error = f"docker info failed: {exc}"
    report.facts["docker_runtimes"] = sorted(docker_runtimes)
    vm_runtimes = [r for r in registered_runtimes(sorted(docker_runtimes)) if guest.looks_like_vm_runtime(r)]

    report.checks += cpu_checks(probe, kvm_probe, vm_runtimes)
    report.checks += module_checks(probe, vm_runtimes)
    report.checks += await docker_host_checks(transport, docker_runtimes, docker_error, report)
    report.checks += await containerd_host_checks(transport, tools, report)
    report.checks += await kata_checks(transport, tools, vm_runtimes, report)
    return report


def host_resources(facts: Mapping[str, Any]) -> dict[str, Any]:
    """As the engine sees the host (its facts from :func:`katatui.core.hosts.probe`): the
    workload programs it has (fio, iperf3, ...) as ``host_tools``, its CPU count (``nproc``)
    and memory (``mem_total_kb``, from MemTotal)."""
    tools = facts.get("tools")
    return {
        "host_tools": dict(tools) if isinstance(tools, dict) else {},
        "nproc": facts.get("nproc"),
        "mem_total_kb": facts.get("mem_total_kb"),
    }
