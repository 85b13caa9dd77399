"""``katatui doctor``: can this host run the scenarios asked of it, and will a sandbox be a sandbox?

Each check is data: a name, pass/warn/fail, why, and what to do. Host checks read what the host
shows through its transport (local or SSH): CPU virtualisation flags, ``/dev/kvm`` (opened, and
asked KVM_GET_API_VERSION and KVM_CREATE_VM by a fixed python3 snippet), nested virtualisation
when the host is itself a VM, the kernel modules Kata needs (vhost, vhost_vsock, vhost_net), the
runtimes Docker and containerd have registered and whether their programs exist, and Kata's own
``kata-runtime check`` / ``kata-runtime env`` (or ``kata-ctl env``) with the configuration file
they name. Seed 001 learned that Kata "startup fails silently" without hardware virtualisation:
a VM runtime on a host without a usable ``/dev/kvm`` fails here, before a run.

With a profile, each scenario is checked by its own launcher's code: Docker's registered runtimes
and image; containerd's socket (``ctr``), the runtime's shim and the image in katatui's namespace;
a Kubernetes cluster's context, API server and RuntimeClasses (handler and pod overhead), which
also go into the report. Pods run on the cluster's nodes, so a Kubernetes scenario is not failed
on the KVM of the machine katatui runs on: the nodes' own checks need ``katatui doctor`` there.

A container scenario's limits (its own, else the profile's ``[limits]``) are held against the
target's CPUs (``nproc``) and memory (MemTotal): Docker refuses ``--cpus`` above the host's CPU
count, so such a profile fails here rather than in every run. The canary runs with the same
limits as the runs.

The modules, by concern: ``checks`` (what they all share), ``host`` (the host probe), ``docker``,
``containerd``, ``kata``, ``kubernetes``, ``limits``, and ``diagnose`` (a profile's diagnosis). Targets are
reached through ``katatui.core.hosts``, as the engine reaches them.
"""

from katatui.core.doctor.checks import (
    RANK,
    WHICH,
    Check,
    HostReport,
    ScenarioNeeds,
    Status,
    parse_kv,
    worst,
)
from katatui.core.doctor.containerd import (
    ContainerdFound,
    containerd_scenario_checks,
    parse_containerd_runtimes,
    probe_containerd,
)
from katatui.core.doctor.diagnose import (
    Diagnosis,
    diagnose,
    scenario_checks,
)
from katatui.core.doctor.host import (
    HOST_PROBE,
    KATA_MODULES,
    KVM_PROBE,
    check_host,
    cpu_checks,
    host_resources,
    module_checks,
)
from katatui.core.doctor.kubernetes import (
    ClusterReport,
    check_cluster,
    describe_overhead,
    kubernetes_scenario_checks,
)
from katatui.core.doctor.limits import describe_limits, limits_checks
from katatui.core.isolation import runtime_program

__all__ = [
    "HOST_PROBE",
    "KATA_MODULES",
    "KVM_PROBE",
    "RANK",
    "WHICH",
    "Check",
    "ClusterReport",
    "ContainerdFound",
    "Diagnosis",
    "HostReport",
    "ScenarioNeeds",
    "Status",
    "check_cluster",
    "check_host",
    "containerd_scenario_checks",
    "cpu_checks",
    "describe_limits",
    "describe_overhead",
    "diagnose",
    "host_resources",
    "kubernetes_scenario_checks",
    "limits_checks",
    "module_checks",
    "parse_containerd_runtimes",
    "parse_kv",
    "probe_containerd",
    "runtime_program",
    "scenario_checks",
    "worst",
]
