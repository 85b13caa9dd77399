"""Tests of the ab argv builder and parsers against real ab 2.3 output (tests/fixtures/ab).

The servers were nginx 1.22.1 on 127.0.0.1 (see tests/fixtures/ab/README.md). ``NAME.stderr.times``
holds the real arrival time of each stderr chunk, so progress tests replay the run's timing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.workloads.ab.parser import (
    AbParams,
    AbParseError,
    AbProgress,
    AbRequests,
    build_argv,
    classify_failure,
    final_metrics,
    limit_note,
    parse_ab_output,
    parse_gnuplot,
    parse_percentiles_csv,
    result_notes,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ab"
URL = "http://127.0.0.1:8080/index.html"


def data(name: str, suffix: str = "stdout") -> bytes:
    return (FIXTURES / f"{name}.{suffix}").read_bytes()


def replay(name: str, started_at: float | None = 0.0) -> AbProgress:
    """Feed NAME.stderr in the chunks and at the times it arrived."""
    progress = AbProgress(started_at)
    raw = data(name, "stderr")
    begin = 0
    for line in data(name, "stderr.times").decode().split("\n"):
        if line:
            when, end = line.split()
            progress.feed(raw[begin : int(end)], float(when))
            begin = int(end)
    progress.close()
    return progress


# --- argv ----------------------------------------------------------------------------------------


def test_argv_with_files() -> None:
    params = AbParams(requests=2000, concurrency=10, keepalive=True)
    argv = build_argv(params, URL, percentiles_file="/tmp/x/p.csv", gnuplot_file="/tmp/x/g.tsv")
    assert argv == ["ab", "-n", "2000", "-c", "10", "-k", "-e", "/tmp/x/p.csv", "-g", "/tmp/x/g.tsv", URL]


def test_argv_timelimit_puts_n_after_t() -> None:
    # ab reads options in order and -t resets n to 50000: -n must come after -t to cap the run.
    assert build_argv(AbParams(timelimit=30, concurrency=100), URL) == ["ab", "-t", "30", "-c", "100", URL]
    argv = build_argv(AbParams(timelimit=30, requests=200000, concurrency=100), URL, ab="/usr/bin/ab")
    assert argv == ["/usr/bin/ab", "-t", "30", "-n", "200000", "-c", "100", URL]


@pytest.mark.parametrize(
    ("params", "url"),
    [
        (AbParams(), URL),  # neither -n nor -t
        (AbParams(requests=10, concurrency=20), URL),  # ab refuses c > n
        (AbParams(requests=0), URL),
        (AbParams(requests=10, concurrency=0), URL),
        (AbParams(timelimit=0), URL),
        (AbParams(requests=10), "http://127.0.0.1:8080"),  # ab: invalid URL (no path)
        (AbParams(requests=10), "ftp://127.0.0.1/"),
        (AbParams(requests=10), "-k"),
        (AbParams(requests=10), "http://127.0.0.1/a b"),
        (AbParams(requests=10), "http://127.0.0.1/\n-k"),
    ],
)
def test_argv_refusals(params: AbParams, url: str) -> None:
    with pytest.raises(ValueError):
        build_argv(params, url)


@pytest.mark.parametrize("path", ["-q", "a\nb"])
def test_argv_refuses_option_like_file_names(path: str) -> None:
    with pytest.raises(ValueError):
        build_argv(AbParams(requests=200), URL, percentiles_file=path)
    with pytest.raises(ValueError):
        build_argv(AbParams(requests=200), URL, gnuplot_file=path)


# --- progress lines ------------------------------------------------------------------------------


def test_progress_with_real_arrival_times() -> None:
    progress = replay("ratelimited")
    samples = progress.samples
    # 10 chunks: the last brought "Completed 2500" and "Finished 2500" together
    assert [s.requests_completed for s in samples] == [250 * i for i in range(1, 11)]
    assert [s.finished for s in samples] == [False] * 9 + [True]
    assert samples[0].t == 0.256629
    assert samples[0].requests_per_s == pytest.approx(250 / 0.256629)
    # nginx's limit_req held the run at 1000 requests/s: every interval shows it
    for s in samples[1:]:
        assert s.requests_per_s == pytest.approx(1000, rel=0.03)
    assert samples[-1].metrics() == {
        "requests_completed": 2500.0,
        "requests_per_s": samples[-1].requests_per_s,
    }
    assert progress.finished == 2500 and progress.messages == []


def test_progress_without_start_time_and_bytewise() -> None:
    progress = AbProgress()
    raw = data("timelimit", "stderr")
    for i, byte in enumerate(raw):
        progress.feed(bytes([byte]), float(i))
    progress.close()
    assert [s.requests_completed for s in progress.samples] == [5000 * i for i in range(1, 7)] + [34883]
    assert progress.samples[0].requests_per_s is None  # no start time, no rate for the first line
    assert progress.samples[0].metrics() == {"requests_completed": 5000.0}
    assert all(s.requests_per_s is not None for s in progress.samples[1:])
    assert progress.finished == 34883


def test_progress_of_a_failed_run_keeps_the_message() -> None:
    progress = replay("refused")
    assert progress.samples == []
    assert progress.messages == ["apr_socket_recv: Connection refused (111)"]


def test_finished_on_its_own_is_an_end_marker() -> None:
    # not_found: -n 500, a line every 100 requests; "Finished 500" came in a chunk of its own
    progress = replay("not_found")
    assert [s.requests_completed for s in progress.samples] == [100, 200, 300, 400, 500, 500]
    assert progress.samples[-1].finished and progress.samples[-1].requests_per_s is None
    assert all(s.requests_per_s for s in progress.samples[:-1])


# --- the report ----------------------------------------------------------------------------------


def test_keepalive_report_and_files() -> None:
    result = parse_ab_output(data("keepalive"))
    assert (result.complete_requests, result.failed_requests, result.non_2xx_responses) == (2000, 0, 0)
    assert (result.keepalive_requests, result.concurrency, result.document_length) == (2000, 10, 1024)
    assert result.requests_per_second == 28390.14
    assert (result.time_per_request_ms, result.time_per_request_all_ms) == (0.352, 0.035)
    assert result.transfer_rate_kbytes_per_s == 35016.35
    assert result.connection_times_ms["Total"] == (0, 0, 0.2, 0, 3)
    assert result.percentiles_ms == {50: 0, 66: 0, 75: 0, 80: 0, 90: 0, 95: 0, 98: 1, 99: 1, 100: 3}
    assert result.server_software == "nginx/1.22.1"
    percentiles = parse_percentiles_csv(data("keepalive", "percentiles.csv"))
    assert sorted(percentiles) == list(range(101))
    requests = parse_gnuplot(data("keepalive", "gnuplot.tsv"))
    assert len(requests) == 2000
    metrics = final_metrics(result, percentiles, requests)
    assert metrics["requests_per_second"] == (28390.14, "req/s")
    assert metrics["transfer_rate_kbytes_per_s"] == (35016.35, "KiB/s")
    assert metrics["latency_p50_ms"] == (percentiles[50], "ms")
    assert metrics["latency_p99_ms"] == (percentiles[99], "ms")
    assert metrics["latency_max_ms"] == (percentiles[100], "ms")
    assert metrics["latency_p99_9_ms"] == (requests.percentile_ms(99.9), "ms")
    assert classify_failure(result, 0, data("keepalive", "stderr")) is None
    assert result_notes(result) == []


@pytest.mark.parametrize("name", ["keepalive", "no_keepalive", "ratelimited"])
def test_e_and_g_files_agree_under_abs_rule(name: str) -> None:
    """ab's -e row for p is request int(0.5 + n*p/100) by total time; -g has the same times in whole ms."""
    percentiles = parse_percentiles_csv(data(name, "percentiles.csv"))
    requests = parse_gnuplot(data(name, "gnuplot.tsv"))
    assert list(requests.total_ms) == sorted(requests.total_ms)  # -g rows come sorted by total time
    for p, ms in percentiles.items():
        microseconds = round(ms * 1000)
        assert (microseconds + 500) // 1000 == requests.percentile_ms(p), p


@pytest.mark.parametrize("name", ["keepalive", "no_keepalive", "ratelimited"])
def test_abs_table_uses_a_different_rule(name: str) -> None:
    """The stdout table's row for p is request n*p/100 (floor), rounded to ms."""
    result = parse_ab_output(data(name))
    ordered = sorted(parse_gnuplot(data(name, "gnuplot.tsv")).total_ms)
    for p, ms in result.percentiles_ms.items():
        assert ms == ordered[min(len(ordered) * p // 100, len(ordered) - 1)], p


def test_requests_per_second_from_the_gnuplot_file() -> None:
    requests = parse_gnuplot(data("ratelimited", "gnuplot.tsv"))
    counts = requests.per_second_counts()
    assert list(counts.values()) == [209, 1000, 999, 292]  # partial first and last seconds
    assert sum(counts.values()) == 2500
    assert list(counts) == list(range(min(requests.starts), min(requests.starts) + 4))
    assert requests.percentile_ms(0) == min(requests.total_ms)
    assert requests.percentile_ms(100) == 17.0
    with pytest.raises(ValueError):
        requests.percentile_ms(101)
    gaps = AbRequests((10, 13), (0, 0), (1, 1), (1, 2), (1, 1))
    assert gaps.per_second_counts() == {10: 1, 11: 0, 12: 0, 13: 1}
    assert AbRequests((), (), (), (), ()).per_second_counts() == {}


def test_without_files_the_table_gives_whole_ms_percentiles() -> None:
    result = parse_ab_output(data("no_keepalive"))
    metrics = final_metrics(result)
    assert "latency_p99_9_ms" not in metrics
    assert metrics["latency_p50_ms"] == (float(result.percentiles_ms[50]), "ms")
    assert metrics["latency_max_ms"] == (float(result.percentiles_ms[100]), "ms")


def test_not_found_is_reported_not_failed() -> None:
    result = parse_ab_output(data("not_found"))
    assert (result.complete_requests, result.non_2xx_responses, result.failed_requests) == (500, 500, 0)
    assert final_metrics(result)["non_2xx_responses"] == (500.0, "count")
    assert classify_failure(result, 0, data("not_found", "stderr")) is None
    assert result_notes(result) == [
        "500 of 500 responses were not 2xx (ab counts them as complete requests): "
        "check the URL and the server"
    ]


def test_timelimit_run() -> None:
    result = parse_ab_output(data("timelimit"))
    assert result.time_taken_s == 2.0
    assert result.complete_requests == 34883 < 50000  # stopped by -t 2 before the implied -n 50000
    assert classify_failure(result, 0) is None


def test_a_run_cut_short_by_its_time_limit_says_so() -> None:
    cut = parse_ab_output(data("timelimit"))  # -t 2: 34883 requests in 2.000 s
    note = limit_note(cut, timelimit=2, requests=100000, requests_set=True)
    assert note is not None and note.startswith("time-limited") and "34,883 of the 100,000" in note
    # a time-based run (the profile named no requests) ended as asked
    assert limit_note(cut, timelimit=2, requests=50000, requests_set=False) is None
    assert limit_note(cut, timelimit=None, requests=100000, requests_set=True) is None
    done = parse_ab_output(data("keepalive"))  # 2000 requests in 0.070 s
    assert limit_note(done, timelimit=30, requests=2000, requests_set=True) is None
    capped = limit_note(done, timelimit=30, requests=2000, requests_set=False)
    assert capped is not None and "long before its time limit of 30 s" in capped


def test_refused() -> None:
    with pytest.raises(AbParseError, match="Complete requests"):
        parse_ab_output(data("refused"))
    reason = classify_failure(None, 111, data("refused", "stderr"), data("refused"))
    assert reason == "ab stopped: Connection refused (apr_socket_recv) (exit status 111)"


def test_failure_lines_from_ab_source_formats() -> None:
    # Formats printed by ab 2.3 on other errors (apr_strerror text and errno in parentheses).
    stderr = "apr_socket_recv: Connection reset by peer (104)\nTotal of 1234 requests completed\n"
    assert (
        classify_failure(None, 104, stderr)
        == "ab stopped after 1234 requests: Connection reset by peer (apr_socket_recv) (exit status 104)"
    )
    stderr = "apr_pollset_poll: The timeout specified has expired (70007)\n"
    assert classify_failure(None, 1, stderr).startswith(  # type: ignore[union-attr]
        "ab stopped: The timeout specified has expired (apr_pollset_poll)"
    )
    assert classify_failure(None, 22, "ab: invalid URL\nUsage: ab [options]\n") == (
        "ab stopped: invalid URL (exit status 22)"
    )
    assert classify_failure(None, -9) == "ab printed no report (killed by signal 9)"


def test_every_request_failed() -> None:
    text = (
        data("keepalive")
        .decode()
        .replace(
            "Failed requests:        0",
            "Failed requests:        2000\n   (Connect: 0, Receive: 0, Length: 2000, Exceptions: 0)",
        )
    )
    result = parse_ab_output(text)
    assert result.failed_breakdown == {"connect": 0, "receive": 0, "length": 2000, "exceptions": 0}
    assert classify_failure(result, 0) == "every request failed (length 2000)"
    assert result_notes(result) == ["2000 requests failed (length 2000)"]


@pytest.mark.parametrize("bad", [b"", b"Percentage served,Time in ms\n50,x\n", b"starttime\n"])
def test_file_parsers_refuse_other_input(bad: bytes) -> None:
    with pytest.raises(AbParseError):
        parse_percentiles_csv(bad)
    with pytest.raises(AbParseError):
        parse_gnuplot(bad)
