"""Clients spread over several targets: placement, the start barrier, per-host results, a host down."""

from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path

import pytest

from katatui.core.plan import expand, place, resolve_scenarios
from katatui.core.profile import load_profile
from katatui.core.runner import Gate
from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import REPO, katatui, need


def test_placement_round_robin_and_blocks() -> None:
    assert place(["a", "b"], 5, "round-robin") == ("a", "b", "a", "b", "a")
    assert place(["a", "b", "c"], 7, "blocks") == ("a", "a", "a", "b", "b", "c", "c")
    assert place(["a", "b"], 1, "blocks") == ("a",)


def test_a_spread_scenario_makes_one_run_per_cell(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("""
name = "p"
[targets.a]
host = "local"
[targets.b]
host = "ssh://root@127.0.0.1:1"
[[scenarios]]
launcher = "bare"
spread = "round-robin"
[[scenarios]]
name = "per-target"
launcher = "bare"
[[workloads]]
type = "fio"
clients = [1, 4]
""")
    profile = load_profile(path)
    scenarios, _ = resolve_scenarios(profile, {})
    runs = expand(profile, scenarios)
    spread = [r for r in runs if r.scenario == "bare"]
    assert [(r.clients, r.target, r.hosts) for r in spread] == [
        (1, "a", ("a",)),
        (4, "a", ("a", "b", "a", "b")),
    ]
    assert {r.scenario for r in runs} == {"bare", "per-target@a", "per-target@b"}
    assert all(r.hosts == () for r in runs if r.scenario != "bare")


def test_gate_takes_its_markers_out_of_stderr_split_anywhere() -> None:
    gate = Gate([0, 1])
    said = b"fio: warming\nkatatui-ready\nkatatui-go 1795330358.536922591\nfio: go\n"
    out = b"".join(gate.filter(0, "stderr", said[i : i + 5]) for i in range(0, len(said), 5))
    assert out == b"fio: warming\nfio: go\n"
    assert gate.ready[0].is_set() and gate.clock[0] == pytest.approx(1795330358.536922591)
    assert gate.filter(0, "stdout", b"{") == b"{"
    assert gate.filter(1, "stderr", b"katatui-ready\nsh: fio: not found") == b""
    assert gate.flush(1) == b"sh: fio: not found"  # a client that died before the start says why


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed001(tmp_path: Path, env: TestEnv, *, clients: list[int], extra_target: str = "",
            on_host_failure: str = "fail") -> Path:  # fmt: skip
    """Seed 001's profile (fio, bs=64k, numjobs=4, iodepth=8, 1/8/64 clients, bare vs runc vs
    kata) made small and short, its clients spread over this machine and the same machine through
    sshd; runc-alt stands in for kata, which cannot run here."""
    seed = tomllib.loads((REPO / "profiles" / "seed001-fio-clients.toml").read_text())
    wl = seed["workloads"][0]
    assert (wl["bs"], wl["numjobs"], wl["iodepth"], wl["clients"]) == ("64k", 4, 8, [1, 8, 64])
    scenarios = ""
    for sc in seed["scenarios"]:
        runtime = {"runc": "runc", "kata-runtime": "runc-alt"}.get(sc.get("runtime", ""), "")
        scenarios += f'[[scenarios]]\nlauncher = "{sc["launcher"]}"\nspread = "round-robin"\n'
        scenarios += f'on_host_failure = "{on_host_failure}"\n'
        if sc.get("name"):
            scenarios += f'name = "{sc["name"]}"\n'
        if runtime:
            scenarios += f'runtime = "{runtime}"\n'
    text = f"""
name = "seed001-spread"
[targets.node1]
host = "local"
scratch_base = "{tmp_path / "s1"}"
docker_socket = "{env.docker_sock}"
[targets.node2]
host = "{env.ssh_url}"
scratch_base = "{tmp_path / "s2"}"
docker_socket = "{env.docker_sock}"
{extra_target}
{scenarios}
[[workloads]]
type = "fio"
name = "fio"
rw = "randread"
bs = "{wl["bs"]}"
numjobs = 1
iodepth = {wl["iodepth"]}
clients = {clients}
ioengine = "{wl["ioengine"]}"
direct = true
size = "1m"
runtime = 1
"""
    path = tmp_path / "seed001.toml"
    path.write_text(text)
    return path


@pytest.mark.integration
@pytest.mark.parametrize(
    "clients",
    [
        pytest.param([1, 8], id="1-and-8-clients"),
        # Seed 001's largest cell, 64 containers per runtime: heavy (`scripts/test -m heavy`).
        pytest.param([64], id="64-clients", marks=pytest.mark.heavy),
    ],
)
def test_seed001_spread_over_two_hosts(testenv: TestEnv, tmp_path: Path, clients: list[int]) -> None:
    need("fio")
    out = tmp_path / "s.katatui"
    done = katatui("run", str(seed001(tmp_path, testenv, clients=clients)), "--headless", "--out", str(out),
                   env={"HOME": str(testenv.ssh_home)}, timeout=480)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    reader = SessionReader(out)
    facts = reader.run_facts()
    results = {(r.run.spec.run_id, r.metric): r.value for r in reader.results()}
    runs = reader.runs()
    assert {r.spec.scenario for r in runs} == {"bare", "runc", "kata"}
    for run in runs:
        spec = run.spec
        assert run.status == "finished", run.reason
        assert spec.hosts == tuple(("node1", "node2")[c % 2] for c in range(spec.clients))
        rec = facts[spec.run_id]
        # Every client's own output is kept, and the per-host figures add up to the run's.
        assert all(reader.raw(spec.run_id, c) for c in range(spec.clients))
        hosts = rec["per_host"]
        assert set(hosts) == set(spec.hosts)
        total = sum(h["read_io_bytes"]["value"] for h in hosts.values())
        assert total == results[(spec.run_id, "read_io_bytes")]
        assert sum(h["read_io_bytes"]["clients"] for h in hosts.values()) == spec.clients
        if spec.clients > 1:
            start = rec["start"]
            assert start["measured_by"] in ("the clients' clocks", "arrival of their start markers")
            assert set(start["client_start_offsets_s"]) == {str(c) for c in range(spec.clients)}
            assert min(start["client_start_offsets_s"].values()) == 0
            assert start["start_spread_s"] == max(start["client_start_offsets_s"].values())
            # No barrier marker reaches the parsers or the raw output.
            assert b"katatui-ready" not in reader.raw(spec.run_id, 0, "stderr")
        else:
            assert "start" not in rec
    report = katatui("report", str(out), "--format", "json")
    doc = json.loads(report.stdout)
    if max(clients) > 1:
        assert {r["host"] for r in doc["per_host"]} == {"node1", "node2"}
        assert {s["scenario"] for s in doc["start_barrier"]} == {"bare", "runc", "kata"}
    assert "per host" in katatui("report", str(out)).stdout or max(clients) == 1


@pytest.mark.integration
@pytest.mark.parametrize("policy", ["fail", "continue"])
def test_a_host_that_is_down(testenv: TestEnv, tmp_path: Path, policy: str) -> None:
    need("fio")
    dead = f'[targets.node3]\nhost = "ssh://root@127.0.0.1:{free_port()}"\n'
    prof = seed001(tmp_path, testenv, clients=[3], extra_target=dead, on_host_failure=policy)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out), env={"HOME": str(testenv.ssh_home)},
                   timeout=400)  # fmt: skip
    reader = SessionReader(out)
    runs = reader.runs()
    assert all(r.spec.hosts == ("node1", "node2", "node3") for r in runs)
    if policy == "fail":
        assert done.returncode == 1
        assert all(r.status == "failed" and "node3" in (r.reason or "") for r in runs)
        assert "Traceback" not in done.stderr
    else:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        facts = reader.run_facts()
        for r in runs:
            assert r.status == "finished"
            rec = facts[r.spec.run_id]
            assert rec["clients_measured"] == 2
            assert len(rec["degraded"]) == 1 and rec["degraded"][0].startswith("node3: ")
            assert set(rec["per_host"]) == {"node1", "node2"}
        assert any("degraded" in m.text for m in reader.logs())
