"""katatui doctor for real: this machine's /dev/kvm, the test dockerd's runtimes (runc, runc-alt),
a profile asking for Kata that cannot run here, canaries under runc and runc-alt, and over SSH.
containerd scenarios against the test environment's containerd (through ctr), Kubernetes ones
against tests/k8s_server.py's API server (RuntimeClasses runc, runc-alt with a pod overhead, kata)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from katatui.core import doctor
from katatui.core.canary import run_canary
from katatui.core.launchers.docker import LABEL_SESSION
from katatui.core.profile import Limits
from katatui.core.transport.local import LocalTransport
from tests.conftest import TestEnv
from tests.helpers import katatui
from tests.k8s_server import FakeKube

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


# -- limits --------------------------------------------------------------------------------------------


def limits_profile(tmp_path: Path, env: TestEnv, limits: str, runc_limits: str = "") -> Path:
    """bare, runc and runc-alt under the profile's [limits]; ``runc_limits``: runc's own."""
    path = tmp_path / "limits.toml"
    path.write_text(
        f'name = "doctor-limits"\n[targets.local]\nhost = "local"\ndocker_socket = "{env.docker_sock}"\n'
        f"[limits]\n{limits}\n"
        '[[scenarios]]\nlauncher = "bare"\n'
        '[[scenarios]]\nlauncher = "docker"\nruntime = "runc"\n'
        + (f"limits = {{ {runc_limits} }}\n" if runc_limits else "")
        + '[[scenarios]]\nlauncher = "docker"\nruntime = "runc-alt"\n[[workloads]]\ntype = "launch"\n'
    )
    return path


def test_cpus_above_the_host_fail_naming_scenario_target_and_fix(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    path = limits_profile(tmp_path, testenv, "cpus = 64")
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is False
    nproc = doc["hosts"][0]["facts"]["nproc"]
    assert isinstance(nproc, int) and 0 < nproc < 64
    failed = [c for c in doc["scenarios"] if c["status"] == "fail"]
    assert [(c["scope"], c["name"]) for c in failed] == [
        ("scenario runc@local", "limits"),
        ("scenario runc-alt@local", "limits"),
    ]
    for c, name in zip(failed, ("runc", "runc-alt"), strict=True):
        assert f"the profile's [limits] ask for cpus = 64, but local has only {nproc} CPU" in c["why"]
        assert f"Docker refuses --cpus 64 there (its range is 0.01 to {nproc}.00)" in c["why"]
        assert f"every run of {name} on local would fail" in c["why"]
        assert f"set cpus to at most {nproc} in the profile's [limits]" in c["todo"]
        assert f"run scenario {name} on a target with 64 CPUs or more" in c["todo"]
    # Bare runs take no limits: nothing to check there.
    assert "limits" not in scoped(doc, "scenario bare@local")
    # A scenario that cannot run gets no canary.
    assert doc["canaries"] == []
    done = katatui("doctor", "--profile", str(path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cpus = 64" in done.stdout and "a scenario cannot run" in done.stdout
    assert leftovers(docker_client) == []


def test_a_scenarios_own_memory_above_the_host_fails_naming_it(testenv: TestEnv, tmp_path: Path) -> None:
    path = limits_profile(tmp_path, testenv, 'memory = "256m"', runc_limits='memory = "64t"')
    done = katatui("doctor", "--profile", str(path), "--json", "--no-canary")
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    mem_mib = doc["hosts"][0]["facts"]["mem_total_kb"] // 1024
    runc = scoped(doc, "scenario runc@local")["limits"]
    assert runc["status"] == "fail"
    assert "the limits of scenario runc ask for memory = 64t (65536.0 GiB), but local has only" in runc["why"]
    assert f"set memory to at most {mem_mib}m in the profile's [[scenarios]] entry runc" in runc["todo"]
    # runc-alt has the profile's [limits], which fit.
    alt = scoped(doc, "scenario runc-alt@local")["limits"]
    assert alt["status"] == "pass" and "--memory 256m (the profile's [limits]) fit local" in alt["why"]


def test_limits_that_fit_pass_and_the_canary_runs_with_them(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    path = limits_profile(tmp_path, testenv, 'cpus = 1\nmemory = "256m"')
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is True
    for name in ("runc", "runc-alt"):
        check = scoped(doc, f"scenario {name}@local")["limits"]
        assert check["status"] == "pass"
        assert check["why"].startswith(
            "--cpus 1 --memory 256m (the profile's [limits]) fit local: cpus 1 of "
        )
    canaries = {c["scope"]: c for c in doc["canaries"]}
    assert set(canaries) == {"canary runc@local", "canary runc-alt@local"}
    for c in canaries.values():
        assert c["status"] == "pass" and c["why"].endswith("(with --cpus 1 --memory 256m)"), c
    done = katatui("doctor", "--profile", str(path), "--no-canary")
    assert done.returncode == 0 and "every scenario can run" in done.stdout
    assert leftovers(docker_client) == []


def test_canary_runs_with_the_limits_so_a_refused_one_shows(
    testenv: TestEnv, docker_client: docker.DockerClient
) -> None:
    """The canary gets --cpus/--memory as the runs do: Docker's refusal is the canary's failure."""
    result = asyncio.run(
        run_canary(LocalTransport(), docker_client, scenario="runc", runtime="runc", image=testenv.image,
                   host_kernel=None, limits=Limits(cpus=64))
    )  # fmt: skip
    assert result.status == "fail"
    assert "Range of CPUs is from 0.01 to" in result.why, result.why
    assert leftovers(docker_client) == []


def test_limits_checks_without_facts_and_by_launcher() -> None:
    limits = Limits(cpus=4, memory="1g")
    report = doctor.HostReport("h", "local", facts={"nproc": 2, "mem_total_kb": 8 * 1024 * 1024})

    def checks(launcher: str, facts: dict[str, object] | None = None) -> list[doctor.Check]:
        needs = doctor.ScenarioNeeds("s", "h", launcher, "runc", "img", False, frozenset(), limits)
        where = doctor.HostReport("h", "local", facts=facts) if facts is not None else report
        return doctor.limits_checks(needs, where, "scenario s@h")

    (ctr,) = checks("containerd")
    assert ctr.status == "fail" and "h has only 2 CPUs: the sandbox cannot get 4 CPUs there" in ctr.why
    assert checks("bare") == [] and checks("kubernetes") == []  # no limits / the nodes' size
    (unknown,) = checks("docker", {})
    assert unknown.status == "warn" and unknown.todo
    assert "cpus = 4 is not checked" in unknown.why and "memory = 1g is not checked" in unknown.why


# -- containerd ----------------------------------------------------------------------------------------


def ctr_profile(tmp_path: Path, env: TestEnv, sock: str, runtimes: dict[str, str]) -> Path:
    scenarios = "".join(
        f'[[scenarios]]\nname = "{name}"\nlauncher = "containerd"\nruntime = "{r}"\n'
        for name, r in runtimes.items()
    )
    path = tmp_path / "ctr.toml"
    path.write_text(
        f'name = "doctor-ctr"\n[targets.node]\nhost = "local"\ncontainerd_socket = "{sock}"\n'
        f'docker_socket = "{env.docker_sock}"\n{scenarios}[[workloads]]\ntype = "launch"\n'
    )
    return path


def scoped(doc: dict[str, object], scope: str) -> dict[str, dict[str, str]]:
    checks = doc["scenarios"]
    assert isinstance(checks, list)
    return by_name([c for c in checks if c["scope"] == scope])


def test_containerd_scenarios_that_can_run_pass(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    # This containerd has one runc shim: two scenarios use io.containerd.runc.v2 under two names.
    path = ctr_profile(
        tmp_path, testenv, ctrd, {"ctr-a": "io.containerd.runc.v2", "ctr-b": "io.containerd.runc.v2"}
    )
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is True
    for name in ("ctr-a", "ctr-b"):
        checks = scoped(doc, f"scenario {name}@node")
        assert checks["containerd"]["status"] == "pass" and ctrd in checks["containerd"]["why"]
        assert checks["runtime"]["status"] == "pass"
        assert "containerd-shim-runc-v2" in checks["runtime"]["why"]
        # In containerd's katatui namespace already (pass), or imported from the test dockerd at run time.
        assert checks["image"]["status"] in ("pass", "warn"), checks["image"]
        assert "docker" not in checks  # no Docker runtime asked of containerd scenarios
    (host,) = doc["hosts"]
    assert host["facts"]["containerd"]["socket"] == ctrd
    assert host["facts"]["containerd"]["version"] and host["facts"]["containerd"]["error"] is None
    # The canary is Docker's only: a note says so, and nothing failed for it.
    assert doc["canaries"] == []
    (note,) = doc["notes"]
    assert "ctr-a, ctr-b" in note and "no canary" in note


def test_containerd_kata_fails_naming_the_shim(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    runtimes = {"ctr-runc": "io.containerd.runc.v2", "ctr-kata": "io.containerd.kata.v2"}
    path = ctr_profile(tmp_path, testenv, ctrd, runtimes)
    done = katatui("doctor", "--profile", str(path), "--json", "--no-canary")
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    kata = scoped(doc, "scenario ctr-kata@node")["runtime"]
    assert kata["status"] == "fail" and "containerd-shim-kata-v2 not on PATH" in kata["why"], kata
    assert kata["todo"]
    assert [c["scope"] for c in doc["scenarios"] if c["status"] == "fail"] == ["scenario ctr-kata@node"]
    done = katatui("doctor", "--profile", str(path), "--no-canary")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "containerd-shim-kata-v2" in done.stdout and "a scenario cannot run" in done.stdout


def test_containerd_socket_that_does_not_answer(testenv: TestEnv, ctrd: str, tmp_path: Path) -> None:
    path = ctr_profile(tmp_path, testenv, str(tmp_path / "no.sock"), {"ctr": "io.containerd.runc.v2"})
    done = katatui("doctor", "--profile", str(path), "--json", "--no-canary")
    assert done.returncode == 1, done.stdout + done.stderr
    check = scoped(json.loads(done.stdout), "scenario ctr@node")["containerd"]
    assert (
        check["status"] == "fail" and f"containerd does not answer at {tmp_path / 'no.sock'}" in check["why"]
    )


# -- Kubernetes ----------------------------------------------------------------------------------------

OVERHEAD = {"cpu": "250m", "memory": "120Mi"}


@pytest.fixture
def kube(testenv: TestEnv) -> Iterator[FakeKube]:
    classes = {"runc": ("runc", {}), "runc-alt": ("runc-alt", OVERHEAD), "kata": ("kata", {})}
    with FakeKube(testenv.docker_url, runtime_classes=classes) as server:
        yield server


def kube_profile(
    tmp_path: Path,
    env: TestEnv,
    kube: FakeKube,
    runtimes: list[str],
    *,
    kubernetes: str = "",
    docker: str = "",
) -> Path:
    kc = kube.kubeconfig(tmp_path / "kubeconfig")
    scenarios = "".join(f'[[scenarios]]\nlauncher = "kubernetes"\nruntime = "{r}"\n' for r in runtimes)
    if docker:
        scenarios += f'[[scenarios]]\nlauncher = "docker"\nruntime = "{docker}"\n'
    path = tmp_path / "k8s.toml"
    path.write_text(
        f'name = "doctor-k8s"\n[targets.node]\nhost = "local"\ndocker_socket = "{env.docker_sock}"\n'
        f'[kubernetes]\nkubeconfig = "{kc}"\n{kubernetes}\n{scenarios}'
        '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    )
    return path


def test_kubernetes_runtime_class_passes_with_handler_and_overhead(
    testenv: TestEnv, kube: FakeKube, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    path = kube_profile(tmp_path, testenv, kube, ["runc-alt", "kata"], docker="runc")
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    (cluster,) = doc["clusters"]
    assert cluster["context"] == "fake" and cluster["server"] == kube.url and cluster["error"] is None
    assert cluster["runtime_classes"] == [
        {"name": "runc", "handler": "runc", "overhead": {}},
        {"name": "runc-alt", "handler": "runc-alt", "overhead": OVERHEAD},
        {"name": "kata", "handler": "kata", "overhead": {}},
    ]
    alt = scoped(doc, "scenario runc-alt@node")
    assert alt["runtimeclass"]["status"] == "pass"
    assert "handler runc-alt, pod overhead cpu 250m, memory 120Mi" in alt["runtimeclass"]["why"]
    assert alt["node"]["status"] == "pass" and "katatui doctor" in alt["node"]["why"]
    # Kata's pods start VMs on the node, not here: doctor says the node needs its own doctor, and
    # does not judge them by this machine's /dev/kvm.
    kata = scoped(doc, "scenario kata@node")
    assert kata["runtimeclass"]["status"] == "pass" and "handler kata" in kata["runtimeclass"]["why"]
    assert kata["node"]["status"] == "warn" and "ssh://" in kata["node"]["todo"]
    assert "kvm" not in kata
    # The canary ran for the Docker scenario only; the Kubernetes ones got a note.
    assert [(c["scope"], c["status"]) for c in doc["canaries"]] == [("canary runc@node", "pass")]
    (note,) = doc["notes"]
    assert "runc-alt, kata" in note and "no canary" in note
    assert leftovers(docker_client) == []
    # Doctor only reads the cluster: it created nothing (not even katatui's namespace).
    assert kube.created == []
    assert all(method == "GET" for method, _ in kube.requests), kube.requests
    # The text report shows the cluster's RuntimeClasses.
    done = katatui("doctor", "--profile", str(path), "--no-canary")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RuntimeClasses of fake" in done.stdout and "cpu 250m, memory 120Mi" in done.stdout
    assert "every scenario can run" in done.stdout


def test_kubernetes_missing_runtime_class_fails_naming_those_there(
    testenv: TestEnv, kube: FakeKube, tmp_path: Path
) -> None:
    path = kube_profile(tmp_path, testenv, kube, ["runc", "gvisor"])
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert [c["scope"] for c in doc["scenarios"] if c["status"] == "fail"] == ["scenario gvisor@node"]
    check = scoped(doc, "scenario gvisor@node")["runtimeclass"]
    assert "no RuntimeClass 'gvisor'" in check["why"]
    assert "runc (handler runc), runc-alt (handler runc-alt), kata (handler kata)" in check["why"]
    assert check["todo"]


def test_kubernetes_missing_context_fails_naming_it(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    path = kube_profile(tmp_path, testenv, kube, ["runc"], kubernetes='context = "prod"')
    done = katatui("doctor", "--profile", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    # The launcher's own words, brackets and all (plain text, not Rich markup).
    assert "'prod'" in done.stdout and "[kubernetes]" in done.stdout
    done = katatui("doctor", "--profile", str(path), "--json")
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    check = scoped(doc, "scenario runc@node")["kubernetes"]
    assert check["status"] == "fail"
    assert "has no context 'prod' (its contexts: fake); fix [kubernetes] context" in check["why"]
    assert doc["clusters"][0]["error"] == check["why"]
    assert kube.requests == []  # it never got as far as the API server


def test_kubernetes_api_server_that_does_not_answer(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    path = kube_profile(tmp_path, testenv, kube, ["runc"])
    config = json.loads((tmp_path / "kubeconfig").read_text())
    config["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:1"  # nothing listens on port 1
    (tmp_path / "kubeconfig").write_text(json.dumps(config))
    done = katatui("doctor", "--profile", str(path), "--json", "--no-canary")
    assert done.returncode == 1, done.stdout + done.stderr
    check = scoped(json.loads(done.stdout), "scenario runc@node")["kubernetes"]
    assert check["status"] == "fail"
    assert "cannot reach the Kubernetes API server http://127.0.0.1:1 (context fake)" in check["why"]


def test_kubernetes_scenario_is_not_judged_by_this_machines_kvm() -> None:
    """Without KVM here, a Docker Kata scenario fails, a Kubernetes one with a Kata RuntimeClass does
    not: its VM starts on a node."""
    report = doctor.HostReport("h", "local", facts={"kvm_usable": False, "host_tools": {}})
    cluster = doctor.ClusterReport(None, "c", "katatui", "https://k")
    from katatui.core.launchers.kubernetes import RuntimeClassInfo

    cluster.runtime_classes = {"kata-qemu": RuntimeClassInfo("kata-qemu", "kata-qemu", {"memory": "160Mi"})}
    needs = doctor.ScenarioNeeds("kata", "h", "kubernetes", "kata-qemu", "katatui/bench:0.1", True)
    checks = doctor.scenario_checks(needs, report, docker_error=None, image_present=None, cluster=cluster)
    assert [(c.name, c.status) for c in checks] == [("runtimeclass", "pass"), ("node", "warn")]
    assert "pod overhead memory 160Mi" in checks[0].why


def test_canaries_identify_gvisor_and_crun_by_evidence(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    # "sandbox" is /usr/bin/runsc registered under a name that says nothing.
    prof = profile(tmp_path, testenv, ["runsc", "sandbox", "crun"])
    done = katatui("doctor", "--profile", str(prof), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    canaries = {c["scope"]: c for c in json.loads(done.stdout)["canaries"]}
    for name in ("runsc", "sandbox"):
        c = canaries[f"canary {name}@local"]
        assert c["status"] == "pass" and c["why"].startswith("user-space-kernel (gVisor): "), c
        assert "shares the host's kernel" not in c["why"]
    assert canaries["canary crun@local"]["why"].startswith("shared-kernel: "), canaries
    assert leftovers(docker_client) == []
