"""A container scenario's limits (its own, else the profile's ``[limits]``) held against the
target's CPUs (``nproc``) and memory (MemTotal): Docker refuses ``--cpus`` above the host's CPU
count, so such a profile fails here rather than in every run."""

from __future__ import annotations

import math

from katatui.core.doctor.checks import Check, HostReport, ScenarioNeeds
from katatui.core.profile import Limits
from katatui.core.schema import parse_size


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
