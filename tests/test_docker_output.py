"""The Docker launcher's output path: an attach made before the container starts."""

from __future__ import annotations

import asyncio

import docker
import pytest

from katatui.core.events import RunSpec
from katatui.core.launchers.docker import DockerLauncher, _explain, daemon_message, daemon_trouble
from katatui.core.profile import Limits
from katatui.core.transport.base import Process
from katatui.core.transport.local import LocalTransport
from tests.conftest import TestEnv
from tests.stuck import inotify_instances

CLIENTS = 12
BIG = 300_000  # more than one read of the stream


async def drain(proc: Process) -> dict[str, bytes]:
    got = {"stdout": b"", "stderr": b""}
    while (item := await proc.read()) is not None:
        got[item[0]] += item[1]
    return got


@pytest.mark.integration
def test_every_byte_of_every_client_and_no_inotify_in_the_daemon(
    testenv: TestEnv, docker_client: docker.DockerClient
) -> None:
    """Each client's stdout and stderr arrive whole and apart, from the first byte (printed the
    moment the container starts) to the last (printed as it exits). While twelve clients run the
    daemon holds no inotify instance for them: followed logs held one per stream, and 64 clients
    took the 128 that root may have."""
    dockerd = int((testenv.dir / "dockerd.pid").read_text())
    run = RunSpec("attach0000001", 0, "c", "runc", "docker", "runc", "local", "w", "w", {}, CLIENTS, 0)
    script = 'echo "first $1"; sleep 3; head -c {big} /dev/zero | tr "\\0" x; echo "last $1" >&2'

    async def main() -> tuple[int, int, list[dict[str, bytes]], dict[str, bytes]]:
        launcher = DockerLauncher(LocalTransport(), docker_client, runtime="runc", image=testenv.image,
                                  session_id="attachtest", limits=Limits())  # fmt: skip
        try:
            before = inotify_instances(dockerd)
            procs = await asyncio.gather(*(
                launcher.start(run, c, ["sh", "-c", script.format(big=BIG), "sh", str(c)], None)
                for c in range(CLIENTS)
            ))  # fmt: skip
            during = inotify_instances(dockerd)  # all of them are in their sleep
            outputs = await asyncio.gather(*(drain(p) for p in procs))
            codes = await asyncio.gather(*(p.wait() for p in procs))
            assert codes == [0] * CLIENTS
            quick = await launcher.start(run, CLIENTS, ["echo", "at once"], None)
            return before, during, list(outputs), await drain(quick)
        finally:
            await launcher.close()

    before, during, outputs, quick = asyncio.run(main())
    assert during <= before, f"dockerd held {during - before} more inotify instances while the clients ran"
    for c, got in enumerate(outputs):
        assert got["stdout"] == f"first {c}\n".encode() + b"x" * BIG
        assert got["stderr"] == f"last {c}\n".encode()
    assert quick == {"stdout": b"at once\n", "stderr": b""}


def test_a_daemon_that_does_not_answer_is_named_not_reported_as_a_bug() -> None:
    import requests.exceptions

    late = requests.exceptions.ReadTimeout(
        "UnixHTTPConnectionPool(host='localhost'): Read timed out. (read timeout=120)"
    )
    assert daemon_trouble(late)
    assert daemon_trouble(docker.errors.APIError("500 Server Error"))
    assert not daemon_trouble(KeyError("State"))  # katatui's own bug stays one
    said = daemon_message("node1", late)
    assert said.startswith("on node1: the Docker daemon did not answer in time")
    assert "docker ps" in said and "restart dockerd" in said
    started = _explain(late, "node1", "kata", "katatui/bench:0.1")
    assert started.startswith("on node1: Docker did not start the container under 'kata' in time")
