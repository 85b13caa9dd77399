"""fio's driver: the argument list of a variant, a parser per client, and the run's results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from katatui.core.events import Metric
from katatui.core.schema import parse_size
from katatui.core.transport.base import Stream
from katatui.core.workloads.base import InScenarioDriver, Reading
from katatui.core.workloads.fio import FioWorkload
from katatui.core.workloads.fio import parser as fio


class FioClient:
    """One fio process: interval samples from differences of cumulative counters."""

    def __init__(self) -> None:
        self.stream = fio.FioStream()
        self.stderr = bytearray()
        self._prev: fio.FioSnapshot | None = None
        self._finished: tuple[Any | None, str | None] | None = None

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        if stream == "stderr":
            if len(self.stderr) < 65536:
                self.stderr += data
            return []
        out = []
        for snap in self.stream.feed(data):
            metrics = fio.interval_metrics(self._prev, snap)
            hist = fio.interval_histograms(self._prev, snap)
            self._prev = snap
            if metrics:
                out.append(Reading(snap.t, metrics, hist))
        return out

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        if self._finished is None:
            self.stream.close()
            reason = fio.classify_failure(self.stream, returncode, bytes(self.stderr))
            self._finished = (self.stream.last, reason)
        return self._finished


class FioDriver(InScenarioDriver):
    kind = "fio"
    tool = "fio"

    def __init__(self, workload: FioWorkload) -> None:
        self.workload = workload
        self.needs_scratch = workload.filename is None

    def params(self, variant: Mapping[str, Any]) -> fio.FioParams:
        w = self.workload
        rw = str(variant.get("rw", w.rw))
        return fio.FioParams(
            rw=rw,
            bs=variant["bs"],
            iodepth=variant["iodepth"],
            numjobs=variant["numjobs"],
            direct=w.direct,
            size=w.size,
            runtime=w.runtime,
            ioengine=w.ioengine,
            rwmixread=w.rwmixread if rw in ("rw", "randrw") else None,
            ramp_time=w.ramp_time,
            filename=w.filename if w.allow_existing_file else None,
        )

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]:
        return fio.build_fio_argv(self.params(variant), directory)

    def parser(self, variant: Mapping[str, Any]) -> FioClient:
        return FioClient()

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        merged = fio.merge(list(finals))
        return {k: Metric(v, unit) for k, (v, unit) in fio.final_metrics(merged).items()}

    def timeout(self, variant: Mapping[str, Any]) -> float:
        # Laying out the files comes first: allow for a slow disk (10 MiB/s) on top of the run itself.
        numjobs: int = variant.get("numjobs", 1)
        layout = parse_size(self.workload.size) * numjobs / (10 * 2**20)
        return self.workload.runtime + self.workload.ramp_time + 60 + layout
