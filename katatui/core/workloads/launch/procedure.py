"""Launch time: how long a short command takes from the request to its exit, per scenario.

One launch per run; repeats interleave the scenarios (A B, then B A, ...). The first repeat of each cell
is the cold start and is reported as ``launch_cold_s``, apart from ``launch_s``, so that it does
not skew the median. Under Docker the time runs from the create request to the container's exit
as the Docker API reports it (removal not included); bare, the host times the command itself, so
an SSH channel's cost is not counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Literal

from katatui.core.errors import WorkloadError
from katatui.core.events import Metric, RawOutput
from katatui.core.workloads.base import ProcedureContext
from katatui.core.workloads.launch import LaunchWorkload

# Fixed text: the command follows as positional parameters.
TIMED = 'a=$(date +%s%N); "$@"; rc=$?; b=$(date +%s%N); echo "katatui-launch-ns $((b - a)) $rc" >&2; exit $rc'


class LaunchProcedure:
    runs_as: Literal["procedure"] = "procedure"
    kind = "launch"

    def __init__(self, workload: LaunchWorkload) -> None:
        self.workload = workload

    def host_tools(self, launcher: str) -> set[str]:
        return set()

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return 300.0

    async def perform(self, ctx: ProcedureContext) -> dict[str, Metric]:
        run = ctx.run
        argv = list(self.workload.command)
        if run.launcher == "bare":
            proc = await ctx.transport.start(["sh", "-c", TIMED, "sh", *argv])
        else:
            t0 = time.monotonic()
            proc = await ctx.launcher.start(run, 0, argv, None)
        out = bytearray()
        err = bytearray()
        try:
            while (chunk := await proc.read()) is not None:
                ctx.emit(RawOutput(run.run_id, 0, chunk[0], chunk[1]))
                (out if chunk[0] == "stdout" else err).extend(chunk[1])
            rc = await proc.wait()
        except BaseException:  # timed out or interrupted: the command must not outlive its run
            if run.launcher == "bare":
                await asyncio.shield(proc.stop(grace=2.0))
            raise
        if run.launcher == "bare":
            seconds = _host_timing(bytes(err))
        else:
            seconds = time.monotonic() - t0
            await ctx.launcher.release(run, 0)
        if rc != 0:
            lines = [x for x in bytes(err).decode(errors="replace").splitlines() if x.strip()]
            said = [x for x in lines if not x.startswith("katatui-launch-ns ")][-1:] or ["no error output"]
            raise WorkloadError(f"`{' '.join(argv)}` exited with status {rc}: {said[0]}")
        name = "launch_cold_s" if run.repeat == 0 else "launch_s"
        return {name: Metric(seconds, "s")}


def _host_timing(stderr: bytes) -> float:
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("katatui-launch-ns "):
            return int(line.split()[1]) / 1e9
    raise WorkloadError("the host's timing line is missing (is `date +%s%N` supported there?)")
