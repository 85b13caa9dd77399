"""The Kubernetes launcher against tests/k8s_server.py: the official client, a kubeconfig, and a
small API server whose pods really run on the test dockerd (handler runc -> Docker runtime runc,
runc-alt -> runc-alt; handler kata has no runtime behind it, as on a node without Kata)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from katatui.core.events import RunSpec
from katatui.core.launchers.kubernetes import (
    ANNOTATION_OWNER,
    MANAGED_BY,
    KubeCluster,
    KubernetesLauncher,
    split_log,
)
from katatui.core.profile import KubernetesConfig, Limits, Toleration
from katatui.core.session import SessionReader
from katatui.core.transport.local import LocalTransport
from tests.conftest import TestEnv
from tests.helpers import katatui, need, start_katatui, wait_for_events
from tests.k8s_server import FakeKube

pytestmark = pytest.mark.integration

OVERHEAD = {"cpu": "250m", "memory": "120Mi"}


@pytest.fixture
def kube(testenv: TestEnv) -> Iterator[FakeKube]:
    classes = {"runc": ("runc", {}), "runc-alt": ("runc-alt", OVERHEAD), "kata": ("kata", {}),
               "runsc": ("runsc", {})}  # fmt: skip
    with FakeKube(
        testenv.docker_url,
        runtime_classes=classes,
        handlers={"runc": "runc", "runc-alt": "runc-alt", "runsc": "runsc"},
        node_labels={"katatui.io/bench": "yes"},
        taints=[{"key": "dedicated", "value": "bench", "effect": "NoSchedule"}],
    ) as server:
        yield server


def write_profile(
    tmp_path: Path,
    kube: FakeKube,
    *,
    scenarios: str = "",
    workloads: str = "",
    kubernetes: str = "",
    limits: str = 'cpus = 0.2\nmemory = "128m"',
) -> Path:
    kc = kube.kubeconfig(tmp_path / "kubeconfig")
    text = f"""
name = "k8s"
[targets.node]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
[kubernetes]
kubeconfig = "{kc}"
node_selector = {{ "katatui.io/bench" = "yes" }}
tolerations = [{{ key = "dedicated", operator = "Equal", value = "bench", effect = "NoSchedule" }}]
{kubernetes}
[limits]
{limits}
{
        scenarios
        or '''
[[scenarios]]
launcher = "kubernetes"
runtime = "runc"
[[scenarios]]
launcher = "kubernetes"
runtime = "runc-alt"
'''
    }
{
        workloads
        or '''
[[workloads]]
type = "fio"
size = "8m"
runtime = 2
clients = [1, 4]
'''
    }
"""
    path = tmp_path / "k8s.toml"
    path.write_text(text)
    return path


def workload_pods(kube: FakeKube) -> list[dict[str, Any]]:
    """Pods katatui created for runs (not the ones per scenario that read its guest identity and
    its fairness record)."""
    return [
        o
        for o in kube.created
        if o.get("kind") == "Pod"
        and not o["metadata"]["labels"]["katatui.io/run"].startswith(("guest", "fair"))
    ]


def run(prof: Path, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], SessionReader]:
    out = tmp_path / f"s{len(list(tmp_path.glob('*.katatui')))}.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out), *extra)
    assert "Traceback" not in done.stderr, done.stderr
    return done, SessionReader(out)


def test_fio_pods_stream_and_are_removed(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    done, reader = run(write_profile(tmp_path, kube), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = reader.runs()
    assert {(r.spec.scenario, r.spec.clients) for r in runs} == {
        ("runc", 1),
        ("runc", 4),
        ("runc-alt", 1),
        ("runc-alt", 4),
    }
    assert all(r.status == "finished" for r in runs), [(r.spec.scenario, r.reason) for r in runs]
    iops = {
        (r.run.spec.scenario, r.run.spec.clients): r.value
        for r in reader.results()
        if r.metric == "read_iops"
    }
    assert len(iops) == 4 and all(v > 0 for v in iops.values()), iops
    for r in runs:
        assert reader.samples(r.spec.run_id), "fio's interval samples streamed through the log API"
        for c in range(r.spec.clients):
            out = reader.raw(r.spec.run_id, c)
            assert b'"jobs"' in out and b"\x1e" not in out  # stdout only; the marks are gone
    # What the API server received: one pod per client, as the profile asked.
    pods = workload_pods(kube)
    assert len(pods) == 10
    for pod in pods:
        spec = pod["spec"]
        assert spec["runtimeClassName"] in ("runc", "runc-alt") and spec["hostNetwork"] is True
        assert spec["nodeSelector"] == {"katatui.io/bench": "yes"}
        assert spec["tolerations"] == [
            {"key": "dedicated", "operator": "Equal", "value": "bench", "effect": "NoSchedule"}
        ]
        res = spec["containers"][0]["resources"]
        assert res["requests"] == res["limits"] == {"cpu": "200m", "memory": str(128 * 1024 * 1024)}
        assert pod["metadata"]["labels"][MANAGED_BY[0]] == "katatui"
    # The RuntimeClass and its overhead are facts of the session.
    facts = reader.scenario_facts()
    assert facts[("runc-alt", "node")]["pod_overhead"] == OVERHEAD
    assert facts[("runc-alt", "node")]["handler"] == "runc-alt"
    assert facts[("runc", "node")]["pod_overhead"] == {}
    assert facts[("runc", "node")]["root_fs"] == "overlay" and facts[("runc", "node")]["nproc"] >= 1
    kube.settle()
    assert kube.pods == {} and kube.our_containers() == []
    assert ("GET", "/api/v1/namespaces/katatui") in kube.requests


def test_ab_target_is_a_pod_with_a_service(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    need("ab")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workloads = f'[[workloads]]\ntype = "ab"\nrequests = 2000\nconcurrency = 4\nport = {port}\n'
    scenarios = '[[scenarios]]\nlauncher = "kubernetes"\nruntime = "runc-alt"\n'
    done, reader = run(write_profile(tmp_path, kube, scenarios=scenarios, workloads=workloads), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (r,) = reader.runs()
    assert r.status == "finished", r.reason
    assert {x.metric for x in reader.results()} >= {"requests_per_second", "latency_p99_ms"}
    services = [o for o in kube.created if o.get("kind") == "Service"]
    assert len(services) == 1 and services[0]["spec"]["ports"][0]["port"] == port
    (nginx,) = workload_pods(kube)
    assert "katatui-nginx" in nginx["spec"]["containers"][0]["command"]
    kube.settle()
    assert kube.services == {} and kube.pods == {}


def test_iperf3_server_and_client_are_pods(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workloads = f'[[workloads]]\ntype = "iperf3"\nduration = 2\nport = {port}\nclients = 2\n'
    scenarios = '[[scenarios]]\nlauncher = "kubernetes"\nruntime = "runc"\n'
    done, reader = run(write_profile(tmp_path, kube, scenarios=scenarios, workloads=workloads), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (r,) = reader.runs()
    assert r.status == "finished", r.reason
    assert {x.metric for x in reader.results()} >= {"sent_bits_per_second", "received_bits_per_second"}
    commands = [p["spec"]["containers"][0]["command"][4:] for p in workload_pods(kube)]
    servers = [c for c in commands if "-s" in c]
    assert len(servers) == 2 and len(commands) == 4  # a server pod and a client pod per client
    services = [o for o in kube.created if o.get("kind") == "Service"]
    assert sorted(s["spec"]["ports"][0]["port"] for s in services) == [port, port + 1]
    assert reader.samples(r.spec.run_id)  # the clients' intervals streamed
    kube.settle()
    assert kube.pods == {} and kube.services == {}


def test_pending_pods_fail_with_the_reason(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    scenarios = "".join(
        f'[[scenarios]]\nlauncher = "kubernetes"\nruntime = "{rc}"\n' for rc in ("kata", "runc")
    )
    workloads = '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    prof = write_profile(
        tmp_path, kube, scenarios=scenarios, workloads=workloads, kubernetes="pending_timeout = 3"
    )
    done, reader = run(prof, tmp_path)
    assert done.returncode == 1
    status = {r.spec.scenario: (r.status, r.reason or "") for r in reader.runs()}
    assert status["runc"][0] == "finished"
    assert status["kata"][0] == "failed"
    assert "FailedCreatePodSandBox" in status["kata"][1] and 'no runtime for "kata"' in status["kata"][1]
    # Too big for the node: the scheduler's words, after pending_timeout.
    prof = write_profile(
        tmp_path, kube, workloads=workloads, kubernetes="pending_timeout = 2", limits="cpus = 4"
    )
    done, reader = run(prof, tmp_path)
    reasons = [r.reason or "" for r in reader.runs()]
    assert all("still Pending after 2 s" in x and "Insufficient cpu" in x for x in reasons), reasons
    # A node selector nothing matches.
    kc = 'pending_timeout = 2\nnode_selector = { "disk" = "nvme" }'
    text = write_profile(tmp_path, kube, workloads=workloads, kubernetes="pending_timeout = 2").read_text()
    text = text.replace(
        'node_selector = { "katatui.io/bench" = "yes" }', 'node_selector = { "disk" = "nvme" }'
    )
    (tmp_path / "sel.toml").write_text(text)
    done, reader = run(tmp_path / "sel.toml", tmp_path)
    reasons = [r.reason or "" for r in reader.runs()]
    assert all("didn't match Pod's node affinity/selector" in x for x in reasons), (reasons, kc)
    kube.settle()
    assert kube.pods == {} and kube.our_containers() == []


def test_bad_input(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    workloads = '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    # A RuntimeClass the cluster lacks.
    scenarios = '[[scenarios]]\nlauncher = "kubernetes"\nruntime = "gvisor"\n'
    done, reader = run(write_profile(tmp_path, kube, scenarios=scenarios, workloads=workloads), tmp_path)
    assert done.returncode == 1
    (r,) = reader.runs()
    assert "no RuntimeClass 'gvisor'" in (r.reason or "") and "runc-alt (handler runc-alt)" in (
        r.reason or ""
    )
    # A context the kubeconfig does not have.
    prof = write_profile(tmp_path, kube, workloads=workloads, kubernetes='context = "prod"')
    done, reader = run(prof, tmp_path)
    assert done.returncode == 1
    assert all("no context 'prod'" in (r.reason or "") and "fake" in (r.reason or "") for r in reader.runs())
    # RBAC: creating pods is forbidden.
    kube.forbid = {("create", "pods")}
    done, reader = run(write_profile(tmp_path, kube, workloads=workloads), tmp_path)
    assert done.returncode == 1
    for r in reader.runs():
        assert "forbids katatui to create pods in namespace katatui" in (r.reason or ""), r.reason
        assert 'User "katatui-test" cannot create resource "pods"' in (r.reason or "")
    # RBAC: listing RuntimeClasses is forbidden.
    kube.forbid = {("list", "runtimeclasses")}
    done, reader = run(write_profile(tmp_path, kube, workloads=workloads), tmp_path)
    assert all("forbids katatui to list runtimeclasses" in (r.reason or "") for r in reader.runs())
    # A kubeconfig that does not exist.
    text = write_profile(tmp_path, kube, workloads=workloads).read_text()
    (tmp_path / "nokc.toml").write_text(text.replace(str(tmp_path / "kubeconfig"), str(tmp_path / "nope")))
    done, reader = run(tmp_path / "nokc.toml", tmp_path)
    assert done.returncode == 1
    assert all("nope: no such file" in (r.reason or "") for r in reader.runs())


def test_leftovers_of_a_crashed_session_are_removed(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    from katatui.core.scratch import _machine

    dead = subprocess.Popen(["true"])
    dead.wait()
    kube.add_namespace("katatui")
    for owner, name in ((f"{_machine()}:{dead.pid}", "crashed"), (f"{_machine()}:{os.getpid()}", "alive")):
        kube.create_pod(
            "katatui",
            {
                "metadata": {
                    "name": f"katatui-{name}",
                    "labels": {MANAGED_BY[0]: MANAGED_BY[1]},
                    "annotations": {ANNOTATION_OWNER: owner},
                },
                "spec": {
                    "runtimeClassName": "runc",
                    "hostNetwork": True,
                    "restartPolicy": "Never",
                    "containers": [{"name": "workload", "image": testenv.image, "command": ["sleep", "600"]}],
                },
            },
        )
    workloads = '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    done, reader = run(write_profile(tmp_path, kube, workloads=workloads), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    logs = [m.text for m in reader.logs()]
    assert any("pod/katatui-crashed" in t for t in logs), logs
    assert not any("katatui-alive" in t for t in logs)  # its katatui (this process) still runs
    kube.settle()
    assert set(n for _, n in kube.pods) == {"katatui-alive"}


def test_a_terminating_namespace_is_waited_for(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    kube.add_namespace("katatui")
    kube.delete_namespace("katatui")  # gone a second later, as a namespace finishing its deletion
    workloads = '[[workloads]]\ntype = "launch"\ncommand = ["true"]\n'
    done, _reader = run(write_profile(tmp_path, kube, workloads=workloads), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("POST", "/api/v1/namespaces") in kube.requests


def test_interrupt_stops_fio_and_removes_pods(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    workloads = '[[workloads]]\ntype = "fio"\nsize = "8m"\nruntime = 120\nclients = 2\n'
    scenarios = '[[scenarios]]\nlauncher = "kubernetes"\nruntime = "runc"\n'
    out = tmp_path / "s.katatui"
    proc = start_katatui(
        "run",
        str(write_profile(tmp_path, kube, scenarios=scenarios, workloads=workloads)),
        "--headless",
        "--out",
        str(out),
    )
    try:
        wait_for_events(out, "Sample", 4, timeout=120)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "Traceback" not in err
    reader = SessionReader(out)
    (r,) = reader.runs()
    assert r.status == "failed" and "interrupted" in (r.reason or "")
    # fio got SIGINT through the pod's wrapper and printed its final results before it exited
    for c in range(2):
        text = reader.raw(r.spec.run_id, c).decode(errors="replace")
        assert text.count('"jobs"') >= 2, text[-500:]
    kube.settle()
    assert kube.pods == {} and kube.our_containers() == []


def test_log_splitting() -> None:
    buf = bytearray()
    items, code = split_log(buf, b"out1\n\x1ekatatui-stderr\x1eerr1\nout2\nout")
    assert items == [("stdout", b"out1\n"), ("stderr", b"err1\n"), ("stdout", b"out2\n")] and code is None
    items, code = split_log(buf, b"3\n\x1ekatatui-exit\x1e7\n")
    assert items == [("stdout", b"out3\n")] and code == 7
    items, code = split_log(buf, b"tail", final=True)
    assert items == [("stdout", b"tail\n")]


def manifests() -> list[dict[str, Any]]:
    from kubernetes import client

    cfg = KubernetesConfig(
        node_selector={"kubernetes.io/hostname": "node1"},
        tolerations=[Toleration(key="kata", operator="Exists", effect="NoSchedule")],
    )
    cluster = KubeCluster(client.ApiClient(), "ctx", "https://example.invalid", cfg)
    launcher = KubernetesLauncher(
        LocalTransport(),
        cluster,
        runtime_class="kata",
        image="katatui/bench:0.1",
        session_id="20261122-063000-abcdef",
        limits=Limits(cpus=4, memory="4g"),
    )
    run = RunSpec("0123456789ab", 0, "c", "kata", "kubernetes", "kata", "node", "fio", "fio", {}, 1, 0)
    return [
        *launcher.manifests(run, 0, ["fio", "--name=x"]),
        *launcher.manifests(run, 1000, ["katatui-nginx", "8080"]),
    ]


def test_manifests_pass_the_openapi_schema() -> None:
    kv = pytest.importorskip("kubernetes_validate")
    found = manifests()
    assert [m["kind"] for m in found] == ["Pod", "Pod", "Service"]
    for m in found:
        kv.validate(m, "1.33", strict=True)  # raises on an unknown field or a wrong type
    bad = json.loads(json.dumps(found[0]))
    bad["spec"]["runtimeClass"] = "kata"  # a misspelt field: the strict schema must catch it
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, "1.33", strict=True)
    pod = found[0]
    assert pod["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "4000m", "memory": str(4 * 1024**3)}
    assert "overhead" not in pod["spec"]  # the API server's RuntimeClass admission sets it, not katatui


def test_manifests_parse_with_kubectl(testenv: TestEnv, kube: FakeKube, tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    kc = kube.kubeconfig(tmp_path / "kubeconfig")
    for m in manifests():
        done = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(kc),
                "create",
                "--dry-run=client",
                "--validate=false",
                "-o",
                "json",
                "-f",
                "-",
            ],
            input=json.dumps(m),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        back = json.loads(done.stdout)
        assert back["kind"] == m["kind"] and back["spec"] == m["spec"]


def test_seed001_with_1_8_and_64_pods(testenv: TestEnv, tmp_path: Path) -> None:
    """profiles/seed001-kubernetes.toml with small sizes: 1, 8 and 64 fio pods per run, runc and
    'kata' (a RuntimeClass whose handler the test server runs on runc-alt)."""
    classes = {"runc": ("runc", {}), "kata": ("kata", {"cpu": "250m", "memory": "160Mi"})}
    handlers = {"runc": "runc", "kata": "runc-alt"}
    with FakeKube(
        testenv.docker_url, runtime_classes=classes, handlers=handlers, allocatable=("100", "64Gi")
    ) as kube:
        sets = {
            "kubernetes.kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig")),
            "workload.fio.rw": "randread",
            "workload.fio.size": "4m",
            "workload.fio.runtime": "1",
            "workload.fio.numjobs": "1",
            "workload.fio.iodepth": "2",
            "limits.cpus": "0.5",
            "limits.memory": "64m",
        }
        args = [x for k, v in sets.items() for x in ("--set", f"{k}={v}")]
        out = tmp_path / "seed.katatui"
        done = katatui(
            "run", "profiles/seed001-kubernetes.toml", "--headless", "--out", str(out), *args, timeout=480
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        reader = SessionReader(out)
        runs = reader.runs()
        assert sorted((r.spec.scenario, r.spec.clients) for r in runs) == [
            ("kata", 1),
            ("kata", 8),
            ("kata", 64),
            ("runc", 1),
            ("runc", 8),
            ("runc", 64),
        ]
        assert all(r.status == "finished" for r in runs), [(r.spec.clients, r.reason) for r in runs]
        iops = {
            (r.run.spec.scenario, r.run.spec.clients): r.value
            for r in reader.results()
            if r.metric == "read_iops"
        }
        assert len(iops) == 6 and all(v > 0 for v in iops.values()), iops
        big = next(r for r in runs if r.spec.clients == 64)
        assert all(b'"jobs"' in reader.raw(big.spec.run_id, c) for c in range(64))  # every pod's own output
        assert len(workload_pods(kube)) == 2 * (1 + 8 + 64)
        assert reader.scenario_facts()[("kata", "node")]["pod_overhead"] == {"cpu": "250m", "memory": "160Mi"}
        kube.settle(120)
        assert kube.pods == {} and kube.our_containers() == []


def test_the_recorded_command_is_a_kubectl_run_of_the_same_pod(
    testenv: TestEnv, kube: FakeKube, tmp_path: Path
) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    from kubernetes import client

    cfg = KubernetesConfig(node_selector={"kubernetes.io/hostname": "node1"})
    cluster = KubeCluster(client.ApiClient(), "fake", kube.url, cfg)
    launcher = KubernetesLauncher(
        LocalTransport(),
        cluster,
        runtime_class="runc-alt",
        image=testenv.image,
        session_id="s1",
        limits=Limits(cpus=1, memory="1g"),
    )
    run = RunSpec(
        "0123456789ab", 0, "c", "runc-alt", "kubernetes", "runc-alt", "node", "fio", "fio", {}, 1, 0
    )
    argv = launcher.describe(run, ["fio", "--name=x"], None)
    assert argv[:2] == ["kubectl", "--context"] and "--rm" in argv
    # The same command, printing the pod instead of running it.
    dry = [a for a in argv if a not in ("--rm", "-i")]
    dry[1:1] = ["--kubeconfig", str(kube.kubeconfig(tmp_path / "kubeconfig"))]
    at = dry.index("--command")
    dry[at:at] = ["--dry-run=client", "-o", "json"]
    done = subprocess.run(dry, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pod = json.loads(done.stdout)
    (c,) = pod["spec"]["containers"]
    want = launcher.manifests(run, 0, ["fio", "--name=x"])[0]["spec"]
    assert c["image"] == testenv.image and c["command"] == ["fio", "--name=x"]
    assert c["resources"]["limits"] == {"cpu": "1", "memory": "1073741824"}
    for key in ("runtimeClassName", "hostNetwork", "nodeSelector", "volumes"):
        assert pod["spec"][key] == want[key], key


def test_cleanup_command_removes_what_a_dead_katatui_left(
    testenv: TestEnv, kube: FakeKube, tmp_path: Path
) -> None:
    from katatui.core.scratch import _machine

    dead = subprocess.Popen(["true"])
    dead.wait()
    kube.add_namespace("katatui")
    for owner, name in ((f"{_machine()}:{dead.pid}", "crashed"), (f"{_machine()}:{os.getpid()}", "alive")):
        kube.create_pod(
            "katatui",
            {
                "metadata": {
                    "name": f"katatui-{name}",
                    "labels": {MANAGED_BY[0]: MANAGED_BY[1]},
                    "annotations": {ANNOTATION_OWNER: owner},
                },
                "spec": {
                    "runtimeClassName": "runc",
                    "hostNetwork": True,
                    "restartPolicy": "Never",
                    "containers": [{"name": "workload", "image": testenv.image, "command": ["sleep", "600"]}],
                },
            },
        )
    kc = str(kube.kubeconfig(tmp_path / "kubeconfig"))
    common = ["--docker-socket", str(tmp_path / "no.sock"), "--scratch-base", str(tmp_path / "scratch")]
    done = katatui("cleanup", "--kubernetes", "--kubeconfig", kc, *common)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Kubernetes objects removed: 1 (pod/katatui-crashed)" in done.stdout
    done = katatui("cleanup", "--kubernetes", "--kubeconfig", kc, "--all", *common)
    assert "Kubernetes objects removed: 1 (pod/katatui-alive)" in done.stdout
    bad = katatui("cleanup", "--kubernetes", "--kubeconfig", kc, "--context", "prod", *common)
    assert bad.returncode == 2 and "no context 'prod'" in bad.stderr and "Traceback" not in bad.stderr
    kube.settle()
    assert kube.pods == {}


def test_a_gvisor_runtime_class_is_identified_by_evidence(
    testenv: TestEnv, kube: FakeKube, tmp_path: Path
) -> None:
    # RuntimeClass "runsc" with handler "runsc", which the test server maps to the Docker runtime runsc.
    workloads = '[[workloads]]\ntype = "sysbench"\ntest = ["cpu"]\ntime = 1\n'
    scenarios = '[[scenarios]]\nlauncher = "kubernetes"\nruntime = "runsc"\n'
    prof = write_profile(tmp_path, kube, scenarios=scenarios, workloads=workloads)
    done, reader = run(prof, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(r.status == "finished" for r in reader.runs())
    facts = reader.scenario_facts()[("runsc", "node")]
    assert (facts["isolation"], facts["sandbox"]) == ("user-space-kernel", "gVisor"), facts.get("evidence")
    assert 'its kernel log says "Starting gVisor..."' in facts["evidence"]
