"""ab's driver: nginx in the scenario is what is measured, ab runs bare on the host."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from katatui.core.events import Metric
from katatui.core.transport.base import Stream
from katatui.core.workloads._combine import summed
from katatui.core.workloads.ab import AbWorkload, nginx
from katatui.core.workloads.ab import parser as ab
from katatui.core.workloads.base import Reading, ServerSpec

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
    runs_as: Literal["tool"] = "tool"
    kind = "ab"
    needs_scratch = True  # a directory on the host for ab's -e file
    client_in_scenario = False  # ab runs on the host; nginx is what is measured

    def __init__(self, workload: AbWorkload) -> None:
        self.workload = workload

    def host_tools(self, launcher: str) -> set[str]:
        return {"ab", "nginx"} if launcher == "bare" else {"ab"}

    def adapt(self, facts: Mapping[str, Any]) -> None:
        pass

    def _url(self, client: int) -> str:
        return f"http://127.0.0.1:{self.workload.port + client}{self.workload.path}"

    def argv(self, variant: Mapping[str, Any], directory: str | None, client: int) -> list[str]:
        assert directory is not None
        w = self.workload
        params = ab.AbParams(
            requests=w.requests,
            concurrency=variant["concurrency"],
            keepalive=variant["keepalive"],
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
        files |= {f"www/{name}": b"\0" * size for name, size in nginx.STATIC_FILES.items()}
        files["nginx.conf"] = bare_nginx_config(d, port).encode()
        return ServerSpec(
            ["nginx", "-c", f"{d}/nginx.conf"], in_scenario=True, probe=probe, files=files, name="nginx",
            persistent=True,
        )  # fmt: skip

    def parser(self, variant: Mapping[str, Any]) -> AbClient:
        return AbClient()

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        parts = [ab.final_metrics(result, percentiles) for result, percentiles in finals]
        return summed(
            parts, {"requests_per_second", "complete_requests", "failed_requests", "non_2xx_responses"}
        )

    def timeout(self, variant: Mapping[str, Any]) -> float:
        return float(self.workload.timelimit or 600) + 60.0

    def notes(self, finals: Sequence[Any]) -> list[str]:
        """What the user should know about a finished run: a time limit that cut it short."""
        w = self.workload
        explicit = "requests" in w.model_fields_set
        said = [
            note
            for result, _ in finals
            if (
                note := ab.limit_note(
                    result, timelimit=w.timelimit, requests=w.requests, requests_set=explicit
                )
            )
        ]
        if not said or len(finals) == 1:
            return said
        return [f"{len(said)} of {len(finals)} clients: {said[0]}"]


def bare_nginx_config(directory: str, port: int) -> str:
    """The image's nginx configuration, with paths inside ``directory`` and the given port."""
    text = nginx.NGINX_CONFIG.replace(f"listen {nginx.NGINX_DEFAULT_LISTEN};", f"listen 127.0.0.1:{port};")
    text = text.replace(f"root {nginx.NGINX_ROOT};", f"root {directory}/www;")
    text = text.replace("/tmp/katatui-nginx", f"{directory}/nginx")
    return text
