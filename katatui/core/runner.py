"""One run: scratch directories, servers, clients, their output, the outcome, and cleanup.

The order is always: make scratch directories, start servers and wait until they are ready, start
the clients together, read their output as it arrives (raw bytes and samples become events), stop
the servers, conclude, and release everything (containers, scratch) whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from katatui.core import fairness, scratch
from katatui.core.aio import within
from katatui.core.errors import KatatuiError, TargetError, WorkloadError
from katatui.core.events import (
    SANDBOX_CLIENT,
    Event,
    Metric,
    RawOutput,
    RunFacts,
    RunFailed,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
)
from katatui.core.launchers.bare import BareLauncher
from katatui.core.launchers.base import BARRIER_NAME, Launcher, Mount
from katatui.core.sandbox import SandboxSampler
from katatui.core.transport.base import Process, Transport
from katatui.core.workloads.base import ClientParser, Procedure, ProcedureContext, ServerSpec, WorkloadDriver

SERVER_CLIENT_BASE = 1000  # client numbers of servers, so their output and containers stay apart
READY_TIMEOUT = 30.0
CLIENTS_READY_TIMEOUT = 120.0  # for every client of a run to be started and waiting at the barrier

# The start barrier of a run with several clients: each client's command waits under this fixed
# wrapper (the tool's argv follows as "$@") until katatui signals SIGUSR1 to all of them at once.
# The markers go to stderr, where the runner takes them out before the tool's parser sees them.
BARRIER = r"""
trap 'go=1; [ -n "$w" ] && kill "$w" 2>/dev/null' USR1
echo katatui-ready >&2
while [ -z "$go" ]; do
    sleep 5 & w=$!
    [ -n "$go" ] || wait "$w" 2>/dev/null
    kill "$w" 2>/dev/null; w=
done
echo "katatui-go $(date +%s.%N 2>/dev/null)" >&2
exec "$@"
"""
# Where clients cannot be signalled (Kubernetes pods): no waiting, but each still says when it went.
NO_BARRIER = 'echo "katatui-go $(date +%s.%N 2>/dev/null)" >&2; exec "$@"'
READY_MARK = b"katatui-ready"
GO_MARK = b"katatui-go"


@dataclass(frozen=True)
class Site:
    """Where a client runs: a target, the scenario's launcher there, and the host's own."""

    target: str
    launcher: Launcher
    host: BareLauncher
    transport: Transport
    scratch_base: str


class Gate:
    """The barrier's bookkeeping: which clients are waiting, when each one went, and the markers
    taken out of their stderr."""

    def __init__(self, clients: Sequence[int]) -> None:
        self.ready = {c: asyncio.Event() for c in clients}
        self.went: dict[int, float] = {}  # when each client's go marker arrived (monotonic)
        self.clock: dict[int, float] = {}  # the wall clock each client read as it went
        self._buf = {c: b"" for c in clients}

    def filter(self, client: int, stream: str, data: bytes) -> bytes:
        if stream != "stderr" or client in self.went or client not in self._buf:
            return data
        buf = self._buf[client] + data
        out = b""
        while b"\n" in buf and client not in self.went:
            line, buf = buf.split(b"\n", 1)
            if line.strip() == READY_MARK:
                self.ready[client].set()
            elif line.strip().startswith(GO_MARK):
                self.went[client] = time.monotonic()
                with contextlib.suppress(ValueError):  # no nanosecond date there
                    self.clock[client] = float(line.strip()[len(GO_MARK) :])
            else:
                out += line + b"\n"
        if client in self.went:
            out, buf = out + buf, b""
        self._buf[client] = buf
        return out

    def flush(self, client: int) -> bytes:
        """What a client said before it ended without going (its own error, say)."""
        rest, self._buf[client] = self._buf.get(client, b""), b""
        if client in self.ready:
            self.ready[client].set()  # nobody waits for a client that is gone
        return rest


@dataclass
class RunContext:
    run: RunSpec
    driver: WorkloadDriver | Procedure
    launcher: Launcher  # the scenario's
    host: BareLauncher  # for what runs bare on the host (ab, the iperf3 server)
    transport: Transport
    scratch_base: str
    session_id: str
    mode: str  # "volume" or "container"
    emit: Callable[[Event], None]
    warn: Callable[[str], None]
    cancel_reason: str = "interrupted by the user"
    slot: int = 0  # the run's place in its batch: concurrent runs use their own ports
    server_host: BareLauncher | None = None  # another target that runs the servers (iperf3 server_target)
    drop_caches: bool = False  # drop the host's page cache before the run (the profile's choice)
    sample_sandbox: bool = True  # sample the sandbox's host CPU and memory once a second
    # Per client when the run's clients are spread over targets; None marks a client left out
    # because its target is down (the run goes on degraded). Empty: every client on ``launcher``.
    sites: list[Site | None] = field(default_factory=list)
    on_host_failure: str = "fail"  # the scenario's choice when a spread run's target is down
    degraded: list[str] = field(default_factory=list)  # clients left out, and why
    barrier: dict[str, float | bool] = field(default_factory=dict)  # how the start barrier went
    # One scratch directory per target for a run's many clients, a subdirectory each.
    shared_scratch: dict[tuple[str, int], tuple[str | None, Mount | None]] = field(default_factory=dict)
    scratches: list[tuple[Site, scratch.Scratch]] = field(default_factory=list)

    @property
    def main(self) -> Site:
        return Site(self.run.target, self.launcher, self.host, self.transport, self.scratch_base)

    def site(self, client: int) -> Site | None:
        return self.sites[client] if self.sites else self.main

    def all_sites(self) -> list[Site]:
        found = {s.target: s for s in self.sites if s is not None} if self.sites else {}
        return list(found.values()) or [self.main]


def _fail_event(
    run: RunSpec, driver: WorkloadDriver, parsers: Iterable[ClientParser], reason: str
) -> RunFailed:
    partial: dict[str, Metric] = {}
    finals = [f for f, _ in (p.finish(-1) for p in parsers) if f is not None]
    if finals:
        with contextlib.suppress(Exception):
            partial = driver.combine(finals)
    return RunFailed(run.run_id, reason, partial)


class Runner:
    """Executes runs; returns True when a run finished, False when it failed."""

    async def execute(self, ctx: RunContext) -> bool:
        try:
            await self._record_conditions(ctx)
            driver = ctx.driver
            if driver.runs_as == "procedure":
                return await self._procedure(ctx, driver)
            return await self._tool_run(ctx, driver)
        except (KatatuiError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug of katatui's: this run fails, the session goes on
            ctx.warn(f"internal error in run {ctx.run.run_id}: {traceback.format_exc()}")
            ctx.emit(RunFailed(ctx.run.run_id, f"internal error: {exc!r} (please report it)"))
            return False

    async def _record_conditions(self, ctx: RunContext) -> None:
        """The fairness record of the run: the page cache (dropped first when asked) and the host's
        load, governor and KSM state just before it starts."""
        run = ctx.run
        if ctx.drop_caches:
            page_cache = await fairness.drop_caches(ctx.transport)
            if page_cache.startswith("not"):
                ctx.warn(f"page cache {page_cache} (drop_caches needs root on {run.target})")
        else:
            page_cache = "not dropped (drop_caches is off)"
        state = await fairness.host_state(ctx.transport)
        ctx.emit(RunFacts(run.run_id, {"scenario": run.scenario, "target": run.target,
                                       "page_cache": page_cache, **state}))  # fmt: skip

    # -- procedures (launch time, footprint) -----------------------------------------------------
    async def _procedure(self, ctx: RunContext, proc: Procedure) -> bool:
        run = ctx.run
        started = time.monotonic()
        try:
            results = await within(
                proc.perform(ProcedureContext(run, ctx.launcher, ctx.transport, ctx.emit)),
                proc.timeout(run.variant),
            )
        except TimeoutError:
            ctx.emit(RunFailed(run.run_id, f"no result after {proc.timeout(run.variant):.0f} s"))
            return False
        except asyncio.CancelledError:
            ctx.emit(RunFailed(run.run_id, ctx.cancel_reason))
            raise
        except KatatuiError as exc:
            ctx.emit(RunFailed(run.run_id, str(exc)))
            return False
        finally:
            await asyncio.shield(self._release_all(ctx))
        ctx.emit(RunFinished(run.run_id, results, time.monotonic() - started))
        return True

    # -- tools with streamed output ---------------------------------------------------------------
    async def _tool_run(self, ctx: RunContext, driver: WorkloadDriver) -> bool:
        run = ctx.run
        servers: list[Process] = []
        watchers: list[tuple[ServerSpec, asyncio.Task[None]]] = []
        procs: dict[int, Process] = {}
        parsers: dict[int, ClientParser] = {}
        tasks: dict[int, asyncio.Task[tuple[Any | None, str | None]]] = {}
        samplers: list[SandboxSampler] = []
        started = time.monotonic()
        clients = [c for c in range(run.clients) if ctx.site(c) is not None]
        gate = Gate(clients) if len(clients) > 1 else None
        reported = False  # the interruption has been handled and said
        try:
            plans = {c: await self._prepare_client(ctx, driver, c) for c in clients}
            commands = [tuple(self._client_launcher(ctx, driver, c).describe(run, a, m))
                        for c, (a, m, _) in plans.items()]  # fmt: skip
            commands += [tuple(desc) for _, _, srv in plans.values() if srv for desc in [srv[2]]]
            ctx.emit(RunStarted(run.run_id, tuple(commands)))
            for c, (_, _, srv) in plans.items():
                if srv is not None:
                    proc, reader = await self._start_server(ctx, c, *srv[:2])
                    servers.append(proc)
                    watchers.append((srv[0], reader))
            waits = gate is not None and all(self._client_launcher(ctx, driver, c).barrier for c in clients)
            await self._start_clients(ctx, driver, plans, procs, gate, waits)
            for c in procs:
                parsers[c] = driver.parser(run.variant)
                tasks[c] = asyncio.create_task(self._client(ctx, c, procs[c], parsers[c], gate))
            if gate is not None and waits:
                await self._release(ctx, driver, procs, tasks, gate)
            elif gate is not None:
                ctx.barrier = {"barrier": False}
            if ctx.sample_sandbox:
                for i, site in enumerate(ctx.all_sites()):
                    sampler = SandboxSampler(run.run_id, site.transport, _roots(site.launcher, run), ctx.emit,
                                             client=SANDBOX_CLIENT + i)  # fmt: skip
                    sampler.start()
                    samplers.append(sampler)
            try:
                _, pending = await asyncio.wait(tasks.values(), timeout=driver.timeout(run.variant))
            except asyncio.CancelledError:
                # Stop the tools (fio prints a final object on SIGINT) and keep reading what they say.
                await asyncio.shield(self._stop_all(procs.values()))
                await asyncio.shield(self._settle(tasks.values(), 15))
                ctx.emit(_fail_event(run, driver, parsers.values(), ctx.cancel_reason))
                reported = True
                raise
            if pending:
                await self._stop_all(procs.values())
                await self._settle(tasks.values(), 15)
                reason = f"no result after {driver.timeout(run.variant):.0f} s; stopped it"
                ctx.emit(_fail_event(run, driver, parsers.values(), reason))
                return False
            died = [spec.name for spec, reader in watchers if spec.persistent and reader.done()]
            if died:  # what answered the client was not the server under test
                reason = f"{', '.join(died)} stopped while the client ran; its figures are not the scenario's"
                ctx.emit(_fail_event(run, driver, parsers.values(), reason))
                return False
            for sampler in samplers:
                await sampler.stop()
            outcomes = {c: t.result() for c, t in tasks.items()}
            return self._conclude(ctx, driver, outcomes, time.monotonic() - started, samplers, gate)
        except asyncio.CancelledError:
            if not reported:  # interrupted while starting (or at the barrier): nothing measured yet
                await asyncio.shield(self._stop_all(procs.values()))
                await asyncio.shield(self._settle(tasks.values(), 15))
                ctx.emit(_fail_event(run, driver, parsers.values(), ctx.cancel_reason))
            raise
        except KatatuiError as exc:
            await self._stop_all(procs.values())
            await self._settle(tasks.values(), 15)
            ctx.emit(_fail_event(run, driver, parsers.values(), str(exc)))
            return False
        except Exception:  # katatui's own bug: stop and read what runs before saying so
            await self._stop_all(procs.values())
            await self._settle(tasks.values(), 15)
            raise
        finally:
            for sampler in samplers:
                await asyncio.shield(sampler.stop())
            await asyncio.shield(self._stop_all(servers))
            await asyncio.shield(self._release_all(ctx))

    @staticmethod
    def _client_launcher(ctx: RunContext, driver: WorkloadDriver, client: int) -> Launcher:
        site = ctx.site(client)
        assert site is not None
        return site.launcher if driver.client_in_scenario else site.host

    async def _start_clients(
        self,
        ctx: RunContext,
        driver: WorkloadDriver,
        plans: dict[int, tuple[list[str], Mount | None, Any]],
        procs: dict[int, Process],
        gate: Gate | None,
        waits: bool = True,
    ) -> None:
        """Start every client at once (each waits at the barrier when there are several). A client
        that cannot start fails the run, or with ``on_host_failure = "continue"`` is left out."""
        run = ctx.run

        def argv_of(c: int) -> list[str]:
            argv = plans[c][0]
            if gate is None:
                return argv
            return ["sh", "-c", BARRIER if waits else NO_BARRIER, BARRIER_NAME, *argv]

        async def one(c: int) -> None:
            procs[c] = await self._client_launcher(ctx, driver, c).start(run, c, argv_of(c), plans[c][1])

        async def batch(launcher: Launcher, group: list[int]) -> None:
            started = await launcher.start_many(run, [(c, argv_of(c), plans[c][1]) for c in group])
            procs.update(zip(group, started, strict=True))

        # A launcher that starts many at the cost of one (a batch over one SSH channel, one API
        # round for pods) gets its clients together; the others start each client at once.
        groups: dict[int, tuple[Launcher, list[int]]] = {}
        for c in plans:
            launcher = self._client_launcher(ctx, driver, c)
            groups.setdefault(id(launcher), (launcher, []))[1].append(c)
        jobs: list[tuple[list[int], Any]] = []
        for launcher, group in groups.values():
            if type(launcher).start_many is not Launcher.start_many and len(group) > 1:
                jobs.append((group, batch(launcher, group)))
            else:
                jobs += [([c], one(c)) for c in group]
        outcomes = await asyncio.gather(*(job for _, job in jobs), return_exceptions=True)
        errors = {
            c: o
            for (group, _), o in zip(jobs, outcomes, strict=True)
            if isinstance(o, BaseException)
            for c in group
        }
        for exc in errors.values():
            if not isinstance(exc, KatatuiError):
                raise exc
        if not errors:
            return
        if ctx.on_host_failure != "continue" or not procs:
            raise next(iter(errors.values()))
        for c, exc in errors.items():
            ctx.warn(f"client {c} on {run.host_of(c)} could not start, the run goes on without it: {exc}")
            if gate is not None:
                gate.ready.pop(c, None)
        ctx.degraded.extend(f"client {c} on {run.host_of(c)}: {exc}" for c, exc in errors.items())

    async def _release(
        self,
        ctx: RunContext,
        driver: WorkloadDriver,
        procs: dict[int, Process],
        tasks: dict[int, asyncio.Task[Any]],
        gate: Gate,
    ) -> None:
        """Wait until every client waits at the barrier, then let them all go together."""
        waiting = time.monotonic()
        try:
            await within(
                asyncio.gather(*(gate.ready[c].wait() for c in procs if c in gate.ready)),
                CLIENTS_READY_TIMEOUT,
            )
        except TimeoutError:
            late = [f"client {c} on {ctx.run.host_of(c)}" for c in procs if not gate.ready[c].is_set()]
            raise TargetError(
                f"{', '.join(late)} did not reach the start barrier within {CLIENTS_READY_TIMEOUT:.0f} s"
            ) from None
        ready_at = time.monotonic()
        alive = [c for c in procs if not tasks[c].done()]
        by_launcher: dict[int, tuple[Launcher, Transport, list[Process]]] = {}
        for c in alive:
            site = ctx.site(c)
            assert site is not None
            launcher = self._client_launcher(ctx, driver, c)
            by_launcher.setdefault(id(launcher), (launcher, site.transport, []))[2].append(procs[c])
        fires = await asyncio.gather(
            *(launcher.arm_signal(ps, "USR1") for launcher, _, ps in by_launcher.values())
        )
        armed = time.monotonic()
        await asyncio.gather(*(fire() for fire in fires))
        ctx.barrier = {"barrier": True, "clients_waiting_s": round(ready_at - waiting, 4),
                       "arm_s": round(armed - ready_at, 4),
                       "release_s": round(time.monotonic() - armed, 4)}  # fmt: skip

    async def _scratch_for(
        self, ctx: RunContext, site: Site, launcher: Launcher
    ) -> tuple[str | None, Mount | None, scratch.Scratch | None]:
        host_path = None
        made = None
        if launcher.needs_host_scratch(ctx.mode):
            made = await scratch.create(site.transport, site.scratch_base, ctx.session_id)
            ctx.scratches.append((site, made))
            host_path = made.path
        inner = launcher.scratch_path(host_path)
        mount = Mount(host_path, inner) if host_path and inner != host_path else None
        return inner, mount, made

    async def _client_scratch(
        self, ctx: RunContext, site: Site, launcher: Launcher, client: int
    ) -> tuple[str | None, Mount | None]:
        """A client's scratch directory. Many clients on one target share one directory, each in
        its own subdirectory: one mkdir for all of them instead of a command per client."""
        if ctx.run.clients == 1 or not launcher.needs_host_scratch(ctx.mode):
            inner, mount, _ = await self._scratch_for(ctx, site, launcher)
            return inner, mount
        key = (site.target, id(launcher))
        if key not in ctx.shared_scratch:
            inner, mount, made = await self._scratch_for(ctx, site, launcher)
            assert made is not None
            subs = [f"{made.path}/c{c}" for c in range(ctx.run.clients) if ctx.run.host_of(c) == site.target]
            await site.transport.run(["mkdir", "--", *subs], timeout=60, check=True)
            ctx.shared_scratch[key] = (inner, mount)
        inner, mount = ctx.shared_scratch[key]
        return f"{inner}/c{client}", mount

    async def _prepare_client(
        self, ctx: RunContext, driver: WorkloadDriver, client: int
    ) -> tuple[list[str], Mount | None, tuple[ServerSpec, Mount | None, list[str]] | None]:
        site = ctx.site(client)
        assert site is not None
        inner, mount = (None, None)
        if driver.needs_scratch:
            inner, mount = await self._client_scratch(
                ctx, site, self._client_launcher(ctx, driver, client), client
            )
        server = None
        port_client = ctx.slot * ctx.run.clients + client  # drivers take their ports from this
        spec = driver.server(ctx.run.variant, port_client, site.launcher.name, None)
        if spec is not None:
            srv_site = site if spec.in_scenario or ctx.server_host is None else ctx.main
            srv_launcher = site.launcher if spec.in_scenario else (ctx.server_host or site.host)
            srv_dir, srv_mount = (None, None)
            if spec.files:
                srv_dir, srv_mount, made = await self._scratch_for(ctx, srv_site, srv_launcher)
                spec = driver.server(ctx.run.variant, port_client, site.launcher.name, srv_dir)
                assert spec is not None
                assert made is not None, "server files need a host scratch directory"
                for rel, data in spec.files.items():
                    await write_file(srv_site.transport, f"{made.path}/{rel}", data)
            server = (spec, srv_mount, srv_launcher.describe(ctx.run, spec.argv, srv_mount))
        try:
            argv = driver.argv(ctx.run.variant, inner, port_client)
        except ValueError as exc:  # a value the tool cannot take (a port past 65535, ...)
            raise WorkloadError(str(exc)) from None
        return argv, mount, server

    async def _start_server(
        self, ctx: RunContext, client: int, spec: ServerSpec, mount: Mount | None
    ) -> tuple[Process, asyncio.Task[None]]:
        site = ctx.site(client)
        assert site is not None
        launcher = site.launcher if spec.in_scenario else (ctx.server_host or site.host)
        number = SERVER_CLIENT_BASE + client
        proc = await launcher.start(ctx.run, number, spec.argv, mount)
        seen = bytearray()
        deadline = time.monotonic() + READY_TIMEOUT
        reader = asyncio.create_task(self._drain(ctx, number, proc, seen))
        try:
            while time.monotonic() < deadline:
                if reader.done():
                    rc = await proc.wait()
                    said = seen.decode(errors="replace").strip().splitlines()[-2:]
                    raise TargetError(
                        f"{spec.name} ({spec.argv[0]}) exited with status {rc} before it was ready: "
                        + ("; ".join(said) or "no output")
                    )
                if spec.ready is not None and re.search(spec.ready, bytes(seen)):
                    break
                if spec.probe is not None:
                    with contextlib.suppress(TargetError):  # not answering yet: look again
                        if (await site.transport.run(spec.probe, timeout=5)).ok:
                            break
                await asyncio.sleep(0.2)
            else:
                raise TargetError(f"{spec.name} ({spec.argv[0]}) was not ready within {READY_TIMEOUT:.0f} s")
        except BaseException:
            await self._stop_all([proc])
            raise
        return proc, reader

    async def _drain(self, ctx: RunContext, number: int, proc: Process, seen: bytearray) -> None:
        while (chunk := await proc.read()) is not None:
            ctx.emit(RawOutput(ctx.run.run_id, number, chunk[0], chunk[1]))
            if len(seen) < 65536:
                seen += chunk[1]

    async def _client(
        self, ctx: RunContext, client: int, proc: Process, parser: ClientParser, gate: Gate | None = None
    ) -> tuple[Any | None, str | None]:
        run_id = ctx.run.run_id
        while (chunk := await proc.read()) is not None:
            stream, data = chunk
            if gate is not None:
                data = gate.filter(client, stream, data)
                if not data:
                    continue
            ctx.emit(RawOutput(run_id, client, stream, data))
            for r in parser.feed(stream, data):
                ctx.emit(Sample(run_id, r.t, r.metrics, client, r.hist))
        if gate is not None and (rest := gate.flush(client)):
            ctx.emit(RawOutput(run_id, client, "stderr", rest))
            for r in parser.feed("stderr", rest):
                ctx.emit(Sample(run_id, r.t, r.metrics, client, r.hist))
        rc = await proc.wait()
        return parser.finish(rc)

    def _conclude(
        self,
        ctx: RunContext,
        driver: WorkloadDriver,
        outcomes: Mapping[int, tuple[Any | None, str | None]],
        took: float,
        samplers: Sequence[SandboxSampler] = (),
        gate: Gate | None = None,
    ) -> bool:
        run = ctx.run

        def where(c: int) -> str:
            return f"client {c} on {run.host_of(c)}" if run.hosts else f"client {c}"

        failed = {c: r for c, (_, r) in outcomes.items() if r}
        finals = {c: f for c, (f, r) in outcomes.items() if f is not None and not r}
        self._record_spread(ctx, driver, finals, gate)
        if failed and ctx.on_host_failure == "continue" and finals and run.hosts:
            for c, r in failed.items():
                ctx.degraded.append(f"{where(c)}: {r}")
            ctx.warn(f"run {run.run_id} is degraded: {len(failed)} of {run.clients} clients failed; "
                     "its figures are from the others")  # fmt: skip
            failed = {}
        if ctx.degraded:
            ctx.emit(RunFacts(run.run_id, {"degraded": list(ctx.degraded),
                                           "clients_measured": len(finals)}))  # fmt: skip
        if failed:
            reasons = [f"{where(c)}: {r}" if run.clients > 1 else r for c, r in failed.items()]
            partial = driver.combine(list(finals.values())) if finals else {}
            ctx.emit(RunFailed(run.run_id, "; ".join(reasons), partial))
            return False
        results = driver.combine(list(finals.values()))
        for note in getattr(driver, "notes", _no_notes)(list(finals.values())):
            ctx.warn(f"run {run.run_id}: {note}")  # a usable result, not the one asked for
        if samplers:
            results = {**results, **SandboxSampler.combined(samplers, results)}
        ctx.emit(RunFinished(run.run_id, results, took))
        return True

    def _record_spread(
        self, ctx: RunContext, driver: WorkloadDriver, finals: Mapping[int, Any], gate: Gate | None
    ) -> None:
        """Per host, the combined figures of its clients; and how closely the clients started."""
        run = ctx.run
        facts: dict[str, Any] = {}
        if run.hosts and finals:
            per_host: dict[str, dict[str, dict[str, Any]]] = {}
            for host in dict.fromkeys(run.hosts):
                mine = [f for c, f in finals.items() if run.host_of(c) == host]
                if mine:
                    with contextlib.suppress(Exception):
                        per_host[host] = {k: {"value": m.value, "unit": m.unit, "clients": len(mine)}
                                          for k, m in driver.combine(mine).items()}  # fmt: skip
            facts["per_host"] = per_host
            facts["placement"] = list(run.hosts)
        if gate is not None and gate.went:
            # The clients' own clocks where every one could read one (on one host they are the
            # same clock; across hosts they differ by the hosts' clock offset); else when katatui
            # received their markers, which adds the delivery of their output.
            clocked = len(gate.clock) == len(gate.went)
            times = gate.clock if clocked else gate.went
            first = min(times.values())
            facts["start"] = {
                **ctx.barrier,
                "start_spread_s": round(max(times.values()) - first, 4),
                "measured_by": "the clients' clocks" if clocked else "arrival of their start markers",
                "client_start_offsets_s": {str(c): round(t - first, 4) for c, t in sorted(times.items())},
            }
        if facts:
            ctx.emit(RunFacts(run.run_id, facts))

    @staticmethod
    async def _settle(tasks: Iterable[asyncio.Task[Any]], timeout: float) -> None:
        """Let client readers drain what the stopped tools still print, then give up on them."""
        tasks = list(tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for t in pending:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _stop_all(procs: Iterable[Process]) -> None:
        async def stop(p: Process) -> None:
            with contextlib.suppress(Exception):
                await within(p.stop(grace=5.0), 20)

        await asyncio.gather(*(stop(p) for p in procs))

    async def _release_all(self, ctx: RunContext) -> None:
        launchers: list[Launcher] = [ctx.launcher, ctx.host]
        for site in ctx.all_sites():
            launchers += [site.launcher, site.host]
        if ctx.server_host:
            launchers.append(ctx.server_host)
        unique = list({id(x): x for x in launchers}.values())
        clients = [*range(ctx.run.clients), *(SERVER_CLIENT_BASE + c for c in range(ctx.run.clients))]
        # Every client of every launcher at once: one after the other, 64 containers cost 64 round
        # trips, and as many timeouts of a daemon that stopped answering.
        await asyncio.gather(*(x.release_many(ctx.run, clients) for x in unique), return_exceptions=True)
        for launcher in unique:
            for note in launcher.release_notes():
                ctx.warn(note)
        for site, s in ctx.scratches:
            try:
                await scratch.remove(site.transport, s, site.scratch_base)
            except KatatuiError as exc:
                ctx.warn(f"could not remove scratch directory {s.path} on {site.target}: {exc}")
        ctx.scratches.clear()


def _no_notes(_finals: Sequence[Any]) -> list[str]:
    return []


def _roots(launcher: Launcher, run: RunSpec) -> Callable[[], Awaitable[list[tuple[int, str]]]]:
    return lambda: launcher.sandbox_roots(run)


async def write_file(transport: Transport, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` on the host (through the transport; the path is an argument)."""
    script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
    await transport.run(["sh", "-c", script, "sh", path], input=data, timeout=60, check=True)
