"""Combining several clients' results into a run's: shared by the drivers of tools with final reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from katatui.core.events import Metric


def metrics(values: Mapping[str, tuple[float, str]]) -> dict[str, Metric]:
    return {k: Metric(v, unit) for k, (v, unit) in values.items()}


def summed(parts: Sequence[Mapping[str, tuple[float, str]]], names: set[str]) -> dict[str, Metric]:
    """Several clients: rates and counts summed; other figures only when there is one client."""
    if len(parts) == 1:
        return metrics(parts[0])
    out: dict[str, Metric] = {}
    for name in names:
        present = [p[name] for p in parts if name in p]
        if len(present) == len(parts):
            out[name] = Metric(sum(v for v, _ in present), present[0][1])
    return out
