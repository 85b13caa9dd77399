"""Tests of the iperf3 argv builders and parsers against real iperf3 3.12 output (tests/fixtures/iperf3).

The ``*.synthetic.jsonl`` files are NOT recordings: iperf3 3.12 has no --json-stream, so they are
real -J documents re-emitted as --json-stream events (see tests/fixtures/iperf3/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from katatui.core.workloads.iperf3.parser import (
    Iperf3JsonStream,
    Iperf3Params,
    Iperf3ParseError,
    Iperf3Result,
    Iperf3TextStream,
    build_client_argv,
    build_server_argv,
    classify_failure,
    detect_json_stream,
    final_metrics,
    iperf3_version,
    merge,
    parse_iperf3_json,
)

FIXTURES = Path(__file__).parent / "fixtures" / "iperf3"
# Recorded exit statuses (see tests/fixtures/iperf3/commands.txt).
EXIT = {"refused_text": 1, "sigint_text": 1, "sigint_json": 1, "json_stream_unsupported": 1}


def data(name: str, suffix: str = "stdout") -> bytes:
    return (FIXTURES / f"{name}.{suffix}").read_bytes()


def text_stream(name: str, chunk: int = 0) -> Iperf3TextStream:
    stream = Iperf3TextStream()
    raw = data(name)
    step = chunk or len(raw) or 1
    for i in range(0, len(raw), step):
        stream.feed(raw[i : i + step])
    stream.close()
    return stream


def json_stream(name: str, raw: bytes | None = None, chunk: int = 0) -> Iperf3JsonStream:
    stream = Iperf3JsonStream()
    raw = data(name, "synthetic.jsonl") if raw is None else raw
    step = chunk or len(raw) or 1
    for i in range(0, len(raw), step):
        stream.feed(raw[i : i + step])
    stream.close()
    return stream


# --- argv ----------------------------------------------------------------------------------------


def test_client_argv_text_mode_for_old_iperf3() -> None:
    argv = build_client_argv(Iperf3Params(streams=4, duration=3), "10.0.0.2", json_stream=False)
    assert argv == [
        "iperf3", "-c", "10.0.0.2", "-p", "5201", "-t", "3", "-P", "4", "-i", "1",
        "--connect-timeout", "10000", "-f", "k", "-V", "--forceflush",
    ]  # fmt: skip


def test_client_argv_json_stream_udp_reverse() -> None:
    params = Iperf3Params(reverse=True, udp=True, bitrate="100M", port=5300, connect_timeout_ms=None)
    argv = build_client_argv(params, "127.0.0.1", json_stream=True, iperf3="/usr/bin/iperf3")
    assert argv == [
        "/usr/bin/iperf3", "-c", "127.0.0.1", "-p", "5300", "-t", "10", "-P", "1", "-i", "1",
        "-R", "-u", "-b", "100M", "-J", "--json-stream",
    ]  # fmt: skip


def test_server_argv() -> None:
    assert build_server_argv(5202) == ["iperf3", "-s", "-p", "5202", "-1", "--bind", "127.0.0.1"]
    assert build_server_argv(one_off=False, bind=None) == ["iperf3", "-s", "-p", "5201"]


@pytest.mark.parametrize("server", ["-R", "a b", "host\n-R", "", "x\0"])
def test_client_argv_refuses_option_like_or_multiline_values(server: str) -> None:
    with pytest.raises(ValueError):
        build_client_argv(Iperf3Params(), server, json_stream=False)


@pytest.mark.parametrize(
    "params",
    [
        Iperf3Params(bitrate="-1"),
        Iperf3Params(bitrate="100M\n"),
        Iperf3Params(bitrate="fast"),
        Iperf3Params(port=0),
        Iperf3Params(port=70000),
        Iperf3Params(streams=0),
        Iperf3Params(duration=0),
    ],
)
def test_client_argv_refuses_bad_params(params: Iperf3Params) -> None:
    with pytest.raises(ValueError):
        build_client_argv(params, "127.0.0.1", json_stream=False)


def test_server_argv_refuses_option_like_bind() -> None:
    with pytest.raises(ValueError):
        build_server_argv(5201, bind="--help")


# --- version -------------------------------------------------------------------------------------


def test_detect_json_stream() -> None:
    recorded = data("version").decode()
    assert recorded.startswith("iperf 3.12 (cJSON 1.7.15)\n")
    assert iperf3_version(recorded) == (3, 12, 0)
    assert not detect_json_stream(recorded)
    assert detect_json_stream("iperf 3.17.1 (cJSON 1.7.15)\nLinux x 6.1.0 #1 SMP x86_64\n")
    assert detect_json_stream("iperf 3.18")
    assert not detect_json_stream("iperf 3.9")
    assert not detect_json_stream("iperf3: unrecognized option\n")
    assert not detect_json_stream("")
    # -V prints the same first line in a client run
    assert iperf3_version(data("tcp_1stream").decode()) == (3, 12, 0)


# --- text output (--forceflush -f k -V) ----------------------------------------------------------


def test_single_stream_text() -> None:
    stream = text_stream("tcp_1stream")
    assert [(s.t, s.seconds, s.bits_per_second, s.retransmits) for s in stream.samples] == [
        (1.0, 1.0, 27338770e3, 7),
        (2.0, 1.0, 37320575e3, 11),
        (3.0, 1.0, 28514888e3, 6),
    ]
    assert stream.samples[0].metrics() == {"bits_per_second": 27338770e3, "retransmits": 7.0}
    result = stream.result
    assert result is not None
    assert final_metrics(result) == {
        "sent_bits_per_second": (31057734e3, "bit/s"),
        "received_bits_per_second": (31043227e3, "bit/s"),
        "retransmits": (24.0, "count"),
        "cpu_local_percent": (93.0, "%"),
        "cpu_remote_percent": (71.8, "%"),
    }
    assert (result.protocol, result.streams, result.seconds, result.reverse) == ("TCP", 1, 3.0, False)
    assert stream.done and classify_failure(stream, 0) is None


def test_parallel_streams_use_the_sum_lines() -> None:
    stream = text_stream("tcp_4streams")
    assert stream.streams == 4
    assert [(s.t, s.bits_per_second, s.retransmits) for s in stream.samples] == [
        (1.0, 34012571e3, 0),
        (2.0, 33788003e3, 0),
        (3.0, 30388230e3, 0),
    ]
    result = stream.result
    assert result is not None
    assert result.sent_bits_per_second == 32734077e3
    assert result.received_bits_per_second == 32733651e3
    assert (result.retransmits, result.cpu_local_percent, result.cpu_remote_percent) == (0, 89.6, 89.3)


def test_streams_hint_overrides_counting() -> None:
    stream = Iperf3TextStream(streams=1)
    stream.feed(data("tcp_4streams"))
    # told "one stream", it reports every per-stream line and no [SUM] line
    assert len(stream.samples) == 12


def test_reverse_text_has_retransmits_but_no_cpu_line() -> None:
    stream = text_stream("tcp_reverse")
    result = stream.result
    assert result is not None and result.reverse
    assert all(s.retransmits is None for s in stream.samples)  # the client is the receiver
    assert [s.bits_per_second for s in stream.samples] == [25506383e3, 25250656e3, 25163727e3]
    # iperf3 3.12 prints no "CPU Utilization" line in reverse text mode (it does in -J)
    assert final_metrics(result) == {
        "sent_bits_per_second": (25304760e3, "bit/s"),
        "received_bits_per_second": (25306923e3, "bit/s"),
        "retransmits": (15.0, "count"),
    }


def test_udp_text() -> None:
    stream = text_stream("udp_100m")
    assert [s.bits_per_second for s in stream.samples] == [100132e3, 99877e3, 100137e3]
    assert all(s.retransmits is None for s in stream.samples)
    result = stream.result
    assert result is not None
    assert (result.protocol, result.lost_packets, result.packets) == ("UDP", 0, 1145)
    assert final_metrics(result) == {
        "sent_bits_per_second": (100049e3, "bit/s"),
        "received_bits_per_second": (100044e3, "bit/s"),
        "cpu_local_percent": (2.6, "%"),
        "cpu_remote_percent": (1.1, "%"),
        "jitter_ms": (0.111, "ms"),  # the receiver's line; the sender's says 0.000 ms
        "lost_percent": (0.0, "%"),
    }


def test_adaptive_units_without_f_k() -> None:
    stream = text_stream("tcp_plain")
    assert [s.bits_per_second for s in stream.samples] == [29.1e9, 29.8e9]
    result = stream.result
    assert result is not None
    assert (result.sent_bits_per_second, result.received_bits_per_second, result.retransmits) == (
        29.5e9,
        29.5e9,
        1,
    )
    assert result.cpu_local_percent is None  # no -V, no CPU line
    assert result.protocol == ""  # no -V, no "Starting Test" line


@pytest.mark.parametrize("name", ["tcp_1stream", "tcp_4streams", "tcp_reverse", "udp_100m", "sigint_text"])
def test_text_chunking_does_not_matter(name: str) -> None:
    whole, bytewise = text_stream(name), text_stream(name, chunk=1)
    assert whole.samples == bytewise.samples
    assert whole.result == bytewise.result


def test_interrupted_text_run_is_a_failure() -> None:
    stream = text_stream("sigint_text")
    assert [s.t for s in stream.samples] == [1.0, 2.0, 2.51]  # the last interval is partial
    result = stream.result
    assert result is not None and result.received_bits_per_second == 0.0  # results never exchanged
    assert not stream.done
    reason = classify_failure(stream, EXIT["sigint_text"], data("sigint_text", "stderr"))
    assert reason == "iperf3 was interrupted (the client has terminated); no complete result"
    # the interrupt line can also be fed to the stream itself
    stream.feed_stderr(data("sigint_text", "stderr"))
    assert stream.interrupted == "the client has terminated"
    assert classify_failure(stream, EXIT["sigint_text"]) == reason


def test_refused_text_run() -> None:
    stream = text_stream("refused_text")
    assert stream.samples == [] and stream.result is None
    reason = classify_failure(stream, EXIT["refused_text"], data("refused_text", "stderr"))
    assert reason == "iperf3 failed: unable to connect to server: Connection refused (exit status 1)"


def test_text_without_summary_is_not_a_result() -> None:
    raw = data("tcp_1stream")
    cut = raw[: raw.index(b"- - -")]
    stream = Iperf3TextStream()
    stream.feed(cut)
    stream.close()
    assert len(stream.samples) == 3 and stream.result is None
    assert classify_failure(stream, -9) == "iperf3 was killed by signal 9 before it finished"
    assert classify_failure(stream, 0) == "iperf3 printed no final result (exit status 0)"


# --- -J documents --------------------------------------------------------------------------------


def test_json_single_stream() -> None:
    result = parse_iperf3_json(data("json_1stream"))
    doc = json.loads(data("json_1stream"))
    end = doc["end"]
    assert final_metrics(result) == {
        "sent_bits_per_second": (end["sum_sent"]["bits_per_second"], "bit/s"),
        "received_bits_per_second": (end["sum_received"]["bits_per_second"], "bit/s"),
        "retransmits": (2.0, "count"),
        "cpu_local_percent": (end["cpu_utilization_percent"]["host_total"], "%"),
        "cpu_remote_percent": (end["cpu_utilization_percent"]["remote_total"], "%"),
    }
    assert result.sent_bits_per_second == 26127448299.399536
    assert (result.protocol, result.streams, result.reverse, result.error) == ("TCP", 1, False, None)
    assert classify_failure(result, 0) is None


def test_json_parallel_and_reverse() -> None:
    four = parse_iperf3_json(data("json_4streams"))
    assert (four.streams, four.retransmits) == (4, 2)
    assert four.sent_bits_per_second == 31836469158.90405
    assert four.received_bits_per_second == 31781820674.365067
    reverse = parse_iperf3_json(data("json_reverse"))
    assert reverse.reverse and reverse.retransmits == 3  # the server's, as the sender
    assert reverse.cpu_local_percent == 73.49927795849635  # -J has CPU figures in reverse mode


def test_json_udp_uses_the_receivers_loss_and_jitter() -> None:
    result = parse_iperf3_json(data("json_udp"))
    assert result.protocol == "UDP" and result.retransmits is None
    assert (result.jitter_ms, result.lost_packets, result.packets, result.lost_percent) == (
        0.012700457834024632,
        0,
        763,
        0.0,
    )
    assert result.received_bits_per_second == 99999986.0011129


def test_json_connection_refused_exits_zero_but_fails() -> None:
    result = parse_iperf3_json(data("refused_json"))
    assert result.error == "unable to connect to server: Connection refused"
    assert final_metrics(result) == {}
    assert classify_failure(result, 0) == "iperf3 failed: unable to connect to server: Connection refused"


def test_json_interrupted() -> None:
    result = parse_iperf3_json(data("sigint_json"))
    assert result.received_bits_per_second == 0.0
    reason = classify_failure(result, EXIT["sigint_json"])
    assert reason == "iperf3 was interrupted (the client has terminated); no complete result"


@pytest.mark.parametrize("text", [b"", b"not json", b"[1, 2]", b'{"start": {}}', data("tcp_1stream")])
def test_parse_json_refuses_other_input(text: bytes) -> None:
    with pytest.raises(Iperf3ParseError, match="iperf3 -J"):
        parse_iperf3_json(text)


# --- --json-stream (synthetic events built from the real -J documents) ---------------------------


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("json_stream_1stream", "json_1stream"),
        ("json_stream_4streams", "json_4streams"),
        ("json_stream_udp", "json_udp"),
    ],
)
def test_json_stream_events(name: str, source: str) -> None:
    doc = json.loads(data(source))
    for chunk in (0, 1, 4096):
        stream = json_stream(name, chunk=chunk)
        assert [s.bits_per_second for s in stream.samples] == [
            i["sum"]["bits_per_second"] for i in doc["intervals"]
        ]
        assert [s.t for s in stream.samples] == [i["sum"]["end"] for i in doc["intervals"]]
        assert stream.result is not None
        assert final_metrics(stream.result) == final_metrics(parse_iperf3_json(data(source)))
        assert classify_failure(stream, 0) is None
        assert stream.messages == [] and stream.other_events == 0


def test_json_stream_error_event() -> None:
    stream = json_stream("json_stream_refused")
    assert stream.samples == []
    assert classify_failure(stream, 1) == "iperf3 failed: unable to connect to server: Connection refused"


def test_json_stream_cut_mid_event_and_unknown_events() -> None:
    raw = data("json_stream_1stream", "synthetic.jsonl")
    lines = raw.splitlines(keepends=True)
    cut = b"".join(lines[:3]) + lines[3][:50]
    stream = json_stream("", raw=cut)
    assert len(stream.samples) == 2 and stream.truncated
    assert (
        classify_failure(stream, -9)
        == "iperf3's output stops in the middle of a JSON event (killed by signal 9)"
    )
    extra = b'{"event":"server_output_text","data":"x"}\nwarning: something\n' + raw
    stream = json_stream("", raw=extra)
    assert stream.other_events == 1 and stream.messages == ["warning: something"]
    assert classify_failure(stream, 0) is None
    stream = json_stream("", raw=b"".join(lines[:-1]))  # no end event
    assert classify_failure(stream, 0) == "iperf3 printed no final result (exit status 0)"


def test_json_stream_on_an_iperf3_without_it() -> None:
    stream = Iperf3JsonStream()
    stream.feed(data("json_stream_unsupported"))  # the usage text
    stream.close()
    reason = classify_failure(
        stream, EXIT["json_stream_unsupported"], data("json_stream_unsupported", "stderr")
    )
    assert reason == "this iperf3 has no --json-stream (it was added in iperf3 3.17): run it in text mode"


# --- merging clients -----------------------------------------------------------------------------


def test_merge_sums_rates_and_recomputes_loss() -> None:
    a = Iperf3Result(
        "UDP", sent_bits_per_second=1e6, received_bits_per_second=9e5, lost_packets=1, packets=10
    )
    b = Iperf3Result(
        "UDP", sent_bits_per_second=3e6, received_bits_per_second=3e6, lost_packets=0, packets=30
    )
    merged = merge([a, b])
    assert (merged.sent_bits_per_second, merged.received_bits_per_second) == (4e6, 3.9e6)
    assert merged.lost_percent == 2.5
    tcp = [parse_iperf3_json(data("json_1stream")), parse_iperf3_json(data("json_4streams"))]
    both = merge(tcp)
    assert both.retransmits == 4 and both.streams == 5
    assert both.sent_bits_per_second == tcp[0].sent_bits_per_second + tcp[1].sent_bits_per_second  # type: ignore[operator]
    with pytest.raises(ValueError):
        merge([])
