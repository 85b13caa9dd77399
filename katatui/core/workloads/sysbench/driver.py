"""sysbench's driver: cpu or memory in the scenario."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from katatui.core.events import Metric
from katatui.core.transport.base import Stream
from katatui.core.workloads._combine import summed
from katatui.core.workloads.base import InScenarioDriver, Reading
from katatui.core.workloads.sysbench import SysbenchWorkload
from katatui.core.workloads.sysbench import parser as sysbench


class SysbenchClient:
    def __init__(self) -> None:
        self.stream = sysbench.SysbenchStream()
        self.stderr = bytearray()

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        if stream == "stderr":
            self.stderr += data[: max(0, 65536 - len(self.stderr))]
            return []
        return [Reading(s.t, s.metrics()) for s in self.stream.feed(data)]

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        self.stream.close()
        return self.stream.result, sysbench.classify_failure(self.stream, returncode, bytes(self.stderr))


class SysbenchDriver(InScenarioDriver):
    kind = "sysbench"
    tool = "sysbench"
    needs_scratch = False

    def __init__(self, workload: SysbenchWorkload) -> None:
        self.workload = workload

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]:
        w = self.workload
        test = str(variant["test"])
        params = sysbench.SysbenchParams(
            test=test, threads=variant["threads"], time=w.time, events=w.events,
            cpu_max_prime=w.cpu_max_prime if test == "cpu" else None,
            memory_block_size=w.memory_block_size if test == "memory" else None,
            memory_total_size=w.memory_total_size if test == "memory" else None,
            memory_oper=w.memory_oper if test == "memory" else None,
        )  # fmt: skip
        return sysbench.build_argv(params)

    def parser(self, variant: Mapping[str, Any]) -> SysbenchClient:
        return SysbenchClient()

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        parts = [sysbench.final_metrics(r) for r in finals]
        return summed(parts, {"events_per_second", "total_events", "mib_per_s", "total_mib"})

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return self.workload.time + 120.0
