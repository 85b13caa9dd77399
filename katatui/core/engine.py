"""The engine: a profile becomes a plan, the plan becomes runs, runs become events.

One way through: targets are connected and probed, leftovers of a crashed katatui are removed,
the plan is expanded and announced, then each batch of runs executes. Every outcome is an event
sent to every listener (the session store, the headless printer, the TUI). A run that fails
says why and the others carry on; an interrupted session cleans up before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from katatui.core import calibration, fairness, isolation, rounds, scratch
from katatui.core.aio import within
from katatui.core.errors import KatatuiError
from katatui.core.events import (
    Event,
    HostFacts,
    Listener,
    LogMessage,
    Metric,
    RoundFinished,
    RunFailed,
    RunFinished,
    RunSpec,
    ScenarioFacts,
    SessionFinished,
    SessionStarted,
)
from katatui.core.failures import Outcomes, sandbox_lookup
from katatui.core.hosts import Host, missing_tools, uses_docker
from katatui.core.identity import seen
from katatui.core.launchers.bare import BareLauncher
from katatui.core.launchers.base import Launcher, Mount
from katatui.core.launchers.identity import output_of, probe_guest
from katatui.core.launchers.setup import LauncherSetup
from katatui.core.plan import ResolvedScenario, batches, expand, resolve_scenarios
from katatui.core.profile import Profile
from katatui.core.report import bands_of, same_pairs
from katatui.core.runner import RunContext, Runner, Site
from katatui.core.workloads.base import Procedure, WorkloadDriver
from katatui.core.workloads.registry import driver_for

if TYPE_CHECKING:
    import docker

Status = Literal["completed", "failed", "interrupted"]


TargetState = Host  # a target as the engine reached it


@dataclass(frozen=True)
class Outcome:
    status: Status
    finished: int
    failed: int


class Engine:
    def __init__(
        self,
        profile: Profile,
        *,
        session_id: str,
        listeners: Sequence[Listener],
        repeats: int | None = None,
        local_docker: docker.DockerClient | None = None,
    ) -> None:
        self.profile = profile
        self.session_id = session_id
        self.listeners = list(listeners)
        self.repeats = repeats
        self._local_docker = local_docker
        self.targets: dict[str, TargetState] = {}
        self._launchers: dict[tuple[str, str], Launcher] = {}
        self._blocked: dict[tuple[str, str], str] = {}
        self._drivers: dict[str, WorkloadDriver | Procedure] = {
            w.name: driver_for(w) for w in profile.workloads
        }
        self._runner = Runner()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._contexts: dict[str, RunContext] = {}
        self._current_cell: str | None = None
        self._skipped_cells: set[str] = set()
        self._identified: list[str] = []
        self._fairness: dict[tuple[str, str], fairness.Side] = {}
        self._scenarios: list[ResolvedScenario] = []
        self._scenario_facts: dict[tuple[str, str], dict[str, Any]] = {}
        self._finished = 0
        self._failed = 0
        self._results: dict[str, dict[str, Metric]] = {}  # each finished run's results, for the rounds
        self._calibrated: dict[tuple[str, str], tuple[float, str]] = {}
        self._outcomes = Outcomes(
            sandbox_lookup(self._scenario_facts),
            {w.name: w.model_dump() for w in profile.workloads},
        )
        self._setup = LauncherSetup(
            profile, session_id, local_docker=local_docker,
            log=lambda level, text: self.log(level, text),  # type: ignore[arg-type]
            facts=lambda sc, target, facts: self.emit(ScenarioFacts(sc, target, facts)),
        )  # fmt: skip

    # -- events ---------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        event = self._outcomes.observe(event)
        if isinstance(event, RunFinished):
            self._results[event.run_id] = dict(event.results)
        if isinstance(event, ScenarioFacts):  # later facts of a scenario add to what it said before
            key = (event.scenario, event.target)
            merged = {**self._scenario_facts.get(key, {}), **event.facts}
            self._scenario_facts[key] = merged
            event = ScenarioFacts(event.scenario, event.target, merged, at=event.at)
        for listener in self.listeners:
            listener(event)

    def log(self, level: Literal["info", "warning", "error"], text: str, run_id: str | None = None) -> None:
        self.emit(LogMessage(level, text, run_id))

    # -- the session ----------------------------------------------------------------------------
    async def run(self) -> Outcome:
        status: Status = "completed"
        try:
            await self._connect_all()
            scenarios = await self._prepare_scenarios()
            self._scenarios = scenarios
            runs = expand(self.profile, scenarios, self.repeats)
            self.emit(SessionStarted(self.session_id, self.profile.name, self.profile.pairing, tuple(runs)))
            if self.profile.pairing == "concurrent":
                self.log("warning", "pairing is concurrent: scenarios share the host at the same time; "
                         "use it for demos, and sequential pairing for figures you compare")  # fmt: skip
            self._note_rounds(scenarios)
            last = {(r.cell, r.repeat): r.index for r in runs}  # the run that ends each round
            ended: set[str] = set()  # cells that stopped adding rounds (repeats = "auto")
            started: dict[str, float] = {}
            for batch in batches(runs, self.profile.pairing):
                if batch[0].cell in ended:
                    continue  # a later round of a cell that settled: dropped, said by RoundFinished
                started.setdefault(batch[0].cell, time.monotonic())
                if batch[0].cell in self._skipped_cells and self._auto:
                    self._drop_skipped(runs, batch[0])  # its later rounds were never more than possible
                    ended.add(batch[0].cell)
                    continue
                if batch[0].cell in self._skipped_cells:
                    for r in batch:
                        self._failed += 1
                        self.emit(RunFailed(r.run_id, "skipped by the user"))
                    continue
                self._tasks = {
                    r.run_id: asyncio.create_task(self._run_one(r, i)) for i, r in enumerate(batch)
                }
                self._current_cell = batch[0].cell
                outcomes = await asyncio.gather(*self._tasks.values(), return_exceptions=True)
                self._tasks = {}
                for outcome in outcomes:  # a stopped run's cancellation is not an error
                    if isinstance(outcome, Exception):
                        self.log("error", f"internal error (please report it): {outcome!r}")
                head = batch[-1]
                round_ends = max(r.index for r in batch) == last[(head.cell, head.repeat)]
                if round_ends and self._round_finished(runs, head, time.monotonic() - started[head.cell]):
                    ended.add(head.cell)
        except asyncio.CancelledError:
            status = "interrupted"
        except KatatuiError as exc:
            self.log("error", str(exc))
            status = "failed"
        except Exception as exc:  # a bug of katatui's: say so, clean up, keep what was measured
            self.log("error", f"internal error (please report it): {traceback.format_exc()}")
            self.log("error", f"katatui stopped on an internal error: {exc!r}")
            status = "failed"
        finally:
            teardown = asyncio.ensure_future(self._teardown())
            try:
                await asyncio.shield(teardown)
            except asyncio.CancelledError:  # interrupted while cleaning up: finish cleaning up
                await teardown
                status = "interrupted"
        if status == "completed" and self._failed:
            status = "failed"
        for note in self._outcomes.summary():
            self.log("warning", note)
        self.emit(SessionFinished(status))
        return Outcome(status, self._finished, self._failed)

    # -- rounds -------------------------------------------------------------------------------------
    def _note_rounds(self, scenarios: Sequence[ResolvedScenario]) -> None:
        """Say how rounds run (the order alternates; under "auto", when a cell stops), and take the
        noise bands a calibration stored for the reference scenario's targets."""
        names = [sc.name for sc in scenarios]
        if len(names) > 1:
            self.log("info", f"order within rounds alternates: {' '.join(names)}, then "
                     f"{' '.join(reversed(names))}")  # fmt: skip
        p = self.profile
        if p.auto and self.repeats is None:
            budget = f", time_budget {p.time_budget} per cell" if p.time_budget else ""
            self.log("info", f'repeats "auto": each cell runs {p.min_repeats} to {p.max_repeats} rounds '
                     f"until every headline metric is decided{budget}")  # fmt: skip
        ref = next((sc for sc in scenarios if sc.name == p.baseline), scenarios[0] if scenarios else None)
        if ref is None:
            return
        for t in ref.targets:
            st = self.targets.get(t)
            if st is None:
                continue
            found = calibration.bands_for(st.transport.address, ref.launcher, ref.runtime)
            if found:
                self._calibrated.update(bands_of(found))
                self.emit(ScenarioFacts(ref.name, t, {"noise_bands": found}))
                self.log("info", f"noise bands of {ref.name} on {t}: calibrated ({calibration.path()})")

    @property
    def _auto(self) -> bool:
        """``repeats = "auto"`` (and no ``--repeat N`` given instead)."""
        return self.profile.auto and self.repeats is None

    def _drop_skipped(self, runs: Sequence[RunSpec], first: RunSpec) -> None:
        """A cell under "auto" skipped by the user: the runs it has not started leave the plan."""
        dropped = tuple(r.run_id for r in runs if r.cell == first.cell and r.index >= first.index)
        looks = self.profile.max_repeats - self.profile.min_repeats + 1
        self.emit(
            RoundFinished(first.cell, first.repeat - 1, (), "skipped", "skipped by the user", dropped, looks)
        )

    def _round_finished(self, runs: Sequence[RunSpec], head: RunSpec, elapsed: float) -> bool:
        """Round ``head.repeat`` of ``head.cell`` has run: emit its verdicts; under ``repeats =
        "auto"``, whether the cell stops here (its later rounds are dropped)."""
        if head.cell in self._skipped_cells:
            return False
        cell_runs = [r for r in runs if r.cell == head.cell]
        done = [r for r in cell_runs if r.repeat <= head.repeat]
        names = list(dict.fromkeys(r.scenario for r in runs))
        found = rounds.comparisons(
            done, self._results, baseline=self.profile.baseline,
            aa=same_pairs(runs, self._scenario_facts, names), calibrated=self._calibrated,
            looks=self.profile.max_repeats - self.profile.min_repeats + 1 if self._auto else 1,
        )  # fmt: skip
        what, note = "", ""
        if self._auto:
            what, note = rounds.outcome(
                found, head.repeat + 1, min_rounds=self.profile.min_repeats,
                max_rounds=self.profile.max_repeats, elapsed=elapsed, budget=self.profile.budget_seconds,
            )  # fmt: skip
        dropped = tuple(r.run_id for r in cell_runs if r.repeat > head.repeat) if what else ()
        looks = self.profile.max_repeats - self.profile.min_repeats + 1 if self._auto else 1
        self.emit(RoundFinished(head.cell, head.repeat, found, what, note, dropped, looks))
        return bool(what)

    async def _connect_all(self) -> None:
        for name, cfg in self.profile.targets.items():
            self.targets[name] = Host.of(name, cfg, lambda m: self.log("warning", m))
        await asyncio.gather(*(self._connect(s) for s in self.targets.values()))

    async def _connect(self, st: TargetState) -> None:
        await st.probe(docker=uses_docker(self.profile, st.name))
        if st.error:
            self.log("error", st.error)
            self.emit(HostFacts(st.name, {"address": st.transport.address, "error": st.error}))
            return
        if st.docker is not None:
            try:
                await self._setup.docker_ready(st)
            except KatatuiError as exc:
                st.docker_error = str(exc)
        if st.docker_error:
            self.log("error", st.docker_error)
        with contextlib.suppress(KatatuiError):
            stale = await scratch.remove_stale(st.transport, st.config.scratch_base)
            if stale:
                self.log(
                    "warning",
                    f"target {st.name}: removed scratch directories left behind: {', '.join(stale)}",
                )
        self.emit(HostFacts(st.name, st.facts))

    async def _prepare_scenarios(self) -> list[ResolvedScenario]:
        reported = {name: st.runtimes for name, st in self.targets.items()}
        scenarios, warnings = resolve_scenarios(self.profile, reported)
        for w in warnings:
            self.log("warning", w)
        for sc in scenarios:
            for t in sc.targets:
                reason = await self._preflight(sc, self.targets[t])
                if reason:
                    self._blocked[(sc.name, t)] = reason
                    self.log("error", f"scenario {sc.name} on {t} cannot run: {reason}")
                else:
                    await self._identify(sc, self.targets[t])
        self._check_fairness()
        if any(sc.launcher == "bare" for sc in scenarios) and (
            self.profile.limits.cpus or self.profile.limits.memory
        ):
            self.log(
                "warning",
                "limits (cpus, memory) apply to container scenarios only; bare runs use the whole host",
            )
        return scenarios

    async def _preflight(self, sc: ResolvedScenario, st: TargetState) -> str | None:
        if st.error:
            return st.error
        try:
            self._launchers[(sc.name, st.name)] = await self._setup.prepare(sc, st)
        except KatatuiError as exc:
            return str(exc)
        return None

    async def _identify(self, sc: ResolvedScenario, st: TargetState) -> None:
        """Record what isolates the scenario, from what its sandbox shows inside and on the host;
        shout if that contradicts what its runtime promises."""
        launcher = self._launchers.get((sc.name, st.name))
        if launcher is None:
            return
        record = await self._fairness_probe(sc, st, launcher)
        if sc.launcher != "docker":
            self._fairness[(sc.name, st.name)] = fairness.Side(sc.name, st.name, sc.runtime, record)
            facts_bare: dict[str, Any] = {"fairness": record}
            if sc.launcher == "bare":
                facts_bare.update(isolation.identify(isolation.Seen("bare")).facts())
            self.emit(ScenarioFacts(sc.name, st.name, facts_bare))
            return
        try:
            facts = await probe_guest(launcher, sc.name, len(self._identified))
        except KatatuiError as exc:
            self.log("warning", f"scenario {sc.name} on {st.name}: could not read its guest identity: {exc}")
            facts = {}
        self._identified.append(sc.name)
        facts["fairness"] = record
        self._fairness[(sc.name, st.name)] = fairness.Side(sc.name, st.name, sc.runtime, record)
        program = ((st.facts.get("docker") or {}).get("runtime_programs") or {}).get(sc.runtime or "")
        version = await self._program_version(st, program)
        if program:
            facts["runtime_program"] = program
            if version:
                facts["runtime_version"] = version
        facts["host_kernel"] = st.facts.get("kernel")
        found = isolation.identify(
            seen(sc.launcher, sc.runtime, st.facts.get("kernel"), facts, program=program,
                 program_version=version, host_roles=facts.get("host_roles", ()))
        )  # fmt: skip
        facts.update(found.facts())
        if found.warning:
            facts["isolation_warning"] = found.warning
            self.log("error", f"scenario {sc.name} on {st.name}: {found.warning}")
        self.emit(ScenarioFacts(sc.name, st.name, facts))
        if "kernel" not in facts:
            self.log(
                "info",
                f"{sc.name} on {st.name}: {found.label} ({'; '.join(found.evidence) or 'no evidence'})",
            )
            return
        mib = int(facts.get("mem_total_kb", 0)) // 1024
        kernels = f"kernel {facts.get('kernel')} (host {facts['host_kernel']})"
        self.log("info", f"{sc.name} on {st.name}: {found.label}: {kernels}, / is {facts.get('root_fs')}, "
                 f"{facts.get('nproc')} CPUs, {mib} MiB")  # fmt: skip

    async def _program_version(self, st: TargetState, program: str | None) -> str | None:
        """The first line ``PROGRAM --version`` prints on the target (cached per target)."""
        if not program or not program.startswith("/"):
            return None
        cache: dict[str, str | None] = st.facts.setdefault("program_versions", {})
        if program not in cache:
            cache[program] = None
            with contextlib.suppress(KatatuiError):
                done = await st.transport.run([program, "--version"], timeout=15)
                lines = done.text().strip().splitlines()
                if done.ok and lines:
                    cache[program] = lines[0].strip()[:120]
        return cache[program]

    async def _fairness_probe(
        self, sc: ResolvedScenario, st: TargetState, launcher: Launcher
    ) -> dict[str, Any]:
        """CPUs, memory, limits and the scratch directory's filesystem as the scenario's workload
        sees them (the fairness record), and whether O_DIRECT there kept its data out of the host's
        page cache (looked up on the host when the scratch directory is a host directory); what
        cannot be read says why."""
        limits = sc.limits or self.profile.limits
        record: dict[str, Any] = {"limits": {"cpus": limits.cpus, "memory": limits.memory}}
        if sc.launcher == "bare":
            record["limits"] = {"cpus": None, "memory": None}
        mode = launcher.scratch_mode
        made: scratch.Scratch | None = None
        try:
            host_path = None
            if launcher.needs_host_scratch(mode):
                made = await scratch.create(st.transport, st.config.scratch_base, self.session_id)
                host_path = made.path
            inner = launcher.scratch_path(host_path)
            if isinstance(launcher, BareLauncher):
                record.update(await fairness.probe_host_dir(st.transport, inner))
            else:
                mount = Mount(host_path, inner) if host_path and inner != host_path else None
                spec = RunSpec(f"fair{len(self._fairness)}", -1, "fairness", sc.name, sc.launcher, sc.runtime,
                               st.name, "fairness", "fairness", {}, 1, 0)  # fmt: skip
                # With the scratch directory on the host, the probe leaves its O_DIRECT file there for
                # the host to see whether the data went through the host's page cache.
                keep = ["keep"] if host_path else []
                said = await output_of(
                    launcher, spec, ["sh", "-c", fairness.SCENARIO_PROBE, "sh", inner, *keep], mount
                )
                record.update(fairness.summarize_scenario(fairness.parse_kv(said)))
                why = "the scratch directory is not a host directory katatui can see"
                await fairness.settle_direct_io(st.transport, record, host_path, why)
        except KatatuiError as exc:
            record["error"] = f"could not probe: {exc}"
            self.log("warning", f"scenario {sc.name} on {st.name}: fairness probe failed: {exc}")
        finally:
            if made is not None:
                with contextlib.suppress(KatatuiError):
                    await scratch.remove(st.transport, made, st.config.scratch_base)
        return record

    def _check_fairness(self) -> None:
        by_target: dict[str, list[fairness.Side]] = {}
        for (_, target), side in self._fairness.items():
            by_target.setdefault(target, []).append(side)
        for target, sides in by_target.items():
            for warning in fairness.check(sides):
                self.log("warning", f"fairness on {target}: {warning}")

    async def _teardown(self) -> None:
        for launcher in self._launchers.values():
            with contextlib.suppress(Exception):
                await launcher.close()
            for note in launcher.release_notes():  # what a daemon that stopped answering still holds
                self.log("warning", note)
        with contextlib.suppress(Exception):
            await self._setup.close()
        for st in self.targets.values():
            if st.connected:  # a scratch directory whose creation was cancelled midway
                leftover = scratch.remove_session(st.transport, st.config.scratch_base, self.session_id)
                with contextlib.suppress(Exception):
                    await within(leftover, 60)
            await st.close()

    # -- one run --------------------------------------------------------------------------------
    def _missing_tools(self, run: RunSpec, st: TargetState, launcher: str | None = None) -> str | None:
        needed = self._drivers[run.workload].host_tools(launcher or run.launcher)
        return missing_tools(needed, st.facts.get("tools", {}), st.name)

    def _sites(
        self, run: RunSpec, scenario: str, on_host_failure: str
    ) -> tuple[list[Site | None], str | None]:
        """Where each client of a spread run goes; a target that cannot run it fails the run, or
        with ``on_host_failure = "continue"`` leaves its clients out."""
        sites: list[Site | None] = []
        problems: dict[str, str] = {}
        made: dict[str, Site] = {}
        for c in range(run.clients):
            host = run.host_of(c)
            st = self.targets[host]
            problem = self._blocked.get((scenario, host)) or self._missing_tools(run, st)
            if problem:
                problems[host] = problem
                sites.append(None)
                continue
            if host not in made:
                made[host] = Site(host, self._launchers[(scenario, host)], BareLauncher(st.transport),
                                  st.transport, st.config.scratch_base)  # fmt: skip
            sites.append(made[host])
        if problems and (on_host_failure != "continue" or not made):
            return [], "; ".join(f"{h}: {p}" for h, p in problems.items())
        return sites, None

    def _scenario_key(self, run: RunSpec) -> tuple[str, str]:
        name = run.scenario.removesuffix(f"@{run.target}")
        return (name, run.target)

    async def _run_one(self, run: RunSpec, slot: int = 0) -> None:
        key = self._scenario_key(run)
        st = self.targets[run.target]
        wl = next(w for w in self.profile.workloads if w.name == run.workload)
        server_name = getattr(wl, "server_target", None)
        server_st = self.targets.get(server_name) if server_name else None
        sc = next((s for s in self._scenarios if s.name == key[0]), None)
        on_host_failure = sc.on_host_failure if sc is not None else "fail"
        sites: list[Site | None] = []
        reason = None
        if run.hosts:
            sites, reason = self._sites(run, key[0], on_host_failure)
        else:
            reason = self._blocked.get(key) or self._missing_tools(run, st)
        if not reason and server_st is not None:
            reason = server_st.error or self._missing_tools(run, server_st, launcher="bare")
        if reason:
            self._failed += 1
            self.emit(RunFailed(run.run_id, reason))
            return
        driver = self._drivers[run.workload]
        if driver.runs_as == "tool":
            driver.adapt(st.facts)  # e.g. iperf3's output format depends on its version on that host
        main = next((s for s in sites if s is not None), None)
        ctx = RunContext(
            run=run,
            driver=self._drivers[run.workload],
            launcher=main.launcher if main else self._launchers[key],
            host=main.host if main else BareLauncher(st.transport),
            transport=main.transport if main else st.transport,
            scratch_base=main.scratch_base if main else st.config.scratch_base,
            session_id=self.session_id,
            mode=getattr(wl, "scratch", "volume"),
            emit=self.emit,
            warn=lambda text: self.log("warning", text, run.run_id),
            slot=slot,
            drop_caches=self.profile.drop_caches,
            sample_sandbox=self.profile.sample_sandbox,
            server_host=BareLauncher(server_st.transport) if server_st is not None else None,
            sites=sites,
            on_host_failure=on_host_failure,
        )
        if run.hosts and None in sites:
            down = sorted({run.host_of(c) for c, s in enumerate(sites) if s is None})
            ctx.degraded.extend(f"{h}: {self._blocked.get((key[0], h)) or 'unreachable'}" for h in down)
            running = sum(s is not None for s in sites)
            self.log("warning", f"run {run.run_id}: {', '.join(down)} down; "
                     f"{running} of {run.clients} clients run (degraded)", run.run_id)  # fmt: skip
        self._contexts[run.run_id] = ctx
        try:
            ok = await self._runner.execute(ctx)
        except asyncio.CancelledError:
            self._failed += 1
            raise
        finally:
            self._contexts.pop(run.run_id, None)
        if ok:
            self._finished += 1
        else:
            self._failed += 1

    # -- control while running (the dashboard's keys) -------------------------------------------
    def stop_run(self, run_id: str, reason: str = "stopped by the user") -> bool:
        """Stop one running run as an interrupt would (its partial figures are kept); the session
        goes on with the next. False when that run is not running."""
        task = self._tasks.get(run_id)
        if task is None or task.done() or task.cancelling():
            return False  # not running, or already stopping: a second cancel would cut its cleanup short
        ctx = self._contexts.get(run_id)
        if ctx is not None:
            ctx.cancel_reason = reason
        task.cancel()
        return True

    def skip_cell(self) -> str | None:
        """Stop the running cell's runs and skip what is left of it; returns the cell skipped."""
        cell = self._current_cell
        if cell is None:
            return None
        self._skipped_cells.add(cell)
        for run_id in list(self._tasks):
            self.stop_run(run_id, "skipped by the user")
        return cell
