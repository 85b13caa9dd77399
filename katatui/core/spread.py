"""Runs whose clients were spread over several targets: per-host figures and start spreads.

The runner records, for each such run, the combined figures of each host's clients and how
closely the clients started (the start barrier); this module gathers them over repeats so a
slow node shows as a line of its own.
"""

from __future__ import annotations

import statistics
from typing import Any

from katatui.core.report import HEADLINE
from katatui.core.session import SessionReader


def per_host(reader: SessionReader) -> list[dict[str, Any]]:
    """Per cell, scenario, host and headline metric: the median over repeats of that host's share."""
    facts = reader.run_facts()
    values: dict[tuple[str, str, str, str], list[float]] = {}
    units: dict[str, str] = {}
    clients: dict[tuple[str, str, str], int] = {}
    for run in reader.runs():
        hosts = facts.get(run.spec.run_id, {}).get("per_host") or {}
        if len(hosts) < 2:
            continue  # one host's share is the whole run
        for host, metrics in hosts.items():
            for metric, m in metrics.items():
                if metric in HEADLINE:
                    values.setdefault((run.spec.cell, run.spec.scenario, host, metric), []).append(m["value"])
                    units[metric] = m["unit"]
                    clients[(run.spec.cell, run.spec.scenario, host)] = int(m.get("clients", 0))
    order = {m: i for i, m in enumerate(HEADLINE)}
    rows: list[dict[str, Any]] = [
        {"cell": c, "scenario": s, "host": h, "clients": clients[(c, s, h)], "metric": metric,
         "median": statistics.median(v), "unit": units[metric], "n": len(v)}
        for (c, s, h, metric), v in values.items()
    ]  # fmt: skip
    rows.sort(
        key=lambda r: (str(r["cell"]), str(r["scenario"]), order.get(str(r["metric"]), 99), str(r["host"]))
    )
    return rows


def start_spreads(reader: SessionReader) -> list[dict[str, Any]]:
    """Per cell and scenario: how closely the clients of its runs started (median and worst)."""
    facts = reader.run_facts()
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in reader.runs():
        start = facts.get(run.spec.run_id, {}).get("start")
        if start:
            found.setdefault((run.spec.cell, run.spec.scenario), []).append(start)
    return [
        {
            "cell": cell,
            "scenario": scenario,
            "runs": len(starts),
            "start_spread_median_s": statistics.median(s["start_spread_s"] for s in starts),
            "start_spread_max_s": max(s["start_spread_s"] for s in starts),
            "measured_by": sorted({str(s.get("measured_by", "")) for s in starts}),
        }
        for (cell, scenario), starts in found.items()
    ]


def degraded(reader: SessionReader) -> list[tuple[str, list[str]]]:
    """Runs that went on without some of their clients, and why."""
    facts = reader.run_facts()
    return [
        (run.spec.run_id, list(facts[run.spec.run_id]["degraded"]))
        for run in reader.runs()
        if facts.get(run.spec.run_id, {}).get("degraded")
    ]
