"""The fairness record and the sandbox's live costs: parsers on real text, checks, and real runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from katatui.core import fairness
from katatui.core.events import SANDBOX_CLIENT, Metric
from katatui.core.sandbox import STAT_SCRIPT, SandboxSampler, host_busy, parse_stats
from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import fio_profile, katatui


def side(name: str, **facts: object) -> fairness.Side:
    return fairness.Side(name, "node", None, fairness.summarize_scenario(facts))


def test_effective_cpus_and_memory_from_cgroup_v1_and_v2() -> None:
    assert fairness.effective_cpus({"nproc": 4, "cpu_max": "150000 100000"}) == 1.5
    assert fairness.effective_cpus({"nproc": 4, "cpu_max": "max 100000"}) == 4
    assert fairness.effective_cpus({"nproc": 2, "cfs_quota_us": 50000, "cfs_period_us": 100000}) == 0.5
    assert fairness.effective_cpus({"nproc": 2, "cfs_quota_us": "-1", "cfs_period_us": 100000}) == 2
    gib = 2**30
    assert (
        fairness.effective_memory({"mem_total_kb": 2 * gib // 1024, "memory_max": 9223372036854771712})
        == 2 * gib
    )
    assert fairness.effective_memory({"mem_total_kb": 8 * gib // 1024, "memory_max": gib}) == gib


def test_the_probe_scripts_run_here_and_parse(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", "-c", fairness.SCENARIO_PROBE, "sh", str(tmp_path)], capture_output=True, text=True, check=True
    )
    facts = fairness.summarize_scenario(fairness.parse_kv(done.stdout))
    assert facts["nproc"] == os.cpu_count()
    assert facts["effective_cpus"] == os.cpu_count()
    assert facts["scratch_fs"] not in ("", "unknown")
    assert facts["direct_io"] == "honoured" or facts["direct_io"].startswith("refused")
    assert not list(tmp_path.iterdir()), "the O_DIRECT probe file must be removed"
    state = fairness.parse_kv(subprocess.run(["sh", "-c", fairness.HOST_STATE], capture_output=True,
                                             text=True, check=True).stdout)  # fmt: skip
    assert len(str(state["loadavg"]).split()) == 3
    assert state["host_nproc"] == os.cpu_count()


def test_checks_fire_on_what_decides_a_result() -> None:
    gib_kb = 2**20
    same = {"nproc": 2, "mem_total_kb": 8 * gib_kb, "direct_io": "honoured"}
    equal = [side("runc", scratch_fs="ext2/ext3", **same), side("kata", scratch_fs="virtiofs", **same)]
    assert fairness.check(equal) == []
    cpus = [side("bare", nproc=2), side("runc", nproc=2, cpu_max="100000 100000")]
    (warning,) = fairness.check(cpus)
    assert "different numbers of CPUs (bare 2, runc 1)" in warning
    small_vm = [
        side("runc", nproc=2, mem_total_kb=8 * gib_kb),
        side("kata", nproc=2, mem_total_kb=2 * gib_kb),
    ]
    (warning,) = fairness.check(small_vm)
    assert "kata has the least" in warning and "2,048 MiB" in warning
    tmpfs = [side("bare", scratch_fs="tmpfs"), side("runc", scratch_fs="overlayfs")]
    (warning,) = fairness.check(tmpfs)
    assert warning.startswith("bare writes to memory (tmpfs) while runc writes to overlayfs")
    direct = [side("bare", direct_io="honoured"), side("kata", direct_io="refused: Invalid argument")]
    assert "O_DIRECT was refused under kata" in fairness.check(direct)[0]


def test_run_checks_page_cache_and_busy_host() -> None:
    recs = [
        {"run_id": "a", "scenario": "bare", "page_cache": "dropped before the run", "loadavg": "0.1 0 0",
         "host_nproc": 2},
        {"run_id": "b", "scenario": "runc", "page_cache": "not dropped: Permission denied",
         "loadavg": "1.9 1 1", "host_nproc": 2},
    ]  # fmt: skip
    out = fairness.run_checks(recs)
    assert any("page cache was not treated alike" in w for w in out)
    assert any("run b (runc) started on a busy host (load 1.9 on 2 CPUs)" in w for w in out)
    assert fairness.run_checks(recs[:1]) == []


def test_stat_parser_on_this_process() -> None:
    """Real /proc text: this test process has spent CPU time and holds memory."""
    sum(i * i for i in range(200_000))
    text = subprocess.run(["sh", "-c", STAT_SCRIPT, "sh", str(os.getpid()), "999999999"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    hz, host, stats = parse_stats(text)
    assert hz == os.sysconf("SC_CLK_TCK")
    assert len(host) >= 8
    assert list(stats) == [os.getpid()]  # the PID that does not exist is left out
    me = stats[os.getpid()]
    assert me.ticks > 0 and me.rss_kb > 1000 and 0 < me.pss_kb <= me.rss_kb
    assert host_busy(host, [v + (10 if i == 0 else 30 if i == 3 else 0) for i, v in enumerate(host)]) == 25.0


def test_throughput_per_host_cpu_second() -> None:
    sampler = SandboxSampler("r", None, lambda: None, lambda ev: None)  # type: ignore[arg-type]
    sampler.totals.cpu_ticks = {"container": 150, "shim": 50}
    sampler.totals.seconds = 4.0
    sampler.totals.samples = 4
    sampler.totals.pss_sum = 4 * 10.0
    out = sampler.results({"read_bw_bytes_per_s": Metric(100.0, "B/s"), "read_clat_p99_us": Metric(1, "us")})
    assert out["sandbox_cpu_seconds"] == Metric(2.0, "s")
    assert out["sandbox_cpu_percent_mean"] == Metric(50.0, "%")
    assert out["read_bw_bytes_per_host_cpu_s"] == Metric(200.0, "B/CPU-s")  # 100 B/s on half a CPU
    assert not any(k.startswith("read_clat") for k in out)


SCENARIOS = """
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "runc"
{limits}
"""


def run_pair(tmp_path: Path, env: TestEnv, limits: str) -> SessionReader:
    prof = fio_profile(tmp_path, scenarios=SCENARIOS.format(limits=limits), runtime=3,
                       target=f'docker_socket = "{env.docker_sock}"', extra="direct = true")  # fmt: skip
    text = prof.read_text().replace('name = "test"', 'name = "test"\ndrop_caches = true')
    prof.write_text(text)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return SessionReader(out)


@pytest.mark.integration
def test_fairness_warns_on_different_cpu_limits(testenv: TestEnv, tmp_path: Path) -> None:
    reader = run_pair(tmp_path, testenv, "limits = { cpus = 1 }")
    warnings = [m.text for m in reader.logs() if m.level == "warning"]
    assert any("different numbers of CPUs (bare 2, runc 1)" in w for w in warnings), warnings
    facts = reader.scenario_facts()
    assert facts[("runc", "local")]["fairness"]["limits"] == {"cpus": 1.0, "memory": None}
    assert facts[("runc", "local")]["fairness"]["effective_cpus"] == 1.0
    assert (
        facts[("bare", "local")]["fairness"]["scratch_fs"]
        == facts[("runc", "local")]["fairness"]["scratch_fs"]
    )
    run_facts = reader.run_facts()
    assert len(run_facts) == 2
    for rec in run_facts.values():
        assert rec["page_cache"] == "dropped before the run" if os.geteuid() == 0 else "not dropped"
        assert "loadavg" in rec and "ksm" in rec and "governor" in rec
    # The sandbox's costs: live samples of the runc run and totals in its results.
    runs = {r.spec.scenario: r.spec.run_id for r in reader.runs()}
    live = [p for p in reader.samples(runs["runc"]) if p["client"] == SANDBOX_CLIENT]
    assert live and all(p["metrics"]["sandbox_pss_bytes"] > 0 for p in live)
    assert any(p["metrics"]["container_cpu_percent"] > 0 for p in live)
    results = {r.metric: r.value for r in reader.results() if r.run.spec.run_id == runs["runc"]}
    assert results["container_cpu_seconds"] > 0 and results["sandbox_rss_peak_bytes"] > 0
    assert results["read_bw_bytes_per_host_cpu_s"] > results["read_bw_bytes_per_s"]  # under one CPU
    bare = {r.metric for r in reader.results() if r.run.spec.run_id == runs["bare"]}
    assert "sandbox_cpu_seconds" not in bare and "host_cpu_busy_percent_mean" in bare
    report = katatui("report", str(reader.path), "--format", "json")
    assert report.returncode == 0
    assert "fairness" in json.loads(report.stdout)


@pytest.mark.integration
def test_fairness_quiet_when_the_sides_are_equal(testenv: TestEnv, tmp_path: Path) -> None:
    reader = run_pair(tmp_path, testenv, "")
    warnings = [m.text for m in reader.logs() if "fairness" in m.text]
    assert warnings == []
    facts = reader.scenario_facts()
    assert (
        facts[("runc", "local")]["fairness"]["effective_cpus"]
        == facts[("bare", "local")]["fairness"]["effective_cpus"]
    )
