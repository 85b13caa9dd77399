"""What the start screen offers: targets probed, scenarios each target can run, and the profile the
user's choices make. No Textual here: the start screen renders these, the tests check them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pydantic and the plan load when a profile does, not before the first frame
    from katatui.core.plan import ResolvedScenario
    from katatui.core.profile import Profile, TargetConfig
    from katatui.core.workloads.model import WorkloadBase

PROBE_TIMEOUT = 30.0
START_OVERHEAD = 2.0  # seconds a run spends starting and stopping, beyond the tool's own time


@dataclass(frozen=True)
class TargetProbe:
    name: str
    address: str
    error: str | None = None
    facts: Mapping[str, Any] | None = None
    runtimes: tuple[str, ...] | None = None  # what Docker reports; None when not asked or unreachable
    docker_error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None


async def probe_target(name: str, cfg: TargetConfig, *, docker: bool) -> TargetProbe:
    """Connect, read the host facts and (if a scenario needs it) Docker's runtimes; then disconnect."""
    from katatui.core.hosts import probe

    host = await probe(name, cfg, docker=docker, timeout=PROBE_TIMEOUT)
    try:
        return TargetProbe(
            name, host.address, error=host.error, facts=None if host.error else host.facts,
            runtimes=host.runtimes, docker_error=host.docker_error,
        )  # fmt: skip
    finally:
        await host.close()


@dataclass(frozen=True)
class ScenarioOption:
    """One scenario on one target, as a line the user can tick (or read why not)."""

    key: str  # "<scenario index>:<runtime or ->:<target>"
    label: str
    index: int  # the profile's scenario it comes from
    runtime: str | None
    target: str
    reason: str | None = None  # why it cannot run; None when it can (or we do not know yet)

    @property
    def available(self) -> bool:
        return self.reason is None


def scenario_options(profile: Profile, probes: Mapping[str, TargetProbe]) -> list[ScenarioOption]:
    """Every scenario × target, with wildcards expanded from what each target's Docker reports."""
    from katatui.core.plan import registered_runtimes

    out: list[ScenarioOption] = []
    for i, sc in enumerate(profile.scenarios):
        for t in sc.targets or list(profile.targets):
            p = probes.get(t)
            down = p.error if p is not None and not p.reachable else None
            if sc.launcher == "bare":
                missing = None
                if p is not None and p.facts is not None:
                    from katatui.core.hosts import missing_tools

                    missing = missing_tools(["fio"], p.facts.get("tools", {}), t)
                out.append(ScenarioOption(f"{i}:-:{t}", f"{sc.label} on {t}", i, None, t, down or missing))
                continue
            if sc.launcher in ("containerd", "kubernetes"):  # checked when the session starts, not by Docker
                out.append(
                    ScenarioOption(f"{i}:{sc.runtime}:{t}", f"{sc.label} on {t}", i, sc.runtime, t, down)
                )
                continue
            docker_down = down or (p.docker_error if p is not None else None)
            reported = p.runtimes if p is not None else None
            if sc.runtime == "*":
                if reported is None:
                    why = docker_down or ("probing…" if p is None else "Docker not reachable")
                    out.append(ScenarioOption(f"{i}:*:{t}", f"every Docker runtime on {t}", i, "*", t, why))
                    continue
                for r in registered_runtimes(reported):
                    name = f"{sc.name}-{r}" if sc.name else r
                    out.append(ScenarioOption(f"{i}:{r}:{t}", f"{name} on {t}", i, r, t))
                continue
            reason = docker_down
            if reason is None and reported is not None and sc.runtime not in reported:
                reason = (f"Docker on {t} has no runtime {sc.runtime!r} (it has: {', '.join(reported)}); "
                          "register it in /etc/docker/daemon.json")  # fmt: skip
            out.append(
                ScenarioOption(f"{i}:{sc.runtime}:{t}", f"{sc.label} on {t}", i, sc.runtime, t, reason)
            )
    return out


@dataclass(frozen=True)
class Choices:
    targets: Sequence[str]
    scenarios: Sequence[str]  # ScenarioOption keys
    workloads: Sequence[str]
    repeats: int | Literal["auto"] | None = None  # rounds per cell, or "auto" (until decided)
    pairing: str | None = None
    duration: int | None = None  # every chosen workload's run time in seconds (runtime, duration, time)


def build_profile(profile: Profile, options: Sequence[ScenarioOption], choices: Choices) -> Profile:
    """The profile the user's choices make, validated like a file (a ProfileError names the field)."""
    from katatui.core.profile import profile_from_dict

    data = profile.model_dump(exclude_none=True)
    data["targets"] = {t: data["targets"][t] for t in profile.targets if t in choices.targets}
    chosen = [o for o in options if o.key in choices.scenarios and o.target in choices.targets]
    scenarios: list[dict[str, Any]] = []
    for i, sc in enumerate(profile.scenarios):
        picked = [o for o in chosen if o.index == i]
        runtimes = list(dict.fromkeys(o.runtime for o in picked))
        for r in runtimes:
            base = sc.model_dump(exclude_none=True)
            targets = [o.target for o in picked if o.runtime == r]
            base["targets"] = targets
            if sc.runtime == "*" and r != "*":
                base["runtime"] = r
                base["name"] = f"{sc.name}-{r}" if sc.name else r
            scenarios.append(base)
    data["scenarios"] = scenarios
    data["workloads"] = [w for w in data["workloads"] if w["name"] in choices.workloads]
    if choices.repeats is not None:
        data["repeats"] = choices.repeats
    if choices.pairing is not None:
        data["pairing"] = choices.pairing
    if choices.duration is not None:
        models = {w.name: w for w in profile.workloads}
        for w in data["workloads"]:
            f = duration_field(models[w["name"]])
            if f is not None:
                w[f] = choices.duration
    return profile_from_dict(data, "your choices")


def parse_repeats(text: str) -> int | Literal["auto"]:
    """The start screen's repeats field: a whole number of rounds (1 or more), or ``auto``; anything
    else is a ValueError saying what to enter."""
    raw = text.strip()
    if raw.lower() == "auto":
        return "auto"
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    shown = f"{raw!r}" if raw else "nothing"
    raise ValueError(
        f"repeats: {shown} is not a number of rounds; enter a whole number of 1 or more, or auto "
        "(rounds until every verdict is decided, from min_repeats to max_repeats)"
    )


def repeats_text(profile: Profile) -> str:
    """How many rounds each cell runs, for the start screen: ``3 rounds per cell`` or, under
    ``repeats = "auto"``, ``2 to 10 rounds per cell until every verdict is decided``."""
    if profile.auto:
        budget = f", at most {profile.time_budget} per cell" if profile.time_budget else ""
        return (f'repeats "auto": {profile.min_repeats} to {profile.max_repeats} rounds per cell until '
                f"every verdict is decided{budget}")  # fmt: skip
    return f"{profile.repeats} round(s) per cell"


def resolved(profile: Profile) -> list[ResolvedScenario]:
    """The scenarios of a built profile (no wildcards left, or they count as one scenario)."""
    from katatui.core.plan import ResolvedScenario

    return [
        ResolvedScenario(
            sc.label,
            sc.launcher,
            sc.runtime,
            sc.image,
            tuple(sc.targets or profile.targets),
            sc.limits,
            sc.spread,
        )
        for sc in profile.scenarios
    ]


def duration_field(workload: WorkloadBase) -> str | None:
    """The setting that says how long the workload runs, in seconds; None when none does."""
    return workload.duration_field()


def workload_seconds(workload: WorkloadBase) -> float | None:
    """How long one run of the workload lasts by its own settings; None when its settings do not say."""
    return workload.planned_seconds()


def planned_run_seconds(profile: Profile) -> float | None:
    times = [t for t in (workload_seconds(w) for w in profile.workloads) if t is not None]
    return sum(times) / len(times) + START_OVERHEAD if times else None


def estimate(profile: Profile) -> tuple[int, float, list[str]]:
    """(runs, seconds, workloads whose length is unknown): run time plus start-up, batch by batch."""
    from katatui.core.plan import batches, expand

    runs = expand(profile, resolved(profile))
    per = {w.name: (workload_seconds(w) or 0.0) + START_OVERHEAD for w in profile.workloads}
    unknown = [w.name for w in profile.workloads if workload_seconds(w) is None]
    seconds = sum(max(per[r.workload] for r in batch) for batch in batches(runs, profile.pairing))
    return len(runs), seconds, unknown
