"""The profile's diagnosis: each of its scenarios is checked on its targets by its own launcher's
code (Docker, containerd, Kubernetes), its limits are held against the target, and a canary starts
under each Docker scenario that can run, with the same limits as the runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from katatui.core import isolation
from katatui.core.doctor.checks import Check, HostReport, ScenarioNeeds, worst
from katatui.core.doctor.containerd import (
    ContainerdFound,
    containerd_scenario_checks,
    ctr_for,
    probe_containerd,
)
from katatui.core.doctor.docker import docker_scenario_checks
from katatui.core.doctor.host import check_host, host_resources
from katatui.core.doctor.kubernetes import ClusterReport, check_cluster, kubernetes_scenario_checks
from katatui.core.doctor.limits import describe_limits, limits_checks
from katatui.core.errors import KatatuiError, TargetError
from katatui.core.hosts import Host, install_hint, not_installed
from katatui.core.launchers.containerd import Ctr
from katatui.core.profile import Limits
from katatui.core.transport.base import Transport

if TYPE_CHECKING:
    import docker

    from katatui.core.canary import CanaryResult
    from katatui.core.plan import ResolvedScenario


# -- one scenario on one target ---------------------------------------------------------------------


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
                install_hint(missing),
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
    return checks + docker_scenario_checks(
        needs, report, scope, docker_error=docker_error, image_present=image_present
    )


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


class _Canary(NamedTuple):
    """A Docker scenario on a target whose checks passed: the canary starts under it."""

    scenario: str
    target: str
    runtime: str
    image: str
    limits: Limits


@dataclass
class _Targets:
    """The targets doctor reached, while it runs: their transports, Docker clients and reports;
    closed at the end."""

    configs: Mapping[str, Any]  # name -> TargetConfig
    transports: dict[str, Transport] = field(default_factory=dict)
    clients: dict[str, docker.DockerClient] = field(default_factory=dict)
    docker_errors: dict[str, str | None] = field(default_factory=dict)
    reports: dict[str, HostReport] = field(default_factory=dict)
    own_clients: list[docker.DockerClient | None] = field(default_factory=list)  # for remote targets
    ctrs: dict[str, tuple[Ctr, str | None, str | None]] = field(default_factory=dict)  # (ctr, version, error)

    async def check(self, name: str, log: Callable[[str], None]) -> None:
        """Reach one target (as the engine does), its Docker daemon, and run every host check there."""
        host = await Host.of(name, self.configs[name], log).probe(docker=True)
        self.transports[name] = host.transport
        if not host.connected:
            assert host.error is not None
            report = HostReport(name, host.address, error=host.error)
            report.checks.append(
                Check("connect", "fail", host.error, "check the address, keys and known_hosts")
            )
            self.reports[name] = report
            return
        if host.docker is not None:
            self.clients[name] = host.docker
        self.docker_errors[name] = host.docker_error
        try:
            if host.error:
                raise TargetError(host.error)
            report = await check_host(host.transport, host.docker, host.docker_error)
            report.facts.update(host_resources(host.facts))
        except KatatuiError as exc:
            report = HostReport(name, host.address, error=str(exc))
            report.checks.append(Check("probe", "fail", str(exc), "check that the host runs a POSIX sh"))
        self.reports[name] = report

    async def ctr(self, t: str) -> tuple[Ctr, str | None, str | None]:
        """``ctr`` on the target's containerd socket, asked once per target (noted in its facts)."""
        if t not in self.ctrs:
            self.ctrs[t] = await ctr_for(self.transports[t], self.configs[t].containerd_socket)
            ctr, version, error = self.ctrs[t]
            self.reports[t].facts["containerd"] = {"socket": ctr.socket, "version": version, "error": error}
        return self.ctrs[t]

    async def docker_has(self, t: str, image: str) -> bool:
        """Whether a Docker daemon the containerd launcher imports from has the image: the
        target's, then this machine's (as LauncherSetup._image_sources)."""
        from katatui.core.image import image_present

        for client in await self.import_sources(t):
            with contextlib.suppress(KatatuiError):
                if await image_present(client, image):
                    return True
        return False

    async def import_sources(self, t: str) -> list[docker.DockerClient]:
        sources = [self.clients[t]] if t in self.clients else []
        if self.transports[t].is_local:
            return sources
        local = next((self.clients[n] for n in self.clients if self.transports[n].is_local), None)
        if local is None and not self.own_clients:
            from katatui.core.transport.local import LocalTransport

            try:
                self.own_clients.append(await LocalTransport().docker_client(None))
            except KatatuiError:
                self.own_clients.append(None)
        local = local or self.own_clients[0]
        return sources + ([local] if local is not None else [])

    async def close(self) -> None:
        for client in [*self.clients.values(), *self.own_clients]:
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(client.close)
        for transport in self.transports.values():
            with contextlib.suppress(Exception):
                await transport.close()


def _scenario_needs(profile: Any, sc: ResolvedScenario, t: str, limits: Limits) -> ScenarioNeeds:
    """What the scenario asks of target ``t``: the programs its workloads run on the host, its
    image, its limits."""
    from katatui.core.image import IMAGE_TAG
    from katatui.core.workloads.registry import driver_for

    tools: set[str] = set()
    for w in profile.workloads:
        if sc.launcher in w.LAUNCHERS:
            tools |= driver_for(w).host_tools(sc.launcher)
    own_image, own_limits = sc.image == IMAGE_TAG, sc.limits is not None
    return ScenarioNeeds(
        sc.name, t, sc.launcher, sc.runtime, sc.image, own_image, frozenset(tools), limits, own_limits
    )


async def _check_scenario(
    state: _Targets, needs: ScenarioNeeds, cluster: ClusterReport | None
) -> tuple[list[Check], bool | None]:
    """One scenario on one target, asking its launcher's daemon what it needs: (the checks,
    whether its image is on the target's Docker, None when not asked)."""
    from katatui.core.image import image_present

    t = needs.target
    present: bool | None = None
    if needs.launcher == "docker" and t in state.clients:
        present = await image_present(state.clients[t], needs.image)
    in_ctr: ContainerdFound | None = None
    if needs.launcher == "containerd" and not state.reports[t].error:
        ctr, version, error = await state.ctr(t)
        in_ctr = await probe_containerd(ctr, version, error, needs, functools.partial(state.docker_has, t))
    found = scenario_checks(
        needs,
        state.reports[t],
        docker_error=state.docker_errors.get(t),
        image_present=present,
        containerd=in_ctr,
        cluster=cluster,
    )
    return found, present


async def _check_scenarios(
    diagnosis: Diagnosis, state: _Targets, profile: Any, canary: bool
) -> list[_Canary]:
    """Every scenario of the profile on each of its targets (and its Kubernetes cluster, when one
    needs it); returns the Docker scenarios a canary can start under."""
    from katatui.core.plan import resolve_scenarios

    reported = {
        n: (r.facts.get("docker_runtimes") if n in state.clients else None) for n, r in state.reports.items()
    }
    scenarios, _warnings = resolve_scenarios(profile, reported)
    cluster: ClusterReport | None = None
    if any(sc.launcher == "kubernetes" for sc in scenarios):
        cluster = await check_cluster(profile.kubernetes)
        diagnosis.clusters.append(cluster)
    runnable: list[_Canary] = []
    for sc in scenarios:
        limits = sc.limits or profile.limits
        for t in sc.targets:
            needs = _scenario_needs(profile, sc, t, limits)
            found, present = await _check_scenario(state, needs, cluster)
            diagnosis.scenarios += found
            image_ok = present or (present is False and needs.own_image is False)
            if (
                sc.launcher == "docker"
                and sc.runtime
                and worst(found) != "fail"
                and t in state.clients
                and present
                and image_ok
            ):
                runnable.append(_Canary(sc.name, t, sc.runtime, sc.image, limits))
    others = [sc.name for sc in scenarios if sc.launcher in ("containerd", "kubernetes")]
    if canary and others:
        diagnosis.notes.append(
            f"no canary for {', '.join(others)}: containerd and kubernetes scenarios have no canary "
            "yet (a run still reads each one's kernel and filesystem from inside when it starts)"
        )
    return runnable


def _canary_check(run: _Canary, result: CanaryResult) -> Check:
    """The canary's verdict, with the limits it ran with."""
    given = describe_limits(run.limits)
    todo = (
        ""
        if result.status == "pass"
        else (
            "check the runtime's configuration; "
            "`katatui doctor` without a profile shows the host's checks"
            + (
                f"; the canary ran with {given} as the runs will: if {run.runtime} refuses "
                "them, change the limits ([limits] or the scenario's own)"
                if given
                else ""
            )
        )
    )
    return Check(
        "canary",
        result.status,
        (f"{isolation.summary(vars(result))}: " if result.isolation else "")
        + result.why
        + (f" (with {given})" if given else ""),
        todo,
        f"canary {run.scenario}@{run.target}",
    )


async def _run_canaries(diagnosis: Diagnosis, state: _Targets, runnable: list[_Canary]) -> None:
    """Start the canary under each runnable scenario, with the limits its runs get."""
    from katatui.core.canary import run_canary

    for run in runnable:
        facts = state.reports[run.target].facts
        result = await run_canary(
            state.transports[run.target],
            state.clients[run.target],
            scenario=run.scenario,
            runtime=run.runtime,
            image=run.image,
            host_kernel=facts.get("kernel"),
            limits=run.limits,
            program=(facts.get("docker_runtime_programs") or {}).get(run.runtime),
        )
        diagnosis.canaries.append(_canary_check(run, result))


async def diagnose(
    targets: Mapping[str, Any],
    profile: Any | None = None,
    *,
    canary: bool = True,
    log: Callable[[str], None] = lambda _m: None,
) -> Diagnosis:
    """Run every check on ``targets`` (name -> TargetConfig); with a profile, check each of its
    scenarios on its targets and, when ``canary``, start the canary under each runnable one."""
    diagnosis = Diagnosis([], with_profile=profile is not None)
    state = _Targets(targets)
    try:
        for name in targets:
            await state.check(name, log)
        diagnosis.hosts = list(state.reports.values())
        if profile is None:
            return diagnosis
        runnable = await _check_scenarios(diagnosis, state, profile, canary)
        if canary:
            await _run_canaries(diagnosis, state, runnable)
        return diagnosis
    finally:
        await state.close()
