"""The kernel's vhost workers as part of a VM sandbox: found on real Kata hosts' `ps` listings,
kept by the /proc reader as kernel threads (CPU, no memory), never counted twice as threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from katatui.core.events import Metric
from katatui.core.proctree import PS, Proc, parse_ps, sandbox_of, vhost_owner
from katatui.core.sandbox import ROLES, STAT_SCRIPT, ProcStat, SandboxSampler, parse_stats
from katatui.core.workloads.footprint.procedure import footprint_metrics

KATA = Path(__file__).parent / "fixtures" / "kata"
ID_4886 = "84f329f0d35ce26872da8296b441f0474721f083e73e9c82decd971a6ce5f3da"  # its cgroup paths


def from_ps_a(text: str) -> dict[int, Proc]:
    """`ps -A` rows (PID TTY TIME CMD): PID and name only; parents and arguments are unknown (-1, "")."""
    procs = {}
    for line in text.splitlines():
        f = line.split(None, 3)
        if len(f) == 4 and f[0].isdigit():
            procs[int(f[0])] = Proc(int(f[0]), -1, 0, f[3].strip())
    return procs


def from_ps_ef(text: str) -> dict[int, Proc]:
    """`ps -ef` rows; a kernel thread's CMD is its name in brackets."""
    procs = {}
    for line in text.splitlines():
        f = line.split(None, 7)
        if len(f) == 8:
            cmd = f[7]
            comm = cmd[1:-1] if cmd.startswith("[") and cmd.endswith("]") else Path(cmd.split()[0]).name[:15]
            procs[int(f[1])] = Proc(int(f[1]), int(f[2]), 0, comm, cmd)
    return procs


def with_parent(p: Proc, ppid: int, args: str = "") -> Proc:
    return Proc(p.pid, ppid, p.rss_kb, p.comm, args or p.args or f"[{p.comm}]")


def test_roles_list_vhost() -> None:
    assert ROLES == ("shim", "hypervisor", "virtiofsd", "vhost", "sentry", "gofer", "container")


def test_sampler_reports_gvisor_sentry_and_gofer() -> None:
    """The sampler's read of a real runsc sandbox (tests/fixtures/gvisor, this machine), and a
    second read constructed from it: each of sentry, gofer and the stubs gets its own CPU and PSS
    per second and CPU seconds in the results, none of them counted as the container but the stubs."""
    gvisor = Path(__file__).parent / "fixtures" / "gvisor"
    tree = sandbox_of(parse_ps((gvisor / "ps_16010.txt").read_text()), 16010)
    hz, host0, before = parse_stats((gvisor / "stat_16010.txt").read_text())
    assert sorted(before) == [15989, 16007, 16010, 16029, 16060]
    assert (before[16010].rss_kb, before[16010].pss_kb) == (24268, 11321)
    # Constructed: one second later the sentry used 30 ticks more, the gofer 5, a stub 20.
    more = {15989: 0, 16007: 5, 16010: 30, 16029: 0, 16060: 20}
    after = {pid: ProcStat(s.ticks + more[pid], s.rss_kb, s.pss_kb) for pid, s in before.items()}
    host1 = [v + 100 for v in host0]
    events: list[object] = []
    sampler = SandboxSampler("r", None, lambda: None, events.append)  # type: ignore[arg-type]
    sampler._tree = tree
    sampler._account(1.0, 1.0, hz, host0, host1, before, after)
    (sample,) = events
    m = sample.metrics  # type: ignore[attr-defined]
    assert m["sentry_cpu_percent"] == pytest.approx(100.0 * 30 / hz)
    assert m["gofer_cpu_percent"] == pytest.approx(100.0 * 5 / hz)
    assert m["container_cpu_percent"] == pytest.approx(100.0 * 20 / hz)
    assert m["sentry_pss_bytes"] == 11321 * 1024.0 and m["gofer_pss_bytes"] == 8855 * 1024.0
    assert m["container_pss_bytes"] == (1 + 1041) * 1024.0
    results = sampler.results({})
    assert results["sentry_cpu_seconds"] == Metric(30 / hz, "s")
    assert results["gofer_cpu_seconds"] == Metric(5 / hz, "s")
    assert results["container_cpu_seconds"] == Metric(20 / hz, "s")


def test_kata_2_host_with_two_vhost_workers() -> None:
    procs = from_ps_a((KATA / "ps_A_4886.txt").read_text())
    assert [p.comm for p in procs.values()].count("vhost-34977") == 2
    # Constructed: what `ps -A` does not show. Kernel threads are kthreadd's children; the shim's
    # parent is init and virtiofsd is the shim's child (as in ps_ef_1448.txt); qemu is re-parented
    # to init and names the sandbox (`-name sandbox-<id>`, as in ps_aux_1875.txt).
    shim = with_parent(procs[34962], 1, f"/opt/kata/bin/containerd-shim-kata-v2 -id {ID_4886}")
    qemu_args = f"/opt/kata/bin/qemu-system-x86_64 -name sandbox-{ID_4886} -machine q35,accel=kvm"
    fixed = {
        34962: shim,
        34971: with_parent(procs[34971], 34962, f"virtiofsd --fd=3 -o source=/run/kata/{ID_4886}/shared"),
        34977: with_parent(procs[34977], 1, qemu_args),
        34979: with_parent(procs[34979], 34971),
        34982: with_parent(procs[34982], 2),
        34985: with_parent(procs[34985], 2),
        34986: with_parent(procs[34986], 2),
        34997: with_parent(procs[34997], 1, "ps -A"),
        # Constructed: another VM's vhost worker and a user process that merely bears the name.
        50001: Proc(50001, 2, 0, "vhost-50000", "[vhost-50000]"),
        50002: Proc(50002, 34977, 100, "vhost-34977", "vhost-34977"),
    }
    tree = sandbox_of(fixed, 34962, ID_4886)
    assert [p.pid for p in tree] == [34962, 34971, 34977, 34979, 34982, 34986, 50002]
    roles = {p.pid: p.role for p in tree}
    assert roles[34982] == roles[34986] == "vhost"
    assert roles[50002] == "container"  # a child of qemu named so is no kernel thread: no vhost
    assert vhost_owner(fixed[34985]) is None  # KVM's PIT thread of the same VM is not a vhost worker
    metrics = footprint_metrics(tree, {}, None)
    assert metrics["vhost_threads"] == Metric(2.0, "count")
    assert "vhost_rss_bytes" not in metrics  # kernel threads have no memory of their own
    assert metrics["sandbox_processes"].value == 7
    # Without the sandbox id only the shim's tree is found: not qemu, so not its vhost workers.
    assert {p.role for p in sandbox_of(fixed, 34962)} == {"shim", "virtiofsd"}


def test_kata_1_host_vhost_thread_is_a_child_of_kthreadd() -> None:
    procs = from_ps_ef((KATA / "ps_ef_documentation428.txt").read_text())
    vhost = procs[24010]
    assert (vhost.ppid, vhost.comm, vhost_owner(vhost), vhost.role) == (2, "vhost-24007", 24007, "vhost")
    shim = procs[23992]
    sandbox_id = shim.args.split(" -id ")[1].split()[0]
    (qemu,) = from_ps_a((KATA / "ps_ae_documentation428.txt").read_text()).values()
    # Constructed: qemu's parent and command line, which `ps -ae` does not show (Kata 1.6 daemonizes it).
    qemu_args = f"/usr/bin/qemu-system-x86_64 -name sandbox-{sandbox_id} -daemonize"
    procs[qemu.pid] = with_parent(qemu, 1, qemu_args)
    tree = sandbox_of(procs, shim.pid, sandbox_id)
    assert [(p.pid, p.role) for p in tree] == [(23992, "shim"), (24007, "hypervisor"), (24010, "vhost")]


def test_ps_lists_kernel_threads_here() -> None:
    """katatui's own `ps` command, run here: kernel threads are listed, with kthreadd as parent."""
    procs = parse_ps(subprocess.run(PS, capture_output=True, text=True, check=True).stdout)
    assert (procs[2].ppid, procs[2].rss_kb, procs[2].comm, procs[2].args) == (0, 0, "kthreadd", "[kthreadd]")
    kernel = [p for p in procs.values() if p.ppid == 2]
    assert kernel and all(p.rss_kb == 0 and p.args.startswith("[") for p in kernel)
    assert procs[os.getpid()].role == "container" and procs[os.getpid()].rss_kb > 0


def stat_text(*pids: int) -> str:
    """The sampler's own /proc reader, run here."""
    argv = ["sh", "-c", STAT_SCRIPT, "sh", *map(str, pids)]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def read_stats(*pids: int) -> tuple[int, list[int], dict[int, ProcStat]]:
    return parse_stats(stat_text(*pids))


def stat_fields(pid: int, task: int | None = None) -> list[str]:
    path = f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat"
    return Path(path).read_text().rsplit(")", 1)[1].split()


def busy_kernel_thread() -> int:
    """A kernel thread of this machine that has used CPU time (rcu, ksoftirqd, kworker...)."""
    for entry in sorted(Path("/proc").iterdir(), key=lambda p: p.name):
        if entry.name.isdigit():
            try:
                f = stat_fields(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if f[1] == "2" and int(f[11]) + int(f[12]) > 0:
                return int(entry.name)
    raise AssertionError("no kernel thread with CPU time on this machine")


def test_parse_stats_keeps_kernel_threads_and_drops_zombies() -> None:
    """Real /proc text: a kernel thread is kept with its CPU ticks and no memory, a zombie is not."""
    zombie = subprocess.Popen(["true"])
    try:
        while stat_fields(zombie.pid)[0] != "Z":  # exits at once; not reaped until wait()
            os.sched_yield()
        kthread = busy_kernel_thread()
        fields = stat_fields(kthread)
        used = int(fields[11]) + int(fields[12])
        text = stat_text(os.getpid(), 2, kthread, zombie.pid)
    finally:
        zombie.wait()
    assert f"pid {zombie.pid}\n{zombie.pid} (true) Z " in text  # the zombie's stat line was read
    _, _, stats = parse_stats(text)
    assert sorted(stats) == sorted({os.getpid(), 2, kthread})
    for pid in (2, kthread):
        assert stats[pid].rss_kb == stats[pid].pss_kb == 0
    assert stats[kthread].ticks >= used > 0  # its CPU time, read after `used`
    assert stats[os.getpid()].rss_kb > 0


def test_sampler_reports_vhost_cpu_and_adds_it_to_the_sandbox() -> None:
    """Two real reads of this process and of a kernel thread standing in for a vhost worker."""
    kthread = busy_kernel_thread()
    me = os.getpid()
    events: list[object] = []
    sampler = SandboxSampler("r", None, lambda: None, events.append)  # type: ignore[arg-type]
    sampler._tree = [Proc(me, 1, 0, "python3"), Proc(kthread, 2, 0, f"vhost-{me}", f"[vhost-{me}]")]
    assert [p.role for p in sampler._tree] == ["container", "vhost"]

    hz, host0, before = read_stats(me, kthread)
    sum(i * i for i in range(300_000))
    _, host1, after = read_stats(me, kthread)
    assert set(after) == {me, kthread}
    sampler._account(2.0, 1.0, hz, host0, host1, before, after)
    (sample,) = events
    m = sample.metrics  # type: ignore[attr-defined]
    assert "vhost_cpu_percent" in m and "vhost_pss_bytes" not in m
    assert m["sandbox_cpu_percent"] == pytest.approx(m["container_cpu_percent"] + m["vhost_cpu_percent"])
    ticks = after[kthread].ticks - before[kthread].ticks
    assert m["vhost_cpu_percent"] == pytest.approx(100.0 * ticks / hz)
    results = sampler.results({})
    assert results["vhost_cpu_seconds"] == Metric(ticks / hz, "s")
    assert results["sandbox_cpu_seconds"].value == pytest.approx(sum(sampler.totals.cpu_ticks.values()) / hz)


CHILD = r"""
import os, threading
def work():
    tid = threading.get_native_id()
    with open(f"/proc/self/task/{tid}/comm", "w") as f:
        f.write(f"vhost-{os.getpid()}")
    while True:
        f = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        if int(f[11]) + int(f[12]) >= 5:
            break
    print(tid, flush=True)
    threading.Event().wait()
threading.Thread(target=work, daemon=True).start()
import sys; sys.stdin.read()
"""


def test_a_vhost_thread_of_the_owner_is_not_counted_twice() -> None:
    """Linux 6.4+: the worker is a thread `vhost-<PID>` of its owner. Here a real process names
    one of its threads so and spends CPU in it: `ps -e` does not list the thread, the sandbox is
    the process alone, and the thread's time is in the process's own /proc/PID/stat."""
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)  # fmt: skip
    try:
        assert child.stdout is not None
        tid = int(child.stdout.readline())
        assert Path(f"/proc/{child.pid}/task/{tid}/comm").read_text().strip() == f"vhost-{child.pid}"
        procs = parse_ps(subprocess.run(PS, capture_output=True, text=True, check=True).stdout)
        assert tid not in procs and child.pid in procs
        tree = sandbox_of(procs, child.pid)
        assert [(p.pid, p.role) for p in tree] == [(child.pid, "container")]
        thread = stat_fields(child.pid, tid)
        _, _, stats = read_stats(child.pid)
        assert stats[child.pid].ticks >= int(thread[11]) + int(thread[12]) >= 5
    finally:
        child.kill()
        child.wait()
