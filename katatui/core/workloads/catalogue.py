"""What a workload is, as one unit: its settings, what runs it, the metrics it reports and the tools
it needs.

Each workload type is a package of this one (``fio``, ``iperf3``, ...) whose ``__init__`` declares
its settings model and its ``UNIT``: the ``METRICS`` catalogue (per metric its unit, label,
direction, and whether a table shows it first or the dashboard draws it live), the programs it
needs on the host and in the image, and a factory for its driver or procedure, imported only when
a run needs it. ``registry.UNITS`` lists the units; the report's headline, the dashboard's live
rows, the labels and the tool lists are read from there.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from katatui.core.workloads.base import Procedure, WorkloadDriver
    from katatui.core.workloads.model import WorkloadBase


@dataclass(frozen=True)
class MetricSpec:
    """One metric a workload reports.

    ``label`` is how tables name it (units are in the values); ``higher_is_better`` decides how a
    ratio to the reference reads. ``headline``: tables show it first (the rest stay in csv/json).
    ``live``: its row among the workload's rows on the dashboard (0 first), None when it gets no
    row of its own (a rate not listed still gets one after these, see ``tui.model``).
    ``live_label``: the dashboard's name for it, when it differs from ``label``.
    """

    unit: str
    label: str
    higher_is_better: bool
    headline: bool = False
    live: int | None = None
    live_label: str | None = None


Catalogue = Mapping[str, MetricSpec]


@dataclass(frozen=True)
class WorkloadUnit:
    """A workload type: everything the rest of katatui needs to know about it.

    ``host_tools`` and ``image_tools`` map each program it may need (on the host, in the image) to
    the Debian package that provides it. ``report_order`` places its headline metrics among the
    other workloads' (lower first). ``driver`` makes the driver or procedure for one workload of
    the profile.
    """

    type: str
    config: builtins.type[WorkloadBase]
    metrics: Catalogue
    driver: Callable[[Any], WorkloadDriver | Procedure]
    host_tools: Mapping[str, str] = field(default_factory=dict)
    image_tools: Mapping[str, str] = field(default_factory=dict)
    report_order: int = 100
