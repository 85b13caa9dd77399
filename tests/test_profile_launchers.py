"""Profile keys of the containerd and Kubernetes launchers: each mistake names its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.errors import ProfileError, UserError
from katatui.core.profile import load_profile

BASE = """
name = "t"
[targets.node]
host = "local"
containerd_socket = "/run/containerd/containerd.sock"
[kubernetes]
context = "bench"
node_selector = { "kubernetes.io/hostname" = "worker1" }
tolerations = [{ key = "kata", operator = "Exists", effect = "NoSchedule" }]
[[scenarios]]
launcher = "containerd"
runtime = "io.containerd.kata.v2"
[[scenarios]]
launcher = "kubernetes"
runtime = "kata-qemu"
[[workloads]]
type = "fio"
"""


def load(tmp_path: Path, text: str, sets: tuple[str, ...] = ()) -> object:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_profile(path, sets)


def test_good(tmp_path: Path) -> None:
    p = load(tmp_path, BASE, ("kubernetes.pending_timeout=30",))
    assert p.kubernetes.context == "bench" and p.kubernetes.pending_timeout == 30  # type: ignore[attr-defined]
    assert [s.label for s in p.scenarios] == ["io.containerd.kata.v2", "kata-qemu"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('runtime = "kata-qemu"', ""), "scenarios[1]: a kubernetes scenario needs 'runtime'"),
        (
            ('runtime = "io.containerd.kata.v2"', 'runtime = "*"'),
            'runtime "*" works with the docker launcher',
        ),
        (
            ('context = "bench"', 'namespace = "Bench_NS"'),
            "kubernetes.namespace: 'Bench_NS' is not a namespace",
        ),
        (('operator = "Exists"', 'operator = "Maybe"'), "kubernetes.tolerations[0].operator"),
        (('context = "bench"', "pending_timeout = 0"), "kubernetes.pending_timeout"),
        (('context = "bench"', 'kubecfg = "x"'), "kubernetes.kubecfg: unknown key"),
        (('host = "local"', 'host = "local"\nbogus = 1'), "targets.node.bogus"),
        (('"/run/containerd/containerd.sock"', '"run/containerd.sock"'), "targets.node.containerd_socket"),
    ],
)
def test_bad(tmp_path: Path, change: tuple[str, str], words: str) -> None:
    with pytest.raises(ProfileError) as err:
        load(tmp_path, BASE.replace(*change, 1))
    assert any(words in p for p in err.value.problems), err.value.problems


def test_set_on_a_kubernetes_table_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="'kubernetes' in the profile is not a table"):
        load(tmp_path, "kubernetes = 3\n" + BASE.replace("[kubernetes]", "[k8s]"), ("kubernetes.context=x",))


def test_start_screen_offers_containerd_and_kubernetes_scenarios_without_asking_docker(
    tmp_path: Path,
) -> None:
    from katatui.tui.choices import Choices, TargetProbe, build_profile, scenario_options

    profile = load(tmp_path, BASE)
    facts = {"tools": {"fio": "/usr/bin/fio"}, "kernel": "6.1", "nproc": 2}
    probes = {"node": TargetProbe("node", "local", facts=facts, runtimes=("runc",))}
    opts = scenario_options(profile, probes)  # type: ignore[arg-type]
    assert [(o.label, o.available) for o in opts] == [
        ("io.containerd.kata.v2 on node", True),
        ("kata-qemu on node", True),
    ]
    chosen = build_profile(profile, opts, Choices(["node"], [opts[1].key], ["fio"], 1, None, 2))  # type: ignore[arg-type]
    assert [(s.launcher, s.runtime) for s in chosen.scenarios] == [("kubernetes", "kata-qemu")]
