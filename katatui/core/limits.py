"""Bounds on the size of an experiment, checked before a plan is built.

A plan is a list in memory and every run costs time on a host: a typo such as
``--repeat 99999999999999999999999`` or ``clients = 1000000`` must be refused at once, with a
message that names the limit, not exhaust the machine. The defaults are generous; an operator
raises one with its environment variable (a profile cannot raise them itself).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from katatui.core.errors import UserError
from katatui.core.workloads.model import WorkloadBase


@dataclass(frozen=True)
class Bound:
    what: str
    env: str
    default: int

    @property
    def value(self) -> int:
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise UserError(f"{self.env}={raw!r}: expected a whole number of at least 1 ({self.what})")
        return n

    def advice(self) -> str:
        return (
            f"lower it, or raise the limit with the environment variable {self.env} (default {self.default})"
        )


MAX_REPEATS = Bound("repeats per cell", "KATATUI_MAX_REPEATS", 1000)
MAX_CLIENTS = Bound("clients of one run", "KATATUI_MAX_CLIENTS", 4096)
MAX_AXIS_VALUES = Bound("values of one matrix axis", "KATATUI_MAX_AXIS_VALUES", 1000)
MAX_RUNS = Bound("runs in one plan", "KATATUI_MAX_RUNS", 100_000)


def repeats_problem(repeats: int, what: str = "repeats") -> str | None:
    limit = MAX_REPEATS.value
    given = f"{what} {repeats}" if what.startswith("-") else f"{what} = {repeats}"
    if repeats > limit:
        return f"{given}: more than the limit of {limit} {MAX_REPEATS.what}; {MAX_REPEATS.advice()}"
    return None


def workload_problems(workloads: Iterable[WorkloadBase]) -> list[str]:
    """Clients and axis lengths, each workload on its own."""
    problems = []
    max_clients, max_axis = MAX_CLIENTS.value, MAX_AXIS_VALUES.value
    for wl in workloads:
        top = max(wl.client_counts())
        if top > max_clients:
            problems.append(
                f"workload {wl.name}: clients = {top}: more than the limit of {max_clients} "
                f"{MAX_CLIENTS.what}; {MAX_CLIENTS.advice()}"
            )
        axes = {**wl.axes(), "clients": wl.client_counts()}
        for axis, values in axes.items():
            if len(values) > max_axis:
                problems.append(
                    f"workload {wl.name}: {axis} has {len(values)} values: more than the limit of "
                    f"{max_axis} {MAX_AXIS_VALUES.what}; {MAX_AXIS_VALUES.advice()}"
                )
    return problems


def count_runs(workloads: Iterable[WorkloadBase], scenarios: Sequence[tuple[str, int]], repeats: int) -> int:
    """The number of runs ``plan.expand`` would make, computed without making them.

    ``scenarios`` are (launcher, runs per cell and repeat: 1 for a spread, else its targets)."""
    total = 0
    for wl in workloads:
        per_repeat = sum(n for launcher, n in scenarios if launcher in wl.LAUNCHERS)
        cells = math.prod(len(v) for v in wl.axes().values()) * len(wl.client_counts())
        total += cells * repeats * per_repeat
    return total


def runs_problem(runs: int) -> str | None:
    limit = MAX_RUNS.value
    if runs > limit:
        return (
            f"the plan has {runs} runs (matrix cells x repeats x scenarios x targets): more than the limit "
            f"of {limit} {MAX_RUNS.what}; {MAX_RUNS.advice()}"
        )
    return None


def plan_problems(
    workloads: Sequence[WorkloadBase],
    scenarios: Sequence[tuple[str, int]],
    repeats: int,
    what: str = "repeats",
) -> list[str]:
    """``repeats``: the most rounds a cell can run (``max_repeats`` under ``repeats = "auto"``, named
    by ``what``)."""
    problems = [p for p in [repeats_problem(repeats, what)] if p]
    problems += workload_problems(workloads)
    if not problems:  # each factor is bounded, so their product is cheap to compute
        problem = runs_problem(count_runs(workloads, scenarios, repeats))
        if problem:
            problems.append(problem)
    return problems
