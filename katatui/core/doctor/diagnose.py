"""``katatui doctor``: can this host run the scenarios asked of it, and will a sandbox be a sandbox?

Each check is data: a name, pass/warn/fail, why, and what to do. Host checks read what the host
shows through its transport (local or SSH): CPU virtualisation flags, ``/dev/kvm`` (opened, and
asked KVM_GET_API_VERSION and KVM_CREATE_VM by a fixed python3 snippet), nested virtualisation
when the host is itself a VM, the kernel modules Kata needs (vhost, vhost_vsock, vhost_net), the
runtimes Docker and containerd have registered and whether their programs exist, and Kata's own
``kata-runtime check`` / ``kata-runtime env`` (or ``kata-ctl env``) with the configuration file
they name. Seed 001 learned that Kata "startup fails silently" without hardware virtualisation:
a VM runtime on a host without a usable ``/dev/kvm`` fails here, before a run.

With a profile, each scenario is checked by its own launcher's code: Docker's registered runtimes
and image; containerd's socket (``ctr``), the runtime's shim and the image in katatui's namespace;
a Kubernetes cluster's context, API server and RuntimeClasses (handler and pod overhead), which
also go into the report. Pods run on the cluster's nodes, so a Kubernetes scenario is not failed
on the KVM of the machine katatui runs on: the nodes' own checks need ``katatui doctor`` there.

A container scenario's limits (its own, else the profile's ``[limits]``) are held against the
target's CPUs (``nproc``) and memory (MemTotal): Docker refuses ``--cpus`` above the host's CPU
count, so such a profile fails here rather than in every run. The canary runs with the same
limits as the runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from katatui.core import guest, hostfacts, isolation, kata
from katatui.core.errors import KatatuiError
from katatui.core.hosts import make_transport, not_installed
from katatui.core.isolation import runtime_program
from katatui.core.launchers.containerd import DEFAULT_SOCKET as CTR_DEFAULT_SOCKET
from katatui.core.launchers.containerd import NAMESPACE as CTR_NAMESPACE
from katatui.core.launchers.containerd import Ctr, image_ref, shim_binary
from katatui.core.launchers.kubernetes import KubeCluster, RuntimeClassInfo
from katatui.core.plan import registered_runtimes
from katatui.core.profile import KubernetesConfig, Limits
from katatui.core.schema import parse_size
from katatui.core.transport.base import Transport

if TYPE_CHECKING:
    import docker

Status = Literal["pass", "warn", "fail"]
RANK: dict[Status, int] = {"pass": 0, "warn": 1, "fail": 2}
KATA_MODULES = ("vhost", "vhost_vsock", "vhost_net")


@dataclass(frozen=True)
class Check:
    """One finding. ``scope`` is "host", "scenario NAME" or "canary NAME"."""

    name: str
    status: Status
    why: str
    todo: str = ""
    scope: str = "host"

    def as_dict(self) -> dict[str, str]:
        return {
            "scope": self.scope,
            "name": self.name,
            "status": self.status,
            "why": self.why,
            "todo": self.todo,
        }


def worst(checks: Sequence[Check]) -> Status:
    return max((c.status for c in checks), key=RANK.__getitem__, default="pass")


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
WHICH = 'for p; do printf "%s=" "$p"; command -v -- "$p" || echo; done'


def parse_kv(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key:
            out.setdefault(key.strip(), value.strip())
    return out


@dataclass
class HostReport:
    """What doctor found on one target."""

    target: str
    address: str
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def kvm_usable(self) -> bool:
        return bool(self.facts.get("kvm_usable"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "address": self.address,
            "error": self.error,
            "facts": self.facts,
            "checks": [c.as_dict() for c in self.checks],
        }


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


def parse_containerd_runtimes(text: str) -> dict[str, str]:
    """Runtime name -> runtime_type from ``containerd config dump`` (config version 2 or 3)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    plugins = data.get("plugins")
    if not isinstance(plugins, Mapping):
        return {}
    out: dict[str, str] = {}
    for key in ("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"):
        cri = plugins.get(key)
        containerd = cri.get("containerd") if isinstance(cri, Mapping) else None
        runtimes = containerd.get("runtimes") if isinstance(containerd, Mapping) else None
        if isinstance(runtimes, Mapping):
            for name, spec in runtimes.items():
                if isinstance(spec, Mapping):
                    out[str(name)] = str(spec.get("runtime_type") or "")
    return out


# -- the host: commands through the transport --------------------------------------------------------


async def _which(transport: Transport, names: Sequence[str]) -> dict[str, str]:
    if not names:
        return {}
    done = await transport.run(["sh", "-c", WHICH, "sh", *names], timeout=30)
    return {k: v for k, v in parse_kv(done.text()).items()}


async def _try(transport: Transport, argv: Sequence[str], timeout: float = 60) -> tuple[int, str, str] | None:
    try:
        done = await transport.run(argv, timeout=timeout)
    except KatatuiError:
        return None
    return done.returncode, done.text(), done.stderr.decode(errors="replace")


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
        got = await _try(transport, ["python3", "-c", KVM_PROBE], timeout=30)
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
    report.checks += await _docker_checks(transport, docker_runtimes, docker_error, report)
    report.checks += await _containerd_checks(transport, tools, report)
    report.checks += await _kata_checks(transport, tools, vm_runtimes, report)
    return report


async def _docker_checks(
    transport: Transport, runtimes: Mapping[str, Any], error: str | None, report: HostReport
) -> list[Check]:
    if error is not None and not runtimes:
        return [
            Check(
                "docker",
                "warn",
                error,
                "start dockerd, or point the target at its socket "
                "(?docker_socket=/path); container scenarios cannot run without it",
            )
        ]
    programs = {
        name: runtime_program(spec if isinstance(spec, Mapping) else {}, name)
        for name, spec in runtimes.items()
    }
    found = await _which(transport, sorted(set(programs.values())))
    missing = sorted(name for name, prog in programs.items() if not found.get(prog))
    report.facts["docker_runtime_programs"] = {n: found.get(p) or None for n, p in programs.items()}
    listed = ", ".join(registered_runtimes(sorted(runtimes))) or "none"
    if missing:
        return [
            Check(
                "docker runtimes",
                "fail",
                f"registered: {listed}; program not found on the host for "
                + ", ".join(f"{n} ({programs[n]})" for n in missing),
                "install the runtime or fix its path in /etc/docker/daemon.json, then restart dockerd",
            )
        ]
    return [Check("docker runtimes", "pass", f"registered: {listed}; every runtime's program exists")]


async def _containerd_checks(
    transport: Transport, tools: Mapping[str, str], report: HostReport
) -> list[Check]:
    if "containerd" not in tools:
        return []
    got = await _try(transport, ["containerd", "config", "dump"], timeout=30)
    if got is None or got[0] != 0:
        why = (got[2].strip().splitlines() or ["no output"])[-1] if got else "did not run"
        return [
            Check(
                "containerd runtimes",
                "warn",
                f"`containerd config dump` failed: {why}",
                "run doctor as a user who may read containerd's configuration",
            )
        ]
    runtimes = parse_containerd_runtimes(got[1])
    report.facts["containerd_runtimes"] = runtimes
    if not runtimes:
        return [
            Check(
                "containerd runtimes",
                "pass",
                "containerd's CRI plugin names no runtimes (Docker's own are above)",
            )
        ]
    programs = {n: runtime_program({"runtimeType": t}, n) for n, t in runtimes.items()}
    found = await _which(transport, sorted(set(programs.values())))
    missing = sorted(n for n, p in programs.items() if not found.get(p))
    listed = ", ".join(f"{n} ({t or 'default'})" for n, t in runtimes.items())
    if missing:
        return [
            Check(
                "containerd runtimes",
                "warn",
                f"{listed}; shim not found for " + ", ".join(f"{n} ({programs[n]})" for n in missing),
                "install the shim (e.g. containerd-shim-kata-v2) on the PATH of containerd",
            )
        ]
    return [Check("containerd runtimes", "pass", f"{listed}; every shim exists")]


async def _kata_checks(
    transport: Transport, tools: Mapping[str, str], vm_runtimes: Sequence[str], report: HostReport
) -> list[Check]:
    if "kata-runtime" not in tools and "kata-ctl" not in tools:
        if vm_runtimes:
            return [
                Check(
                    "kata",
                    "warn",
                    f"Docker has {', '.join(vm_runtimes)} but neither kata-runtime nor kata-ctl is on the "
                    "PATH: its configuration (hypervisor, shared filesystem, VM size) cannot be read",
                    "put /opt/kata/bin on the PATH of the user katatui connects as",
                )
            ]
        return [Check("kata", "pass", "not installed, and no Docker runtime here needs it")]
    checks: list[Check] = []
    config = kata.KataConfig()
    if "kata-runtime" in tools:
        got = await _try(transport, ["kata-runtime", "check"], timeout=120)
        if got is not None:
            verdict = guest.parse_kata_check(got[1] + "\n" + got[2])
            report.facts["kata_check"] = {
                "capable": verdict.capable,
                "can_create": verdict.can_create,
                "errors": list(verdict.errors),
            }
            if verdict.capable is False or (got[0] != 0 and verdict.errors):
                checks.append(
                    Check(
                        "kata-runtime check",
                        "fail",
                        "; ".join(verdict.errors) or "the system is not capable of running Kata",
                        "fix what kata-runtime check reports (run it as root for the details)",
                    )
                )
            elif verdict.capable:
                checks.append(
                    Check(
                        "kata-runtime check",
                        "pass",
                        "the system is capable of running Kata"
                        + (" and can create Kata containers now" if verdict.can_create else ""),
                    )
                )
            else:
                checks.append(
                    Check(
                        "kata-runtime check",
                        "warn",
                        f"no verdict (exit status {got[0]})",
                        "run `kata-runtime check` as root to see why",
                    )
                )
        for argv in (["kata-runtime", "env"], ["kata-runtime", "kata-env"]):
            got = await _try(transport, argv, timeout=60)
            if got is not None and got[0] == 0:
                with contextlib.suppress(ValueError, tomllib.TOMLDecodeError):
                    config = kata.parse_env(got[1])
                    break
    if config.hypervisor_path is None and "kata-ctl" in tools:
        got = await _try(transport, ["kata-ctl", "env"], timeout=60)
        if got is not None and got[0] == 0:
            with contextlib.suppress(ValueError, tomllib.TOMLDecodeError):
                config = kata.parse_env(got[1])
    if config.config_path:
        got = await _try(transport, ["cat", "--", config.config_path], timeout=30)
        if got is not None and got[0] == 0:
            with contextlib.suppress(ValueError):
                config = config.merged(kata.parse_configuration(got[1], config.config_path))
    report.facts["kata_config"] = config.as_dict()
    if config.hypervisor_path is None and config.shared_fs is None:
        checks.append(
            Check(
                "kata configuration",
                "warn",
                "kata-runtime env / kata-ctl env gave nothing readable",
                "run `kata-runtime env` on the host to see what is wrong",
            )
        )
    else:
        notes = []
        if config.shared_fs == "virtio-9p":
            notes.append("virtio-9p is slow for file I/O (seeds 001-003)")
        if config.virtio_fs_cache in ("never", "none"):
            notes.append("virtio-fs cache is off: metadata goes to the host every time")
        checks.append(
            Check(
                "kata configuration",
                "pass",
                config.describe()
                + (f" (from {config.config_path})" if config.config_path else "")
                + ("; " + "; ".join(notes) if notes else ""),
            )
        )
    return checks


# -- a profile's scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioNeeds:
    """What one (scenario, target) of a profile asks for."""

    scenario: str
    target: str
    launcher: str
    runtime: str | None
    image: str
    own_image: bool  # katatui's image (built when missing) rather than the user's
    host_tools: frozenset[str] = frozenset()
    limits: Limits | None = None  # what its runs get: the scenario's own, else the profile's [limits]
    own_limits: bool = False  # the scenario's own limits rather than the profile's [limits]


def scenario_checks(
    needs: ScenarioNeeds,
    report: HostReport,
    *,
    docker_error: str | None,
    image_present: bool | None,
    containerd: ContainerdFound | None = None,
    cluster: ClusterReport | None = None,
) -> list[Check]:
    """Whether the scenario can run on that target, from what doctor found there (``containerd``:
    what ``ctr`` said, for a containerd scenario; ``cluster``: the profile's Kubernetes cluster)."""
    scope = f"scenario {needs.scenario}@{needs.target}"
    if report.error:
        return [Check("target", "fail", report.error, "check the target's address and that it is up", scope)]
    checks = _launcher_checks(
        needs,
        report,
        scope,
        docker_error=docker_error,
        image_present=image_present,
        containerd=containerd,
        cluster=cluster,
    )
    return checks + limits_checks(needs, report, scope)


def _launcher_checks(
    needs: ScenarioNeeds,
    report: HostReport,
    scope: str,
    *,
    docker_error: str | None,
    image_present: bool | None,
    containerd: ContainerdFound | None,
    cluster: ClusterReport | None,
) -> list[Check]:
    checks: list[Check] = []
    tools = report.facts.get("host_tools") or {}
    missing = sorted(t for t in needs.host_tools if t not in tools)
    if missing:
        checks.append(
            Check(
                "programs",
                "fail",
                not_installed(missing, needs.target),
                f"install {' '.join(missing)} (Debian: apt-get install ...)",
                scope,
            )
        )
    if needs.launcher == "bare":
        if not missing:
            checks.append(Check("bare", "pass", "runs directly on the host", "", scope))
        return checks
    assert needs.runtime is not None
    if needs.launcher == "containerd":
        if containerd is None:
            return checks
        return checks + containerd_scenario_checks(needs, report, containerd, scope)
    if needs.launcher == "kubernetes":
        if cluster is None:
            return checks
        return checks + kubernetes_scenario_checks(needs, cluster, scope)
    runtimes = report.facts.get("docker_runtimes") or []
    if docker_error is not None and not runtimes:
        checks.append(
            Check("docker", "fail", docker_error, "start dockerd or fix the target's docker_socket", scope)
        )
        return checks
    if needs.runtime not in runtimes:
        checks.append(
            Check(
                "runtime",
                "fail",
                f"Docker on {needs.target} has no runtime {needs.runtime!r} "
                f"(it has: {', '.join(registered_runtimes(runtimes)) or 'none'})",
                f'install it and register {needs.runtime!r} under "runtimes" in '
                "/etc/docker/daemon.json, or remove the scenario",
                scope,
            )
        )
        return checks
    program = (report.facts.get("docker_runtime_programs") or {}).get(needs.runtime)
    if not program:
        checks.append(
            Check(
                "runtime",
                "fail",
                f"the program of runtime {needs.runtime!r} is not on the host",
                "install it or fix its path in /etc/docker/daemon.json",
                scope,
            )
        )
    else:
        checks.append(Check("runtime", "pass", f"{needs.runtime} is registered ({program})", "", scope))
    checks += _kvm_checks(needs, report, scope)
    if image_present is False:
        if needs.own_image:
            checks.append(
                Check(
                    "image",
                    "warn",
                    f"{needs.image} is not on {needs.target} yet",
                    "katatui builds it when a run starts (or run `katatui image build --from-host`)",
                    scope,
                )
            )
        else:
            checks.append(
                Check(
                    "image",
                    "fail",
                    f"image {needs.image} is not on {needs.target}",
                    "load it there (docker load / docker pull)",
                    scope,
                )
            )
    elif image_present:
        checks.append(Check("image", "pass", f"{needs.image} is present", "", scope))
    return checks


def describe_limits(limits: Limits) -> str:
    """The limits as the container gets them: ``--cpus 2 --memory 1g``."""
    parts = []
    if limits.cpus:
        parts.append(f"--cpus {limits.cpus:g}")
    if limits.memory:
        parts.append(f"--memory {limits.memory}")
    return " ".join(parts)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


def limits_checks(needs: ScenarioNeeds, report: HostReport, scope: str) -> list[Check]:
    """The scenario's cpus and memory limits against the target's CPUs and memory. A limit above
    what the host has fails: Docker refuses ``--cpus`` above the host's CPU count ("Range of CPUs
    is from 0.01 to 2.00, as there are only 2 CPUs available"), and a sandbox cannot be given more
    memory than the host has, so its runs would not measure what the profile asks. Bare runs take
    no limits; Kubernetes pods run on the cluster's nodes, whose size is not this target's."""
    limits = needs.limits
    if needs.launcher not in ("docker", "containerd") or limits is None:
        return []
    if not limits.cpus and not limits.memory:
        return []
    if needs.own_limits:
        where = f"the limits of scenario {needs.scenario}"
        how = f"in the profile's [[scenarios]] entry {needs.scenario}"
    else:
        where = "the profile's [limits]"
        how = "in the profile's [limits] (or --set limits.{key}=...)"
    nproc = report.facts.get("nproc")
    mem_kb = report.facts.get("mem_total_kb")
    problems: list[tuple[str, str]] = []  # (why, todo)
    fine: list[str] = []
    unknown: list[str] = []
    if limits.cpus:
        if not isinstance(nproc, int) or nproc <= 0:
            unknown.append(f"CPUs (nproc gave nothing), so cpus = {limits.cpus:g} is not checked")
        elif limits.cpus > nproc:
            refused = (
                f"Docker refuses --cpus {limits.cpus:g} there (its range is 0.01 to {nproc}.00), so "
                f"every run of {needs.scenario} on {needs.target} would fail"
                if needs.launcher == "docker"
                else f"the sandbox cannot get {limits.cpus:g} CPUs there, so the runs would not "
                "measure what the profile asks"
            )
            problems.append(
                (
                    f"{where} ask for cpus = {limits.cpus:g}, but {needs.target} has only {nproc} "
                    f"CPU{'s' if nproc != 1 else ''}: {refused}",
                    f"set cpus to at most {nproc} {how.format(key='cpus')}, or run scenario "
                    f"{needs.scenario} on a target with {math.ceil(limits.cpus)} CPUs or more",
                )
            )
        else:
            fine.append(f"cpus {limits.cpus:g} of {nproc}")
    if limits.memory:
        asked = parse_size(limits.memory)
        if not isinstance(mem_kb, int) or mem_kb <= 0:
            unknown.append(
                f"memory (no MemTotal in /proc/meminfo), so memory = {limits.memory} is not checked"
            )
        elif asked > mem_kb * 1024:
            problems.append(
                (
                    f"{where} ask for memory = {limits.memory} ({_gib(asked)}), but {needs.target} has "
                    f"only {_gib(mem_kb * 1024)} (MemTotal): the sandbox cannot get that much, so the "
                    "runs would not measure what the profile asks",
                    f"set memory to at most {mem_kb // 1024}m {how.format(key='memory')}, or run "
                    f"scenario {needs.scenario} on a target with more memory",
                )
            )
        else:
            fine.append(f"memory {limits.memory} of {_gib(mem_kb * 1024)}")
    if problems:
        return [
            Check(
                "limits",
                "fail",
                "; ".join(why for why, _ in problems),
                "; ".join(todo for _, todo in problems),
                scope,
            )
        ]
    if unknown:
        return [
            Check(
                "limits",
                "warn",
                f"could not read {needs.target}'s " + "; nor its ".join(unknown),
                "check that nproc and /proc/meminfo work on the target",
                scope,
            )
        ]
    return [
        Check(
            "limits",
            "pass",
            f"{describe_limits(limits)} ({where}) fit {needs.target}: {', '.join(fine)}",
            "",
            scope,
        )
    ]


def _kvm_checks(needs: ScenarioNeeds, report: HostReport, scope: str) -> list[Check]:
    assert needs.runtime is not None
    if guest.sandbox_kind(needs.runtime) == "vm" and not report.kvm_usable:
        return [
            Check(
                "kvm",
                "fail",
                f"{needs.runtime} starts a VM, and /dev/kvm is not usable on {needs.target}",
                "see the /dev/kvm check above",
                scope,
            )
        ]
    return []


# -- containerd scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerdFound:
    """What ``ctr`` showed for one containerd scenario on its target."""

    socket: str
    error: str | None = None  # ctr is missing or containerd does not answer (Ctr.check's words)
    version: str | None = None
    shim: str | None = None  # where the runtime's shim is; None when it is nowhere containerd looks
    image_in_containerd: bool | None = None  # in katatui's namespace
    image_in_docker: bool | None = None  # in a Docker daemon katatui imports it from at run time


def containerd_scenario_checks(
    needs: ScenarioNeeds, report: HostReport, found: ContainerdFound, scope: str
) -> list[Check]:
    """containerd answers, the runtime's shim exists, KVM for a VM runtime, the image."""
    assert needs.runtime is not None
    if found.error is not None:
        return [
            Check(
                "containerd",
                "fail",
                found.error,
                "start containerd, or set the target's containerd_socket to the socket it listens "
                "on (and let this user use it)",
                scope,
            )
        ]
    checks = [Check("containerd", "pass", f"containerd {found.version} answers at {found.socket}", "", scope)]
    binary = shim_binary(needs.runtime)
    if found.shim is None:
        checks.append(
            Check(
                "runtime",
                "fail",
                f"{binary or needs.runtime} not on PATH (nor next to containerd, in /usr/local/bin, "
                f"/usr/bin or /opt/kata/bin) on {needs.target}: containerd cannot start {needs.runtime}",
                "install it (Kata Containers provides containerd-shim-kata-v2) or fix the scenario's runtime",
                scope,
            )
        )
    elif binary is None:
        checks.append(
            Check(
                "runtime",
                "pass",
                f"{needs.runtime} is not an io.containerd.NAME.vN type: containerd resolves it itself "
                "(ctr says at run time if it cannot)",
                "",
                scope,
            )
        )
    else:
        checks.append(Check("runtime", "pass", f"{needs.runtime}: shim {found.shim}", "", scope))
    checks += _kvm_checks(needs, report, scope)
    ref = image_ref(needs.image)
    address = "" if found.socket == CTR_DEFAULT_SOCKET else f"--address {found.socket} "
    import_hint = f"docker save {needs.image} | ctr {address}-n {CTR_NAMESPACE} images import -"
    if found.image_in_containerd:
        checks.append(
            Check("image", "pass", f"{ref} is in containerd's namespace {CTR_NAMESPACE}", "", scope)
        )
    elif found.image_in_containerd is False and found.image_in_docker:
        checks.append(
            Check(
                "image",
                "warn",
                f"{ref} is not in containerd's namespace {CTR_NAMESPACE} on {needs.target} yet; "
                "katatui imports it from Docker when a run starts",
                f"nothing, or import it now: {import_hint}",
                scope,
            )
        )
    elif found.image_in_containerd is False:
        checks.append(
            Check(
                "image",
                "fail",
                f"image {needs.image} is neither in containerd's namespace {CTR_NAMESPACE} on "
                f"{needs.target} nor in a Docker daemon katatui can reach",
                (
                    "build it with `katatui image build --from-host`; katatui then imports it"
                    if needs.own_image
                    else f"on {needs.target}: {import_hint}"
                ),
                scope,
            )
        )
    return checks


async def probe_containerd(
    ctr: Ctr,
    version: str | None,
    error: str | None,
    needs: ScenarioNeeds,
    docker_has: Callable[[str], Awaitable[bool]],
) -> ContainerdFound:
    """Ask containerd (through ``ctr``, as the launcher does) what one scenario needs; ``version``
    and ``error`` are what ``Ctr.check`` gave for the target."""
    if error is not None:
        return ContainerdFound(ctr.socket, error=error)
    assert needs.runtime is not None
    try:
        shim = await ctr.find_shim(needs.runtime)
        in_ctr = await ctr.has_image(image_ref(needs.image))
    except KatatuiError as exc:
        return ContainerdFound(ctr.socket, error=str(exc))
    in_docker = None if in_ctr else await docker_has(needs.image)
    return ContainerdFound(ctr.socket, None, version, shim, in_ctr, in_docker)


# -- Kubernetes scenarios ---------------------------------------------------------------------------


@dataclass
class ClusterReport:
    """The profile's Kubernetes cluster: whether its API server answers, and its RuntimeClasses."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    server: str | None = None
    runtime_classes: dict[str, RuntimeClassInfo] = field(default_factory=dict)
    error: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.context or "(current context)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kubeconfig": self.kubeconfig,
            "context": self.context,
            "server": self.server,
            "namespace": self.namespace,
            "error": self.error,
            "runtime_classes": [
                {"name": rc.name, "handler": rc.handler, "overhead": dict(rc.overhead)}
                for rc in self.runtime_classes.values()
            ],
            "checks": [c.as_dict() for c in self.checks],
        }


def describe_overhead(overhead: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in overhead.items()) if overhead else "none"


async def check_cluster(config: KubernetesConfig) -> ClusterReport:
    """Connect as the launcher does (kubeconfig, context) and list the cluster's RuntimeClasses.
    Read only: unlike a run, doctor neither creates katatui's namespace nor removes anything."""
    report = ClusterReport(config.kubeconfig, config.context, config.namespace)
    scope = "cluster"
    try:
        cluster = await KubeCluster.connect(config)
    except KatatuiError as exc:
        report.error = str(exc)
        report.checks.append(
            Check(
                "kubeconfig", "fail", str(exc), "fix [kubernetes] kubeconfig / context in the profile", scope
            )
        )
        return report
    report.context, report.server = cluster.context, cluster.server
    report.checks.append(
        Check("kubeconfig", "pass", f"context {cluster.context}: API server {cluster.server}", "", scope)
    )
    try:
        report.runtime_classes = await cluster.runtime_classes()
    except KatatuiError as exc:
        report.error = str(exc)
        report.checks.append(
            Check(
                "runtimeclasses",
                "fail",
                str(exc),
                "check that the API server is up and that the context's user may list runtimeclasses",
                scope,
            )
        )
        return report
    finally:
        await asyncio.to_thread(cluster.close)
    listed = ", ".join(f"{rc.name} (handler {rc.handler})" for rc in report.runtime_classes.values())
    report.checks.append(
        Check(
            "runtimeclasses",
            "pass" if report.runtime_classes else "warn",
            f"{len(report.runtime_classes)}: {listed}" if listed else "the cluster has no RuntimeClass",
            "" if listed else "install one (Kata's kata-deploy creates kata-qemu, kata-clh, ...)",
            scope,
        )
    )
    return report


def kubernetes_scenario_checks(needs: ScenarioNeeds, cluster: ClusterReport, scope: str) -> list[Check]:
    """The cluster answers and has the scenario's RuntimeClass. The node's own checks (KVM, Kata)
    are not this machine's: they need ``katatui doctor`` on the node."""
    assert needs.runtime is not None
    if cluster.error is not None:
        return [
            Check(
                "kubernetes",
                "fail",
                cluster.error,
                "fix [kubernetes] kubeconfig / context in the profile, or check that the cluster is up",
                scope,
            )
        ]
    rc = cluster.runtime_classes.get(needs.runtime)
    if rc is None:
        have = ", ".join(f"{r.name} (handler {r.handler})" for r in cluster.runtime_classes.values())
        return [
            Check(
                "runtimeclass",
                "fail",
                f"the cluster (context {cluster.context}) has no RuntimeClass {needs.runtime!r} "
                f"(it has: {have or 'none'})",
                "create it, or set the scenario's runtime to one of those",
                scope,
            )
        ]
    checks = [
        Check(
            "runtimeclass",
            "pass",
            f"RuntimeClass {rc.name}: handler {rc.handler}, pod overhead {describe_overhead(rc.overhead)}",
            "",
            scope,
        )
    ]
    on_node = (
        f"the pods run on the cluster's nodes, not on {needs.target}: the nodes' own checks "
        "(/dev/kvm, kernel modules, the runtime) need `katatui doctor` on a node"
    )
    if "vm" in (guest.sandbox_kind(rc.handler), guest.sandbox_kind(rc.name)):
        checks.append(
            Check(
                "node",
                "warn",
                f"handler {rc.handler} starts a VM; {on_node}",
                "run `katatui doctor ssh://USER@NODE` against the nodes the pods may land on",
                scope,
            )
        )
    else:
        checks.append(Check("node", "pass", on_node, "", scope))
    return checks


async def host_resources(transport: Transport) -> dict[str, Any]:
    """As the engine sees the host: the workload programs it has (fio, iperf3, ...) as
    ``host_tools``, its CPU count (``nproc``) and memory (``mem_total_kb``, from MemTotal)."""
    facts = await hostfacts.probe(transport)
    tools = facts.get("tools")
    return {
        "host_tools": dict(tools) if isinstance(tools, dict) else {},
        "nproc": facts.get("nproc"),
        "mem_total_kb": facts.get("mem_total_kb"),
    }


# -- everything, for the command and the start screen ------------------------------------------------


@dataclass
class Diagnosis:
    hosts: list[HostReport]
    scenarios: list[Check] = field(default_factory=list)
    canaries: list[Check] = field(default_factory=list)
    with_profile: bool = False
    clusters: list[ClusterReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def all_checks(self) -> list[Check]:
        hosts = [c for h in self.hosts for c in h.checks]
        return hosts + [c for k in self.clusters for c in k.checks] + self.scenarios + self.canaries

    @property
    def exit_code(self) -> int:
        """With a profile: 1 when one of its scenarios cannot run (or its canary failed).
        Without: 1 when any check failed (an unreachable target, a registered runtime whose
        program is missing, a VM runtime on a host without KVM...)."""
        if self.with_profile:
            failed = any(c.status == "fail" for c in self.scenarios + self.canaries)
        else:
            failed = any(c.status == "fail" for c in self.all_checks()) or any(h.error for h in self.hosts)
        return 1 if failed else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            "hosts": [h.as_dict() for h in self.hosts],
            "scenarios": [c.as_dict() for c in self.scenarios],
            "canaries": [c.as_dict() for c in self.canaries],
            "clusters": [k.as_dict() for k in self.clusters],
            "notes": list(self.notes),
        }


async def _ctr_for(transport: Transport, socket: str | None) -> tuple[Ctr, str | None, str | None]:
    """``ctr`` on the target's containerd socket, as the launcher uses it: (ctr, version, error)."""
    ctr = Ctr(transport, socket)
    try:
        return ctr, await ctr.check(), None
    except KatatuiError as exc:
        return ctr, None, str(exc)


async def diagnose(
    targets: Mapping[str, Any],
    profile: Any | None = None,
    *,
    canary: bool = True,
    log: Callable[[str], None] = lambda _m: None,
) -> Diagnosis:
    """Run every check on ``targets`` (name -> TargetConfig); with a profile, check each of its
    scenarios on its targets and, when ``canary``, start the canary under each runnable one."""
    from katatui.core.image import IMAGE_TAG, image_present
    from katatui.core.plan import resolve_scenarios
    from katatui.core.workloads.registry import driver_for

    diagnosis = Diagnosis([], with_profile=profile is not None)
    transports: dict[str, Transport] = {}
    clients: dict[str, docker.DockerClient] = {}
    docker_errors: dict[str, str | None] = {}
    reports: dict[str, HostReport] = {}
    own_clients: list[docker.DockerClient | None] = []  # this machine's Docker, for remote targets
    try:
        for name, cfg in targets.items():
            transport = make_transport(name, cfg, log)
            transports[name] = transport
            try:
                await transport.connect()
            except KatatuiError as exc:
                report = HostReport(name, transport.address, error=str(exc))
                report.checks.append(
                    Check("connect", "fail", str(exc), "check the address, keys and known_hosts")
                )
                reports[name] = report
                continue
            client: docker.DockerClient | None = None
            docker_errors[name] = None
            try:
                client = await transport.docker_client(cfg.docker_socket)
                clients[name] = client
            except KatatuiError as exc:
                docker_errors[name] = str(exc)
            try:
                report = await check_host(transport, client, docker_errors[name])
                report.facts.update(await host_resources(transport))
            except KatatuiError as exc:
                report = HostReport(name, transport.address, error=str(exc))
                report.checks.append(Check("probe", "fail", str(exc), "check that the host runs a POSIX sh"))
            reports[name] = report
        diagnosis.hosts = list(reports.values())
        if profile is None:
            return diagnosis
        reported = {n: (r.facts.get("docker_runtimes") if n in clients else None) for n, r in reports.items()}
        scenarios, _warnings = resolve_scenarios(profile, reported)
        cluster: ClusterReport | None = None
        if any(sc.launcher == "kubernetes" for sc in scenarios):
            cluster = await check_cluster(profile.kubernetes)
            diagnosis.clusters.append(cluster)
        ctrs: dict[str, tuple[Ctr, str | None, str | None]] = {}  # target -> (ctr, version, error)

        async def docker_has(t: str, image: str) -> bool:
            """Whether a Docker daemon the containerd launcher imports from has the image: the
            target's, then this machine's (as LauncherSetup._image_sources)."""
            for client in await import_sources(t):
                with contextlib.suppress(KatatuiError):
                    if await image_present(client, image):
                        return True
            return False

        async def import_sources(t: str) -> list[docker.DockerClient]:
            sources = [clients[t]] if t in clients else []
            if transports[t].is_local:
                return sources
            local = next((clients[n] for n in clients if transports[n].is_local), None)
            if local is None and not own_clients:
                from katatui.core.transport.local import LocalTransport

                try:
                    own_clients.append(await LocalTransport().docker_client(None))
                except KatatuiError:
                    own_clients.append(None)
            local = local or own_clients[0]
            return sources + ([local] if local is not None else [])

        runnable: list[tuple[str, str, str, str, Limits]] = []
        for sc in scenarios:
            limits = sc.limits or profile.limits
            for t in sc.targets:
                tools: set[str] = set()
                for w in profile.workloads:
                    if sc.launcher in w.LAUNCHERS:
                        tools |= driver_for(w).host_tools(sc.launcher)
                needs = ScenarioNeeds(
                    sc.name,
                    t,
                    sc.launcher,
                    sc.runtime,
                    sc.image,
                    sc.image == IMAGE_TAG,
                    frozenset(tools),
                    limits,
                    sc.limits is not None,
                )
                present: bool | None = None
                if sc.launcher == "docker" and t in clients:
                    present = await image_present(clients[t], sc.image)
                in_ctr: ContainerdFound | None = None
                if sc.launcher == "containerd" and not reports[t].error:
                    if t not in ctrs:
                        ctrs[t] = await _ctr_for(transports[t], targets[t].containerd_socket)
                        ctr, version, error = ctrs[t]
                        reports[t].facts["containerd"] = {
                            "socket": ctr.socket,
                            "version": version,
                            "error": error,
                        }
                    ctr, version, error = ctrs[t]
                    in_ctr = await probe_containerd(
                        ctr, version, error, needs, functools.partial(docker_has, t)
                    )
                found = scenario_checks(
                    needs,
                    reports[t],
                    docker_error=docker_errors.get(t),
                    image_present=present,
                    containerd=in_ctr,
                    cluster=cluster,
                )
                diagnosis.scenarios += found
                image_ok = present or (present is False and needs.own_image is False)
                if (
                    sc.launcher == "docker"
                    and sc.runtime
                    and worst(found) != "fail"
                    and t in clients
                    and present
                    and image_ok
                ):
                    runnable.append((sc.name, t, sc.runtime, sc.image, limits))
        others = [sc.name for sc in scenarios if sc.launcher in ("containerd", "kubernetes")]
        if canary and others:
            diagnosis.notes.append(
                f"no canary for {', '.join(others)}: containerd and kubernetes scenarios have no canary "
                "yet (a run still reads each one's kernel and filesystem from inside when it starts)"
            )
        if canary:
            from katatui.core.canary import run_canary

            for name, t, runtime, image, limits in runnable:
                result = await run_canary(
                    transports[t],
                    clients[t],
                    scenario=name,
                    runtime=runtime,
                    image=image,
                    host_kernel=reports[t].facts.get("kernel"),
                    limits=limits,
                    program=(reports[t].facts.get("docker_runtime_programs") or {}).get(runtime),
                )
                given = describe_limits(limits)
                todo = (
                    ""
                    if result.status == "pass"
                    else (
                        "check the runtime's configuration; "
                        "`katatui doctor` without a profile shows the host's checks"
                        + (
                            f"; the canary ran with {given} as the runs will: if {runtime} refuses "
                            "them, change the limits ([limits] or the scenario's own)"
                            if given
                            else ""
                        )
                    )
                )
                diagnosis.canaries.append(
                    Check(
                        "canary",
                        result.status,
                        (f"{isolation.summary(vars(result))}: " if result.isolation else "")
                        + result.why
                        + (f" (with {given})" if given else ""),
                        todo,
                        f"canary {name}@{t}",
                    )
                )
        return diagnosis
    finally:
        for client in [*clients.values(), *own_clients]:
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(client.close)
        for transport in transports.values():
            with contextlib.suppress(Exception):
                await transport.close()
