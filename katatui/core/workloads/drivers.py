"""Drivers that put the iperf3, ab, sysbench and dd parsers to work inside a run.

Each driver builds the client's argument list (and its server's, if any) from a profile's
variant, wraps the pure parser for one client, and combines clients into a run's results.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from katatui.core import image
from katatui.core.events import Metric
from katatui.core.transport.base import Stream
from katatui.core.workloads import ab, dd, iperf3, sysbench
from katatui.core.workloads.base import InScenarioDriver, Reading, ServerSpec
from katatui.core.workloads.config import AbWorkload, DdWorkload, Iperf3Workload, SysbenchWorkload


def _metrics(values: Mapping[str, tuple[float, str]]) -> dict[str, Metric]:
    return {k: Metric(v, unit) for k, (v, unit) in values.items()}


def _summed(parts: Sequence[Mapping[str, tuple[float, str]]], summed: set[str]) -> dict[str, Metric]:
    """Several clients: rates and counts summed; other figures only when there is one client."""
    if len(parts) == 1:
        return _metrics(parts[0])
    out: dict[str, Metric] = {}
    for name in summed:
        present = [p[name] for p in parts if name in p]
        if len(present) == len(parts):
            out[name] = Metric(sum(v for v, _ in present), present[0][1])
    return out


# -- iperf3 ---------------------------------------------------------------------------------------
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
            streams=int(variant["streams"]), reverse=bool(variant["reverse"]), duration=w.duration,
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
        return _metrics(iperf3.final_metrics(iperf3.merge(list(finals))))

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return self.workload.duration + 60.0


# -- ab against nginx -------------------------------------------------------------------------------
MARK = b"--- katatui percentiles"
# Fixed text: ab's arguments follow; the directory for its -e file comes first.
AB_WRAP = (
    'd=$1; shift; "$@"; rc=$?; printf "\\n%s\\n" "--- katatui percentiles"; '
    'cat "$d/percentiles.csv"; exit $rc'
)


class AbClient:
    def __init__(self) -> None:
        self.progress = ab.AbProgress(started_at=time.monotonic())
        self.stdout = bytearray()
        self.stderr = bytearray()

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        if stream == "stdout":
            self.stdout += data
            return []
        self.stderr += data[: max(0, 65536 - len(self.stderr))]
        return [Reading(s.t, s.metrics()) for s in self.progress.feed(data, time.monotonic())]

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        self.progress.close()
        report, _, csv = bytes(self.stdout).partition(MARK)
        try:
            result: ab.AbResult | None = ab.parse_ab_output(report)
        except ab.AbParseError:
            result = None
        reason = ab.classify_failure(result, returncode, bytes(self.stderr), report)
        if result is None:
            return None, reason or "ab printed no report"
        try:
            percentiles = ab.parse_percentiles_csv(csv) if csv.strip() else None
        except ab.AbParseError:
            percentiles = None
        return (result, percentiles), reason


class AbDriver:
    kind = "ab"
    needs_scratch = True  # a directory on the host for ab's -e file
    client_in_scenario = False  # ab runs on the host; nginx is what is measured

    def __init__(self, workload: AbWorkload) -> None:
        self.workload = workload

    def host_tools(self, launcher: str) -> set[str]:
        return {"ab", "nginx"} if launcher == "bare" else {"ab"}

    def _url(self, client: int) -> str:
        return f"http://127.0.0.1:{self.workload.port + client}{self.workload.path}"

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]:
        assert directory is not None
        w = self.workload
        params = ab.AbParams(
            requests=w.requests,
            concurrency=int(variant["concurrency"]),
            keepalive=bool(variant["keepalive"]),
            timelimit=w.timelimit,
        )
        ab_argv = ab.build_argv(params, self._url(client), percentiles_file=f"{directory}/percentiles.csv")
        return ["sh", "-c", AB_WRAP, "sh", directory, *ab_argv]

    def server(
        self, variant: Mapping[str, Any], client: int, launcher: str, directory: str | None
    ) -> ServerSpec:
        port = self.workload.port + client
        probe = ["ab", "-s", "2", "-n", "1", self._url(client)]
        if launcher != "bare":
            return ServerSpec(
                ["katatui-nginx", str(port)], in_scenario=True, probe=probe, name="nginx", persistent=True
            )
        # Bare: the same configuration and files as the image's, in a scratch directory of the host.
        d = directory or "/nonexistent"
        files = {"www/index.html": b"<html><body>katatui</body></html>\n"}
        files |= {f"www/{name}": b"\0" * size for name, size in image.STATIC_FILES.items()}
        files["nginx.conf"] = bare_nginx_config(d, port).encode()
        return ServerSpec(
            ["nginx", "-c", f"{d}/nginx.conf"], in_scenario=True, probe=probe, files=files, name="nginx",
            persistent=True,
        )  # fmt: skip

    def parser(self, variant: Mapping[str, Any]) -> AbClient:
        return AbClient()

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        parts = [ab.final_metrics(result, percentiles) for result, percentiles in finals]
        summed = {"requests_per_second", "complete_requests", "failed_requests", "non_2xx_responses"}
        return _summed(parts, summed)

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return float(self.workload.timelimit or 600) + 60.0


def bare_nginx_config(directory: str, port: int) -> str:
    """The image's nginx configuration, with paths inside ``directory`` and the given port."""
    text = image.NGINX_CONFIG.replace(f"listen {image.NGINX_DEFAULT_LISTEN};", f"listen 127.0.0.1:{port};")
    text = text.replace(f"root {image.NGINX_ROOT};", f"root {directory}/www;")
    text = text.replace("/tmp/katatui-nginx", f"{directory}/nginx")
    return text


# -- sysbench ---------------------------------------------------------------------------------------
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
            test=test, threads=int(variant["threads"]), time=w.time, events=w.events,
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
        return _summed(parts, {"events_per_second", "total_events", "mib_per_s", "total_mib"})

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return self.workload.time + 120.0


# -- dd ---------------------------------------------------------------------------------------------
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
        return _summed([dd.final_metrics(r) for r in finals], {"bytes", "bytes_per_s"})

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return 600.0
