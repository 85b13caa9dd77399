"""iperf3: the client and server argument lists, and parsers for iperf3's text, -J and --json-stream output.

How a run is read, by iperf3 version:

- iperf3 >= 3.17 (``detect_json_stream`` says so): the client runs with ``-J --json-stream`` and
  prints one JSON event per line (``start``, ``interval`` ..., ``end``, or ``error`` then ``end``).
  ``Iperf3JsonStream`` reads them; the ``end`` event carries the same object as ``-J``'s ``"end"``.
- older iperf3 (Debian bookworm ships 3.12, which has no ``--json-stream``): ``-J`` prints a single
  object only when the test is over, so the client runs in text mode with ``--forceflush -f k -V``
  instead. ``--forceflush`` makes every interval line reach a pipe at once (text is block-buffered
  otherwise), ``-f k`` prints every rate in Kbit/s, so rates keep 1 kbit/s resolution instead of
  the 3 significant digits of the adaptive unit ("16.3 Gbits/sec"), and ``-V`` adds the
  "CPU Utilization: local/sender X% ..., remote/receiver Y% ..." line. ``Iperf3TextStream`` reads
  the interval lines live and the sender/receiver summary at the end: the same final metrics as
  ``-J`` except that iperf3 3.12 prints no CPU line in reverse (``-R``) text mode (it does in -J),
  and rates come in whole kbit/s.

``parse_iperf3_json`` reads a ``-J`` file (import). With ``-J``, iperf3 reports a failure such as
"connection refused" with exit status 0 and an ``"error"`` key: ``classify_failure`` treats that
key as a failed run whatever the exit status.

One iperf3 server serves one test at a time ("the server is busy running a test"): concurrent
clients need one server (port) each. Everything here is a pure function over bytes.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from katatui.core.errors import WorkloadError

DEFAULT_PORT = 5201
JSON_STREAM_SINCE = (3, 17)


class Iperf3ParseError(WorkloadError, ValueError):
    """Input that is not iperf3 output of the expected kind; the message says what was expected."""


@dataclass(frozen=True)
class Iperf3Params:
    """One client run, in iperf3's own terms.

    ``bitrate`` is iperf3's ``-b`` ("100M", "1G", "0" for unlimited); without it iperf3 sends
    UDP at 1 Mbit/s and TCP unlimited. ``connect_timeout_ms`` bounds the control connection
    setup (``--connect-timeout``) so an unreachable server fails fast instead of hanging.
    """

    streams: int = 1
    reverse: bool = False
    duration: int = 10
    udp: bool = False
    bitrate: str | None = None
    port: int = DEFAULT_PORT
    connect_timeout_ms: int | None = 10000


_BITRATE = re.compile(r"\d+(?:\.\d+)?[KMGTkmgt]?(?:/\d+)?")


def _text(option: str, value: str) -> str:
    # argv never goes through a shell, but a leading "-" would be read as an option.
    if not value or value.startswith("-") or any(c.isspace() or c == "\0" for c in value):
        raise ValueError(f"iperf3 {option}: refusing value {value!r}")
    return value


def _count(option: str, value: int, low: int, high: int) -> str:
    if not low <= value <= high:
        raise ValueError(f"iperf3 {option}: {value} is out of range {low}..{high}")
    return str(value)


def build_client_argv(
    params: Iperf3Params, server: str, *, json_stream: bool, iperf3: str = "iperf3"
) -> list[str]:
    """The client's argv: ``--json-stream`` events when the iperf3 has them, else flushed text."""
    argv = [
        _text("binary", iperf3),
        "-c",
        _text("-c", server),
        "-p",
        _count("-p", params.port, 1, 65535),
        "-t",
        _count("-t", params.duration, 1, 86400),
        "-P",
        _count("-P", params.streams, 1, 128),
        "-i",
        "1",
    ]
    if params.reverse:
        argv.append("-R")
    if params.udp:
        argv.append("-u")
    if params.bitrate is not None:
        if not _BITRATE.fullmatch(params.bitrate):
            raise ValueError(f"iperf3 -b: refusing value {params.bitrate!r} (expected e.g. 100M, 1G, 0)")
        argv += ["-b", params.bitrate]
    if params.connect_timeout_ms is not None:
        argv += ["--connect-timeout", _count("--connect-timeout", params.connect_timeout_ms, 1, 3600000)]
    argv += ["-J", "--json-stream"] if json_stream else ["-f", "k", "-V", "--forceflush"]
    return argv


def build_server_argv(
    port: int = DEFAULT_PORT, *, one_off: bool = True, bind: str | None = "127.0.0.1", iperf3: str = "iperf3"
) -> list[str]:
    """The server's argv. ``bind=None`` listens on every address; the default is loopback only.

    ``one_off`` (``-1``) makes the server exit after one test, so nothing is left listening.
    """
    argv = [_text("binary", iperf3), "-s", "-p", _count("-p", port, 1, 65535)]
    if one_off:
        argv.append("-1")
    if bind is not None:
        argv += ["--bind", _text("--bind", bind)]
    return argv


_VERSION = re.compile(r"\biperf (\d+)\.(\d+)(?:\.(\d+))?")


def iperf3_version(version_output: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from ``iperf3 --version`` ("iperf 3.12 (cJSON 1.7.15)") or -V's first line."""
    for line in version_output.splitlines():
        if line.strip():
            match = _VERSION.search(line)
            if match is None:
                return None
            return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    return None


def detect_json_stream(version_output: str) -> bool:
    """Whether this iperf3 has ``--json-stream`` (3.17 and later)."""
    version = iperf3_version(version_output)
    return version is not None and version[:2] >= JSON_STREAM_SINCE


@dataclass(frozen=True)
class Iperf3Sample:
    """One reporting interval: the whole test (all streams) in one direction.

    ``t`` is the end of the interval in seconds since the test started, as iperf3 prints it.
    ``retransmits`` is only known when this end is the TCP sender.
    """

    t: float
    seconds: float
    bits_per_second: float
    retransmits: int | None = None
    omitted: bool = False

    def metrics(self) -> dict[str, float]:
        out = {"bits_per_second": self.bits_per_second}
        if self.retransmits is not None:
            out["retransmits"] = float(self.retransmits)
        return out


@dataclass(frozen=True)
class Iperf3Result:
    """A whole test as the client reports it; a field is None when the output does not give it.

    ``sent_bits_per_second`` is the sending side's rate (the client, or the server with ``-R``),
    ``received_bits_per_second`` the receiving side's. ``cpu_local_percent`` is the client's
    process CPU time over the test, ``cpu_remote_percent`` the server's. ``error`` is iperf3's own
    error message (``-J``'s ``"error"`` key, a ``--json-stream`` error event, or an "iperf3: error -"
    line).
    """

    protocol: str = ""
    reverse: bool = False
    streams: int | None = None
    seconds: float | None = None
    sent_bits_per_second: float | None = None
    received_bits_per_second: float | None = None
    retransmits: int | None = None
    cpu_local_percent: float | None = None
    cpu_remote_percent: float | None = None
    jitter_ms: float | None = None
    lost_packets: int | None = None
    packets: int | None = None
    lost_percent: float | None = None
    error: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def final_metrics(result: Iperf3Result) -> dict[str, tuple[float, str]]:
    """Result metrics (name -> (value, unit)) for the fields the run reported."""
    out: dict[str, tuple[float, str]] = {}
    for name, value, unit in (
        ("sent_bits_per_second", result.sent_bits_per_second, "bit/s"),
        ("received_bits_per_second", result.received_bits_per_second, "bit/s"),
        ("retransmits", result.retransmits, "count"),
        ("cpu_local_percent", result.cpu_local_percent, "%"),
        ("cpu_remote_percent", result.cpu_remote_percent, "%"),
        ("jitter_ms", result.jitter_ms, "ms"),
        ("lost_percent", result.lost_percent, "%"),
    ):
        if value is not None:
            out[name] = (float(value), unit)
    return out


# ---------------------------------------------------------------------------------------------
# -J documents and --json-stream events


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _float(obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def result_from_json(
    start: Mapping[str, Any], end: Mapping[str, Any], error: str | None = None
) -> Iperf3Result:
    """A result from -J's ``start`` and ``end`` objects (also --json-stream's start and end events).

    TCP: ``sum_sent``/``sum_received``. UDP: iperf3 3.12 gives ``sum_sent`` (the sender's view,
    jitter 0) and ``sum_received`` (jitter and loss as the receiver saw them), older versions only
    ``sum``; loss and jitter are taken from the receiver's summary when there is one.
    """
    test = _obj(start.get("test_start"))
    sent, received, udp_sum = _obj(end.get("sum_sent")), _obj(end.get("sum_received")), _obj(end.get("sum"))
    protocol = str(test.get("protocol", ""))
    if not sent and udp_sum:
        sent = udp_sum
    loss = received if "jitter_ms" in received else udp_sum
    cpu = _obj(end.get("cpu_utilization_percent"))
    seconds = [s for s in (_float(sent, "seconds"), _float(received, "seconds")) if s is not None]
    is_udp = protocol == "UDP" or "jitter_ms" in loss
    return Iperf3Result(
        protocol=protocol,
        reverse=bool(test.get("reverse", 0)),
        streams=_int(test, "num_streams"),
        seconds=max(seconds) if seconds else None,
        sent_bits_per_second=_float(sent, "bits_per_second"),
        received_bits_per_second=_float(received, "bits_per_second"),
        retransmits=_int(sent, "retransmits"),
        cpu_local_percent=_float(cpu, "host_total"),
        cpu_remote_percent=_float(cpu, "remote_total"),
        jitter_ms=_float(loss, "jitter_ms") if is_udp else None,
        lost_packets=_int(loss, "lost_packets") if is_udp else None,
        packets=_int(loss, "packets") if is_udp else None,
        lost_percent=_float(loss, "lost_percent") if is_udp else None,
        error=error,
        raw={"start": start, "end": end},
    )


def parse_iperf3_json(data: bytes | str) -> Iperf3Result:
    """The result in a file written by ``iperf3 -J`` (one JSON object).

    An object with an ``"error"`` key is still returned (with ``error`` set, and whatever partial
    figures iperf3 put in ``end``): that is how -J reports a failed run, with exit status 0.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    expected = 'expected the output of iperf3 -J (a JSON object with "start" and "end")'
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise Iperf3ParseError(f"{expected}; not JSON: {exc}") from exc
    if not isinstance(obj, dict) or "end" not in obj or "start" not in obj:
        raise Iperf3ParseError(expected)
    error = obj.get("error")
    result = result_from_json(
        _obj(obj.get("start")), _obj(obj.get("end")), None if error is None else str(error)
    )
    return replace(result, raw=obj)


def _sample_from_interval(data: Mapping[str, Any]) -> Iperf3Sample | None:
    total = _obj(data.get("sum"))
    if not total:
        streams = data.get("streams")
        total = _obj(streams[0]) if isinstance(streams, list) and len(streams) == 1 else {}
    end, seconds, bps = _float(total, "end"), _float(total, "seconds"), _float(total, "bits_per_second")
    if end is None or seconds is None or bps is None:
        return None
    return Iperf3Sample(end, seconds, bps, _int(total, "retransmits"), bool(total.get("omitted", False)))


class Iperf3JsonStream:
    """Incremental reader of ``--json-stream`` output: one JSON event object per line.

    Events (iperf3 3.17+): ``{"event": "start", "data": {...}}``, one ``"interval"`` per report
    (``data`` like an element of -J's ``"intervals"``), ``"end"`` (``data`` like -J's ``"end"``),
    and on failure ``{"event": "error", "data": "message"}`` followed by an empty ``end``. Unknown
    events (for example server output with ``--get-server-output``) are counted and ignored; lines
    that are not JSON events go to ``messages``.
    """

    def __init__(self) -> None:
        self.samples: list[Iperf3Sample] = []
        self.messages: list[str] = []
        self.start: Mapping[str, Any] = {}
        self.end: Mapping[str, Any] | None = None
        self.error: str | None = None
        self.other_events = 0
        self.truncated = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    @property
    def result(self) -> Iperf3Result | None:
        if self.end is None:
            return Iperf3Result(error=self.error) if self.error is not None else None
        return result_from_json(self.start, self.end, self.error)

    def feed(self, data: bytes) -> list[Iperf3Sample]:
        text = self._pending + self._utf8.decode(data)
        *lines, self._pending = text.split("\n")
        return [s for s in (self._line(line) for line in lines) if s is not None]

    def close(self) -> list[Iperf3Sample]:
        rest = self._pending + self._utf8.decode(b"", final=True)
        self._pending = ""
        if rest.strip():
            if rest.lstrip().startswith("{"):
                try:
                    json.loads(rest)
                except ValueError:
                    self.truncated = True
                    return []
            sample = self._line(rest)
            return [sample] if sample is not None else []
        return []

    def _line(self, line: str) -> Iperf3Sample | None:
        line = line.strip()
        if not line:
            return None
        try:
            event = json.loads(line)
        except ValueError:
            self.messages.append(line[:300])
            return None
        if not isinstance(event, dict) or "event" not in event:
            self.messages.append(line[:300])
            return None
        kind, data = event.get("event"), event.get("data")
        if kind == "start":
            self.start = _obj(data)
        elif kind == "interval":
            sample = _sample_from_interval(_obj(data))
            if sample is not None:
                self.samples.append(sample)
                return sample
        elif kind == "end":
            self.end = _obj(data)
        elif kind == "error":
            self.error = str(data)
        else:
            self.other_events += 1
        return None


# ---------------------------------------------------------------------------------------------
# Text output (--forceflush, with or without -V and -f k)

_BITS = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_BYTES = {"": 1.0, "K": 2.0**10, "M": 2.0**20, "G": 2.0**30, "T": 2.0**40}
_DATA_LINE = re.compile(
    r"^\[\s*(?P<id>\d+|SUM)\]\s+(?P<start>\d+(?:\.\d+)?)-\s*(?P<end>\d+(?:\.\d+)?)\s+sec\s+"
    r"(?P<xfer>\d+(?:\.\d+)?)\s+(?P<xunit>[KMGT]?)Bytes\s+"
    r"(?P<rate>\d+(?:\.\d+)?)\s+(?P<runit>[KMGT]?)(?P<rkind>bits|Bytes)/sec(?P<rest>.*)$"
)
_ROLE = re.compile(r"\s(sender|receiver)\s*$")
_UDP_LOSS = re.compile(r"(?P<jitter>\d+(?:\.\d+)?)\s+ms\s+(?P<lost>-?\d+)/(?P<total>\d+)\s+\(")
_INT = re.compile(r"^\s*(\d+)\b")
_CPU = re.compile(
    r"^CPU Utilization: local/\w+ (?P<local>\d+(?:\.\d+)?)%.*?remote/\w+ (?P<remote>\d+(?:\.\d+)?)%"
)
_STARTING = re.compile(r"^Starting Test: protocol: (?P<proto>\w+), (?P<streams>\d+) streams")
_CONNECTED = re.compile(r"^\[\s*\d+\] local .* connected to ")
_IPERF_MSG = re.compile(r"^iperf3: (?P<kind>error|interrupt) - (?P<msg>.*)$")


@dataclass(frozen=True)
class _Summary:
    seconds: float
    bits_per_second: float
    retransmits: int | None
    jitter_ms: float | None
    lost: int | None
    total: int | None


class Iperf3TextStream:
    """Incremental reader of the client's text output.

    Live samples come from the per-interval lines: with several streams (``-P``) the ``[SUM]``
    lines, with one stream that stream's line. The number of streams is ``streams`` if given,
    else the number of "[ N] local ... connected to ..." lines before the first interval. The
    final result comes from the summary lines ending in "sender" / "receiver" (the ``[SUM]`` pair
    when there is one) and -V's "CPU Utilization" line. "iperf3: error - ..." and
    "iperf3: interrupt - ..." lines (stderr, or stdout with ``--logfile``) can be fed to
    ``feed_stderr`` or are picked up by ``classify_failure``.
    """

    def __init__(self, streams: int | None = None) -> None:
        self.samples: list[Iperf3Sample] = []
        self.messages: list[str] = []
        self.protocol = ""
        self.reverse = False
        self.done = False  # saw "iperf Done."
        self.errors: list[str] = []
        self.interrupted: str | None = None
        self._streams_hint = streams
        self._connected = 0
        self._header = ""
        self._summaries: dict[tuple[str, str], _Summary] = {}
        self._cpu: tuple[float, float] | None = None
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    @property
    def streams(self) -> int | None:
        return self._streams_hint or self._connected or None

    def feed(self, data: bytes) -> list[Iperf3Sample]:
        text = self._pending + self._utf8.decode(data)
        *lines, self._pending = text.split("\n")
        return [s for s in (self._line(line) for line in lines) if s is not None]

    def close(self) -> list[Iperf3Sample]:
        rest = self._pending + self._utf8.decode(b"", final=True)
        self._pending = ""
        sample = self._line(rest) if rest.strip() else None
        return [sample] if sample is not None else []

    def feed_stderr(self, data: bytes | str) -> None:
        """iperf3's stderr: keeps its error and interrupt messages."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        for line in text.splitlines():
            self._message(line.strip())

    def _message(self, line: str) -> bool:
        match = _IPERF_MSG.match(line)
        if match is None:
            return False
        if match.group("kind") == "error":
            self.errors.append(match.group("msg"))
        elif self.interrupted is None:
            self.interrupted = match.group("msg")
        return True

    def _line(self, raw: str) -> Iperf3Sample | None:
        line = raw.rstrip()
        if line.startswith("[ ID]"):
            self._header = line
            return None
        match = _DATA_LINE.match(line)
        if match is None:
            self._other(line.strip())
            return None
        start, end = float(match.group("start")), float(match.group("end"))
        rate = float(match.group("rate"))
        if match.group("rkind") == "bits":
            bps = rate * _BITS[match.group("runit")]
        else:
            bps = rate * _BYTES[match.group("runit")] * 8
        rest = match.group("rest")
        role = _ROLE.search(rest)
        retr: int | None = None
        if "Retr" in self._header and (role is None or role.group(1) == "sender"):
            found = _INT.match(rest)
            retr = int(found.group(1)) if found else None
        sid = match.group("id")
        if role is not None:
            loss = _UDP_LOSS.search(rest)
            self._summaries[(sid, role.group(1))] = _Summary(
                end,
                bps,
                retr,
                float(loss.group("jitter")) if loss else None,
                int(loss.group("lost")) if loss else None,
                int(loss.group("total")) if loss else None,
            )
            return None
        if end <= start:
            return None
        streams = self.streams or 1
        if (sid == "SUM") != (streams > 1):
            return None
        sample = Iperf3Sample(end, end - start, bps, retr, "(omitted)" in rest)
        self.samples.append(sample)
        return sample

    def _other(self, line: str) -> None:
        if not line or line.startswith("- - -"):
            return
        if self._message(line):
            return
        if line == "iperf Done.":
            self.done = True
        elif line.startswith("Reverse mode,"):
            self.reverse = True
        elif _CONNECTED.match(line):
            if not self.samples:
                self._connected += 1
        elif (m := _STARTING.match(line)) is not None:
            self.protocol = m.group("proto")
        elif (m := _CPU.match(line)) is not None:
            self._cpu = (float(m.group("local")), float(m.group("remote")))
        elif len(self.messages) < 200:
            self.messages.append(line[:300])

    @property
    def result(self) -> Iperf3Result | None:
        """The final result, or None before the summary lines."""
        ids = {sid for sid, _ in self._summaries}
        if not ids:
            return None
        sid = "SUM" if "SUM" in ids else min(ids, key=lambda s: int(s))
        sender, receiver = self._summaries.get((sid, "sender")), self._summaries.get((sid, "receiver"))
        loss = receiver if receiver is not None and receiver.total is not None else None
        udp = loss is not None or self.protocol == "UDP"
        seconds = [s.seconds for s in (sender, receiver) if s is not None]
        return Iperf3Result(
            protocol=self.protocol or ("UDP" if udp else ""),
            reverse=self.reverse,
            streams=self.streams,
            seconds=max(seconds) if seconds else None,
            sent_bits_per_second=sender.bits_per_second if sender else None,
            received_bits_per_second=receiver.bits_per_second if receiver else None,
            retransmits=sender.retransmits if sender else None,
            cpu_local_percent=self._cpu[0] if self._cpu else None,
            cpu_remote_percent=self._cpu[1] if self._cpu else None,
            jitter_ms=loss.jitter_ms if loss else None,
            lost_packets=loss.lost if loss else None,
            packets=loss.total if loss else None,
            lost_percent=100.0 * loss.lost / loss.total
            if loss and loss.lost is not None and loss.total
            else None,
            error=self.errors[0] if self.errors else None,
        )


def _stderr_messages(stderr: bytes | str) -> tuple[list[str], str | None, bool]:
    """(iperf3 error messages, interrupt message, unrecognized --json-stream) from stderr."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    errors: list[str] = []
    interrupt: str | None = None
    unsupported = False
    for line in text.splitlines():
        line = line.strip()
        match = _IPERF_MSG.match(line)
        if match is not None:
            if match.group("kind") == "error":
                errors.append(match.group("msg"))
            elif interrupt is None:
                interrupt = match.group("msg")
        elif "unrecognized option '--json-stream'" in line:
            unsupported = True
        elif line.startswith("iperf3: ") and len(errors) < 5:
            errors.append(line.removeprefix("iperf3: "))
    return errors, interrupt, unsupported


def classify_failure(
    source: Iperf3TextStream | Iperf3JsonStream | Iperf3Result | None,
    returncode: int,
    stderr: bytes | str = b"",
) -> str | None:
    """One line saying why a client run failed, or None when its result is usable.

    A -J / --json-stream error (exit status 0 for "connection refused"!) and "iperf3: error -"
    lines are failures with iperf3's own message. An interrupted run ("iperf3: interrupt - the
    client has terminated", a signal) is a failure even though iperf3 prints a summary: its
    receiver side is zero because the results were never exchanged.
    """
    errors, interrupt, unsupported = _stderr_messages(stderr)
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    if unsupported:
        return "this iperf3 has no --json-stream (it was added in iperf3 3.17): run it in text mode"
    if isinstance(source, Iperf3TextStream):
        errors = source.errors + errors
        interrupt = source.interrupted or interrupt
        result = source.result
        complete = source.done
    elif isinstance(source, Iperf3JsonStream):
        result = source.result
        complete = source.end is not None
        if source.truncated:
            return f"iperf3's output stops in the middle of a JSON event ({how})"
    else:
        result = source
        complete = source is not None
    if result is not None and result.error:
        if result.error.startswith("interrupt - "):
            return f"iperf3 was interrupted ({result.error.removeprefix('interrupt - ')}); no complete result"
        return f"iperf3 failed: {result.error}"
    if errors:
        return f"iperf3 failed: {errors[0]} ({how})"
    if interrupt is not None:
        return f"iperf3 was interrupted ({interrupt}); no complete result"
    if returncode < 0:
        return f"iperf3 was {how} before it finished"
    if result is None:
        return f"iperf3 printed no final result ({how})"
    if returncode != 0:
        return f"iperf3 failed ({how})"
    if not complete:
        return "iperf3's output ends before the end of the test"
    if result.sent_bits_per_second is None and result.received_bits_per_second is None:
        return "iperf3 reported no throughput"
    return None


def merge(results: Sequence[Iperf3Result]) -> Iperf3Result:
    """Several concurrent clients as one: rates and counts summed, CPU and jitter averaged,
    loss recomputed from the packet counts when every client reported them."""
    if not results:
        raise ValueError("nothing to merge")
    if len(results) == 1:
        return results[0]

    def total(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else sum(v for v in values if v is not None)

    def mean(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if known else None

    retr = [r.retransmits for r in results]
    lost = [r.lost_packets for r in results]
    packets = [r.packets for r in results]
    lost_sum = None if any(v is None for v in lost) else sum(v for v in lost if v is not None)
    packets_sum = None if any(v is None for v in packets) else sum(v for v in packets if v is not None)
    seconds = [r.seconds for r in results if r.seconds is not None]
    streams = [r.streams for r in results]
    return Iperf3Result(
        protocol=results[0].protocol,
        reverse=results[0].reverse,
        streams=None if any(s is None for s in streams) else sum(s for s in streams if s is not None),
        seconds=max(seconds) if seconds else None,
        sent_bits_per_second=total([r.sent_bits_per_second for r in results]),
        received_bits_per_second=total([r.received_bits_per_second for r in results]),
        retransmits=None if any(v is None for v in retr) else sum(v for v in retr if v is not None),
        cpu_local_percent=mean([r.cpu_local_percent for r in results]),
        cpu_remote_percent=mean([r.cpu_remote_percent for r in results]),
        jitter_ms=mean([r.jitter_ms for r in results]),
        lost_packets=lost_sum,
        packets=packets_sum,
        lost_percent=100.0 * lost_sum / packets_sum
        if lost_sum is not None and packets_sum
        else mean([r.lost_percent for r in results]),
        error=next((r.error for r in results if r.error), None),
    )
