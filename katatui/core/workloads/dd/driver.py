"""dd's driver: write, or write then read, a file in the scratch directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from katatui.core.events import Metric
from katatui.core.transport.base import Stream
from katatui.core.workloads._combine import summed
from katatui.core.workloads.base import InScenarioDriver, Reading
from katatui.core.workloads.dd import DdWorkload
from katatui.core.workloads.dd import parser as dd

# Fixed text: write the file first when the run reads it (its own write is not measured).
DD_READ = 'dd if=/dev/zero of="$1" bs="$2" count="$3" status=none && sync && shift 3 && exec "$@"'


class DdClient:
    def __init__(self, bs_bytes: int, expected: int | None) -> None:
        self.stream = dd.DdStream(bs_bytes)
        self.expected = expected

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        if stream == "stderr":
            self.stream.feed(data)
        return []

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        result = self.stream.close()
        return result, dd.classify_failure(self.stream, returncode, expected_bytes=self.expected)


class DdDriver(InScenarioDriver):
    kind = "dd"
    tool = "dd"
    needs_scratch = True

    def __init__(self, workload: DdWorkload) -> None:
        self.workload = workload

    def _params(self, variant: Mapping[str, Any]) -> dd.DdParams:
        w = self.workload
        return dd.DdParams(op=variant["mode"], count=w.count, bs=str(variant["bs"]), direct=w.direct)

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]:
        assert directory is not None
        params = self._params(variant)
        run = dd.build_argv(params, directory)
        if params.op == "write":
            return run
        return ["sh", "-c", DD_READ, "sh", dd.scratch_file(directory), params.bs, str(params.count), *run]

    def parser(self, variant: Mapping[str, Any]) -> DdClient:
        return DdClient(dd.block_size_bytes(str(variant["bs"])), None)  # this run's block size

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        return summed([dd.final_metrics(r) for r in finals], {"bytes", "bytes_per_s"})

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return 600.0
