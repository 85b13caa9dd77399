"""The fairness record and the sandbox's live costs: parsers on real text, checks, and real runs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from katatui.core import fairness
from katatui.core.events import SANDBOX_CLIENT, Metric
from katatui.core.sandbox import STAT_SCRIPT, SandboxSampler, host_busy, parse_stats
from katatui.core.session import SessionReader
from katatui.core.transport.base import Completed
from katatui.core.transport.local import LocalTransport
from tests.conftest import TestEnv
from tests.helpers import fio_profile, katatui

FIXTURES = Path(__file__).parent / "fixtures"


def side(name: str, isolation: str | None = None, **facts: object) -> fairness.Side:
    return fairness.Side(name, "node", None, fairness.summarize_scenario(facts), isolation)


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
    assert facts["scratch_fs"] not in ("", "unknown", "UNKNOWN")
    assert facts["direct_io"] == "accepted" or facts["direct_io"].startswith("refused")
    assert not list(tmp_path.iterdir()), "the O_DIRECT probe file must be removed"
    kept = subprocess.run(["sh", "-c", fairness.SCENARIO_PROBE, "sh", str(tmp_path), "keep"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    if fairness.parse_kv(kept)["direct_io"] == "accepted":
        assert [p.name for p in tmp_path.iterdir()] == [fairness.PROBE_FILE], "kept for the host's look"
    state = fairness.parse_kv(subprocess.run(["sh", "-c", fairness.HOST_STATE], capture_output=True,
                                             text=True, check=True).stdout)  # fmt: skip
    assert len(str(state["loadavg"]).split()) == 3
    assert state["host_nproc"] == os.cpu_count()


def test_checks_fire_on_what_decides_a_result() -> None:
    gib_kb = 2**20
    same = {"nproc": 2, "mem_total_kb": 8 * gib_kb, "direct_io": "honoured"}
    equal = [side("runc", scratch_fs="ext4", **same), side("kata", scratch_fs="virtiofs", **same)]
    assert fairness.check(equal) == []
    cpus = [side("bare", nproc=2), side("runc", nproc=2, cpu_max="100000 100000")]
    (warning,) = fairness.check(cpus)
    assert "different numbers of CPUs (bare can use 2 while runc can use 1)" in warning
    assert "VM" not in warning
    small_vm = [
        side("runc", "shared-kernel", nproc=2, mem_total_kb=8 * gib_kb),
        side("kata", "vm", nproc=2, mem_total_kb=2 * gib_kb),
    ]
    (warning,) = fairness.check(small_vm)
    assert "runc sees 8,192 MiB while kata sees 2,048 MiB" in warning
    assert "kata runs in a VM, whose default size may be below the container limit" in warning
    tmpfs = [side("bare", scratch_fs="tmpfs"), side("runc", scratch_fs="overlay")]
    (warning,) = fairness.check(tmpfs)
    assert warning.startswith("bare writes to memory (tmpfs) while runc writes to overlay")
    direct = [side("bare", direct_io="honoured"), side("kata", direct_io="refused: Invalid argument")]
    assert "O_DIRECT was refused under kata" in fairness.check(direct)[0]


def test_memory_and_cpu_warnings_group_the_sides_and_name_a_vm_only_when_there_is_one() -> None:
    """The session that said "crun has the least" of four sides where three saw the same 1 GiB."""
    host_kb = 24105 * 1024
    sides = [
        side("bare", "none", nproc=2, mem_total_kb=host_kb),
        side("runc", "shared-kernel", nproc=2, mem_total_kb=host_kb, memory_max=2**30),
        side("crun", "shared-kernel", nproc=2, mem_total_kb=host_kb, memory_max=2**30),
        side("runsc", "user-space-kernel", nproc=2, mem_total_kb=2**20),  # gVisor shows the limit itself
    ]
    (warning,) = fairness.check(sides)
    assert "(bare sees 24,105 MiB while runc, crun, runsc see 1,024 MiB)" in warning
    assert "least" not in warning and "VM" not in warning
    assert "give every side the same memory" in warning
    three = [*sides[:2], side("kata", "vm", nproc=2, mem_total_kb=2 * 2**20)]
    (warning,) = fairness.check(three)
    assert "bare sees 24,105 MiB; runc sees 1,024 MiB; kata sees 2,048 MiB" in warning
    assert "kata runs in a VM" in warning
    near = [side("runc", mem_total_kb=2**20), side("runsc", mem_total_kb=1000 * 1024)]  # within 25%
    assert fairness.check(near) == []
    cpus = [
        side("bare", nproc=4),
        side("runc", nproc=4, cpu_max="200000 100000"),
        side("crun", nproc=4, cpu_max="200000 100000"),
        side("kata", "vm", nproc=1),
    ]
    (warning,) = fairness.check(cpus)
    assert "(bare can use 4; runc, crun can use 2; kata can use 1)" in warning
    assert "kata runs in a VM" in warning


def test_direct_io_verdicts_and_the_cached_warning() -> None:
    assert fairness.direct_io_verdict("accepted", (0, 4096)) == "honoured"
    assert (
        fairness.direct_io_verdict("accepted", (4096, 4096))
        == "accepted but cached by the host (4096 of 4096 bytes in the host's page cache)"
    )
    assert (
        fairness.direct_io_verdict("accepted", "the scratch directory is inside the container")
        == "accepted (host page cache not checked: the scratch directory is inside the container)"
    )
    assert fairness.direct_io_verdict("refused: Invalid argument", (0, 0)) == "refused: Invalid argument"
    cached = "accepted but cached by the host (4096 of 4096 bytes in the host's page cache)"
    sides = [side("runc", direct_io="honoured"), side("runsc", direct_io=cached)]
    (warning,) = fairness.check(sides)
    assert warning == (
        "O_DIRECT is accepted under runsc but its data lands in the host's page cache: its direct=1 "
        "fio and dd figures are page-cache figures, not device figures"
    )
    both = [side("runsc", direct_io=cached), side("sandbox", direct_io=cached)]
    assert fairness.check(both)[0].startswith("O_DIRECT is accepted under runsc, sandbox but their data")
    assert fairness.check(both[:1])  # even alone: its direct=1 figures are not what they say
    unchecked = [side("runc", direct_io="honoured"), side("k8s", direct_io="accepted (host page cache not "
                                                                         "checked: emptyDir)")]  # fmt: skip
    assert fairness.check(unchecked) == []


class FakeTransport(LocalTransport):
    """Answers ``run`` with a fixed exit status and output (what a host without fincore says)."""

    def __init__(self, returncode: int, stdout: bytes = b"", stderr: bytes = b"") -> None:
        super().__init__("node")
        self.done = (returncode, stdout, stderr)
        self.calls: list[list[str]] = []

    async def run(self, argv: object, **kwargs: object) -> Completed:  # type: ignore[override]
        self.calls.append(list(argv))  # type: ignore[call-overload]
        return Completed(tuple(self.calls[-1]), *self.done)


def test_the_host_page_cache_decides_honoured(tmp_path: Path) -> None:
    """O_DIRECT on this host's directory leaves nothing in the page cache; a buffered write does; a
    host without fincore is "not checked"; the probe file is removed in every case."""
    if not shutil.which("fincore"):
        pytest.skip("fincore (util-linux) is not installed here")
    local = LocalTransport("here")
    facts = asyncio.run(fairness.probe_host_dir(local, str(tmp_path)))
    assert facts["direct_io"] == "honoured" or facts["direct_io"].startswith("refused"), facts
    assert not list(tmp_path.iterdir())
    (tmp_path / fairness.PROBE_FILE).write_bytes(b"x" * 8192)  # through the page cache
    buffered: dict[str, object] = {"direct_io": "accepted"}
    asyncio.run(fairness.settle_direct_io(local, buffered, str(tmp_path), "unused"))
    assert buffered["direct_io"] == (
        "accepted but cached by the host (8192 of 8192 bytes in the host's page cache)"
    )
    assert not list(tmp_path.iterdir())
    missing = FakeTransport(127)
    facts2: dict[str, object] = {"direct_io": "accepted"}
    asyncio.run(fairness.settle_direct_io(missing, facts2, "/srv/scratch", "unused"))
    assert facts2["direct_io"] == (
        "accepted (host page cache not checked: fincore (util-linux) is not installed on node)"
    )
    assert missing.calls[-1] == ["rm", "-f", "--", f"/srv/scratch/{fairness.PROBE_FILE}"]
    inside: dict[str, object] = {"direct_io": "accepted"}
    asyncio.run(fairness.settle_direct_io(missing, inside, None, "the scratch directory is in the container"))
    assert inside["direct_io"] == (
        "accepted (host page cache not checked: the scratch directory is in the container)"
    )


def mount_fs(mounts: str, directory: str, awk: str = "awk") -> str:
    """The fs type the probe's awk program picks for ``directory`` from ``mounts`` (/proc/mounts text)."""
    done = subprocess.run([awk, fairness.MOUNT_FS_AWK, "-"], input=mounts, capture_output=True, text=True,
                          env={**os.environ, "D": directory}, check=True)  # fmt: skip
    return done.stdout.strip()


def proc_mounts(mount_output: str) -> str:
    """``mount``'s lines (``X on Y type Z (opts)``) as /proc/mounts writes them."""
    lines = []
    for line in mount_output.splitlines():
        m = re.match(r"(\S+) on (\S+) type (\S+) \((.*)\)", line)
        if m:
            lines.append(f"{m[1]} {m[2]} {m[3]} {m[4]} 0 0")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("awk", ["awk", "busybox-awk"])
def test_scratch_fs_is_the_longest_mount_point_in_proc_mounts(awk: str) -> None:
    """Real /proc/mounts of runc and runsc (gVisor) containers with the scratch volume at /scratch,
    and Kata's 9p and virtio-fs roots: the mount point that is the longest prefix of the directory."""
    if awk == "busybox-awk":  # the image's awk is busybox's
        if not shutil.which("busybox"):
            pytest.skip("no busybox here")
        wrapper = Path(os.environ.get("TMPDIR", "/tmp")) / f"katatui-busybox-awk-{os.getpid()}"
        wrapper.write_text('#!/bin/sh\nexec busybox awk "$@"\n')
        wrapper.chmod(0o755)
        awk = str(wrapper)
    runc = (FIXTURES / "fairness" / "mounts-runc.txt").read_text()
    runsc = (FIXTURES / "fairness" / "mounts-runsc.txt").read_text()
    assert mount_fs(runc, "/scratch", awk) == "ext4"
    assert mount_fs(runc, "/scratch/katatui.x", awk) == "ext4"
    assert mount_fs(runc, "/katatui-scratch", awk) == "overlay"
    assert mount_fs(runc, "/sys/fs/cgroup/memory", awk) == "cgroup"
    assert mount_fs(runsc, "/scratch", awk) == "9p"
    assert mount_fs(runsc, "/tmp/x", awk) == "tmpfs"
    assert mount_fs(runsc, "/scratchy", awk) == "9p"  # /, not /scratch
    kata_9p = proc_mounts((FIXTURES / "kata" / "seed004_mount_kata_9p.txt").read_text())
    assert mount_fs(kata_9p, "/katatui-scratch", awk) == "9p"
    assert mount_fs(kata_9p, "/dev/shm/x", awk) == "tmpfs"
    kata_vfs = proc_mounts((FIXTURES / "kata" / "docs_dind_mount_virtiofs.txt").read_text())
    assert mount_fs(kata_vfs, "/scratch", awk) == "virtiofs"
    spaced = "/dev/vda1 / ext4 rw 0 0\n/dev/vdb /mnt/my\\040disk xfs rw 0 0\nnone /mnt/my tmpfs rw 0 0\n"
    assert mount_fs(spaced, "/mnt/my disk/run", awk) == "xfs"
    assert mount_fs(spaced, "/mnt/my", awk) == "tmpfs"
    assert mount_fs(spaced, "/mnt/mydisk", awk) == "ext4"
    stacked = "/dev/vda1 / ext4 rw 0 0\n/dev/vdb /data ext4 rw 0 0\nnone /data tmpfs rw 0 0\n"
    assert mount_fs(stacked, "/data/x", awk) == "tmpfs"  # the last mount on a mount point is on top


def test_run_checks_page_cache_and_busy_host() -> None:
    recs = [
        {"run_id": "a", "scenario": "bare", "page_cache": "dropped before the run", "loadavg": "0.1 0 0",
         "host_nproc": 2},
        {"run_id": "b", "scenario": "runc", "page_cache": "not dropped: Permission denied",
         "loadavg": "1.9 1 1", "host_nproc": 2},
    ]  # fmt: skip
    out = fairness.run_checks(recs)
    assert any("page cache was not treated alike" in w for w in out)
    assert any("1 of 2 runs started on a busy host (load up to 1.9 on 2 CPUs)" in w for w in out)
    assert fairness.run_checks(recs[:1]) == []


def test_busy_host_is_one_line_per_session() -> None:
    recs = [{"run_id": f"r{i}", "loadavg": f"{1.6 + i / 10:.2f} 1 1", "host_nproc": 2} for i in range(28)]
    recs += [{"run_id": "calm", "loadavg": "0.2 0.2 0.2", "host_nproc": 2}, {"run_id": "no-facts"}]
    line = fairness.busy_host(recs)
    assert line == (
        "28 of 29 runs started on a busy host (load up to 4.30 on 2 CPUs): their figures may be low; "
        "runs: r0, r1, r2, r3, r4 and 23 more"
    )
    assert fairness.busy_host(recs[-2:]) is None


def test_record_rows_start_with_what_isolates_each_side() -> None:
    common = {"target": "local", "cpus": 2, "memory_mib": 1024, "limits": {"cpus": None, "memory": "1g"}}
    rec = {"scenarios": [
        {"scenario": "bare", "isolation": "none", "sandbox": None, "evidence": ["runs directly on the host"],
         "kernel": "6.18.44", "host_kernel": "6.18.44", "root_fs": None, "scratch_fs": "ext4",
         "direct_io": "honoured", **common},
        {"scenario": "runc", "isolation": "shared-kernel", "sandbox": None,
         "evidence": ["runtime program runc", "the host's kernel 6.18.44"], "kernel": "6.18.44",
         "host_kernel": "6.18.44", "root_fs": "overlay", "scratch_fs": "ext4", "direct_io": "honoured",
         **common},
        {"scenario": "runsc", "isolation": "user-space-kernel", "sandbox": "gVisor",
         "evidence": ["kernel 4.4.0 inside, 6.18.44 on the host"], "kernel": "4.4.0",
         "host_kernel": "6.18.44", "root_fs": "9p", "scratch_fs": "9p",
         "direct_io": "accepted but cached by the host (4096 of 4096 bytes in the host's page cache)",
         **common},
        {"scenario": "old", **common},  # a session recorded before isolation was identified
    ]}  # fmt: skip
    head, rows = fairness.record_rows(rec)
    assert head == ["", "bare", "runc", "runsc", "old"]
    table = {r[0]: r[1:] for r in rows}
    assert [r[0] for r in rows[:4]] == ["isolation", "kernel", "root fs", "evidence"]
    assert table["isolation"] == ["none", "shared-kernel", "user-space-kernel (gVisor)", "?"]
    assert table["kernel"] == ["6.18.44 (host's)", "6.18.44 (host's)", "4.4.0", "?"]
    assert table["root fs"] == ["the host's", "overlay", "9p", "?"]
    assert table["evidence"] == [
        "runs directly on the host",
        "runtime program runc (+1 more)",
        "kernel 4.4.0 inside, 6.18.44 on the host",
        "?",
    ]
    assert table["fs under scratch"][:3] == ["ext4", "ext4", "9p"]
    assert table["O_DIRECT"][2].startswith("accepted but cached by the host")


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
    assert any("different numbers of CPUs (bare can use 2 while runc can use 1)" in w for w in warnings), (
        warnings
    )
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


GVISOR = """
name = "gvisor"
repeats = 1
[targets.local]
host = "local"
scratch_base = "{scratch}"
docker_socket = "{sock}"
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[scenarios]]
launcher = "docker"
runtime = "runsc"
[[workloads]]
type = "dd"
mode = "write"
count = 256
"""
REAL_FS = {"ext4", "xfs", "btrfs", "overlay", "tmpfs", "9p", "virtiofs", "zfs", "f2fs"}


@pytest.mark.integration
def test_gvisor_direct_io_lands_in_the_host_page_cache(testenv: TestEnv, tmp_path: Path) -> None:
    """bare, runc and runsc on one host: O_DIRECT is honoured by bare and runc, but under gVisor the
    gofer writes the probe's data through the host's page cache; the scratch filesystem is the one
    /proc/mounts names (9p under gVisor, the host's own under runc); isolation is in the record."""
    if "runsc" not in testenv.runtimes:
        pytest.skip("the test dockerd has no runsc")
    prof = tmp_path / "profile.toml"
    prof.write_text(GVISOR.format(scratch=tmp_path / "scratch", sock=testenv.docker_sock))
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = katatui("report", str(out), "--format", "json")
    assert report.returncode == 0, report.stderr
    rec = json.loads(report.stdout)["fairness"]
    rows = {r["scenario"]: r for r in rec["scenarios"]}
    assert rows["bare"]["direct_io"] == "honoured", rows["bare"]
    assert rows["runc"]["direct_io"] == "honoured", rows["runc"]
    assert not rows["runsc"]["direct_io"].startswith("honoured"), rows["runsc"]
    assert rows["runsc"]["direct_io"].startswith("accepted but cached by the host ("), rows["runsc"]
    assert rows["runsc"]["scratch_fs"] == "9p"
    assert rows["runc"]["scratch_fs"] == rows["bare"]["scratch_fs"] in REAL_FS, rows
    assert rows["bare"]["isolation"] == "none"
    assert rows["runc"]["isolation"] == "shared-kernel"
    assert (rows["runsc"]["isolation"], rows["runsc"]["sandbox"]) == ("user-space-kernel", "gVisor")
    assert rows["runsc"]["root_fs"] == "9p" and rows["runsc"]["evidence"]
    assert rows["runsc"]["host_kernel"] == rows["runc"]["kernel"] != rows["runsc"]["kernel"]
    cached = [w for w in rec["warnings"] if "O_DIRECT is accepted under runsc but its data lands" in w]
    assert len(cached) == 1, rec["warnings"]
    logged = [m.text for m in SessionReader(out).logs() if m.level == "warning"]
    assert any("fairness on local: O_DIRECT is accepted under runsc" in w for w in logged), logged
    head, table = fairness.record_rows(rec)
    assert head == ["", "bare", "runc", "runsc"]
    assert table[0] == ["isolation", "none", "shared-kernel", "user-space-kernel (gVisor)"]
    assert table[1][1].endswith("(host's)") and table[1][3] == rows["runsc"]["kernel"]
    assert not list((tmp_path / "scratch").glob(f"*/{fairness.PROBE_FILE}"))
