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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from katatui.core import fairness, scratch
from katatui.core.errors import KatatuiError, TargetError, WorkloadError
from katatui.core.events import (
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
from katatui.core.launchers.base import Launcher, Mount
from katatui.core.sandbox import SandboxSampler
from katatui.core.transport.base import Process, Transport
from katatui.core.workloads.base import ClientParser, Procedure, ProcedureContext, ServerSpec, WorkloadDriver

SERVER_CLIENT_BASE = 1000  # client numbers of servers, so their output and containers stay apart
READY_TIMEOUT = 30.0


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
    scratches: list[scratch.Scratch] = field(default_factory=list)


def _fail_event(
    run: RunSpec, driver: WorkloadDriver, parsers: Sequence[ClientParser], reason: str
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
            if hasattr(ctx.driver, "perform"):
                return await self._procedure(ctx)
            return await self._tool_run(ctx)
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
    async def _procedure(self, ctx: RunContext) -> bool:
        proc: Any = ctx.driver
        run = ctx.run
        started = time.monotonic()
        try:
            results = await asyncio.wait_for(
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
    async def _tool_run(self, ctx: RunContext) -> bool:
        run = ctx.run
        driver: WorkloadDriver = ctx.driver  # type: ignore[assignment]
        servers: list[Process] = []
        watchers: list[tuple[ServerSpec, asyncio.Task[None]]] = []
        procs: list[Process] = []
        parsers: list[ClientParser] = []
        tasks: list[asyncio.Task[tuple[Any | None, str | None]]] = []
        started = time.monotonic()
        client_launcher = ctx.launcher if driver.client_in_scenario else ctx.host
        sampler: SandboxSampler | None = None
        try:
            plans = [await self._prepare_client(ctx, driver, client_launcher, c) for c in range(run.clients)]
            commands = [tuple(client_launcher.describe(run, a, m)) for a, m, _ in plans]
            commands += [tuple(desc) for _, _, srv in plans if srv for desc in [srv[2]]]
            ctx.emit(RunStarted(run.run_id, tuple(commands)))
            for c, (_, _, srv) in enumerate(plans):
                if srv is not None:
                    proc, reader = await self._start_server(ctx, c, *srv[:2])
                    servers.append(proc)
                    watchers.append((srv[0], reader))
            for c, (argv, mount, _) in enumerate(plans):
                procs.append(await client_launcher.start(run, c, argv, mount))
                parsers.append(driver.parser(run.variant))
            tasks = [asyncio.create_task(self._client(ctx, c, p, parsers[c])) for c, p in enumerate(procs)]
            if ctx.sample_sandbox:
                sampler = SandboxSampler(
                    run.run_id, ctx.transport, lambda: ctx.launcher.sandbox_roots(run), ctx.emit
                )
                sampler.start()
            try:
                _, pending = await asyncio.wait(tasks, timeout=driver.timeout(run.variant))
            except asyncio.CancelledError:
                # Stop the tools (fio prints a final object on SIGINT) and keep reading what they say.
                await asyncio.shield(self._stop_all(procs))
                await asyncio.shield(self._settle(tasks, 15))
                ctx.emit(_fail_event(run, driver, parsers, ctx.cancel_reason))
                raise
            if pending:
                await self._stop_all(procs)
                await self._settle(tasks, 15)
                reason = f"no result after {driver.timeout(run.variant):.0f} s; stopped it"
                ctx.emit(_fail_event(run, driver, parsers, reason))
                return False
            died = [spec.name for spec, reader in watchers if spec.persistent and reader.done()]
            if died:  # what answered the client was not the server under test
                reason = f"{', '.join(died)} stopped while the client ran; its figures are not the scenario's"
                ctx.emit(_fail_event(run, driver, parsers, reason))
                return False
            if sampler is not None:
                await sampler.stop()
            return self._conclude(
                ctx, driver, [t.result() for t in tasks], time.monotonic() - started, sampler
            )
        except asyncio.CancelledError:
            if not tasks:  # interrupted while starting: nothing measured yet
                await asyncio.shield(self._stop_all(procs))
                ctx.emit(_fail_event(run, driver, parsers, ctx.cancel_reason))
            raise
        except KatatuiError as exc:
            await self._stop_all(procs)
            await self._settle(tasks, 15)
            ctx.emit(_fail_event(run, driver, parsers, str(exc)))
            return False
        finally:
            if sampler is not None:
                await asyncio.shield(sampler.stop())
            await asyncio.shield(self._stop_all(servers))
            await asyncio.shield(self._release_all(ctx))

    async def _scratch_for(self, ctx: RunContext, launcher: Launcher) -> tuple[str | None, Mount | None]:
        host_path = None
        if launcher.needs_host_scratch(ctx.mode):
            s = await scratch.create(ctx.transport, ctx.scratch_base, ctx.session_id)
            ctx.scratches.append(s)
            host_path = s.path
        inner = launcher.scratch_path(host_path)
        mount = Mount(host_path, inner) if host_path and inner != host_path else None
        return inner, mount

    async def _prepare_client(
        self, ctx: RunContext, driver: WorkloadDriver, launcher: Launcher, client: int
    ) -> tuple[list[str], Mount | None, tuple[ServerSpec, Mount | None, list[str]] | None]:
        inner, mount = (None, None)
        if driver.needs_scratch:
            inner, mount = await self._scratch_for(ctx, launcher)
        server = None
        port_client = ctx.slot * ctx.run.clients + client  # drivers take their ports from this
        spec = driver.server(ctx.run.variant, port_client, ctx.launcher.name, None)
        if spec is not None:
            srv_launcher = ctx.launcher if spec.in_scenario else (ctx.server_host or ctx.host)
            srv_dir, srv_mount = (None, None)
            if spec.files:
                srv_dir, srv_mount = await self._scratch_for(ctx, srv_launcher)
                spec = driver.server(ctx.run.variant, port_client, ctx.launcher.name, srv_dir)
                assert spec is not None
                assert ctx.scratches, "server files need a host scratch directory"
                for rel, data in spec.files.items():
                    await write_file(ctx.transport, f"{ctx.scratches[-1].path}/{rel}", data)
            server = (spec, srv_mount, srv_launcher.describe(ctx.run, spec.argv, srv_mount))
        try:
            argv = driver.argv(ctx.run.variant, inner, port_client)
        except ValueError as exc:  # a value the tool cannot take (a port past 65535, ...)
            raise WorkloadError(str(exc)) from None
        return argv, mount, server

    async def _start_server(
        self, ctx: RunContext, client: int, spec: ServerSpec, mount: Mount | None
    ) -> tuple[Process, asyncio.Task[None]]:
        launcher = ctx.launcher if spec.in_scenario else (ctx.server_host or ctx.host)
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
                        if (await ctx.transport.run(spec.probe, timeout=5)).ok:
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
        self, ctx: RunContext, client: int, proc: Process, parser: ClientParser
    ) -> tuple[Any | None, str | None]:
        run_id = ctx.run.run_id
        while (chunk := await proc.read()) is not None:
            stream, data = chunk
            ctx.emit(RawOutput(run_id, client, stream, data))
            for r in parser.feed(stream, data):
                ctx.emit(Sample(run_id, r.t, r.metrics, client, r.hist))
        rc = await proc.wait()
        return parser.finish(rc)

    def _conclude(
        self,
        ctx: RunContext,
        driver: WorkloadDriver,
        outcomes: Sequence[tuple[Any | None, str | None]],
        took: float,
        sampler: SandboxSampler | None = None,
    ) -> bool:
        run = ctx.run
        reasons = [f"client {i}: {r}" if run.clients > 1 else r for i, (_, r) in enumerate(outcomes) if r]
        finals = [f for f, r in outcomes if f is not None and not r]
        if reasons:
            partial = driver.combine(finals) if finals else {}
            ctx.emit(RunFailed(run.run_id, "; ".join(reasons), partial))
            return False
        results = driver.combine(finals)
        if sampler is not None:
            results = {**results, **sampler.results(results)}
        ctx.emit(RunFinished(run.run_id, results, took))
        return True

    @staticmethod
    async def _settle(tasks: Sequence[asyncio.Task[Any]], timeout: float) -> None:
        """Let client readers drain what the stopped tools still print, then give up on them."""
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for t in pending:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _stop_all(procs: Sequence[Process]) -> None:
        async def stop(p: Process) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(p.stop(grace=5.0), 20)

        await asyncio.gather(*(stop(p) for p in procs))

    async def _release_all(self, ctx: RunContext) -> None:
        launchers = [ctx.launcher, ctx.host] + ([ctx.server_host] if ctx.server_host else [])
        for launcher in {id(x): x for x in launchers}.values():
            for client in [
                *range(ctx.run.clients),
                *(SERVER_CLIENT_BASE + c for c in range(ctx.run.clients)),
            ]:
                with contextlib.suppress(Exception):
                    await launcher.release(ctx.run, client)
        for s in ctx.scratches:
            try:
                await scratch.remove(ctx.transport, s, ctx.scratch_base)
            except KatatuiError as exc:
                ctx.warn(f"could not remove scratch directory {s.path}: {exc}")
        ctx.scratches.clear()


async def write_file(transport: Transport, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` on the host (through the transport; the path is an argument)."""
    script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
    await transport.run(["sh", "-c", script, "sh", path], input=data, timeout=60, check=True)
