"""Published figures of the seed studies, looked up for a session's cells.

The figures (``katatui/data/reference/seed-results.csv``, sources in the README beside it) were
measured on other hardware. They are laid beside a session's own figures, always labelled
``PUBLISHED_LABEL``, never mixed into its statistics. A rule per experiment says which workload
and metric of katatui a published number corresponds to, and how to convert its unit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from katatui.core.errors import UserError

PUBLISHED_LABEL = "published figures from other hardware"
SEED_TITLES = {
    "001": "study 001, I/O performance of Kata containers (Kata 1.6.2, 2019)",
    "002": "study 002, Kata Containers 2.0 tuning at a telco cloud",
    "003": "study 003, Kata Containers on Serverless (slides)",
    "004": "study 004, Kata Containers with Docker (walk-through)",
}


@dataclass(frozen=True)
class Figure:
    """One published number, as the study gave it."""

    seed: str  # the study's file, e.g. 001_50d635ff193e2fcf.txt
    experiment: str
    scenario: str
    variant: str
    clients: int
    metric: str
    value: float
    unit: str
    note: str

    @property
    def seed_id(self) -> str:
        return self.seed[:3]


@dataclass(frozen=True)
class Match:
    """A published figure in katatui's metric and unit, for one session cell and metric."""

    figure: Figure
    metric: str
    value: float
    unit: str

    @property
    def label(self) -> str:
        v = f" {self.figure.variant}" if self.figure.variant else ""
        return f"{self.figure.scenario}{v} (study {self.figure.seed_id})"


VariantTest = Callable[[Figure, Mapping[str, Any], int], bool]


@dataclass(frozen=True)
class Rule:
    kind: str
    metrics: Mapping[str, tuple[str, ...]]  # published metric -> katatui metrics (before direction)
    factor: float = 1.0
    fits: VariantTest = lambda f, v, c: True


def _fio_rw(f: Figure, v: Mapping[str, Any], clients: int) -> bool:
    return str(v.get("rw")) == f.variant and clients == f.clients


def _fio_4k_rand(f: Figure, v: Mapping[str, Any], clients: int) -> bool:
    return str(v.get("bs")).lower() in ("4k", "4ki", "4kib") and str(v.get("rw", "")).startswith("rand")


def _sysbench(test: str) -> VariantTest:
    return lambda f, v, c: str(v.get("test")) == test


RULES: dict[str, Rule] = {
    "fio-commit-latency": Rule("fio", {"clat_p50_us": ("clat_p50_us",), "clat_p99_us": ("clat_p99_us",)},
                               fits=_fio_rw),
    "fio-4k-rand": Rule("fio", {"read_iops": ("read_iops",), "write_iops": ("write_iops",)},
                        fits=_fio_4k_rand),
    "nginx-ab-kn100000-c100": Rule("ab", {"requests_per_s": ("requests_per_second",)}),
    "iperf3-P4": Rule("iperf3", {"bandwidth": ("sent_bits_per_second", "received_bits_per_second")}, 1e9),
    "ctr-run-uname-total": Rule("launch", {"launch_s": ("launch_s", "launch_cold_s")}),
    "docker-run-wall": Rule("launch", {"launch_s": ("launch_s", "launch_cold_s"),
                                       "launch_s_max": ("launch_s", "launch_cold_s")}),
    "sysbench-cpu-prime20000": Rule("sysbench", {"latency_avg_ms": ("latency_avg_ms",),
                                                 "latency_p95_ms": ("latency_p95_ms",),
                                                 "total_time_s": ("total_time_s",)}, fits=_sysbench("cpu")),
    "sysbench-memory-100GiB": Rule("sysbench", {"mib_per_s": ("mib_per_s",)}, fits=_sysbench("memory")),
    "dd-4k-direct": Rule("dd", {"read_mb_per_s": ("bytes_per_s",), "write_mb_per_s": ("bytes_per_s",)}, 1e6,
                         fits=lambda f, v, c: f.metric.startswith(str(v.get("mode", "")) + "_")),
    "vm-memory-overhead": Rule("footprint", {"vmrss_kib": ("hypervisor_rss_bytes",)}, 1024.0),
}  # fmt: skip


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@cache
def figures() -> tuple[Figure, ...]:
    text = (resources.files("katatui") / "data" / "reference" / "seed-results.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        value = _number(row["value"])
        if value is None:
            continue
        out.append(
            Figure(row["seed"], row["experiment"], row["scenario"], row["variant"],
                   int(row["clients"] or 1), row["metric"], value, row["unit"], row["note"])
        )  # fmt: skip
    return tuple(out)


def seed_ids() -> list[str]:
    return sorted({f.seed_id for f in figures()})


def resolve_seed(spec: str) -> str:
    """``001``, ``1``, ``seed001`` or the study's file name -> the seed id (``001``)."""
    text = spec.strip().lower().removeprefix("seed").removeprefix("study").strip("-_ ")
    digits = text.split("_", 1)[0].removesuffix(".txt")
    if digits.isdigit():
        sid = f"{int(digits):03d}"
        if sid in seed_ids():
            return sid
    known = ", ".join(f"{s} ({SEED_TITLES.get(s, '')})" for s in seed_ids())
    raise UserError(f"--reference {spec!r}: no published figures of that study; known: {known}")


def _direction(metric: str, variant: Mapping[str, Any]) -> str:
    """fio's latency metrics carry a direction: read for read patterns, write for write patterns."""
    if not metric.startswith("clat_"):
        return metric
    rw = str(variant.get("rw", ""))
    return ("write_" if "write" in rw else "read_") + metric


def lookup(seed: str, kind: str, variant: Mapping[str, Any], clients: int, metric: str) -> list[Match]:
    """The study's figures that correspond to one cell (workload kind, variant, clients) and metric."""
    out = []
    for f in figures():
        if f.seed_id != seed:
            continue
        rule = RULES.get(f.experiment)
        if rule is None or rule.kind != kind or not rule.fits(f, variant, clients):
            continue
        names = [_direction(m, variant) for m in rule.metrics.get(f.metric, ())]
        if metric in names:
            out.append(Match(f, metric, f.value * rule.factor, _unit(metric, f.unit)))
    return out


def _unit(metric: str, published: str) -> str:
    if metric.endswith("_us"):
        return "us"
    if metric.endswith("_ms"):
        return "ms"
    if metric.endswith("_s") and not metric.endswith("per_s"):
        return "s"
    if metric.endswith("bits_per_second"):
        return "bit/s"
    if metric == "bytes_per_s":
        return "B/s"
    if metric.endswith("_bytes"):
        return "B"
    if metric.endswith("iops"):
        return "IO/s"
    if metric == "requests_per_second":
        return "req/s"
    if metric == "mib_per_s":
        return "MiB/s"
    return published
