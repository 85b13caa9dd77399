"""The workload types: each type's unit (see ``catalogue``), and what is read from all of them.

Adding a workload type is a package of ``katatui.core.workloads`` with its ``UNIT``, and its line
below; the profile's schema, the report's headline, the dashboard's rows, the labels and the tool
lists follow from the unit.
"""

from __future__ import annotations

from collections.abc import Mapping

from katatui.core.workloads import ab, boot, dd, fio, footprint, iperf3, launch, sandbox_metrics, sysbench
from katatui.core.workloads.base import Procedure, WorkloadDriver
from katatui.core.workloads.catalogue import MetricSpec, WorkloadUnit
from katatui.core.workloads.model import WorkloadBase

# In the order a profile's error lists them.
UNITS: dict[str, WorkloadUnit] = {
    u.type: u
    for u in (fio.UNIT, iperf3.UNIT, ab.UNIT, sysbench.UNIT, launch.UNIT, footprint.UNIT, dd.UNIT, boot.UNIT)
}


def driver_for(workload: WorkloadBase) -> WorkloadDriver | Procedure:
    unit = UNITS.get(workload.type)
    if unit is None or not isinstance(workload, unit.config):
        raise ValueError(f"no driver for workload type {workload.type!r}")
    return unit.driver(workload)


def headline() -> tuple[str, ...]:
    """The metrics tables show first, in their order: each workload's in its ``report_order``."""
    units = sorted(UNITS.values(), key=lambda u: u.report_order)
    return tuple(dict.fromkeys(m for u in units for m, s in u.metrics.items() if s.headline))


def live_rows() -> tuple[str, ...]:
    """The metrics with a row of their own on the dashboard, in the order of their rows."""
    return tuple(dict.fromkeys(m for u in UNITS.values() for m in _live(u.metrics)))


def sandbox_rows() -> tuple[str, ...]:
    """The sandbox's own rows under a run's rates on the dashboard."""
    return _live(sandbox_metrics.METRICS)


def _live(metrics: Mapping[str, MetricSpec]) -> tuple[str, ...]:
    live = [(s.live, m) for m, s in metrics.items() if s.live is not None]
    return tuple(m for _, m in sorted(live, key=lambda x: x[0]))


def metric(name: str) -> MetricSpec | None:
    """What the catalogues say of a metric; None for one they do not list (e.g. derived per host
    CPU second)."""
    return METRICS.get(name)


def host_tools() -> dict[str, str]:
    """Every program a workload may need on a host, with the Debian package that provides it."""
    return {t: p for u in UNITS.values() for t, p in u.host_tools.items()}


def image_tools() -> dict[str, str]:
    """Every program a workload needs in the image, with the Debian package that provides it."""
    return {t: p for u in UNITS.values() for t, p in u.image_tools.items()}


# A workload's entry wins over the sampler's (they agree on unit, label and direction).
METRICS: dict[str, MetricSpec] = {
    **sandbox_metrics.METRICS,
    **{m: s for u in UNITS.values() for m, s in u.metrics.items()},
}
