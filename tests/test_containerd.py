"""The containerd launcher against the test environment's own containerd (the one its dockerd uses),
through ``ctr`` locally and over the real sshd. The benchmark image is imported from the test
dockerd into containerd's ``katatui`` namespace. This containerd has one runc shim, so the two
scenarios both use ``io.containerd.runc.v2`` under different names."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from katatui.core.launchers.containerd import NAMESPACE, image_ref, shim_binary
from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import katatui

pytestmark = pytest.mark.integration


def ctr(sock: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", sock, "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def containers(sock: str) -> list[str]:
    return [c for c in ctr(sock, "containers", "ls", "-q").stdout.split() if c.startswith("katatui-")]


def profile(
    tmp_path: Path,
    env: TestEnv,
    sock: str,
    *,
    runtime2: str = "io.containerd.runc.v2",
    workload: str = "",
    clients: str = "[1, 3]",
) -> Path:
    text = f"""
name = "containerd"
[targets.node]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
containerd_socket = "{sock}"
docker_socket = "{env.docker_sock}"
[limits]
cpus = 1
memory = "256m"
[[scenarios]]
name = "ctr-runc"
launcher = "containerd"
runtime = "io.containerd.runc.v2"
[[scenarios]]
name = "ctr-runc-b"
launcher = "containerd"
runtime = "{runtime2}"
{
        workload
        or f'''
[[workloads]]
type = "fio"
rw = "randread"
size = "8m"
runtime = 2
clients = {clients}
'''
    }
"""
    path = tmp_path / "ctr.toml"
    path.write_text(text)
    return path


def test_names() -> None:
    assert image_ref("katatui/bench:0.1") == "docker.io/katatui/bench:0.1"
    assert image_ref("busybox") == "docker.io/library/busybox:latest"
    assert image_ref("registry.local:5000/x/y:1") == "registry.local:5000/x/y:1"
    assert shim_binary("io.containerd.kata.v2") == "containerd-shim-kata-v2"
    assert shim_binary("/opt/kata/bin/containerd-shim-kata-v2") is None


def test_fio_under_containerd_imports_the_image_and_cleans_up(
    testenv: TestEnv, ctrd: str, tmp_path: Path
) -> None:
    ctr(ctrd, "images", "rm", image_ref(testenv.image))  # the run imports it again
    out = tmp_path / "s.katatui"
    done = katatui("run", str(profile(tmp_path, testenv, ctrd)), "--headless", "--out", str(out), "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    runs = reader.runs()
    assert {(r.spec.scenario, r.spec.clients) for r in runs} == {
        ("ctr-runc", 1),
        ("ctr-runc", 3),
        ("ctr-runc-b", 1),
        ("ctr-runc-b", 3),
    }
    assert all(r.status == "finished" for r in runs), [(r.spec.scenario, r.reason) for r in runs]
    iops = {
        (r.run.spec.scenario, r.run.spec.clients): r.value
        for r in reader.results()
        if r.metric == "read_iops"
    }
    assert len(iops) == 4 and all(v > 0 for v in iops.values()), iops
    for r in runs:
        cmd = r.commands[0]
        assert cmd[:2] == ["ctr", "--address"] and "--net-host" in cmd and "--rm" in cmd
        assert cmd[cmd.index("--runtime") + 1] == "io.containerd.runc.v2"
        assert cmd[cmd.index("--memory-limit") + 1] == str(256 * 1024 * 1024)
        # the image, the container id and the workload's argv are never read as ctr's options
        assert cmd[cmd.index("--") + 1] == "docker.io/katatui/bench:0.1", cmd
        assert any(a.startswith("type=bind,src=") and "dst=/scratch" in a for a in cmd)
        assert reader.samples(r.spec.run_id), "fio's interval samples streamed"
        for c in range(r.spec.clients):
            assert b'"jobs"' in reader.raw(r.spec.run_id, c), (r.spec.scenario, c)
    assert any("imported" in m.text for m in reader.logs()), [m.text for m in reader.logs()]
    facts = reader.scenario_facts()[("ctr-runc", "node")]
    assert facts["launcher"] == "containerd" and facts["shim"].endswith("containerd-shim-runc-v2")
    # the guest identity, as for Docker: runc shares the host's kernel, / is overlay; no alarm for runc
    assert facts["root_fs"] == "overlay" and facts["kernel"] == facts["host_kernel"] and facts["nproc"] >= 1
    assert "isolation_warning" not in facts
    assert containers(ctrd) == []
    assert not list((tmp_path / "scratch").glob("katatui.*"))


def test_over_ssh(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    out = tmp_path / "s.katatui"
    text = profile(tmp_path, testenv, ctrd, clients="2").read_text()
    prof = tmp_path / "ssh.toml"
    prof.write_text(text.replace('host = "local"', f'host = "{testenv.ssh_url}"'))
    done = katatui("run", str(prof), "--headless", "--out", str(out), env={"HOME": str(testenv.ssh_home)})
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    assert all(r.status == "finished" for r in reader.runs())
    assert {r.metric for r in reader.results()} >= {"read_iops", "read_clat_p99_us"}
    assert containers(ctrd) == []


def test_leftovers_of_a_dead_katatui_are_removed(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    # A container as a katatui that was killed leaves it: labelled, its owner's PID gone.
    dead = subprocess.Popen(["true"])
    dead.wait()
    from katatui.core.scratch import _machine

    cid = f"katatui-crashed-{os.getpid()}"
    started = ctr(
        ctrd,
        "run",
        "-d",
        "--net-host",
        "--label",
        "io.katatui.session=crashed",
        "--label",
        f"io.katatui.owner={_machine()}:{dead.pid}",
        image_ref(testenv.image),
        cid,
        "sleep",
        "600",
    )
    if started.returncode != 0 and "not found" in started.stderr:
        tar = str(tmp_path / "i.tar")
        subprocess.run(["docker", "-H", testenv.docker_url, "save", testenv.image, "-o", tar], check=True)
        ctr(ctrd, "images", "import", tar)
        started = ctr(
            ctrd,
            "run",
            "-d",
            "--net-host",
            "--label",
            "io.katatui.session=crashed",
            "--label",
            f"io.katatui.owner={_machine()}:{dead.pid}",
            image_ref(testenv.image),
            cid,
            "sleep",
            "600",
        )
    assert started.returncode == 0, started.stderr
    assert cid in containers(ctrd)
    workload = '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    out = tmp_path / "s.katatui"
    done = katatui(
        "run", str(profile(tmp_path, testenv, ctrd, workload=workload)), "--headless", "--out", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert cid not in containers(ctrd)
    logs = [m.text for m in SessionReader(out).logs()]
    assert any("left by a katatui" in t and cid in t for t in logs), logs


def test_missing_shim_blocks_only_its_scenario(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    workload = '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    prof = profile(tmp_path, testenv, ctrd, runtime2="io.containerd.nosuch.v2", workload=workload)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    status = {r.spec.scenario: (r.status, r.reason or "") for r in SessionReader(out).runs()}
    assert status["ctr-runc"][0] == "finished"
    assert status["ctr-runc-b"][0] == "failed"
    assert "containerd-shim-nosuch-v2" in status["ctr-runc-b"][1], status


def test_nonzero_exit_and_stderr_are_the_runs(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    workload = '[[workloads]]\ntype = "launch"\ncommand = ["sh", "-c", "echo nope >&2; exit 3"]\n'
    out = tmp_path / "s.katatui"
    done = katatui(
        "run", str(profile(tmp_path, testenv, ctrd, workload=workload)), "--headless", "--out", str(out)
    )
    assert done.returncode == 1
    runs = SessionReader(out).runs()
    assert all(
        r.status == "failed" and "status 3" in (r.reason or "") and "nope" in (r.reason or "") for r in runs
    )
    assert containers(ctrd) == []


def test_cleanup_command_removes_containerd_leftovers(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    from katatui.core.scratch import _machine

    dead = subprocess.Popen(["true"])
    dead.wait()
    cid = f"katatui-cleanup-{os.getpid()}"
    labels = ["--label", "io.katatui.session=crashed", "--label", f"io.katatui.owner={_machine()}:{dead.pid}"]
    ctr(ctrd, "images", "ls")  # the namespace exists after the tests above; create the container
    made = ctr(ctrd, "containers", "create", *labels, image_ref(testenv.image), cid, "true")
    if made.returncode != 0:
        pytest.skip(f"the image is not in containerd's namespace yet: {made.stderr}")
    done = katatui(
        "cleanup",
        "--containerd-socket",
        ctrd,
        "--docker-socket",
        str(tmp_path / "no.sock"),
        "--scratch-base",
        str(tmp_path / "scratch"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "containerd containers removed: 1" in done.stdout and cid in done.stdout
    assert cid not in containers(ctrd)
    bad = katatui("cleanup", "--containerd-socket", "relative.sock")
    assert bad.returncode == 2 and "--containerd-socket 'relative.sock'" in bad.stderr


async def test_start_many_over_ssh_is_one_channel(
    testenv: TestEnv, ctrd: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from katatui.core.events import RunSpec
    from katatui.core.launchers.containerd import ContainerdLauncher
    from katatui.core.profile import Limits
    from katatui.core.transport.batch import BatchedProcess
    from katatui.core.transport.ssh import SSHTransport

    monkeypatch.setenv("HOME", str(testenv.ssh_home))
    t = SSHTransport("node", testenv.ssh_url)
    launcher = ContainerdLauncher(
        t,
        runtime="io.containerd.runc.v2",
        image=testenv.image,
        session_id=f"many{os.getpid()}",
        limits=Limits(memory="64m"),
        socket=ctrd,
    )
    run = RunSpec("r1", 0, "c", "ctr", "containerd", "io.containerd.runc.v2", "node", "w", "launch", {}, 4, 0)
    try:
        procs = await launcher.start_many(
            # The processes stay a moment after they print: containerd can lose what a process wrote
            # just before it exited when the host is loaded (containerd/containerd#770; the shim's
            # copy of the output fifo races the exit), which is not what this test is about.
            run,
            [(c, ["sh", "-c", f"echo client {c}; echo e{c} >&2; sleep 1"], None) for c in range(4)],
        )
        assert all(isinstance(p, BatchedProcess) for p in procs)
        outs = []
        for p in procs:
            got: dict[str, bytes] = {"stdout": b"", "stderr": b""}
            while (chunk := await p.read()) is not None:
                got[chunk[0]] += chunk[1]
            outs.append((got["stdout"], got["stderr"], await p.wait()))
        for c in range(4):
            await launcher.release(run, c)
    finally:
        await launcher.close()
        await t.close()
    assert outs == [(f"client {c}\n".encode(), f"e{c}\n".encode(), 0) for c in range(4)]
    assert not [x for x in containers(ctrd) if f"many{os.getpid()}" in x]


def test_gvisor_through_the_runc_shims_binary_option(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    """containerd has no runsc shim packaged here: the runc shim runs runsc in runc's place
    (``runc_binary``, ctr's --runc-binary), through a wrapper that adds --network=host."""
    wrapper = testenv.dir / "runsc-host"
    text = f"""
name = "containerd-gvisor"
[targets.node]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
containerd_socket = "{ctrd}"
docker_socket = "{testenv.docker_sock}"
[[scenarios]]
name = "ctr-gvisor"
launcher = "containerd"
runtime = "io.containerd.runc.v2"
runc_binary = "{wrapper}"
[[workloads]]
type = "sysbench"
test = ["cpu"]
time = 1
"""
    prof = tmp_path / "g.toml"
    prof.write_text(text)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    runs = reader.runs()
    assert all(r.status == "finished" for r in runs), [r.reason for r in runs]
    cmd = runs[0].commands[0]
    assert cmd[cmd.index("--runc-binary") + 1] == str(wrapper)
    facts = reader.scenario_facts()[("ctr-gvisor", "node")]
    assert (facts["isolation"], facts["sandbox"], facts["kernel"]) == ("user-space-kernel", "gVisor", "4.4.0")
    assert "isolation_warning" not in facts
    assert containers(ctrd) == []
