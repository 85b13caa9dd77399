"""Seed-shaped Markdown: the studies' tables, with scenario rows, client-count column groups and
p50/p99 sub-columns (in ``katatui report --format md`` and the HTML report)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from katatui.core.cell import Cell
from katatui.core.export import cells_of
from katatui.core.report import Summary, summarize
from katatui.core.session import SessionReader

_PCT = re.compile(r"^(?P<head>.*?)_?p(?P<p>\d+(?:_\d+)?)(?P<tail>_[a-z]+)?$")


def _family(metric: str) -> tuple[str, str]:
    """``read_clat_p99_us`` -> (``read_clat_us``, ``p99``); other metrics are a family of one."""
    m = _PCT.match(metric)
    if m and m.group("head"):
        return m.group("head") + (m.group("tail") or ""), "p" + m.group("p").replace("_", ".")
    return metric, ""


FAMILY_NAMES = (
    ("_bw_bytes_per_s", " bandwidth"), ("_clat_us", " completion latency"), ("_iops", " IOPS"),
    ("_ms", ""), ("_us", ""), ("_bits_per_second", ""), ("_per_second", " per second"),
    ("_per_s", " per second"), ("_bytes", ""),
)  # fmt: skip


def _family_title(family: str) -> str:
    """``read_clat_us`` as ``read completion latency``, ``read_bw_bytes_per_s`` as ``read bandwidth``."""
    for suffix, name in FAMILY_NAMES:
        if family.endswith(suffix) and family != suffix[1:]:
            family = family.removesuffix(suffix) + name
            break
    return family.replace("_", " ")


def _unit_text(unit: str) -> str:
    return {"B/s": "MiB/s", "B": "MiB", "us": "µs", "IO/s": "IOPS", "bit/s": "Mbit/s"}.get(unit, unit)


def _plain(value: float, unit: str) -> str:
    if unit in ("B/s", "B"):
        return f"{value / 2**20:,.1f}"
    if unit == "bit/s":
        return f"{value / 1e6:,.1f}"
    if unit in ("ms", "s") and value < 10:
        return f"{value:,.3f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def seed_tables(summary: Summary, kinds: Mapping[str, Cell]) -> str:
    """Markdown tables like the studies': one per workload and measure; rows are the variant and
    scenario, column groups the client counts, sub-columns the percentiles (p50, p99) when the
    measure has them. ``kinds`` maps a cell's key to the cell."""
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    for row in summary.rows:
        if row.cell not in kinds:
            continue
        cell = kinds[row.cell]
        workload, variant, clients = cell.kind, cell.variant, cell.clients
        family, sub = _family(row.metric)
        t = tables.setdefault((workload, family), {"unit": row.unit, "subs": [], "clients": [], "cells": {}})
        if sub not in t["subs"]:
            t["subs"].append(sub)
        if clients not in t["clients"]:
            t["clients"].append(clients)
        label = " ".join(f"{k}={v}" for k, v in variant.items())
        for scenario, stat in row.by_scenario.items():
            t["cells"][(label, scenario, clients, sub)] = _plain(stat.median, row.unit)
    out = []
    for (workload, family), t in tables.items():
        subs = sorted(t["subs"], key=lambda s: float(s[1:]) if s else -1.0)
        counts = sorted(t["clients"])
        title = f"{workload} {_family_title(family)} ({_unit_text(t['unit'])}), medians"
        # The studies' layout: a row of client-count groups over a row of percentiles.
        groups = ["clients >", ""]
        for c in counts:
            groups += [str(c)] + [""] * (len(subs) - 1)
        names = ["**variant**", "**scenario**", *[f"**{s or 'median'}**" for _ in counts for s in subs]]
        lines = [f"#### {title}", "", "| " + " | ".join(groups) + " |", "|" + "---|" * len(groups)]
        lines.append("| " + " | ".join(names) + " |")
        rows: list[tuple[str, str]] = []
        for label, scenario, _, _ in t["cells"]:
            if (label, scenario) not in rows:
                rows.append((label, scenario))
        last = None
        for label, scenario in rows:
            cells = [label if label != last else "", scenario]
            last = label
            cells += [t["cells"].get((label, scenario, c, s), "-") for c in counts for s in subs]
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def seed_markdown(reader: SessionReader) -> str:
    return seed_tables(summarize(reader), cells_of(reader))
