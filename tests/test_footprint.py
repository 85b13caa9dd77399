"""Finding a sandbox's processes: runc as seen here, Kata from a real `ps -ef` of a Kata 2 host,
gVisor from real listings of this machine's runsc (tests/fixtures/gvisor) and a real footprint run."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.proctree import Proc, describe, parse_ps, parse_pss, runsc_bundle, runsc_role, sandbox_of
from katatui.core.session import SessionReader
from katatui.core.workloads.footprint.procedure import footprint_metrics
from tests.conftest import TestEnv
from tests.helpers import katatui

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


# --- gVisor: the sentry and the gofer are the sandbox's, the stubs the container's -------------------

GVISOR = Path(__file__).parent / "fixtures" / "gvisor"
GVISOR_ID = "11199410e139f68e77dec04a796f5fde3f4cfc1a1a0a1646dda6901f10df7259"


def test_gvisor_roles_come_from_command_lines_not_comm() -> None:
    procs = parse_ps((GVISOR / "ps_7673.txt").read_text())
    assert {p.comm for p in procs.values() if p.pid != 7654} == {"exe"}  # all five say nothing
    tree = sandbox_of(procs, 7673)  # Docker's State.Pid: the sentry; the gofer is its sibling
    assert [(p.pid, p.role) for p in tree] == [
        (7654, "shim"), (7672, "gofer"), (7673, "sentry"), (7694, "container"), (7725, "container"),
    ]  # fmt: skip
    m = footprint_metrics(tree, {}, None)
    assert m["sentry_rss_bytes"].value == 24292 * 1024
    assert m["gofer_rss_bytes"].value == 19916 * 1024
    assert m["container_rss_bytes"].value == (4 + 1320) * 1024  # the ptrace stubs only
    assert m["shim_rss_bytes"].value == 13160 * 1024
    assert m["sandbox_rss_bytes"].value == (13160 + 19916 + 24292 + 4 + 1320) * 1024
    assert describe(tree) == (
        "containerd-shim[7654] 13160 kB, gofer[7672] 19916 kB, sentry[7673] 24292 kB, "
        "stub[7694] 4 kB, stub[7725] 1320 kB"
    )


def test_gvisor_fresh_listing_with_pss() -> None:
    procs = parse_ps((GVISOR / "ps_16010.txt").read_text())
    tree = sandbox_of(procs, 16010, GVISOR_ID)
    assert [(p.pid, p.role) for p in tree] == [
        (15989, "shim"), (16007, "gofer"), (16010, "sentry"), (16029, "container"), (16060, "container"),
    ]  # fmt: skip
    pss = parse_pss((GVISOR / "smaps_rollup_16010.txt").read_text())
    assert pss == {15989: 7307, 16007: 8855, 16010: 11321, 16029: 1, 16060: 1041}
    m = footprint_metrics(tree, pss, None)
    assert (m["sentry_rss_bytes"].value, m["sentry_pss_bytes"].value) == (24268 * 1024, 11321 * 1024)
    assert (m["gofer_rss_bytes"].value, m["gofer_pss_bytes"].value) == (20320 * 1024, 8855 * 1024)
    assert (m["container_rss_bytes"].value, m["container_pss_bytes"].value) == (1324 * 1024, 1042 * 1024)
    assert m["container_rss_bytes"].value < m["sentry_rss_bytes"].value
    assert "hypervisor_rss_bytes" not in m


def test_gvisor_gofer_found_by_its_bundle_without_a_shim() -> None:
    """Constructed from the fresh listing: the shim gone (sentry and gofer re-parented to a
    subreaper that also holds another sandbox's pair), and no sandbox id to match by."""
    procs = parse_ps((GVISOR / "ps_16010.txt").read_text())
    del procs[15989]
    other = {pid: p for pid, p in procs.items() if p.role in ("sentry", "gofer")}
    for pid, p in other.items():
        procs[pid] = Proc(pid, 1, p.rss_kb, p.comm, p.args)
        procs[pid + 100000] = Proc(pid + 100000, 1, p.rss_kb, p.comm, p.args.replace(GVISOR_ID, "f" * 64))
    tree = sandbox_of(procs, 16010)
    assert [(p.pid, p.role) for p in tree] == [
        (16007, "gofer"), (16010, "sentry"), (16029, "container"), (16060, "container"),
    ]  # fmt: skip


def test_runsc_role_from_the_binary_and_its_command() -> None:
    assert runsc_role("runsc-sandbox --root=/r boot --bundle=/b id") == "sentry"
    assert runsc_role("/usr/bin/runsc-gofer gofer --bundle /b") == "gofer"
    # runsc under its own name (older releases, or by hand): the command decides
    assert runsc_role("/usr/bin/runsc --root /run/runsc --network host boot --bundle=/b id") == "sentry"
    assert runsc_role("/usr/local/bin/runsc --debug gofer --bundle /b") == "gofer"
    assert runsc_role("/usr/bin/runsc --root /r create --bundle /b boot") is None  # a container named boot
    assert runsc_role("/usr/bin/runsc --root /r state gofer") is None
    assert runsc_role("[exe]") is None and runsc_role("") is None
    assert runsc_role("/usr/bin/tool boot gofer") is None  # not runsc
    assert Proc(1, 0, 1, "runsc-gofer", "[exe]").role == "container"  # never from comm
    assert runsc_bundle("runsc-gofer --root=/r gofer --bundle /b/x --spec-fd=4") == "/b/x"
    assert runsc_bundle("runsc-sandbox boot --bundle=/b/x id") == "/b/x"
    assert runsc_bundle("runsc-sandbox boot") is None


@pytest.mark.integration
def test_gvisor_footprint_for_real(testenv: TestEnv, tmp_path: Path) -> None:
    if "runsc" not in testenv.runtimes:
        pytest.skip("the test dockerd has no runsc runtime")
    path = tmp_path / "fp.toml"
    path.write_text(
        f'name = "fp"\nrepeats = 1\n[targets.local]\nhost = "local"\n'
        f'docker_socket = "{testenv.docker_sock}"\n'
        '[[scenarios]]\nlauncher = "docker"\nruntime = "runsc"\n'
        '[[workloads]]\ntype = "footprint"\nsettle = 1\n'
    )
    out = tmp_path / "fp.katatui"
    done = katatui("run", str(path), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    runs = reader.runs()
    assert [r.status for r in runs] == ["finished"], [(r.spec.scenario, r.reason) for r in runs]
    m = {r.metric: r.value for r in reader.results()}
    said = [log.text for log in reader.logs() if "sandbox:" in log.text]
    reader.close()
    assert {"sentry_rss_bytes", "sentry_pss_bytes", "gofer_rss_bytes", "gofer_pss_bytes"} <= set(m), m
    assert 0 < m["container_rss_bytes"] < m["sentry_rss_bytes"]
    assert m["sandbox_rss_bytes"] >= m["sentry_rss_bytes"] + m["gofer_rss_bytes"] + m["container_rss_bytes"]
    assert said and "sentry[" in said[0] and "gofer[" in said[0] and " exe[" not in said[0], said
