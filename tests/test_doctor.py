"""katatui doctor for real: this machine's /dev/kvm, the test dockerd's runtimes (runc, runc-alt),
a profile asking for Kata that cannot run here, canaries under runc and runc-alt, and over SSH."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import docker
import pytest

from katatui.core.canary import run_canary
from katatui.core.launchers.docker import LABEL_SESSION
from katatui.core.transport.local import LocalTransport
from tests.conftest import TestEnv
from tests.helpers import katatui

pytestmark = pytest.mark.integration


def profile(tmp_path: Path, env: TestEnv, runtimes: list[str], image: str | None = None) -> Path:
    scenarios = '[[scenarios]]\nlauncher = "bare"\n'
    for r in runtimes:
        scenarios += f'[[scenarios]]\nlauncher = "docker"\nruntime = "{r}"\n'
        if image:
            scenarios += f'image = "{image}"\n'
    path = tmp_path / "profile.toml"
    path.write_text(
        f'name = "doctor"\n[targets.local]\nhost = "local"\ndocker_socket = "{env.docker_sock}"\n'
        f'{scenarios}[[workloads]]\ntype = "launch"\n'
    )
    return path


def by_name(checks: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in checks}


def docker_env(env: TestEnv) -> dict[str, str]:
    return {"DOCKER_HOST": env.docker_url}


def leftovers(client: docker.DockerClient) -> list[str]:
    found = client.containers.list(all=True, filters={"label": LABEL_SESSION}, ignore_removed=True)
    return [c.name for c in found if c.name.startswith("katatui-doctor")]


def test_this_machine(testenv: TestEnv) -> None:
    done = katatui("doctor", "--json", env=docker_env(testenv))
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    (host,) = doc["hosts"]
    checks = by_name(host["checks"])
    # The machine has /dev/kvm: doctor opened it and asked for the API version (12 since Linux 2.6.22).
    assert checks["/dev/kvm"]["status"] == "pass", checks["/dev/kvm"]
    assert host["facts"]["kvm_api_version"] == 12
    assert host["facts"]["kvm_usable"] is True
    assert checks["docker runtimes"]["status"] == "pass"
    assert {"runc", "runc-alt"} <= set(host["facts"]["docker_runtimes"])
    assert host["facts"]["docker_runtime_programs"]["runc-alt"] == "/usr/bin/runc"
    assert checks["kata"]["status"] == "pass" and "not installed" in checks["kata"]["why"]
    for c in host["checks"]:
        assert c["status"] in ("pass", "warn", "fail") and c["why"]
        assert c["status"] == "pass" or c["todo"], c  # every problem says what to do


def test_profile_asking_for_kata_fails_naming_it(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    done = katatui("doctor", "--profile", str(profile(tmp_path, testenv, ["runc", "runc-alt", "kata-qemu"])))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "kata-qemu" in done.stdout and "FAIL" in done.stdout
    assert "a scenario cannot run" in done.stdout
    assert leftovers(docker_client) == []


def test_profile_that_can_run_passes_with_canaries(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    done = katatui("doctor", "--profile", str(profile(tmp_path, testenv, ["runc", "runc-alt"])), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is True
    canaries = {c["scope"]: c for c in doc["canaries"]}
    assert set(canaries) == {"canary runc@local", "canary runc-alt@local"}
    kernel = doc["hosts"][0]["facts"]["kernel"]
    for c in canaries.values():
        assert c["status"] == "pass", c
        assert f"host's kernel ({kernel})" in c["why"]
    assert leftovers(docker_client) == []


def test_missing_image_of_the_user_fails(testenv: TestEnv, tmp_path: Path) -> None:
    path = profile(tmp_path, testenv, ["runc"], image="katatui-test/no-such-image:1")
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 1
    (image,) = [c for c in json.loads(done.stdout)["scenarios"] if c["name"] == "image"]
    assert image["status"] == "fail" and "katatui-test/no-such-image:1" in image["why"]


def test_over_ssh(testenv: TestEnv) -> None:
    target = f"box={testenv.ssh_url}?docker_socket={testenv.docker_sock}"
    done = katatui("doctor", target, "--json", env={"HOME": str(testenv.ssh_home)})
    assert done.returncode == 0, done.stdout + done.stderr
    (host,) = json.loads(done.stdout)["hosts"]
    assert host["target"] == "box" and host["address"].startswith("ssh://")
    checks = by_name(host["checks"])
    assert checks["/dev/kvm"]["status"] == "pass"  # opened on the far side, through the transport
    assert host["facts"]["kvm_api_version"] == 12
    assert {"runc", "runc-alt"} <= set(host["facts"]["docker_runtimes"])


def test_profile_over_ssh_with_canary(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    path = profile(tmp_path, testenv, ["runc-alt", "kata-clh"])
    target = f"local={testenv.ssh_url}?docker_socket={testenv.docker_sock}"
    done = katatui("doctor", "--profile", str(path), target, "--json", env={"HOME": str(testenv.ssh_home)})
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    failed = [c for c in doc["scenarios"] if c["status"] == "fail"]
    assert [c["scope"] for c in failed] == ["scenario kata-clh@local"]
    assert [(c["scope"], c["status"]) for c in doc["canaries"]] == [("canary runc-alt@local", "pass")]
    assert leftovers(docker_client) == []


def test_bad_targets(testenv: TestEnv) -> None:
    done = katatui("doctor", "local=ftp://nowhere")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "ftp://nowhere" in done.stderr
    # Nothing listens on port 1: the target fails, with what to do, and doctor says so.
    done = katatui("doctor", "ssh://root@127.0.0.1:1", "--json", env={"HOME": str(testenv.ssh_home)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (host,) = json.loads(done.stdout)["hosts"]
    assert host["checks"][0]["name"] == "connect" and host["checks"][0]["status"] == "fail"


def test_canary_directly_on_both_runtimes(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    host_kernel = Path("/proc/sys/kernel/osrelease").read_text().strip()

    async def both() -> list[tuple[str, str, str | None]]:
        out = []
        for runtime in ("runc", "runc-alt"):
            result = await run_canary(LocalTransport(), docker_client, scenario=runtime, runtime=runtime,
                                      image=testenv.image, host_kernel=host_kernel)  # fmt: skip
            out.append((result.status, result.root_fs or "", result.guest_kernel))
        return out

    assert asyncio.run(both()) == [("pass", "overlay", host_kernel)] * 2
    assert leftovers(docker_client) == []
