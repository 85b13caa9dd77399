"""katatui run through the real sshd against the real dockerd (runc and runc-alt) and bare."""

from __future__ import annotations

import csv
import io
import shutil
import signal
import subprocess
import time
from pathlib import Path

import docker
import pytest

from katatui.core.launchers.docker import LABEL_SESSION
from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import REPO, fio_profile, katatui, need, start_katatui, wait_for_events

pytestmark = pytest.mark.integration

BARE = '[[scenarios]]\nlauncher = "bare"\n'
ALT = '[[scenarios]]\nlauncher = "docker"\nruntime = "runc-alt"\n'


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("fio")


def ssh_target(env: TestEnv) -> str:
    return f"local={env.ssh_url}?docker_socket={env.docker_sock}"


def labelled(
    client: docker.DockerClient, session: Path | None = None
) -> list[docker.models.containers.Container]:
    """katatui's containers in the test dockerd; only those of one session file's run when given."""
    label = LABEL_SESSION
    if session is not None:
        reader = SessionReader(session)
        label = f"{LABEL_SESSION}={reader.meta['session_id']}"
        reader.close()
    return client.containers.list(all=True, filters={"label": label})


def test_quick_profile_over_ssh(testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    out = tmp_path / "quick.katatui"
    done = katatui(
        "run", str(REPO / "profiles" / "quick.toml"), "--headless", "--repeat", "1", "-v",
        "--target", ssh_target(testenv), "--out", str(out),
        env={"HOME": str(testenv.ssh_home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    runs = reader.runs()
    # interleaved per cell; runtime "*" puts runc first, then the rest by name
    assert [r.spec.scenario for r in runs[:6]] == ["bare", "runc", "crun", "runc-alt", "runsc", "sandbox"]
    assert all(r.status == "finished" for r in runs), [(r.spec.scenario, r.reason) for r in runs]
    facts = reader.hosts()["local"]
    assert facts["address"].startswith("ssh://")
    assert {"runc", "runc-alt"} <= set(facts["docker"]["runtimes"])
    alt = next(r for r in runs if r.spec.scenario == "runc-alt")
    assert alt.commands[0][:5] == ["docker", "run", "--rm", "--runtime", "runc-alt"]
    rows = list(csv.DictReader(io.StringIO(katatui("report", str(out), "--format", "csv").stdout)))
    for scenario in ("bare", "runc", "crun", "runc-alt", "runsc", "sandbox"):
        bw = [
            float(r["value"])
            for r in rows
            if r["scenario"] == scenario and r["metric"].endswith("bw_bytes_per_s")
        ]
        assert len(bw) == 2 and min(bw) > 0
    assert labelled(docker_client, out) == []
    assert "×" in done.stdout  # the side-by-side table with ratios


def test_sigint_over_ssh_really_uses_the_runtime_and_leaves_nothing(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    prof = fio_profile(tmp_path, scenarios=ALT, runtime=60)
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(prof), "--headless", "--target", ssh_target(testenv), "--out", str(out),
                         env={"HOME": str(testenv.ssh_home)})  # fmt: skip
    try:
        wait_for_events(out, "Sample", 2)
        running = labelled(docker_client, out)
        assert len(running) == 1
        assert running[0].attrs["HostConfig"]["Runtime"] == "runc-alt"  # Docker's real runtime switch
        assert running[0].attrs["HostConfig"]["NetworkMode"] == "host"
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert labelled(docker_client, out) == []
    assert list((tmp_path / "scratch").iterdir()) == []
    reader = SessionReader(out)
    assert reader.status == "interrupted"
    assert any(r.partial and r.metric == "read_iops" for r in reader.results())


def test_sigint_stops_the_remote_bare_process(testenv: TestEnv, tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=60)
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(prof), "--headless", "--target", f"local={testenv.ssh_url}",
                         "--out", str(out), env={"HOME": str(testenv.ssh_home)})  # fmt: skip
    wait_for_events(out, "Sample", 2)
    scratch = str(tmp_path / "scratch")
    assert subprocess.run(["pgrep", "-f", scratch], capture_output=True).returncode == 0
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=90)
    assert proc.returncode == 130
    time.sleep(1)
    assert subprocess.run(["pgrep", "-f", scratch], capture_output=True).returncode == 1, "fio still runs"


def test_ssh_config_alias_is_honoured(testenv: TestEnv, tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1)
    done = katatui("run", str(prof), "--headless", "--target", f"local=ssh://{testenv.ssh_alias}",
                   "--out", str(tmp_path / "s.katatui"), env={"HOME": str(testenv.ssh_home)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_unknown_host_key_is_refused_then_trusted_on_request(testenv: TestEnv, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(testenv.ssh_key, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1)
    done = katatui("run", str(prof), "--headless", "--target", f"local={testenv.ssh_url}",
                   "--out", str(tmp_path / "a.katatui"), env={"HOME": str(home)})  # fmt: skip
    assert done.returncode == 1
    assert "host key is not in known_hosts" in done.stdout and "trust_new_host_key" in done.stdout
    assert "Traceback" not in done.stderr
    trusting = fio_profile(tmp_path, scenarios=BARE, runtime=1, target="trust_new_host_key = true")
    done = katatui("run", str(trusting), "--headless", "--target", f"local={testenv.ssh_url}",
                   "--out", str(tmp_path / "b.katatui"), env={"HOME": str(home)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trusted a new host key" in done.stdout
    assert f"[127.0.0.1]:{testenv.ssh_port} ssh-ed25519" in (home / ".ssh" / "known_hosts").read_text()


def test_unreachable_host_is_named(tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1)
    done = katatui("run", str(prof), "--headless", "--target", "local=ssh://root@127.0.0.1:1",
                   "--out", str(tmp_path / "s.katatui"))  # fmt: skip
    assert done.returncode == 1
    assert "target local (ssh root@127.0.0.1:1): cannot connect" in done.stdout
    assert "Traceback" not in done.stderr
    reader = SessionReader(tmp_path / "s.katatui")
    assert reader.runs()[0].status == "failed"


def test_missing_runtime_fails_its_runs_only(testenv: TestEnv, tmp_path: Path) -> None:
    scenarios = BARE + '[[scenarios]]\nlauncher = "docker"\nruntime = "kata-runtime"\n'
    prof = fio_profile(
        tmp_path, scenarios=scenarios, runtime=1, target=f'docker_socket = "{testenv.docker_sock}"'
    )
    done = katatui("run", str(prof), "--headless", "--out", str(tmp_path / "s.katatui"))
    assert done.returncode == 1
    assert "has no runtime 'kata-runtime'" in done.stdout
    reader = SessionReader(tmp_path / "s.katatui")
    assert {r.spec.scenario: r.status for r in reader.runs()} == {
        "bare": "finished",
        "kata-runtime": "failed",
    }


def test_sigkill_leftover_container_is_cleaned_up(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    prof = fio_profile(tmp_path, scenarios=ALT, runtime=60, target=f'docker_socket = "{testenv.docker_sock}"')
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(prof), "--headless", "--out", str(out))
    try:
        wait_for_events(out, "Sample", 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(labelled(docker_client, out)) == 1  # what a crash leaves behind
    done = katatui(
        "cleanup", "--docker-socket", testenv.docker_sock, "--scratch-base", str(tmp_path / "scratch")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "containers removed: 1" in done.stdout and "scratch directories removed: 1" in done.stdout
    assert labelled(docker_client, out) == []
    assert list((tmp_path / "scratch").iterdir()) == []


def test_image_missing_fio_is_named(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    # An image with a shell but no fio: the run fails with a message naming the image.
    data = io.BytesIO()
    import tarfile

    with tarfile.open(fileobj=data, mode="w") as tar:
        busybox = Path("/bin/busybox")
        tar.add(busybox, arcname="bin/sh")
    docker_client.api.import_image_from_data(data.getvalue(), repository="katatui/nofio", tag="test")
    try:
        scenarios = '[[scenarios]]\nlauncher = "docker"\nruntime = "runc"\nimage = "katatui/nofio:test"\n'
        prof = fio_profile(
            tmp_path, scenarios=scenarios, runtime=1, target=f'docker_socket = "{testenv.docker_sock}"'
        )
        done = katatui("run", str(prof), "--headless", "--out", str(tmp_path / "s.katatui"))
        assert done.returncode == 1
        assert "katatui/nofio:test" in done.stdout and "fio" in done.stdout
        assert "Traceback" not in done.stderr
        assert labelled(docker_client, tmp_path / "s.katatui") == []
    finally:
        docker_client.images.remove("katatui/nofio:test", force=True)


def test_concurrent_pairing_and_container_scratch(testenv: TestEnv, tmp_path: Path) -> None:
    scenarios = '[[scenarios]]\nlauncher = "docker"\nruntime = "runc"\n' + ALT
    prof = fio_profile(
        tmp_path,
        scenarios=scenarios,
        runtime=2,
        target=f'docker_socket = "{testenv.docker_sock}"',
        extra='scratch = "container"',
    )
    text = prof.read_text().replace('name = "test"', 'name = "test"\npairing = "concurrent"')
    prof.write_text(text)
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out), "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scenarios share the host" in done.stdout
    assert "-w /katatui-scratch" in done.stdout  # fio wrote in the container's own layer
    reader = SessionReader(out)
    a, b = reader.runs()
    assert a.status == b.status == "finished"
    assert a.started_at is not None and b.started_at is not None and a.finished_at is not None
    assert b.started_at < a.finished_at  # both ran at once
    assert not (tmp_path / "scratch").exists() or list((tmp_path / "scratch").iterdir()) == []


def test_dropped_ssh_connection_is_a_failed_run(testenv: TestEnv, tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=20)
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(prof), "--headless", "--target", f"local={testenv.ssh_url}",
                         "--out", str(out), env={"HOME": str(testenv.ssh_home)})  # fmt: skip
    wait_for_events(out, "Sample", 2)
    # Kill the sshd processes serving connections (the listener's children), as a network cut would.
    sshd_pid = (testenv.dir / "sshd.pid").read_text().strip()
    subprocess.run(["pkill", "-KILL", "-P", sshd_pid], check=True)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stdout + stderr
    assert "Traceback" not in stderr
    assert "connection" in stdout.lower()
    reader = SessionReader(out)
    run = reader.runs()[0]
    assert run.status == "failed" and run.reason
    assert len(reader.samples(run.spec.run_id)) >= 2  # what arrived before the cut is kept
    subprocess.run(["pkill", "-f", "--", f"--directory={tmp_path / 'scratch'}"])  # the orphaned remote fio


def test_a_changed_host_key_is_refused_even_when_trusting_new_keys(testenv: TestEnv, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(testenv.ssh_key, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = other.with_suffix(".pub").read_text().split()[:2]
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{testenv.ssh_port} {' '.join(wrong)}\n")
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1, target="trust_new_host_key = true")
    done = katatui("run", str(prof), "--headless", "--target", f"local={testenv.ssh_url}",
                   "--out", str(tmp_path / "s.katatui"), env={"HOME": str(home)})  # fmt: skip
    assert done.returncode == 1
    assert "does not match the one recorded in known_hosts" in " ".join(done.stdout.split())
    assert (home / ".ssh" / "known_hosts").read_text().count("\n") == 1  # nothing was added


def _alias_home(testenv: TestEnv, tmp_path: Path, known: str) -> Path:
    """A HOME whose ~/.ssh/config names the test sshd ``node1``, with the given known_hosts."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(testenv.ssh_key, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    (home / ".ssh" / "config").write_text(
        f"Host node1\n    HostName 127.0.0.1\n    Port {testenv.ssh_port}\n    User root\n"
        f"    IdentityFile {home / '.ssh' / 'id_ed25519'}\n    IdentitiesOnly yes\n"
    )
    (home / ".ssh" / "known_hosts").write_text(known)
    return home


def test_a_changed_host_key_behind_an_ssh_config_alias_is_refused(testenv: TestEnv, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    known = f"[127.0.0.1]:{testenv.ssh_port} {wrong}\n"
    home = _alias_home(testenv, tmp_path, known)
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1, target="trust_new_host_key = true")
    done = katatui("run", str(prof), "--headless", "--target", "local=ssh://node1",
                   "--out", str(tmp_path / "s.katatui"), env={"HOME": str(home)})  # fmt: skip
    text = " ".join(done.stdout.split())
    assert done.returncode in (1, 2), text
    assert "host key has CHANGED" in text and f"[127.0.0.1]:{testenv.ssh_port}" in text, text
    assert "man-in-the-middle" in text and "trust_new_host_key =" not in text
    assert "trusted a new host key" not in text
    assert "Traceback" not in done.stderr
    assert (home / ".ssh" / "known_hosts").read_text() == known  # nothing was added
    # the same without trusting new keys: the same refusal, no advice to trust
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1)
    done = katatui("run", str(prof), "--headless", "--target", "local=ssh://node1",
                   "--out", str(tmp_path / "t.katatui"), env={"HOME": str(home)})  # fmt: skip
    text = " ".join(done.stdout.split())
    assert done.returncode in (1, 2) and "host key has CHANGED" in text, text
    assert "trust_new_host_key =" not in text
    assert (home / ".ssh" / "known_hosts").read_text() == known


def test_the_right_host_key_behind_an_ssh_config_alias_connects(testenv: TestEnv, tmp_path: Path) -> None:
    real = (testenv.ssh_home / ".ssh" / "known_hosts").read_text().split("\n")[0].split()
    known = f"[127.0.0.1]:{testenv.ssh_port} {real[-2]} {real[-1]}\n"
    home = _alias_home(testenv, tmp_path, known)
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1)
    done = katatui("run", str(prof), "--headless", "--target", "local=ssh://node1",
                   "--out", str(tmp_path / "s.katatui"), env={"HOME": str(home)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (home / ".ssh" / "known_hosts").read_text() == known


def test_a_new_host_key_behind_an_ssh_config_alias_is_recorded_under_the_resolved_host(
    testenv: TestEnv, tmp_path: Path
) -> None:
    home = _alias_home(testenv, tmp_path, "")
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1, target="trust_new_host_key = true")
    done = katatui("run", str(prof), "--headless", "--target", "local=ssh://node1",
                   "--out", str(tmp_path / "s.katatui"), env={"HOME": str(home)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"trusted a new host key for [127.0.0.1]:{testenv.ssh_port}" in done.stdout
    assert (home / ".ssh" / "known_hosts").read_text().startswith(f"[127.0.0.1]:{testenv.ssh_port} ssh-")
