"""Tests of the fio argv builder and parser against real fio 3.33 output (tests/fixtures/fio)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from katatui.core.workloads.fio.parser import (
    FioParams,
    FioParseError,
    FioSnapshot,
    FioStream,
    build_fio_argv,
    classify_failure,
    final_metrics,
    interval_metrics,
    merge,
    parse_fio_document,
    percentile_ns,
    snapshot_from_object,
)

FIXTURES = Path(__file__).parent / "fixtures" / "fio"
# Recorded exit statuses (see tests/fixtures/fio/README.md).
EXIT = {"sigint": 128, "sigkill": -9, "sigkill_truncated": -9}
EXIT |= dict.fromkeys(("error_ioengine", "error_directory", "error_enospc"), 1)
JSON_PLUS = ["randread_1job", "randread_4jobs", "randread_4jobs_group", "randrw70_1job", "sigint", "sigkill"]


def data(name: str, suffix: str = "stdout") -> bytes:
    return (FIXTURES / f"{name}.{suffix}").read_bytes()


def stream_of(name: str) -> FioStream:
    stream = FioStream()
    stream.feed(data(name))
    stream.close()
    return stream


def single_job_objects(name: str) -> list[dict[str, Any]]:
    """Every job of every object as a one-job fio object (fio computed its percentiles per job)."""
    return [{**s.raw, "jobs": [job]} for s in stream_of(name).snapshots for job in s.raw["jobs"]]


@pytest.mark.parametrize("name", [*JSON_PLUS, "randread_1job_json", "error_enospc"])
def test_percentiles_from_bins_equal_fios_own(name: str) -> None:
    checked = 0
    for obj in single_job_objects(name):
        snap = snapshot_from_object(obj)
        for ds in (snap.read, snap.write):
            if not ds.bins:
                continue
            assert ds.percentiles_ns, "a single job keeps fio's own percentiles"
            for key, fio_value in ds.percentiles_ns.items():
                # fio divides by clat_ns.N, which in status objects can differ from sum(bins).
                assert percentile_ns(ds.bins, float(key), total=ds.clat_samples) == fio_value, key
                checked += 1
    if name == "randread_1job_json":
        assert checked == 0  # plain json has no bins
    else:
        assert checked >= 17


@pytest.mark.parametrize("name", ["randread_1job", "randread_4jobs_group", "randrw70_1job", "sigint"])
def test_final_object_bins_are_self_consistent(name: str) -> None:
    last = stream_of(name).last
    assert last is not None and last.jobs == 1
    for ds in (last.read, last.write):
        if ds.did_io:
            assert sum(ds.bins.values()) == ds.clat_samples == ds.total_ios
            for key, fio_value in ds.percentiles_ns.items():
                assert percentile_ns(ds.bins, float(key)) == fio_value


def test_status_objects_where_n_and_bins_disagree_exist() -> None:
    """The reason percentile_ns takes ``total``: fio reads running counters without a lock."""
    snaps = stream_of("randread_1job").snapshots
    assert any(sum(s.read.bins.values()) != s.read.clat_samples for s in snaps[:-1])


def test_percentile_long_double_threshold() -> None:
    # On x86-64, (long double) 30.0 / 100.0 * 100 is just above 30 (checked against gcc), so the
    # 30th of 100 samples does not reach the 30th percentile in fio; in double arithmetic it would.
    assert percentile_ns({10: 30, 20: 70}, 30.0) == 20.0
    assert percentile_ns({10: 31, 20: 69}, 30.0) == 10.0
    assert percentile_ns({10: 50, 20: 50}, 50.0) == 10.0
    assert percentile_ns({}, 50.0) is None
    with pytest.raises(ValueError):
        percentile_ns({10: 1}, 0.0)


def test_merging_the_four_jobs() -> None:
    stream = stream_of("randread_4jobs")
    assert [s.jobs for s in stream.snapshots] == [4] * len(stream.snapshots)
    for snap in stream.snapshots:
        assert snap.read.percentiles_ns == {}  # never averaged
        parts = [snapshot_from_object({"jobs": [job]}) for job in snap.raw["jobs"]]
        merged = merge(parts)
        assert merged.read.bins == snap.read.bins
        assert merged.read.io_bytes == snap.read.io_bytes == sum(p.read.io_bytes for p in parts)
        assert merged.read.runtime_ms == max(p.read.runtime_ms for p in parts)
        assert merged.jobs == 4 and merged.read.jobs == snap.read.jobs
    last = stream.snapshots[-1]
    assert (
        sum(last.read.bins.values())
        == last.read.total_ios
        == sum(j["read"]["total_ios"] for j in last.raw["jobs"])
    )
    mean = sum(j["read"]["clat_ns"]["mean"] * j["read"]["clat_ns"]["N"] for j in last.raw["jobs"])
    assert last.read.clat_mean_ns == pytest.approx(mean / last.read.clat_samples)


def test_merge_across_clients() -> None:
    a, b = stream_of("randread_1job").last, stream_of("randrw70_1job").last
    assert a is not None and b is not None
    both = merge([a, b])
    assert both.jobs == 2 and both.read.io_bytes == a.read.io_bytes + b.read.io_bytes
    assert both.write.io_bytes == b.write.io_bytes and both.write.bins == b.write.bins
    assert both.read.percentiles_ns == {} and b.read.percentiles_ns != {}
    assert sum(both.read.bins.values()) == sum(a.read.bins.values()) + sum(b.read.bins.values())
    with pytest.raises(ValueError):
        merge([])


def feed_in_chunks(raw: bytes, sizes: list[int]) -> tuple[list[FioSnapshot], FioStream]:
    stream = FioStream()
    got: list[FioSnapshot] = []
    i = 0
    for size in sizes:
        got += stream.feed(raw[i : i + size])
        i += size
    got += stream.feed(raw[i:])
    stream.close()
    return got, stream


@pytest.mark.parametrize("name", [*JSON_PLUS, "sigkill_truncated", "error_enospc", "error_directory"])
def test_chunking_does_not_matter(name: str) -> None:
    raw = data(name)
    whole = stream_of(name)
    one_byte, by_byte = feed_in_chunks(raw, [1] * len(raw))
    rng = random.Random(name)
    sizes = [rng.randint(1, 5000) for _ in range(len(raw) // 100)]
    random_chunks, by_chunks = feed_in_chunks(raw, sizes)
    for got, stream in ((one_byte, by_byte), (random_chunks, by_chunks)):
        assert got == stream.snapshots == whole.snapshots
        assert stream.messages == whole.messages and stream.truncated == whole.truncated


def test_utf8_split_inside_a_character_and_escapes() -> None:
    obj = json.loads(data("randread_1job_json"))
    obj["jobs"][0]["jobname"] = 'café "quoted" {brace} \\ back'
    text = "note: ünïcode line\n" + json.dumps(obj, indent=2) + "\nfio: done ✓"
    raw = text.encode()
    got, stream = feed_in_chunks(raw, [1] * len(raw))
    assert len(got) == 1 and got[0].raw["jobs"][0]["jobname"] == 'café "quoted" {brace} \\ back'
    assert stream.messages == ["note: ünïcode line", "fio: done ✓"]
    assert not stream.truncated


@pytest.mark.parametrize("name", ["randread_1job", "randread_4jobs", "randrw70_1job"])
def test_interval_rates_add_up(name: str) -> None:
    snaps = stream_of(name).snapshots
    final = snaps[-1]
    prev: FioSnapshot | None = None
    totals = {"read": 0.0, "write": 0.0}
    for cur in snaps:
        m = interval_metrics(prev, cur)
        for d in ("read", "write"):
            if f"{d}_io_bytes" in m:
                totals[d] += m[f"{d}_io_bytes"]
                assert m[f"{d}_bw_bytes_per_s"] > 0 and m[f"{d}_iops"] > 0
                assert 0 < m[f"{d}_clat_p50_us"] <= m[f"{d}_clat_p99_us"]
                if cur.jobs == 1:
                    seconds = (
                        getattr(cur, d).runtime_ms - (getattr(prev, d).runtime_ms if prev else 0)
                    ) / 1000
                    assert m[f"{d}_bw_bytes_per_s"] * seconds == pytest.approx(m[f"{d}_io_bytes"])
        prev = cur
    assert totals["read"] == final.read.io_bytes and totals["write"] == final.write.io_bytes
    assert interval_metrics(final, final) == {}  # no time passed, no I/O: nothing to report


def test_interval_rate_is_the_sum_of_per_job_rates() -> None:
    snaps = stream_of("randread_4jobs").snapshots
    zero = {"io_bytes": 0, "runtime": 0}
    for prev, cur in zip([None, *snaps], snaps, strict=False):
        before = [j["read"] for j in prev.raw["jobs"]] if prev else [zero] * cur.jobs
        after = [j["read"] for j in cur.raw["jobs"]]
        rates = [
            (a["io_bytes"] - b["io_bytes"]) / ((a["runtime"] - b["runtime"]) / 1000)
            for b, a in zip(before, after, strict=True)
        ]
        assert interval_metrics(prev, cur)["read_bw_bytes_per_s"] == pytest.approx(sum(rates))


def test_t_is_the_io_clock_even_with_group_reporting() -> None:
    last = stream_of("randread_4jobs_group").last
    assert last is not None and last.raw["jobs"][0]["job_runtime"] == 12000  # summed over 4 jobs
    assert last.t == last.raw["jobs"][0]["read"]["runtime"] / 1000 == 3.001


def test_interval_across_a_counter_restart() -> None:
    """ramp_time resets fio's counters; the interval after the reset starts from zero."""
    snaps = stream_of("randread_1job").snapshots
    later, earlier = snaps[2], snaps[0]
    m = interval_metrics(later, earlier)  # as if counters went back
    assert m["read_io_bytes"] == earlier.read.io_bytes
    assert m["read_bw_bytes_per_s"] == pytest.approx(earlier.read.io_bytes / (earlier.read.runtime_ms / 1000))


def test_final_metrics_names_and_units() -> None:
    last = stream_of("randrw70_1job").last
    assert last is not None
    metrics = final_metrics(last)
    for d in ("read", "write"):
        ds = getattr(last, d)
        assert metrics[f"{d}_bw_bytes_per_s"] == (ds.io_bytes / (ds.runtime_ms / 1000), "B/s")
        assert metrics[f"{d}_iops"] == (ds.total_ios / (ds.runtime_ms / 1000), "IO/s")
        assert metrics[f"{d}_io_bytes"] == (ds.io_bytes, "B")
        assert metrics[f"{d}_clat_p99_9_us"] == (ds.percentiles_ns["99.900000"] / 1000, "us")
        assert metrics[f"{d}_clat_max_us"] == (ds.clat_max_ns / 1000, "us")
        for p in ("p50", "p90", "p99", "mean"):
            assert metrics[f"{d}_clat_{p}_us"][1] == "us"
    only_read = final_metrics(stream_of("randread_1job").snapshots[-1])
    assert not any(k.startswith("write_") for k in only_read)


def test_sigint_gives_a_shorter_result() -> None:
    stream = stream_of("sigint")
    assert "fio: terminating on signal 2" in stream.messages
    assert stream.signal == 2 and len(stream.snapshots) > stream.snapshots_before_signal
    assert not stream.truncated
    assert classify_failure(stream, EXIT["sigint"]) is None
    last = stream.last
    assert last is not None and final_metrics(last)["read_io_bytes"][0] > 0


def test_sigkill_mid_object_is_truncated() -> None:
    stream = stream_of("sigkill_truncated")
    assert stream.truncated and len(stream.snapshots) == 1
    assert stream.snapshots == stream_of("sigkill").snapshots[:1]
    reason = classify_failure(stream, EXIT["sigkill_truncated"])
    assert reason is not None and "middle of a result" in reason and "signal 9" in reason


def test_sigkill_between_objects() -> None:
    stream = stream_of("sigkill")
    assert not stream.truncated and len(stream.snapshots) == 2
    assert classify_failure(stream, EXIT["sigkill"]) == (
        "fio was killed by signal 9 before printing its final result"
    )


@pytest.mark.parametrize(
    ("name", "from_stdout", "from_stderr"),
    [
        (
            "error_directory",
            "func=lstat, error=No such file or directory",
            "/nonexistent-dir is not a directory",
        ),
        ("error_ioengine", "cannot open shared object file", "engine nonexistent not loadable"),
    ],
)
def test_error_runs_say_what_fio_said(name: str, from_stdout: str, from_stderr: str) -> None:
    stream = stream_of(name)
    assert stream.snapshots == [] and not stream.truncated
    reason = classify_failure(stream, EXIT[name])
    assert reason is not None and reason.startswith("fio printed no result (exit status 1)")
    assert from_stdout in reason
    with_stderr = classify_failure(stream, EXIT[name], data(name, "stderr"))
    assert with_stderr is not None and from_stderr in with_stderr


def test_job_error_is_a_failure() -> None:
    stream = stream_of("error_enospc")
    last = stream.last
    assert last is not None and last.errors == ("job katatui: error 28 (No space left on device)",)
    reason = classify_failure(stream, EXIT["error_enospc"], data("error_enospc", "stderr"))
    assert reason is not None and reason.startswith("fio reported job errors: job katatui: error 28")
    assert reason.count("io_u error on file") == 1  # repeated lines differing in offsets are folded
    assert classify_failure(stream_of("randread_1job"), 0) is None


def test_no_io_after_signal_is_a_failure() -> None:
    obj = json.loads(data("randread_1job_json"))
    for key in ("io_bytes", "total_ios", "runtime"):
        obj["jobs"][0]["read"][key] = 0
    stream = FioStream()
    stream.feed(b"fio: terminating on signal 15\n" + json.dumps(obj).encode())
    stream.close()
    assert classify_failure(stream, 128) == "fio was stopped by signal 15 before doing any I/O"


def params(**changes: Any) -> FioParams:
    base: dict[str, Any] = dict(
        rw="randread", bs="4k", iodepth=8, numjobs=1, direct=True, size="64m", runtime=4
    )
    return FioParams(**{**base, **changes})


def test_build_fio_argv() -> None:
    argv = build_fio_argv(params(), "/tmp/work dir")
    assert all(isinstance(a, str) for a in argv)
    assert argv[0] == "fio" and "--directory=/tmp/work dir" in argv
    for option in ("--rw=randread", "--bs=4k", "--iodepth=8", "--numjobs=1", "--direct=1", "--size=64m"):
        assert option in argv
    for option in ("--runtime=4", "--time_based", "--ioengine=libaio", "--output-format=json+"):
        assert option in argv
    assert "--status-interval=1" in argv
    assert not any(a.startswith(("--group_reporting", "--rwmixread", "--filename")) for a in argv)
    mixed = build_fio_argv(
        params(rw="randrw", rwmixread=70, direct=False, ramp_time=2, fsync=1), "/d", fio="/x/fio"
    )
    assert mixed[0] == "/x/fio"
    assert {"--rwmixread=70", "--direct=0", "--ramp_time=2", "--fsync=1"} <= set(mixed)
    device = build_fio_argv(params(filename="/dev/vdb"), "/d")
    assert "--filename=/dev/vdb" in device and not any(a.startswith("--directory") for a in device)


@pytest.mark.parametrize(
    ("changes", "directory"),
    [
        ({"bs": "-4k"}, "/d"),
        ({"size": "64m\n[evil]"}, "/d"),
        ({}, "--output=/etc/passwd"),
        ({}, "/d:/etc"),
        ({"filename": "/a:/b"}, "/d"),
        ({"ioengine": "external:/tmp/x.so"}, "/d"),
        ({"rw": "trim"}, "/d"),
        ({"rwmixread": 70}, "/d"),
        ({"iodepth": 0}, "/d"),
        ({}, None),
    ],
)
def test_build_fio_argv_refuses(changes: dict[str, Any], directory: str | None) -> None:
    with pytest.raises(ValueError):
        build_fio_argv(params(**changes), directory)


def test_build_fio_argv_refuses_a_name_with_a_path() -> None:
    with pytest.raises(ValueError):
        build_fio_argv(params(), "/d", name="../escape")


def test_parse_plain_json_uses_fios_percentiles() -> None:
    snap = parse_fio_document(data("randread_1job_json"))
    assert snap.read.bins == {} and snap.jobs == 1
    metrics = final_metrics(snap)
    own = snap.read.percentiles_ns
    assert metrics["read_clat_p50_us"] == (own["50.000000"] / 1000, "us")
    assert metrics["read_clat_p99_9_us"] == (own["99.900000"] / 1000, "us")


def test_parse_plain_json_of_several_jobs_leaves_percentiles_out() -> None:
    obj = json.loads(data("randread_1job_json"))
    obj["jobs"] = [obj["jobs"][0], obj["jobs"][0]]
    metrics = final_metrics(parse_fio_document(json.dumps(obj).encode()))
    assert "read_clat_mean_us" in metrics and "read_iops" in metrics
    assert not any("_clat_p" in k for k in metrics)


def test_parse_json_plus_takes_the_last_object() -> None:
    doc = parse_fio_document(b"note: something fio said\n" + data("randrw70_1job"))
    assert doc == stream_of("randrw70_1job").last
    assert parse_fio_document(data("sigint")) == stream_of("sigint").last


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty"),
        (b"garbage\nmore garbage\n", "garbage"),
        (b'{"not": "fio"}', '"jobs"'),
        (b'{"jobs": []}', '"jobs"'),
        (data("sigkill_truncated"), "cut short"),
        (data("error_directory"), "func=lstat"),
    ],
)
def test_parse_refuses_what_is_not_fio_output(raw: bytes, expected: str) -> None:
    with pytest.raises(FioParseError, match="expected fio output") as info:
        parse_fio_document(raw)
    assert expected in str(info.value)
