"""A profile's Kubernetes cluster: its context, API server and RuntimeClasses (handler and pod
overhead), which also go into the report. Pods run on the cluster's nodes, so a Kubernetes
scenario is not failed on the KVM of the machine katatui runs on: the nodes' own checks need
``katatui doctor`` there."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from katatui.core import guest
from katatui.core.doctor.checks import Check, ScenarioNeeds
from katatui.core.errors import KatatuiError
from katatui.core.launchers.kubernetes import KubeCluster, RuntimeClassInfo
from katatui.core.profile import KubernetesConfig


@dataclass
class ClusterReport:
    """The profile's Kubernetes cluster: whether its API server answers, and its RuntimeClasses."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    server: str | None = None
    runtime_classes: dict[str, RuntimeClassInfo] = field(default_factory=dict)
    error: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.context or "(current context)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kubeconfig": self.kubeconfig,
            "context": self.context,
            "server": self.server,
            "namespace": self.namespace,
            "error": self.error,
            "runtime_classes": [
                {"name": rc.name, "handler": rc.handler, "overhead": dict(rc.overhead)}
                for rc in self.runtime_classes.values()
            ],
            "checks": [c.as_dict() for c in self.checks],
        }


def describe_overhead(overhead: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in overhead.items()) if overhead else "none"


async def check_cluster(config: KubernetesConfig) -> ClusterReport:
    """Connect as the launcher does (kubeconfig, context) and list the cluster's RuntimeClasses.
    Read only: unlike a run, doctor neither creates katatui's namespace nor removes anything."""
    report = ClusterReport(config.kubeconfig, config.context, config.namespace)
    scope = "cluster"
    try:
        cluster = await KubeCluster.connect(config)
    except KatatuiError as exc:
        report.error = str(exc)
        report.checks.append(
            Check(
                "kubeconfig", "fail", str(exc), "fix [kubernetes] kubeconfig / context in the profile", scope
            )
        )
        return report
    report.context, report.server = cluster.context, cluster.server
    report.checks.append(
        Check("kubeconfig", "pass", f"context {cluster.context}: API server {cluster.server}", "", scope)
    )
    try:
        report.runtime_classes = await cluster.runtime_classes()
    except KatatuiError as exc:
        report.error = str(exc)
        report.checks.append(
            Check(
                "runtimeclasses",
                "fail",
                str(exc),
                "check that the API server is up and that the context's user may list runtimeclasses",
                scope,
            )
        )
        return report
    finally:
        await asyncio.to_thread(cluster.close)
    listed = ", ".join(f"{rc.name} (handler {rc.handler})" for rc in report.runtime_classes.values())
    report.checks.append(
        Check(
            "runtimeclasses",
            "pass" if report.runtime_classes else "warn",
            f"{len(report.runtime_classes)}: {listed}" if listed else "the cluster has no RuntimeClass",
            "" if listed else "install one (Kata's kata-deploy creates kata-qemu, kata-clh, ...)",
            scope,
        )
    )
    return report


def kubernetes_scenario_checks(needs: ScenarioNeeds, cluster: ClusterReport, scope: str) -> list[Check]:
    """The cluster answers and has the scenario's RuntimeClass. The node's own checks (KVM, Kata)
    are not this machine's: they need ``katatui doctor`` on the node."""
    assert needs.runtime is not None
    if cluster.error is not None:
        return [
            Check(
                "kubernetes",
                "fail",
                cluster.error,
                "fix [kubernetes] kubeconfig / context in the profile, or check that the cluster is up",
                scope,
            )
        ]
    rc = cluster.runtime_classes.get(needs.runtime)
    if rc is None:
        have = ", ".join(f"{r.name} (handler {r.handler})" for r in cluster.runtime_classes.values())
        return [
            Check(
                "runtimeclass",
                "fail",
                f"the cluster (context {cluster.context}) has no RuntimeClass {needs.runtime!r} "
                f"(it has: {have or 'none'})",
                "create it, or set the scenario's runtime to one of those",
                scope,
            )
        ]
    checks = [
        Check(
            "runtimeclass",
            "pass",
            f"RuntimeClass {rc.name}: handler {rc.handler}, pod overhead {describe_overhead(rc.overhead)}",
            "",
            scope,
        )
    ]
    on_node = (
        f"the pods run on the cluster's nodes, not on {needs.target}: the nodes' own checks "
        "(/dev/kvm, kernel modules, the runtime) need `katatui doctor` on a node"
    )
    if "vm" in (guest.sandbox_kind(rc.handler), guest.sandbox_kind(rc.name)):
        checks.append(
            Check(
                "node",
                "warn",
                f"handler {rc.handler} starts a VM; {on_node}",
                "run `katatui doctor ssh://USER@NODE` against the nodes the pods may land on",
                scope,
            )
        )
    else:
        checks.append(Check("node", "pass", on_node, "", scope))
    return checks
