"""Metrics of no one workload: what the sandbox sampler reports for every run in containers (its
processes' host CPU and memory each second, and their totals in the run's results)."""

from __future__ import annotations

from katatui.core.workloads.catalogue import MetricSpec
from katatui.core.workloads.footprint import KERNEL_ROLES, ROLE_LABELS, ROLES


def _role(role: str) -> dict[str, MetricSpec]:
    named = ROLE_LABELS.get(role)
    out = {
        f"{role}_cpu_percent": MetricSpec(
            "%", f"{role} cpu percent", False, live_label=f"{named} host CPU" if named else None
        ),
        f"{role}_cpu_seconds": MetricSpec("s", f"{role} cpu seconds", False),
    }
    if role not in KERNEL_ROLES:  # kernel threads hold no memory of their own
        out[f"{role}_pss_bytes"] = MetricSpec(
            "B", f"{role} pss", False, live_label=f"{named} PSS" if named else None
        )
    return out


# ``live``: the rows under a run's rates on the dashboard.
METRICS = {
    "sandbox_cpu_percent": MetricSpec(
        "%", "sandbox cpu percent", False, live=0, live_label="sandbox host CPU"
    ),
    "sandbox_pss_bytes": MetricSpec("B", "sandbox pss", False, live=1, live_label="sandbox PSS"),
    "sandbox_rss_bytes": MetricSpec("B", "sandbox rss", False),
    "host_cpu_busy_percent": MetricSpec("%", "host cpu busy percent", False),
    "host_cpu_busy_percent_mean": MetricSpec("%", "host cpu busy percent mean", False),
    "sandbox_cpu_seconds": MetricSpec("s", "sandbox cpu seconds", False),
    "sandbox_cpu_percent_mean": MetricSpec("%", "sandbox cpu percent mean", False),
    "sandbox_pss_mean_bytes": MetricSpec("B", "sandbox pss mean", False),
    "sandbox_rss_peak_bytes": MetricSpec("B", "sandbox rss peak", False),
    **{m: s for role in ROLES for m, s in _role(role).items()},
}
