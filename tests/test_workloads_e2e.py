"""Every workload end to end through the real sshd and dockerd: bare, runc and runc-alt."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import katatui, need

pytestmark = pytest.mark.integration

SCENARIOS = """
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[scenarios]]
launcher = "docker"
runtime = "runc-alt"
"""

WORKLOADS = """
[[workloads]]
type = "iperf3"
streams = 2
duration = 2
port = {iperf_port}
[[workloads]]
type = "ab"
requests = 2000
concurrency = 10
port = {nginx_port}
[[workloads]]
type = "sysbench"
test = ["cpu", "memory"]
time = 2
[[workloads]]
type = "dd"
mode = ["write", "read"]
count = 1024
[[workloads]]
type = "launch"
[[workloads]]
type = "footprint"
settle = 1
"""

EXPECTED = {
    "iperf3": {"sent_bits_per_second", "received_bits_per_second", "retransmits"},
    "ab": {"requests_per_second", "latency_p50_ms", "latency_p99_ms", "failed_requests", "non_2xx_responses"},
    "sysbench": {"events_per_second", "latency_avg_ms"},
    "dd": {"bytes_per_s"},
    "launch": set(),  # launch_cold_s for the first repeat, launch_s after
    "footprint": {"sandbox_rss_bytes", "sandbox_pss_bytes", "shim_rss_bytes", "cgroup_memory_bytes"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def profile(tmp_path: Path, env: TestEnv, *, iperf_port: int, nginx_port: int, repeats: int = 1) -> Path:
    text = f"""
name = "every-workload"
repeats = {repeats}
[targets.node]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
docker_socket = "{env.docker_sock}"
{SCENARIOS}
{WORKLOADS.format(iperf_port=iperf_port, nginx_port=nginx_port)}
"""
    path = tmp_path / "every.toml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _tools() -> None:
    for tool in ("iperf3", "ab", "nginx", "sysbench", "dd"):
        need(tool)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 that something already listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_every_workload_over_ssh(testenv: TestEnv, tmp_path: Path) -> None:
    out = tmp_path / "s.katatui"
    prof = profile(tmp_path, testenv, iperf_port=free_port(), nginx_port=free_port())
    done = katatui("run", str(prof), "--headless", "--out", str(out),
                   "--target", f"node={testenv.ssh_url}?docker_socket={testenv.docker_sock}",
                   env={"HOME": str(testenv.ssh_home)}, timeout=420)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    runs = reader.runs()
    assert all(r.status == "finished" for r in runs), [(r.spec.cell, r.spec.scenario, r.reason) for r in runs]
    got: dict[tuple[str, str], set[str]] = {}
    for res in reader.results():
        got.setdefault((res.run.spec.workload, res.run.spec.scenario), set()).add(res.metric)
    for workload, metrics in EXPECTED.items():
        scenarios = ("runc", "runc-alt") if workload == "footprint" else ("bare", "runc", "runc-alt")
        for scenario in scenarios:
            assert metrics <= got[(workload, scenario)], (workload, scenario, got.get((workload, scenario)))
    assert ("footprint", "bare") not in got  # a bare process has no sandbox to measure
    assert all("launch_cold_s" in got[("launch", s)] for s in ("bare", "runc", "runc-alt"))
    # the server side of ab ran in the scenario under test; the iperf3 server on the host
    ab_run = next(r for r in runs if r.spec.workload == "ab" and r.spec.scenario == "runc-alt")
    assert any(c[:2] == ["docker", "run"] and "katatui-nginx" in c for c in ab_run.commands)
    assert any(c[0] == "sh" and "ab" in c for c in ab_run.commands)
    ip_run = next(r for r in runs if r.spec.workload == "iperf3" and r.spec.scenario == "runc")
    assert any(c[0] == "iperf3" and "-s" in c for c in ip_run.commands)
    # live samples came from each streaming tool
    for workload in ("iperf3", "sysbench"):
        run = next(r for r in runs if r.spec.workload == workload and r.spec.scenario == "runc-alt")
        assert reader.samples(run.spec.run_id), workload
    # guest identity of each container scenario, and no false alarm for runc
    facts = reader.scenario_facts()
    for scenario in ("runc", "runc-alt"):
        f = facts[(scenario, "node")]
        assert f["root_fs"] == "overlay" and f["kernel"] == f["host_kernel"] and f["nproc"] >= 1
        assert "isolation_warning" not in f
    rows = list(csv.DictReader(io.StringIO(katatui("report", str(out), "--format", "csv").stdout)))
    assert {"requests_per_second", "events_per_second", "sandbox_pss_bytes"} <= {r["metric"] for r in rows}
    table = katatui("report", str(out)).stdout
    assert "95% interval" in table


def test_busy_ports_fail_their_runs_with_the_reason(testenv: TestEnv, tmp_path: Path, listening: int) -> None:
    text = f"""
name = "busy"
[targets.node]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
docker_socket = "{testenv.docker_sock}"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[workloads]]
type = "iperf3"
duration = 1
port = {listening}
[[workloads]]
type = "ab"
requests = 500
port = {listening}
[[workloads]]
type = "sysbench"
time = 1
"""
    prof = tmp_path / "busy.toml"
    prof.write_text(text)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    reasons = {r.spec.workload: (r.status, r.reason or "") for r in SessionReader(out).runs()}
    assert reasons["iperf3"][0] == "failed" and "iperf3 server" in reasons["iperf3"][1]
    assert "Address already in use" in reasons["iperf3"][1]
    assert reasons["ab"][0] == "failed" and "nginx" in reasons["ab"][1]
    assert reasons["sysbench"][0] == "finished"  # the others carry on


def test_repeat_zero_is_a_usage_error(tmp_path: Path) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text('name="x"\n[targets.l]\n[[scenarios]]\nlauncher="bare"\n[[workloads]]\ntype="launch"\n')
    done = katatui("run", str(prof), "--headless", "--repeat", "0", "--out", str(tmp_path / "s.katatui"))
    assert done.returncode == 2 and "--repeat 0" in done.stderr


def test_concurrent_ab_runs_use_their_own_ports(testenv: TestEnv, tmp_path: Path) -> None:
    port = free_port()
    text = f"""
name = "concurrent-ab"
pairing = "concurrent"
[targets.node]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
docker_socket = "{testenv.docker_sock}"
{SCENARIOS}
[[workloads]]
type = "ab"
requests = 20000
concurrency = 10
port = {port}
"""
    prof = tmp_path / "c.toml"
    prof.write_text(text)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out), "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    runs = SessionReader(out).runs()
    assert all(r.status == "finished" for r in runs)
    ports = set()
    for r in runs:
        server = next(c for c in r.commands if "nginx" in " ".join(c))
        ports.add(" ".join(server))
    assert len(ports) == 3  # bare, runc and runc-alt each measured their own nginx


def test_iperf3_server_on_a_second_target(testenv: TestEnv, tmp_path: Path) -> None:
    """The client runs in the scenario on one target; its server bare on another, reached over SSH."""
    text = f"""
name = "two-targets"
[targets.client]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
docker_socket = "{testenv.docker_sock}"
[targets.server]
host = "{testenv.ssh_url}"
[[scenarios]]
launcher = "docker"
runtime = "runc-alt"
targets = ["client"]
[[workloads]]
type = "iperf3"
duration = 2
port = {free_port()}
server_target = "server"
"""
    prof = tmp_path / "two.toml"
    prof.write_text(text)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out), env={"HOME": str(testenv.ssh_home)})
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    (run,) = reader.runs()
    assert run.status == "finished" and run.spec.target == "client"
    assert {r.metric for r in reader.results()} >= {"sent_bits_per_second", "received_bits_per_second"}
    assert reader.hosts()["server"]["address"].startswith("ssh://")
