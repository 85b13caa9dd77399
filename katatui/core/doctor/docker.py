"""Docker on a target: the runtimes its daemon has registered and whether their programs exist;
and for a Docker scenario, its runtime, KVM for a VM runtime, and its image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katatui.core.doctor.checks import Check, HostReport, ScenarioNeeds, kvm_checks, which
from katatui.core.isolation import runtime_program
from katatui.core.plan import registered_runtimes
from katatui.core.transport.base import Transport


async def docker_host_checks(
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
    found = await which(transport, sorted(set(programs.values())))
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


def docker_scenario_checks(
    needs: ScenarioNeeds,
    report: HostReport,
    scope: str,
    *,
    docker_error: str | None,
    image_present: bool | None,
) -> list[Check]:
    """Docker answers and has the scenario's runtime, whose program exists; KVM for a VM runtime;
    the image (katatui's own is built when a run starts, the user's must be there)."""
    assert needs.runtime is not None
    checks: list[Check] = []
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
    checks += kvm_checks(needs, report, scope)
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
