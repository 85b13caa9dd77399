"""iperf3's driver: the client in the scenario, its server bare on the host (or a pod)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from katatui.core.events import Metric
from katatui.core.transport.base import Stream
from katatui.core.workloads._combine import metrics
from katatui.core.workloads.base import Reading, ServerSpec
from katatui.core.workloads.iperf3 import Iperf3Workload
from katatui.core.workloads.iperf3 import parser as iperf3


class Iperf3Client:
    def __init__(self, json_stream: bool, streams: int) -> None:
        self.stream: iperf3.Iperf3JsonStream | iperf3.Iperf3TextStream = (
            iperf3.Iperf3JsonStream() if json_stream else iperf3.Iperf3TextStream(streams)
        )
        self.stderr = bytearray()

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        if stream == "stderr":
            self.stderr += data[: max(0, 65536 - len(self.stderr))]
            if isinstance(self.stream, iperf3.Iperf3TextStream):
                self.stream.feed_stderr(data)
            return []
        return [Reading(s.t, s.metrics()) for s in self.stream.feed(data)]

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        self.stream.close()
        reason = iperf3.classify_failure(self.stream, returncode, bytes(self.stderr))
        return self.stream.result, reason


class Iperf3Driver:
    runs_as: Literal["tool"] = "tool"
    kind = "iperf3"
    needs_scratch = False
    client_in_scenario = True

    def __init__(self, workload: Iperf3Workload) -> None:
        self.workload = workload
        self.json_stream = False

    def adapt(self, facts: Mapping[str, Any]) -> None:
        """Use ``--json-stream`` where the host's iperf3 has it (3.17 and later)."""
        self.json_stream = iperf3.detect_json_stream(str(facts.get("iperf3_version", "")))

    def host_tools(self, launcher: str) -> set[str]:
        # The server runs on the host, except under Kubernetes, where it is a pod of its own.
        return set() if self._server_in_pod(launcher) else {"iperf3"}

    def _server_in_pod(self, launcher: str) -> bool:
        return launcher == "kubernetes" and self.workload.server_target is None

    def _params(self, variant: Mapping[str, Any], client: int) -> iperf3.Iperf3Params:
        w = self.workload
        return iperf3.Iperf3Params(
            streams=variant["streams"], reverse=variant["reverse"], duration=w.duration,
            udp=w.udp, bitrate=w.bitrate, port=w.port + client,
        )  # fmt: skip

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]:
        params = self._params(variant, client)
        return iperf3.build_client_argv(params, self.workload.server_address, json_stream=self.json_stream)

    def server(
        self, variant: Mapping[str, Any], client: int, launcher: str, directory: str | None
    ) -> ServerSpec:
        argv = iperf3.build_server_argv(self.workload.port + client, bind=self.workload.server_address)
        return ServerSpec(
            [*argv, "--forceflush"], in_scenario=self._server_in_pod(launcher), ready=rb"Server listening",
            name="iperf3 server",
        )  # fmt: skip

    def parser(self, variant: Mapping[str, Any]) -> Iperf3Client:
        return Iperf3Client(self.json_stream, 1)

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        return metrics(iperf3.final_metrics(iperf3.merge(list(finals))))

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return self.workload.duration + 60.0
