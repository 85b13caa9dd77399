"""A profile becomes an ordered plan of runs.

Scenarios of the same matrix cell are interleaved across repeats (A B A B ...) so that slow drift
of the host (page cache, thermal state, a neighbour) falls on every scenario alike, and the order
within a round alternates (A B C, then C B A, ...) so that an order effect (a warm cache left by the
one before, a host that slows down as a round goes on) falls on each side alike too.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from katatui.core.cell import Cell
from katatui.core.errors import UserError
from katatui.core.events import RunSpec
from katatui.core.limits import plan_problems
from katatui.core.profile import Limits, Profile, Scenario

T = TypeVar("T")

# Docker lists these next to the runtimes a user registered; they are runc under other names.
DOCKER_BUILTIN_PREFIXES = ("io.containerd.runc.", "io.containerd.runtime.v1.")
# The runtime ``runtime = "*"`` puts first: the first scenario is a report's reference column.
REFERENCE_RUNTIME = "runc"


def registered_runtimes(reported: Sequence[str]) -> list[str]:
    """The runtimes worth comparing: what Docker reports, without its built-in aliases of runc."""
    return [r for r in reported if not r.startswith(DOCKER_BUILTIN_PREFIXES)]


@dataclass(frozen=True)
class ResolvedScenario:
    name: str
    launcher: str
    runtime: str | None
    image: str
    targets: tuple[str, ...]
    limits: Limits | None = None  # the scenario's own limits, when it has them
    spread: str | None = None  # how clients spread over ``targets`` (None: one run per target)
    on_host_failure: str = "fail"
    runc_binary: str | None = None  # containerd: the OCI runtime the runc shim runs


def wildcard_order(runtimes: Sequence[str]) -> list[str]:
    """The order ``runtime = "*"`` gives the runtimes it found: runc first (the reference the
    others are compared with), then the rest by name, whatever order Docker listed them in."""
    return sorted(dict.fromkeys(runtimes), key=lambda r: (r != REFERENCE_RUNTIME, r))


def resolve_scenarios(
    profile: Profile, runtimes: Mapping[str, Sequence[str] | None]
) -> tuple[list[ResolvedScenario], list[str]]:
    """Expand ``runtime = "*"`` with what each target's Docker reports, runc first (see
    ``wildcard_order``).

    Returns the scenarios and warnings (a wildcard on a target without Docker expands to nothing).
    """
    out: list[ResolvedScenario] = []
    warnings: list[str] = []
    for sc in profile.scenarios:
        targets = tuple(sc.targets or profile.targets)
        if sc.runtime != "*":
            out.append(
                ResolvedScenario(
                    sc.label,
                    sc.launcher,
                    sc.runtime,
                    sc.image,
                    targets,
                    sc.limits,
                    sc.spread,
                    sc.on_host_failure,
                    sc.runc_binary,
                )
            )
            continue
        seen: dict[str, list[str]] = {}
        for t in targets:
            found = runtimes.get(t)
            if found is None:
                warnings.append(f'target {t}: Docker is not reachable, so runtime "*" adds no scenario there')
                continue
            for r in registered_runtimes(found):
                seen.setdefault(r, []).append(t)
        for r in wildcard_order(list(seen)):
            ts = seen[r]
            name = _wild_name(sc, r)
            if any(o.name == name for o in out):
                continue  # an explicit scenario for the same runtime wins
            out.append(
                ResolvedScenario(
                    name, sc.launcher, r, sc.image, tuple(ts), sc.limits, sc.spread, sc.on_host_failure
                )
            )
    return out, warnings


def _wild_name(sc: Scenario, runtime: str) -> str:
    return f"{sc.name}-{runtime}" if sc.name else runtime


def expand(
    profile: Profile, scenarios: Sequence[ResolvedScenario], repeats: int | None = None
) -> list[RunSpec]:
    """The ordered runs: for each cell, for each repeat (round), every scenario once (on each of its
    targets), in the order of :func:`round_order`."""
    check_plan_size(profile, scenarios, repeats)
    n_repeats = repeats or profile.planned_repeats
    runs: list[RunSpec] = []
    for wl in profile.workloads:
        axes = wl.axes()
        for values in itertools.product(*axes.values()):
            variant = dict(zip(axes, values, strict=True))
            for clients in wl.client_counts():
                cell = Cell(wl.name, wl.type, variant, clients).key
                for rep in range(n_repeats):
                    for sc in round_order(scenarios, rep):
                        if sc.launcher not in wl.LAUNCHERS:
                            continue  # e.g. the footprint of a bare process: nothing to measure
                        spread = sc.spread is not None and len(sc.targets) > 1
                        for target in sc.targets[:1] if spread else sc.targets:
                            runs.append(
                                RunSpec(
                                    run_id=uuid.uuid4().hex[:12],
                                    index=len(runs),
                                    cell=cell,
                                    scenario=sc.name
                                    if spread or len(sc.targets) == 1
                                    else f"{sc.name}@{target}",
                                    launcher=sc.launcher,
                                    runtime=sc.runtime,
                                    target=target,
                                    workload=wl.name,
                                    kind=wl.type,
                                    variant=variant,
                                    clients=clients,
                                    repeat=rep,
                                    hosts=place(sc.targets, clients, sc.spread) if spread else (),
                                )
                            )
    return runs


def round_order(scenarios: Sequence[T], round_index: int) -> list[T]:
    """The scenarios in the order round ``round_index`` (0-based) runs them: as given in even rounds,
    reversed in odd ones (A B C, C B A, A B C, ...)."""
    return list(scenarios) if round_index % 2 == 0 else list(reversed(scenarios))


def place(targets: Sequence[str], clients: int, how: str | None) -> tuple[str, ...]:
    """The target of each client: dealt in turn ("round-robin") or in contiguous shares ("blocks")."""
    if how == "blocks":
        share, extra = divmod(clients, len(targets))
        out: list[str] = []
        for i, t in enumerate(targets):
            out += [t] * (share + (1 if i < extra else 0))
        return tuple(out)
    return tuple(targets[c % len(targets)] for c in range(clients))


def batches(runs: Sequence[RunSpec], pairing: str) -> list[list[RunSpec]]:
    """Groups of runs that execute together: one run each when sequential; all scenarios of a
    cell and repeat at once when concurrent."""
    if pairing != "concurrent":
        return [[r] for r in runs]
    groups: dict[tuple[str, int], list[RunSpec]] = {}
    for r in runs:
        groups.setdefault((r.cell, r.repeat), []).append(r)
    return list(groups.values())


def check_plan_size(
    profile: Profile, scenarios: Sequence[ResolvedScenario], repeats: int | None = None
) -> None:
    """Refuse a plan too big to build (see ``katatui.core.limits``), before building it."""
    per_cell = [(sc.launcher, 1 if sc.spread is not None and len(sc.targets) > 1 else len(sc.targets))
                for sc in scenarios]  # fmt: skip
    what = "max_repeats" if repeats is None and profile.auto else "repeats"
    problems = plan_problems(profile.workloads, per_cell, repeats or profile.planned_repeats, what)
    if problems:
        raise UserError(f"profile {profile.name}: " + "; ".join(problems))
