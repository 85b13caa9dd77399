"""Finding a sandbox's processes: runc as seen here, Kata from a real `ps -ef` of a Kata 2 host."""

from __future__ import annotations

from pathlib import Path

from katatui.core.workloads.footprint import Proc, footprint_metrics, parse_ps, parse_pss, sandbox_of

KATA = Path(__file__).parent / "fixtures" / "kata"
CID = "f696fbe1040067c976aebdb53365d79cb4d5e075b98dc28155f44c6a9320d415"


def from_ps_ef(text: str) -> dict[int, Proc]:
    """`ps -ef` rows (UID PID PPID C STIME TTY TIME CMD) as Procs; ps -ef shows no RSS."""
    procs = {}
    for line in text.splitlines():
        f = line.split(None, 7)
        if len(f) == 8:
            comm = Path(f[7].split()[0]).name[:15]  # the kernel's comm is the first 15 characters
            procs[int(f[1])] = Proc(int(f[1]), int(f[2]), 0, comm, f[7])
    return procs


def test_kata_sandbox_includes_the_reparented_hypervisor() -> None:
    procs = from_ps_ef((KATA / "ps_ef_1448.txt").read_text())
    procs[1] = Proc(1, 0, 0, "systemd", "/sbin/init")
    procs[5000] = Proc(5000, 1, 0, "qemu-system-x86", "qemu-system-x86_64 -name sandbox-someoneelse000000")
    shim = next(p for p in procs.values() if p.comm.startswith("containerd-shim"))
    tree = sandbox_of(procs, shim.pid, CID)
    roles = sorted(p.role for p in tree)
    assert roles == ["hypervisor", "shim", "virtiofsd"]  # qemu's parent is init, yet it is found
    assert 5000 not in {p.pid for p in tree}  # another sandbox's VM is not
    without_id = sandbox_of(procs, shim.pid)
    assert "hypervisor" not in {p.role for p in without_id}  # what the shim's tree alone would miss


SHIM = "/usr/bin/containerd-shim-runc-v2 -namespace moby -address /run/c.sock -id"
RUNC_PS = f"""\
    1     0  1000 systemd         /sbin/init
  700     1 13592 containerd-shim {SHIM} 0123456789abcdef0123
  720   700  1376 sleep           sleep 30
  721   720   500 sh              sh -c true
  800     1 13000 containerd-shim {SHIM} fedcba9876543210fedc
"""


def test_runc_sandbox_and_metrics() -> None:
    procs = parse_ps(RUNC_PS)
    tree = sandbox_of(procs, 720, "0123456789abcdef0123")
    assert [p.pid for p in tree] == [700, 720, 721]
    pss = parse_pss("pid 700\nRss: 1 kB\nPss: 12000 kB\npid 720\nPss: 1000 kB\npid 721\n")
    assert pss == {700: 12000, 720: 1000}
    m = footprint_metrics(tree, pss, 561152)
    assert m["sandbox_rss_bytes"].value == (13592 + 1376 + 500) * 1024
    assert m["shim_pss_bytes"].value == 12000 * 1024
    assert m["container_rss_bytes"].value == (1376 + 500) * 1024
    assert m["cgroup_memory_bytes"].value == 561152
    assert "hypervisor_rss_bytes" not in m
