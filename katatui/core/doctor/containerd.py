"""containerd on a target: the runtimes its CRI plugin names and whether their shims exist; and
for a containerd scenario, what ``ctr`` (as the launcher uses it) shows: containerd answers, the
runtime's shim, KVM for a VM runtime, and the image in katatui's namespace."""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from katatui.core.doctor.checks import Check, HostReport, ScenarioNeeds, kvm_checks, try_run, which
from katatui.core.errors import KatatuiError
from katatui.core.isolation import runtime_program
from katatui.core.launchers.containerd import DEFAULT_SOCKET as CTR_DEFAULT_SOCKET
from katatui.core.launchers.containerd import NAMESPACE as CTR_NAMESPACE
from katatui.core.launchers.containerd import Ctr, image_ref, shim_binary
from katatui.core.transport.base import Transport


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


async def containerd_host_checks(
    transport: Transport, tools: Mapping[str, str], report: HostReport
) -> list[Check]:
    if "containerd" not in tools:
        return []
    got = await try_run(transport, ["containerd", "config", "dump"], timeout=30)
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
    found = await which(transport, sorted(set(programs.values())))
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
    checks += kvm_checks(needs, report, scope)
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


async def ctr_for(transport: Transport, socket: str | None) -> tuple[Ctr, str | None, str | None]:
    """``ctr`` on the target's containerd socket, as the launcher uses it: (ctr, version, error)."""
    ctr = Ctr(transport, socket)
    try:
        return ctr, await ctr.check(), None
    except KatatuiError as exc:
        return ctr, None, str(exc)
