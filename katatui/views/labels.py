"""Labels and formats: a metric and a value with its unit, as people read them (a matrix cell's is
``core.cell.Cell.label``)."""

from __future__ import annotations

from katatui.core.workloads import registry


def metric_label(metric: str) -> str:
    """``read_clat_p99_us`` as ``read p99``, ``sent_bits_per_second`` as ``sent``: units are in the values.

    The label the metric's catalogue gives, else one made from its name."""
    spec = registry.metric(metric)
    return spec.label if spec is not None else name_label(metric)


def name_label(metric: str) -> str:
    """A label made from a metric's name, for one no catalogue lists (e.g. ``events_per_host_cpu_s``)."""
    direction, _, rest = metric.partition("_")
    if direction in ("read", "write"):
        names = {"bw_bytes_per_s": "bandwidth", "iops": "IOPS"}
        return (
            f"{direction} {names.get(rest, rest.removeprefix('clat_').removesuffix('_us').replace('_', '.'))}"
        )
    for suffix in ("_bits_per_second", "_per_second", "_per_s", "_bytes", "_ms", "_us", "_s"):
        if metric.endswith(suffix) and metric != suffix[1:]:
            metric = metric.removesuffix(suffix)
            break
    return metric.replace("_p99_9", " p99.9").replace("_", " ")


def format_value(value: float, unit: str) -> str:
    if unit == "B/s":
        return f"{value / 2**20:,.1f} MiB/s"
    if unit == "B":
        return f"{value / 2**20:,.1f} MiB"
    if unit == "IO/s":
        return f"{value:,.0f} IOPS"
    if unit == "us":
        return f"{value:,.0f} µs" if value >= 100 else f"{value:,.1f} µs"
    if unit == "bit/s":
        return f"{value / 1e9:,.2f} Gbit/s" if value >= 1e9 else f"{value / 1e6:,.1f} Mbit/s"
    if unit == "MiB/s":
        return f"{value:,.1f} MiB/s"
    if unit in ("req/s", "ev/s"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:,.3f} ms" if value < 10 else f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.3f} s"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.3g} {unit}"
