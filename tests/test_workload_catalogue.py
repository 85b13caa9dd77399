"""The workloads' catalogues: complete, and the source of the headline, the live rows, the labels and
the tool lists.

Every metric a workload's parser emits for the recorded outputs (tests/fixtures/*), and every
metric of the shipped demo session (a real recording of every workload), is in a catalogue.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

import pytest

from katatui.core import hostfacts, image
from katatui.core.proctree import parse_ps, parse_pss, sandbox_of
from katatui.core.report import HEADLINE, HIGHER_IS_BETTER, higher_is_better
from katatui.core.workloads import registry, sandbox_metrics
from katatui.core.workloads.ab import AbWorkload
from katatui.core.workloads.ab import parser as ab
from katatui.core.workloads.ab.driver import MARK, AbClient, AbDriver
from katatui.core.workloads.boot.procedure import phases_for
from katatui.core.workloads.catalogue import MetricSpec
from katatui.core.workloads.dd import DdWorkload
from katatui.core.workloads.dd.driver import DdClient, DdDriver
from katatui.core.workloads.fio import FioWorkload
from katatui.core.workloads.fio import parser as fio
from katatui.core.workloads.fio.driver import FioClient, FioDriver
from katatui.core.workloads.footprint.procedure import footprint_metrics
from katatui.core.workloads.iperf3 import Iperf3Workload
from katatui.core.workloads.iperf3 import parser as iperf3
from katatui.core.workloads.iperf3.driver import Iperf3Client, Iperf3Driver
from katatui.core.workloads.sysbench import SysbenchWorkload
from katatui.core.workloads.sysbench.driver import SysbenchClient, SysbenchDriver
from katatui.tui import choices
from katatui.tui.model import LIVE_METRICS, SANDBOX_METRICS
from katatui.views.labels import metric_label

FIXTURES = Path(__file__).parent / "fixtures"
UNITS = registry.UNITS


def test_every_metric_has_a_unit_a_label_and_a_direction() -> None:
    catalogues = [u.metrics for u in UNITS.values()] + [sandbox_metrics.METRICS]
    for metrics in catalogues:
        assert metrics
        for name, spec in metrics.items():
            assert isinstance(spec, MetricSpec), name
            assert spec.unit and spec.label, name
            assert isinstance(spec.higher_is_better, bool), name
            # The direction a unit always had: a ratio reads as it did before there were catalogues.
            assert spec.higher_is_better == HIGHER_IS_BETTER.get(spec.unit, True), name


def test_units_are_consistent() -> None:
    for kind, unit in UNITS.items():
        assert unit.type == kind
        assert get_args(unit.config.model_fields["type"].annotation) == (kind,)
        assert any(s.headline for s in unit.metrics.values()), kind
    # A metric in two catalogues (the footprint's and the sampler's) means the same in both.
    seen: dict[str, MetricSpec] = {}
    for metrics in [sandbox_metrics.METRICS, *(u.metrics for u in UNITS.values())]:
        for name, spec in metrics.items():
            if name in seen:
                a, b = seen[name], spec
                assert (a.unit, a.label, a.higher_is_better, a.live_label) == (
                    b.unit, b.label, b.higher_is_better, b.live_label,
                ), name  # fmt: skip
            seen[name] = spec


def test_headline_and_live_rows_are_the_catalogues() -> None:
    assert registry.headline() == HEADLINE
    assert registry.live_rows() == LIVE_METRICS
    assert registry.sandbox_rows() == SANDBOX_METRICS
    assert set(HEADLINE) == {m for u in UNITS.values() for m, s in u.metrics.items() if s.headline}
    live = {m for u in UNITS.values() for m, s in u.metrics.items() if s.live is not None}
    assert set(LIVE_METRICS) == live
    # The order rows have always had (tables, snapshots and the dashboard's rows depend on it).
    assert HEADLINE == (
        "read_bw_bytes_per_s", "read_iops", "read_clat_p50_us", "read_clat_p99_us",
        "write_bw_bytes_per_s", "write_iops", "write_clat_p50_us", "write_clat_p99_us",
        "sent_bits_per_second", "received_bits_per_second", "retransmits", "jitter_ms", "lost_percent",
        "requests_per_second", "latency_p50_ms", "latency_p99_ms", "failed_requests", "non_2xx_responses",
        "events_per_second", "mib_per_s", "latency_avg_ms", "latency_p95_ms",
        "launch_s", "launch_cold_s", "boot_total_s",
        "sandbox_rss_bytes", "sandbox_pss_bytes", "hypervisor_rss_bytes", "virtiofsd_rss_bytes",
        "shim_rss_bytes", "sentry_rss_bytes", "gofer_rss_bytes", "container_rss_bytes", "vhost_threads",
        "cgroup_memory_bytes",
        "bytes_per_s",
    )  # fmt: skip
    assert LIVE_METRICS == (
        "read_bw_bytes_per_s", "write_bw_bytes_per_s", "read_iops", "write_iops", "bits_per_second",
        "requests_per_s", "events_per_s",
    )  # fmt: skip
    assert SANDBOX_METRICS == ("sandbox_cpu_percent", "sandbox_pss_bytes")


def test_labels_and_directions_come_from_the_catalogue() -> None:
    assert metric_label("read_clat_p99_9_us") == "read p99.9"
    assert metric_label("bits_per_second") == "bits"
    assert metric_label("events_per_host_cpu_s") == "events per host cpu"  # no catalogue: its name
    assert higher_is_better("vhost_threads", "count") is False
    assert higher_is_better("made_up", "furlongs") is True


def test_tool_lists_are_the_catalogues() -> None:
    assert (
        hostfacts.TOOLS == tuple(registry.host_tools()) == ("fio", "iperf3", "ab", "nginx", "sysbench", "dd")
    )
    assert " ".join(hostfacts.TOOLS) in hostfacts.PROBE
    assert image.TOOLS[: len(registry.image_tools())] == tuple(registry.image_tools())
    for t, package in registry.image_tools().items():
        assert image.PACKAGES[t] == package


@pytest.mark.parametrize(
    ("workload", "field", "seconds"),
    [
        (FioWorkload(type="fio", runtime=7, ramp_time=2), "runtime", 9.0),
        (Iperf3Workload(type="iperf3", duration=5), "duration", 5.0),
        (SysbenchWorkload(type="sysbench", time=4), "time", 4.0),
        (AbWorkload(type="ab"), None, None),  # `requests` decides
        (AbWorkload(type="ab", timelimit=3), "timelimit", 3.0),
        (DdWorkload(type="dd"), None, None),
    ],
)
def test_planned_duration_is_the_workloads(
    workload: FioWorkload, field: str | None, seconds: float | None
) -> None:
    assert choices.duration_field(workload) == field
    assert choices.workload_seconds(workload) == seconds


# -- what the parsers emit for the recorded outputs -----------------------------------------------
def emitted_by_fio() -> set[str]:
    names: set[str] = set()
    finals = []
    for path in sorted((FIXTURES / "fio").glob("*.stdout")):
        client = FioClient()
        for reading in client.feed("stdout", path.read_bytes()):
            names |= set(reading.metrics)
        final, _ = client.finish(0)
        if final is not None:
            finals.append(final)
            names |= set(FioDriver(FioWorkload(type="fio")).combine([final]))
    names |= set(fio.final_metrics(fio.merge(finals[:2])))
    return names


def emitted_by_iperf3() -> set[str]:
    names: set[str] = set()
    driver = Iperf3Driver(Iperf3Workload(type="iperf3"))
    for path in sorted((FIXTURES / "iperf3").iterdir()):
        if path.suffix not in (".stdout", ".jsonl"):
            continue
        json_stream = path.suffix == ".jsonl"
        client = Iperf3Client(json_stream, 1)
        if not json_stream and path.name.startswith("json_"):  # -J documents, as `katatui import` reads them
            with contextlib.suppress(iperf3.Iperf3ParseError):
                names |= set(iperf3.final_metrics(iperf3.parse_iperf3_json(path.read_bytes())))
            continue
        stderr = path.with_suffix(".stderr")
        if stderr.exists():
            client.feed("stderr", stderr.read_bytes())
        for reading in client.feed("stdout", path.read_bytes()):
            names |= set(reading.metrics)
        final, _ = client.finish(0)
        if final is not None:
            names |= set(driver.combine([final]))
    return names


def emitted_by_ab() -> set[str]:
    names: set[str] = set()
    driver = AbDriver(AbWorkload(type="ab"))
    for path in sorted((FIXTURES / "ab").glob("*.stdout")):
        run = path.name.removesuffix(".stdout")
        if run == "version":
            continue
        client = AbClient()
        stdout = path.read_bytes()
        csv = FIXTURES / "ab" / f"{run}.percentiles.csv"
        if csv.exists():
            stdout += b"\n" + MARK + b"\n" + csv.read_bytes()
        client.feed("stdout", stdout)
        stderr = FIXTURES / "ab" / f"{run}.stderr"
        for line in stderr.read_bytes().splitlines(keepends=True) if stderr.exists() else []:
            for reading in client.feed("stderr", line):
                names |= set(reading.metrics)
        final, _ = client.finish(0)
        if final is not None:
            names |= set(driver.combine([final]))
            gnuplot = FIXTURES / "ab" / f"{run}.gnuplot.tsv"
            if gnuplot.exists():  # `katatui import` with ab's -g file
                names |= set(ab.final_metrics(final[0], None, ab.parse_gnuplot(gnuplot.read_bytes())))
    return names


def emitted_by_sysbench() -> set[str]:
    names: set[str] = set()
    driver = SysbenchDriver(SysbenchWorkload(type="sysbench"))
    paths = [*(FIXTURES / "sysbench").glob("*.stdout"), *(FIXTURES / "sysbench").glob("seed004_*.txt")]
    for path in sorted(paths):
        client = SysbenchClient()
        for reading in client.feed("stdout", path.read_bytes()):
            names |= set(reading.metrics)
        final, _ = client.finish(0)
        if final is not None:
            names |= set(driver.combine([final]))
    return names


def emitted_by_dd() -> set[str]:
    names: set[str] = set()
    driver = DdDriver(DdWorkload(type="dd"))
    for path in sorted((FIXTURES / "dd").glob("*.stderr")):
        client = DdClient(4096, None)
        client.feed("stderr", path.read_bytes())
        final, _ = client.finish(0)
        if final is not None:
            names |= set(driver.combine([final]))
    return names


def emitted_by_footprint() -> set[str]:
    gvisor = FIXTURES / "gvisor"
    procs = parse_ps((gvisor / "ps_16010.txt").read_text())
    pss = parse_pss((gvisor / "smaps_rollup_16010.txt").read_text())
    tree = sandbox_of(procs, 16010)
    return set(footprint_metrics(tree, pss, 561152)) | set(footprint_metrics(tree, {}, None))


def emitted_by_boot() -> set[str]:
    names = {"boot_total_s"}
    for runtime in ("runc", "runsc"):
        inspect = json.loads((FIXTURES / "gvisor" / f"boot_{runtime}_inspect.json").read_text())
        output = (FIXTURES / "gvisor" / f"boot_{runtime}.txt").read_text()
        total = inspect["reported"] - inspect["requested"]
        for name, _ in phases_for(
            runtime, requested=inspect["requested"], total=total, attrs=inspect, output=output
        ):
            names.add(f"boot_{name}_s")
    return names


EMITTED = {
    "fio": emitted_by_fio,
    "iperf3": emitted_by_iperf3,
    "ab": emitted_by_ab,
    "sysbench": emitted_by_sysbench,
    "dd": emitted_by_dd,
    "footprint": emitted_by_footprint,
    "boot": emitted_by_boot,
}


def missing(kind: str, names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n not in UNITS[kind].metrics)


@pytest.mark.parametrize("kind", sorted(EMITTED))
def test_every_metric_a_parser_emits_is_in_its_catalogue(kind: str) -> None:
    names = EMITTED[kind]()
    assert len(names) >= 3, names  # the fixtures were read
    assert missing(kind, names) == []


def test_every_metric_of_the_demo_session_is_catalogued() -> None:
    """A real recording of every workload type: results and per-second samples, with their units."""
    from katatui.commands.demo import demo_path
    from katatui.core.session import SessionReader

    reader = SessionReader(demo_path())
    try:
        kinds = set()
        for res in reader.results():
            kinds.add(res.run.spec.kind)
            name = res.metric
            if name.endswith("_per_host_cpu_s"):  # the sampler's: a catalogued rate per host CPU second
                stem = name.removesuffix("_per_host_cpu_s")
                assert {stem, f"{stem}_per_second", f"{stem}_per_s"} & set(
                    UNITS[res.run.spec.kind].metrics
                ), name
                continue
            spec = UNITS[res.run.spec.kind].metrics.get(name) or sandbox_metrics.METRICS.get(name)
            assert spec is not None, (res.run.spec.kind, name)
            assert spec.unit == res.unit, name
        assert kinds >= {"fio", "iperf3", "ab", "sysbench", "launch", "footprint", "boot"}
        for run in reader.runs():
            for sample in reader.samples(run.spec.run_id):
                for name in sample["metrics"]:
                    assert name in UNITS[run.spec.kind].metrics or name in sandbox_metrics.METRICS, name
    finally:
        reader.close()
