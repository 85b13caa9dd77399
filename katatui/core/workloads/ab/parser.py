"""ab (ApacheBench 2.3): the argument list, its progress lines, its report, and its -e / -g files.

What ab gives, and when:

- while it runs, only "Completed N requests" lines on stderr, every n/10 requests and only when
  n > 150 (then "Finished N requests"). ``AbProgress`` turns them into live samples, using the
  arrival time of each chunk (``feed(data, now)``) for the rate between two lines. ab prints
  nothing per second; with ``-t`` alone (n = 50000) a slow server gives a line every 5000 requests.
- at the end, its report on stdout (``parse_ab_output``): requests per second, "time per request"
  (ab's figure: concurrency x time taken / requests, not a measured mean latency), failed and
  non-2xx counts, transfer rate (ab's Kbytes are KiB), and a percentile table in whole ms.
- ``-e FILE``: the time within which 0, 1, ..., 100 % of requests were served, in ms with three
  decimals (``parse_percentiles_csv``). Integer percentages only: no 99.9.
- ``-g FILE``: one row per request, sorted by total time: start time, start second, and connect /
  processing / total / wait times *rounded to whole ms* (``parse_gnuplot``). It gives any
  percentile (99.9 included) but at 1 ms resolution, and requests per second from the start
  seconds (whole wall-clock seconds, so the first and last are partial).

``-t T`` makes ab stop after T seconds *or* 50000 requests; ab reads options in order and ``-t``
resets n to 50000, so ``build_argv`` puts ``-n`` after ``-t`` to set another cap. ab keeps one
record per request in memory, so n should stay within what the client can hold (tens of bytes
each). Non-2xx responses count as complete requests, not failures; ``result_notes`` reports them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from katatui.core.errors import WorkloadError

TIMELIMIT_DEFAULT_REQUESTS = 50000  # ab's MAX_REQUESTS, what -t alone allows
FINAL_PERCENTILES = ((50, "p50"), (75, "p75"), (90, "p90"), (95, "p95"), (99, "p99"))


class AbParseError(WorkloadError, ValueError):
    """Input that is not ab output of the expected kind; the message says what was expected."""


@dataclass(frozen=True)
class AbParams:
    """One ab run. The URL is not part of it: it depends on where the server runs."""

    requests: int | None = None  # -n; with timelimit, the cap (default 50000)
    concurrency: int = 1  # -c
    keepalive: bool = False  # -k
    timelimit: int | None = None  # -t, seconds


def _value(option: str, value: str) -> str:
    if not value or value.startswith("-") or any(c in value for c in "\n\r\0"):
        raise ValueError(f"ab {option}: refusing value {value!r}")
    return value


def _check_url(url: str) -> str:
    _value("URL", url)
    if any(c.isspace() for c in url):
        raise ValueError(f"ab: refusing URL {url!r} (whitespace)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.startswith("/"):
        raise ValueError(f"ab: refusing URL {url!r} (expected http[s]://host[:port]/path, with a path)")
    return url


def build_argv(
    params: AbParams,
    url: str,
    *,
    percentiles_file: str | None = None,
    gnuplot_file: str | None = None,
    ab: str = "ab",
) -> list[str]:
    """ab's argv. Progress lines need n > 150; ``-q`` is never passed (it would hide them)."""
    if params.requests is None and params.timelimit is None:
        raise ValueError("ab needs a number of requests (-n) or a time limit (-t)")
    if not 1 <= params.concurrency <= 20000:
        raise ValueError(f"ab -c: {params.concurrency} is out of range 1..20000")
    argv = [_value("binary", ab)]
    if params.timelimit is not None:
        if params.timelimit < 1:
            raise ValueError(f"ab -t: {params.timelimit} is out of range")
        argv += ["-t", str(params.timelimit)]
    if params.requests is not None:
        if params.requests < 1:
            raise ValueError(f"ab -n: {params.requests} is out of range")
        if params.concurrency > params.requests:
            raise ValueError(
                f"ab: concurrency {params.concurrency} is greater than the {params.requests} requests"
            )
        argv += ["-n", str(params.requests)]  # after -t, which would reset it to 50000
    argv += ["-c", str(params.concurrency)]
    if params.keepalive:
        argv.append("-k")
    if percentiles_file is not None:
        argv += ["-e", _value("-e", percentiles_file)]
    if gnuplot_file is not None:
        argv += ["-g", _value("-g", gnuplot_file)]
    argv.append(_check_url(url))
    return argv


# ---------------------------------------------------------------------------------------------
# Progress lines (stderr)

_PROGRESS = re.compile(r"^(Completed|Finished) (\d+) requests$")


@dataclass(frozen=True)
class AbSample:
    """Progress at one chunk of stderr: requests done so far, and the rate since the previous one.

    ``t`` is ``now`` minus the start time given to ``AbProgress`` (or ``now`` itself without one).
    ``requests_per_s`` is None for the first line when the start time is unknown.
    """

    t: float
    requests_completed: int
    requests_per_s: float | None
    finished: bool = False

    def metrics(self) -> dict[str, float]:
        out = {"requests_completed": float(self.requests_completed)}
        if self.requests_per_s is not None:
            out["requests_per_s"] = self.requests_per_s
        return out


class AbProgress:
    """Incremental reader of ab's stderr.

    Lines arriving in the same chunk share one arrival time, so a chunk yields at most one sample
    (its last count). A "Finished N" arriving on its own after "Completed N" yields a sample with
    no rate (it marks the end; no requests were done in between). Other lines (ab's error
    messages) go to ``messages``.
    """

    def __init__(self, started_at: float | None = None) -> None:
        self.samples: list[AbSample] = []
        self.messages: list[str] = []
        self.finished: int | None = None
        self._origin = started_at
        self._last: tuple[int, float] | None = (0, started_at) if started_at is not None else None
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes, now: float) -> list[AbSample]:
        text = self._pending + self._utf8.decode(data)
        *lines, self._pending = text.replace("\r", "\n").split("\n")
        return self._lines(lines, now)

    def close(self, now: float | None = None) -> list[AbSample]:
        rest = self._pending + self._utf8.decode(b"", final=True)
        self._pending = ""
        when = now if now is not None else (self._last[1] if self._last else 0.0)
        return self._lines([rest], when)

    def _lines(self, lines: list[str], now: float) -> list[AbSample]:
        count: int | None = None
        finished = False
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            match = _PROGRESS.match(line)
            if match is None:
                if len(self.messages) < 100:
                    self.messages.append(line[:300])
                continue
            count = int(match.group(2))
            if match.group(1) == "Finished":
                finished, self.finished = True, count
        if count is None:
            return []
        rate = None
        if finished and self._last is not None and count == self._last[0] > 0:
            pass  # "Finished N" right after "Completed N": an end marker, not an interval
        elif self._last is not None and now > self._last[1]:
            rate = (count - self._last[0]) / (now - self._last[1])
            self._last = (count, now)
        else:
            self._last = (count, now)
        t = now - self._origin if self._origin is not None else now
        sample = AbSample(t, count, rate, finished)
        self.samples.append(sample)
        return [sample]


# ---------------------------------------------------------------------------------------------
# The report (stdout)


@dataclass(frozen=True)
class AbResult:
    """ab's report. Times in ms unless the name says otherwise; ``percentiles_ms`` is the table
    ("Percentage of the requests served within a certain time"), whole ms, keyed by percent."""

    complete_requests: int
    failed_requests: int
    non_2xx_responses: int
    requests_per_second: float
    time_per_request_ms: float
    time_per_request_all_ms: float | None
    transfer_rate_kbytes_per_s: float | None
    time_taken_s: float
    concurrency: int | None = None
    keepalive_requests: int | None = None
    write_errors: int = 0
    total_transferred: int | None = None
    document_length: int | None = None
    failed_breakdown: Mapping[str, int] = field(default_factory=dict)
    connection_times_ms: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    percentiles_ms: Mapping[int, float] = field(default_factory=dict)
    server_software: str | None = None


_KV = re.compile(r"^([A-Z][A-Za-z0-9 -]*?):\s+(.*?)\s*$")
_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_TABLE_ROW = re.compile(r"^(Connect|Processing|Waiting|Total):\s+(.*)$")
_PERCENT_ROW = re.compile(r"^\s*(\d+)%\s+(\d+)")
_BREAKDOWN = re.compile(r"^\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)$")


def _first_number(text: str) -> float | None:
    match = _NUM.search(text)
    return float(match.group()) if match else None


def parse_ab_output(data: bytes | str) -> AbResult:
    """The report ab prints on stdout at the end of a run; AbParseError when there is none."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    values: dict[str, str] = {}
    per_request: list[tuple[str, float]] = []
    breakdown: dict[str, int] = {}
    times: dict[str, tuple[float, ...]] = {}
    percentiles: dict[int, float] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Connection Times (ms)"):
            section = "times"
            continue
        if line.startswith("Percentage of the requests served"):
            section = "percent"
            continue
        if section == "times" and (row := _TABLE_ROW.match(line)) is not None:
            times[row.group(1)] = tuple(float(x) for x in _NUM.findall(row.group(2)))
            continue
        if section == "percent" and (pct := _PERCENT_ROW.match(raw)) is not None:
            percentiles[int(pct.group(1))] = float(pct.group(2))
            continue
        if (split := _BREAKDOWN.match(line)) is not None:
            breakdown = dict(
                zip(("connect", "receive", "length", "exceptions"), map(int, split.groups()), strict=True)
            )
            continue
        kv = _KV.match(line)
        if kv is None:
            continue
        key, value = kv.group(1), kv.group(2)
        if key == "Time per request":
            ms = _first_number(value)
            if ms is not None:
                per_request.append((value, ms))
        else:
            values.setdefault(key, value)

    def number(key: str) -> float | None:
        return _first_number(values[key]) if key in values else None

    complete, failed, rps = (
        number("Complete requests"),
        number("Failed requests"),
        number("Requests per second"),
    )
    taken = number("Time taken for tests")
    if complete is None or failed is None or rps is None or taken is None or not per_request:
        raise AbParseError(
            'expected the report ab prints at the end of a run ("Complete requests:", '
            '"Requests per second:", ...)'
        )
    mean = next((n for v, n in per_request if "across" not in v), per_request[0][1])
    across = next((n for v, n in per_request if "across" in v), None)

    def integer(key: str) -> int | None:
        value = number(key)
        return int(value) if value is not None else None

    return AbResult(
        complete_requests=int(complete),
        failed_requests=int(failed),
        non_2xx_responses=integer("Non-2xx responses") or 0,
        requests_per_second=rps,
        time_per_request_ms=mean,
        time_per_request_all_ms=across,
        transfer_rate_kbytes_per_s=number("Transfer rate"),
        time_taken_s=taken,
        concurrency=integer("Concurrency Level"),
        keepalive_requests=integer("Keep-Alive requests"),
        write_errors=integer("Write errors") or 0,
        total_transferred=integer("Total transferred"),
        document_length=integer("Document Length"),
        failed_breakdown=breakdown,
        connection_times_ms=times,
        percentiles_ms=percentiles,
        server_software=values.get("Server Software"),
    )


# ---------------------------------------------------------------------------------------------
# -e and -g files


def parse_percentiles_csv(data: bytes | str) -> dict[int, float]:
    """``-e`` file: percent (0..100) -> ms (three decimals, i.e. exact microseconds)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "Percentage served,Time in ms":
        raise AbParseError('expected an ab -e file (first line "Percentage served,Time in ms")')
    out: dict[int, float] = {}
    for line in lines[1:]:
        parts = line.split(",")
        try:
            out[int(parts[0])] = float(parts[1])
        except (ValueError, IndexError) as exc:
            raise AbParseError(f"ab -e file: unexpected line {line[:80]!r}") from exc
    return out


def _ab_index(count: int, p: float) -> int:
    """The row ab's -e file reports for p: 0 -> first, 100 -> last, else int(0.5 + count*p/100)."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is outside 0..100")
    if p == 0:
        return 0
    if p == 100:
        return count - 1
    return min(int(0.5 + count * p / 100.0), count - 1)


@dataclass(frozen=True)
class AbRequests:
    """An ab -g file: one entry per request, in the file's order (sorted by total time).

    Times are whole milliseconds as ab wrote them (rounded); ``starts`` are Unix seconds.
    """

    starts: tuple[int, ...]
    connect_ms: tuple[int, ...]
    processing_ms: tuple[int, ...]
    total_ms: tuple[int, ...]
    wait_ms: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.total_ms)

    def percentile_ms(self, p: float) -> float:
        """The total time within which p % of requests were served, by the rule of ab's -e file.

        Any p (99.9 included), at the 1 ms resolution of the -g file.
        """
        if not self.total_ms:
            raise ValueError("no requests")
        ordered = sorted(self.total_ms)
        return float(ordered[_ab_index(len(ordered), p)])

    def per_second_counts(self) -> dict[int, int]:
        """Requests started in each wall-clock second, from the first to the last (zeros kept).

        The first and last seconds are usually partial.
        """
        if not self.starts:
            return {}
        counts = dict.fromkeys(range(min(self.starts), max(self.starts) + 1), 0)
        for second in self.starts:
            counts[second] += 1
        return counts


def parse_gnuplot(data: bytes | str) -> AbRequests:
    """``-g`` file: "starttime<TAB>seconds<TAB>ctime<TAB>dtime<TAB>ttime<TAB>wait" rows."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = text.splitlines()
    if not lines or lines[0].split("\t") != ["starttime", "seconds", "ctime", "dtime", "ttime", "wait"]:
        raise AbParseError('expected an ab -g file (header "starttime seconds ctime dtime ttime wait")')
    columns: list[list[int]] = [[], [], [], [], []]
    for line in lines[1:]:
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            numbers = [int(x) for x in parts[1:6]]
        except ValueError as exc:
            raise AbParseError(f"ab -g file: unexpected row {line[:80]!r}") from exc
        if len(numbers) != 5:
            raise AbParseError(f"ab -g file: unexpected row {line[:80]!r}")
        for column, value in zip(columns, numbers, strict=True):
            column.append(value)
    return AbRequests(*(tuple(c) for c in columns))


# ---------------------------------------------------------------------------------------------
# Metrics and failures


def final_metrics(
    result: AbResult,
    percentiles: Mapping[int, float] | None = None,
    requests: AbRequests | None = None,
) -> dict[str, tuple[float, str]]:
    """Result metrics (name -> (value, unit)).

    Latency percentiles come from the -e file when given (microsecond resolution), else from
    the -g file, else from ab's own table (whole ms). ``latency_p99_9_ms`` needs the -g file.
    """
    out: dict[str, tuple[float, str]] = {
        "requests_per_second": (result.requests_per_second, "req/s"),
        "time_per_request_ms": (result.time_per_request_ms, "ms"),
        "complete_requests": (float(result.complete_requests), "count"),
        "failed_requests": (float(result.failed_requests), "count"),
        "non_2xx_responses": (float(result.non_2xx_responses), "count"),
        "time_taken_s": (result.time_taken_s, "s"),
    }
    if result.transfer_rate_kbytes_per_s is not None:
        out["transfer_rate_kbytes_per_s"] = (result.transfer_rate_kbytes_per_s, "KiB/s")
    has_requests = requests is not None and len(requests) > 0
    for p, name in (*FINAL_PERCENTILES, (100, "max")):
        if percentiles and p in percentiles:
            value: float | None = percentiles[p]
        elif has_requests and requests is not None:
            value = requests.percentile_ms(p)
        else:
            value = result.percentiles_ms.get(p)
        if value is not None:
            out[f"latency_{name}_ms"] = (value, "ms")
    if has_requests and requests is not None:
        out["latency_p99_9_ms"] = (requests.percentile_ms(99.9), "ms")
    return out


def stopped_at_time_limit(result: AbResult, limit: int | None = None) -> bool:
    """Whether ab stopped at its time limit (``-t``) rather than after its requests (``-n``): it
    then reports a time taken of the limit itself, to the millisecond (with ``limit`` unknown: a
    whole number of seconds), where a run that completed its requests stops at any moment."""
    taken = result.time_taken_s
    if limit is not None:
        return taken >= limit - 0.001
    return taken >= 1 and abs(taken - round(taken)) < 0.0015


def limit_note(result: AbResult, *, timelimit: int | None, requests: int, requests_set: bool) -> str | None:
    """How a run with a time limit (``-t``) ended, when the user should know: cut short by the time
    limit before the requests asked for (``requests_set``: the profile named them), or ended by
    the default cap of requests long before the time limit. None for a run that ended as asked."""
    if timelimit is None:
        return None
    if stopped_at_time_limit(result, timelimit):
        if requests_set and result.complete_requests < requests:
            return (
                f"time-limited: ab stopped at its time limit ({timelimit} s, -t) after "
                f"{result.complete_requests:,} of the {requests:,} requests asked for; its figures are "
                f"from {timelimit} s of requests, not from all {requests:,}"
            )
        return None  # a time-based run, as asked
    if not requests_set and result.complete_requests >= requests:
        return (
            f"ab stopped after {requests:,} requests (the default of 'requests') in "
            f"{result.time_taken_s:.3g} s, long before its time limit of {timelimit} s; set requests "
            "higher for a run as long as the time limit"
        )
    return None


def result_notes(result: AbResult) -> list[str]:
    """Things to report about a usable result (non-2xx answers, failed requests)."""
    notes = []
    if result.non_2xx_responses:
        notes.append(
            f"{result.non_2xx_responses} of {result.complete_requests} responses were not 2xx "
            "(ab counts them as complete requests): check the URL and the server"
        )
    if result.failed_requests:
        detail = ", ".join(f"{k} {v}" for k, v in result.failed_breakdown.items() if v)
        notes.append(f"{result.failed_requests} requests failed" + (f" ({detail})" if detail else ""))
    if result.write_errors:
        notes.append(f"{result.write_errors} write errors")
    return notes


_APR = re.compile(r"^(apr_\w+(?:\(\))?)(?: for [^:]*)?: (.+?)(?: \((-?\d+)\))?$")
_TOTAL_OF = re.compile(r"^Total of (\d+) requests completed$")


def classify_failure(
    result: AbResult | None, returncode: int, stderr: bytes | str = b"", stdout: bytes | str = b""
) -> str | None:
    """One line saying why an ab run failed, or None when its report is usable.

    ab stops at the first socket error (exit status = the errno, e.g. 111 for "apr_socket_recv:
    Connection refused (111)") and then prints no report, only "Total of N requests completed"
    when some were done. Non-2xx answers are not failures (see ``result_notes``); a run where
    every request failed is.
    """
    err = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    out = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    reason: str | None = None
    done: int | None = None
    for raw in (err + "\n" + out).splitlines():
        line = raw.strip()
        if (apr := _APR.match(line)) is not None and reason is None:
            reason = f"{apr.group(2)} ({apr.group(1)})"
        elif (total := _TOTAL_OF.match(line)) is not None:
            done = int(total.group(1))
        elif line.startswith("ab: ") and reason is None:
            reason = line.removeprefix("ab: ")
        elif line.startswith(("SSL ", "Invalid ")) and reason is None:
            reason = line
    if reason is not None and (result is None or returncode != 0):
        after = f" after {done} requests" if done else ""
        return f"ab stopped{after}: {reason} ({how})"
    if result is None:
        return f"ab printed no report ({how})"
    if returncode < 0:
        return f"ab was {how}"
    if returncode != 0:
        return f"ab failed ({how})"
    if result.complete_requests == 0:
        return "ab completed no requests"
    if result.failed_requests >= result.complete_requests:
        detail = ", ".join(f"{k} {v}" for k, v in result.failed_breakdown.items() if v)
        return "every request failed" + (f" ({detail})" if detail else "")
    return None
