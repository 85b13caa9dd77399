"""Tests of the sysbench argv builder and parser against real sysbench 1.0.20 output
(tests/fixtures/sysbench), and against the older report format quoted in seed study 004
(sysbench 1.0 run under runc and under Kata Containers; see the fixture README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.workloads.sysbench.parser import (
    SysbenchParams,
    SysbenchParseError,
    SysbenchStream,
    build_argv,
    classify_failure,
    final_metrics,
    parse_report,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sysbench"
EXIT = {"unknown_test": 1, "unknown_option": 1, "bad_memory_oper": 1, "sigint": -2}


def stream_of(name: str, chunk: int = 0) -> SysbenchStream:
    raw = (FIXTURES / f"{name}.stdout").read_bytes()
    stream = SysbenchStream()
    step = chunk or len(raw) or 1
    for i in range(0, len(raw), step):
        stream.feed(raw[i : i + step])
    stream.close()
    return stream


def stderr(name: str) -> bytes:
    return (FIXTURES / f"{name}.stderr").read_bytes()


# --- argv ----------------------------------------------------------------------------------------


def test_cpu_argv() -> None:
    argv = build_argv(SysbenchParams("cpu", threads=2, time=3, cpu_max_prime=20000))
    assert argv == [
        "sysbench", "cpu", "--threads=2", "--time=3", "--cpu-max-prime=20000", "--report-interval=1", "run",
    ]  # fmt: skip


def test_memory_argv() -> None:
    params = SysbenchParams(
        "memory", time=0, events=0, memory_block_size="4K", memory_total_size="4G", memory_oper="write"
    )
    assert build_argv(params, sysbench="/usr/bin/sysbench") == [
        "/usr/bin/sysbench", "memory", "--threads=1", "--time=0", "--memory-block-size=4K",
        "--memory-total-size=4G", "--memory-oper=write", "--report-interval=1", "run",
    ]  # fmt: skip
    assert "--events=500" in build_argv(SysbenchParams("cpu", time=0, events=500))


@pytest.mark.parametrize(
    "params",
    [
        SysbenchParams("xyz"),
        SysbenchParams("fileio"),
        SysbenchParams("cpu", threads=0),
        SysbenchParams("cpu", time=0, events=0),  # sysbench would run forever
        SysbenchParams("cpu", memory_oper="read"),
        SysbenchParams("memory", cpu_max_prime=100),
        SysbenchParams("memory", memory_block_size="-1"),
        SysbenchParams("memory", memory_block_size="4K\n--threads=9"),
        SysbenchParams("memory", memory_total_size="lots"),
        SysbenchParams("memory", memory_oper="bogus"),
        SysbenchParams("cpu", cpu_max_prime=1),
    ],
)
def test_argv_refusals(params: SysbenchParams) -> None:
    with pytest.raises(ValueError):
        build_argv(params)


def test_argv_refuses_option_like_binary() -> None:
    with pytest.raises(ValueError):
        build_argv(SysbenchParams("cpu"), sysbench="--help")


# --- cpu -----------------------------------------------------------------------------------------


def test_cpu_one_thread() -> None:
    stream = stream_of("cpu_1thread")
    assert [s.metrics() for s in stream.samples] == [
        {"events_per_s": 738.48, "latency_p95_ms": 1.42},
        {"events_per_s": 717.96, "latency_p95_ms": 1.64},
        {"events_per_s": 700.25, "latency_p95_ms": 1.82},
    ]
    assert [(s.t, s.threads) for s in stream.samples] == [(1.0, 1), (2.0, 1), (3.0, 1)]
    assert stream.result is not None
    assert (stream.result.test, stream.result.version, stream.result.threads) == ("cpu", "1.0.20", 1)
    assert final_metrics(stream.result) == {
        "events_per_second": (718.60, "ev/s"),
        "total_events": (2159.0, "count"),
        "total_time_s": (3.0027, "s"),
        "latency_min_ms": (1.27, "ms"),
        "latency_avg_ms": (1.39, "ms"),
        "latency_max_ms": (5.15, "ms"),
        "latency_p95_ms": (1.64, "ms"),
    }
    assert not stream.result.events_per_second_derived
    assert classify_failure(stream, 0, stderr("cpu_1thread")) is None


def test_cpu_two_threads() -> None:
    stream = stream_of("cpu_2threads")
    # the last interval shows one thread: the other had already finished
    assert [s.threads for s in stream.samples] == [2, 2, 1]
    assert stream.result is not None
    assert stream.result.events_per_second == 974.92
    assert stream.result.total_events == 2930
    assert stream.result.latency_pct_ms == 5.37


def test_cpu_events_limit_ends_before_the_first_interval() -> None:
    stream = stream_of("cpu_events")
    assert stream.samples == []  # 0.7 s: no interval line at all
    assert stream.result is not None and stream.result.total_events == 500


# --- memory --------------------------------------------------------------------------------------


def test_memory_interval_lines_carry_only_mib_per_s() -> None:
    stream = stream_of("memory_read_1thread")
    assert [s.metrics() for s in stream.samples] == [{"mib_per_s": 3740.83}, {"mib_per_s": 4125.93}]
    assert stream.samples[0].events_per_s is None and stream.samples[0].latency_ms is None
    assert stream.result is not None
    metrics = final_metrics(stream.result)
    assert metrics["mib_per_s"] == (3765.92, "MiB/s")
    assert metrics["total_mib"] == (11305.90, "MiB")
    assert metrics["events_per_second"] == (3856301.76, "ev/s")  # "Total operations: N (X per second)"
    assert metrics["total_events"] == (11577240.0, "count")
    assert metrics["latency_avg_ms"] == (0.0, "ms")  # two decimals in ms: too coarse for memory


def test_memory_write_and_total_size() -> None:
    write = stream_of("memory_write_2threads")
    assert write.result is not None and write.result.mib_per_s == 6272.79 and write.result.threads == 2
    sized = stream_of("memory_total_size")
    assert sized.result is not None
    assert sized.result.total_mib == 2048.0 and sized.result.total_events == 524288
    assert sized.result.warnings == ("Both event and time limits are disabled, running an endless test",)
    assert classify_failure(sized, 0) is None


@pytest.mark.parametrize("name", ["cpu_1thread", "cpu_2threads", "memory_read_1thread", "sigint"])
def test_chunking_does_not_matter(name: str) -> None:
    whole, bytewise = stream_of(name), stream_of(name, chunk=1)
    assert whole.samples == bytewise.samples and whole.result == bytewise.result


# --- failures ------------------------------------------------------------------------------------


def test_interrupted_run_prints_no_report() -> None:
    stream = stream_of("sigint")
    assert len(stream.samples) == 2 and stream.result is None
    reason = (
        "sysbench was stopped by signal 2 after 2 interval reports; an interrupted sysbench prints no report"
    )
    assert classify_failure(stream, EXIT["sigint"], stderr("sigint")) == reason
    assert classify_failure(stream, 130) == reason  # what a shell or a container reports
    assert (
        classify_failure(stream, 0) == "sysbench printed no report after 2 interval reports (exit status 0)"
    )


def test_unknown_test() -> None:
    stream = stream_of("unknown_test")
    assert classify_failure(stream, EXIT["unknown_test"], stderr("unknown_test")) == (
        "sysbench failed: Cannot find benchmark 'xyz': no such built-in test, file or module (exit status 1)"
    )


def test_invalid_options() -> None:
    stream = stream_of("unknown_option")  # the message is on stderr
    assert classify_failure(stream, 1, stderr("unknown_option")) == (
        "sysbench failed: invalid option: --foo=1 (exit status 1)"
    )
    stream = stream_of("bad_memory_oper")  # this one is a FATAL line on stdout
    assert classify_failure(stream, 1, stderr("bad_memory_oper")) == (
        "sysbench failed: Invalid value for memory-oper: bogus (exit status 1)"
    )


def test_parse_report_refuses_other_text() -> None:
    with pytest.raises(SysbenchParseError):
        parse_report((FIXTURES / "sigint.stdout").read_text())
    with pytest.raises(SysbenchParseError):
        parse_report("")


# --- the older report format, from seed study 004 (runc vs Kata, sysbench 1.0) ------------------


@pytest.mark.parametrize(
    ("name", "eps", "p95"),
    [("seed004_runc_cpu", 10000 / 36.7335, 3.79), ("seed004_kata_cpu", 10000 / 36.5747, 3.77)],
)
def test_seed_cpu_report_without_events_per_second(name: str, eps: float, p95: float) -> None:
    result = parse_report((FIXTURES / f"{name}.txt").read_text())
    assert (result.test, result.version, result.threads) == ("cpu", "1.0", 1)
    assert result.events_per_second_derived and result.events_per_second == pytest.approx(eps)
    assert (result.latency_pct, result.latency_pct_ms) == (95.0, p95)
    assert final_metrics(result)["latency_p95_ms"] == (p95, "ms")


@pytest.mark.parametrize(
    ("name", "ops", "mib_per_s"),
    [("seed004_runc_memory", 2172673.64, 2121.75), ("seed004_kata_memory", 2450366.94, 2392.94)],
)
def test_seed_memory_report(name: str, ops: float, mib_per_s: float) -> None:
    result = parse_report((FIXTURES / f"{name}.txt").read_text())
    assert result.test == "memory" and not result.events_per_second_derived
    assert (result.events_per_second, result.mib_per_s, result.total_mib) == (ops, mib_per_s, 102400.0)
    assert result.total_events == 104857600
