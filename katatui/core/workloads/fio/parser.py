"""fio: the argument list we run, and a parser for what fio prints while and after it runs.

We run fio with ``--output-format=json+ --status-interval=1`` and no ``--group_reporting``: fio then
prints one pretty-printed JSON object per second plus a final one, back to back, with counters that
are cumulative since the start. Keeping jobs apart lets us divide each job's bytes by that job's own
clock, and the json+ latency histogram (``clat_ns.bins``) lets us merge jobs and clients exactly
and compute percentiles over any interval, which fio's own percentiles cannot do.

Everything here is a pure function over bytes so it can be tested against recorded fio output.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from katatui.core.errors import WorkloadError

RW_MODES = frozenset({"read", "write", "randread", "randwrite", "rw", "randrw"})
DIRECTIONS = ("read", "write")


class FioParseError(WorkloadError, ValueError):
    """Input that is not fio JSON output; the message says what was expected."""


@dataclass(frozen=True)
class FioParams:
    """One fio job description, in fio's own option names and units."""

    rw: str
    bs: str
    iodepth: int
    numjobs: int
    direct: bool
    size: str
    runtime: int
    ioengine: str = "libaio"
    rwmixread: int | None = None
    ramp_time: int = 0
    fsync: int | None = None
    filename: str | None = None


def _text(option: str, value: str, *, forbid: str = "") -> str:
    # Values reach fio as argv, never through a shell, but a leading "-" would still be read as an
    # option and a newline would split a job file if the argv ever got written to one.
    bad = [c for c in "\n\r\0" + forbid if c in value]
    if not value or value.startswith("-") or bad:
        raise ValueError(f"fio --{option}: refusing value {value!r}")
    return value


def _count(option: str, value: int, low: int, high: int | None = None) -> int:
    if value < low or (high is not None and value > high):
        raise ValueError(f"fio --{option}: {value} is out of range")
    return value


def build_fio_argv(
    params: FioParams, directory: str | None, *, fio: str = "fio", name: str = "katatui"
) -> list[str]:
    """The argv for one run.

    Files go in ``directory`` unless ``params.filename`` names an explicit file or device, which the
    caller only sets when the user allowed it; then ``directory`` is not passed. fio reads ":" in
    ``directory``/``filename`` as a list separator and "/" in ``name`` as part of the data file's path,
    and ``ioengine`` can name a shared object to load, so those are refused: each would let fio touch
    files outside the directory. ``--eta=never`` keeps ETA lines off stdout even under a terminal.
    """
    if params.rw not in RW_MODES:
        raise ValueError(f"fio --rw: {params.rw!r} is not one of {', '.join(sorted(RW_MODES))}")
    if params.filename is not None:
        target = f"--filename={_text('filename', params.filename, forbid=':')}"
    elif directory is not None:
        target = f"--directory={_text('directory', directory, forbid=':')}"
    else:
        raise ValueError("fio needs a directory (or an explicit params.filename)")
    if not re.fullmatch(r"[A-Za-z0-9_]+", params.ioengine):
        raise ValueError(f"fio --ioengine: refusing value {params.ioengine!r}")
    argv = [
        _text("fio", fio),
        f"--name={_text('name', name, forbid='/')}",
        target,
        f"--rw={params.rw}",
        f"--bs={_text('bs', params.bs)}",
        f"--iodepth={_count('iodepth', params.iodepth, 1)}",
        f"--numjobs={_count('numjobs', params.numjobs, 1)}",
        f"--direct={1 if params.direct else 0}",
        f"--size={_text('size', params.size)}",
        f"--runtime={_count('runtime', params.runtime, 1)}",
        "--time_based",
        f"--ioengine={params.ioengine}",
    ]
    if params.rwmixread is not None:
        if params.rw not in ("rw", "randrw"):
            raise ValueError(f"fio --rwmixread only applies to rw/randrw, not {params.rw}")
        argv.append(f"--rwmixread={_count('rwmixread', params.rwmixread, 0, 100)}")
    if params.ramp_time:
        argv.append(f"--ramp_time={_count('ramp_time', params.ramp_time, 0)}")
    if params.fsync is not None:
        argv.append(f"--fsync={_count('fsync', params.fsync, 0)}")
    argv += ["--output-format=json+", "--status-interval=1", "--eta=never"]
    return argv


@dataclass(frozen=True)
class JobCounters:
    """One direction of one job, kept so interval rates divide each job's bytes by its own clock."""

    io_bytes: int
    total_ios: int
    runtime_ms: int


@dataclass(frozen=True)
class DirStats:
    """One direction ("read" or "write") of one snapshot, summed over jobs.

    ``runtime_ms`` is the longest job's, as fio's group bandwidth uses. ``clat_samples`` is fio's
    ``clat_ns.N``, the weight of ``clat_mean_ns`` when merging; in status objects it can differ from
    ``sum(bins)`` by a few because fio reads running counters unlocked. ``percentiles_ns`` keeps fio's
    own keys ("99.900000") and is only filled when there is exactly one job, since percentiles of
    different jobs cannot be combined; ``bins`` can.
    """

    io_bytes: int = 0
    total_ios: int = 0
    runtime_ms: int = 0
    bins: Mapping[int, int] = field(default_factory=dict)
    clat_samples: int = 0
    clat_mean_ns: float = 0.0
    clat_max_ns: float = 0.0
    percentiles_ns: Mapping[str, float] = field(default_factory=dict)
    jobs: tuple[JobCounters, ...] = ()

    @property
    def did_io(self) -> bool:
        return self.io_bytes > 0 or self.total_ios > 0


@dataclass(frozen=True)
class FioSnapshot:
    """One fio JSON object (a status report or the final result).

    ``t`` is the longest job's I/O runtime in seconds (fio's ``read``/``write`` ``runtime``), not
    wall time: it is the clock the counters belong to. ``job_runtime`` would do for separate jobs
    but is summed over jobs under group_reporting, and ``elapsed`` is whole seconds including setup.
    With ``ramp_time`` the counters (and so ``t``) restart at zero when the ramp ends.
    ``raw`` is the decoded object (for a merge: ``{"merged": [raw, ...]}``).
    """

    t: float
    jobs: int
    read: DirStats
    write: DirStats
    errors: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def _num(obj: Mapping[str, Any], key: str) -> float:
    value = obj.get(key, 0)
    return float(value) if isinstance(value, int | float) else 0.0


def _job_dir(d: Mapping[str, Any]) -> DirStats:
    clat = d.get("clat_ns")
    clat = clat if isinstance(clat, dict) else {}
    job = JobCounters(int(_num(d, "io_bytes")), int(_num(d, "total_ios")), int(_num(d, "runtime")))
    bins = clat.get("bins")
    own = clat.get("percentile")
    return DirStats(
        io_bytes=job.io_bytes,
        total_ios=job.total_ios,
        runtime_ms=job.runtime_ms,
        bins={int(k): int(v) for k, v in sorted(bins.items(), key=lambda kv: int(kv[0]))}
        if isinstance(bins, dict)
        else {},
        clat_samples=int(_num(clat, "N")),
        clat_mean_ns=_num(clat, "mean"),
        clat_max_ns=_num(clat, "max"),
        percentiles_ns={str(k): float(v) for k, v in own.items()} if isinstance(own, dict) else {},
        jobs=(job,),
    )


def _sum_dirs(parts: Sequence[DirStats]) -> DirStats:
    """Jobs or clients added up: bins and counters summed, runtime the longest, mean weighted by N."""
    if len(parts) == 1:
        return parts[0]
    bins: dict[int, int] = {}
    for part in parts:
        for value, count in part.bins.items():
            bins[value] = bins.get(value, 0) + count
    samples = sum(p.clat_samples for p in parts)
    return DirStats(
        io_bytes=sum(p.io_bytes for p in parts),
        total_ios=sum(p.total_ios for p in parts),
        runtime_ms=max(p.runtime_ms for p in parts),
        bins=dict(sorted(bins.items())),
        clat_samples=samples,
        clat_mean_ns=sum(p.clat_mean_ns * p.clat_samples for p in parts) / samples if samples else 0.0,
        clat_max_ns=max(p.clat_max_ns for p in parts),
        jobs=tuple(c for p in parts for c in p.jobs),
    )


def _job_error(job: Mapping[str, Any]) -> str | None:
    code = job.get("error", 0)
    if not code:
        return None
    what = os.strerror(code) if isinstance(code, int) else str(code)
    return f"job {job.get('jobname', '?')}: error {code} ({what})"


def snapshot_from_object(obj: Mapping[str, Any]) -> FioSnapshot:
    """Build a snapshot from one decoded fio object; FioParseError when it is not one."""
    jobs = obj.get("jobs")
    if not isinstance(jobs, list) or not jobs or not all(isinstance(j, dict) for j in jobs):
        raise FioParseError('expected a fio result: a JSON object with a non-empty "jobs" list')
    try:
        per_dir = {d: _sum_dirs([_job_dir(j.get(d) or {}) for j in jobs]) for d in DIRECTIONS}
    except (TypeError, ValueError, AttributeError) as exc:
        raise FioParseError(f"fio job statistics have an unexpected shape: {exc}") from exc
    runtime = max(per_dir["read"].runtime_ms, per_dir["write"].runtime_ms)
    errors = tuple(e for e in (_job_error(j) for j in jobs) if e)
    return FioSnapshot(runtime / 1000.0, len(jobs), per_dir["read"], per_dir["write"], errors, obj)


_NON_SPACE = re.compile(r"\S")
_IN_STRING = re.compile(r'["\\]')
_STRUCTURE = re.compile(r'[{}"]')
_SIGNAL = re.compile(r"^fio: terminating on signal (\d+)")


class FioStream:
    """Incremental reader of fio's stdout: JSON objects back to back, with text lines between.

    A brace/string scanner finds where each top-level object ends so each object is decoded once,
    whatever the chunking: fed one byte at a time the cost stays linear. Text lines between objects
    ("fio: terminating on signal 2", "note: ...", fio's error lines) go to ``messages``.
    """

    def __init__(self) -> None:
        self.snapshots: list[FioSnapshot] = []
        self.messages: list[str] = []
        self.truncated = False
        self.signal: int | None = None  # from "fio: terminating on signal N"
        self.snapshots_before_signal = 0
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._decoder = json.JSONDecoder()
        self._pending: list[str] = []
        self._mode = ""  # "", "object" or "line"
        self._depth = 0
        self._in_string = False
        self._escape = False

    @property
    def last(self) -> FioSnapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def feed(self, data: bytes) -> list[FioSnapshot]:
        """The snapshots completed by this chunk (chunks may split anywhere, even inside a character)."""
        return self._consume(self._utf8.decode(data))

    def close(self) -> None:
        """End of output: a pending text line becomes a message, a pending object sets ``truncated``."""
        self._consume(self._utf8.decode(b"", final=True))
        if self._mode == "line":
            self._message("".join(self._pending))
        elif self._mode == "object":
            self.truncated = True
        self._pending, self._mode = [], ""

    def _message(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        self.messages.append(line)
        match = _SIGNAL.match(line)
        if match and self.signal is None:
            self.signal = int(match.group(1))
            self.snapshots_before_signal = len(self.snapshots)

    def _consume(self, text: str) -> list[FioSnapshot]:
        new: list[FioSnapshot] = []
        i = 0
        while i < len(text):
            if not self._mode:
                found = _NON_SPACE.search(text, i)
                if found is None:
                    break
                i = found.start()
                self._mode = "object" if text[i] == "{" else "line"
                self._depth, self._in_string, self._escape = 0, False, False
            if self._mode == "line":
                end = text.find("\n", i)
                if end < 0:
                    self._pending.append(text[i:])
                    break
                self._message("".join(self._pending) + text[i:end])
                self._pending, self._mode, i = [], "", end + 1
                continue
            end = self._scan(text, i)
            if end < 0:
                self._pending.append(text[i:])
                break
            document = "".join(self._pending) + text[i:end]
            self._pending, self._mode, i = [], "", end
            snapshot = self._decode(document)
            if snapshot is not None:
                self.snapshots.append(snapshot)
                new.append(snapshot)
        return new

    def _scan(self, text: str, i: int) -> int:
        """Index just past the brace closing the current top-level object, or -1 if not in ``text``."""
        j = i
        if self._escape:
            j, self._escape = j + 1, False
        while True:
            if self._in_string:
                found = _IN_STRING.search(text, j)
                if found is None:
                    return -1
                j = found.end()
                if found.group() == '"':
                    self._in_string = False
                elif j >= len(text):
                    self._escape = True
                    return -1
                else:
                    j += 1
                continue
            found = _STRUCTURE.search(text, j)
            if found is None:
                return -1
            j = found.end()
            char = found.group()
            if char == '"':
                self._in_string = True
            elif char == "{":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 0:
                    return j

    def _decode(self, document: str) -> FioSnapshot | None:
        try:
            obj, end = self._decoder.raw_decode(document)
            if end != len(document) or not isinstance(obj, dict):
                raise ValueError("not a single JSON object")
            return snapshot_from_object(obj)
        except ValueError as exc:  # JSONDecodeError and FioParseError are ValueErrors
            self.messages.append(f"ignored a {len(document)}-character JSON object: {exc}")
            return None


def _rounded_long_double(x: Fraction) -> Fraction:
    """Round to the nearest x87 ``long double`` (64-bit significand, ties to even)."""
    if x <= 0:
        return x
    num, den = x.numerator, x.denominator
    exp = num.bit_length() - den.bit_length()
    if (num << max(0, -exp)) < (den << max(0, exp)):
        exp -= 1
    shift = 63 - exp
    num, den = (num << shift, den) if shift >= 0 else (num, den << -shift)
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q & 1):
        q += 1
    return Fraction(q, 1 << shift) if shift >= 0 else Fraction(q << -shift)


def percentile_ns(bins: Mapping[int, int], p: float, total: int | None = None) -> float | None:
    """fio's percentile of a json+ histogram: the first bucket where the running count reaches p%.

    fio (stat.c, calc_clat_percentiles) compares the running count with ``(long double) p / 100.0 *
    nr`` computed in x86-64's 80-bit long double; that rounding is reproduced exactly, so results
    match fio's own to the nanosecond even when ``p% * nr`` lands on an integer. fio uses
    ``nr = clat_ns.N``; pass it as ``total`` to reproduce status objects where N != sum(bins).
    """
    if not 0.0 < p <= 100.0:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    return percentiles_ns(bins, [p], total)[p]


def percentiles_ns(
    bins: Mapping[int, int], ps: Sequence[float], total: int | None = None
) -> dict[float, float | None]:
    """:func:`percentile_ns` of each of ``ps`` in one pass over the sorted buckets (fio's rounding:
    a running count, an integer, reaches a threshold exactly when it reaches its ceiling)."""
    nr = sum(bins.values()) if total is None else total
    out: dict[float, float | None] = dict.fromkeys(ps)
    if nr <= 0:
        return out
    need = sorted(
        (math.ceil(_rounded_long_double(_rounded_long_double(Fraction(p) / 100) * nr)), p) for p in ps
    )
    running, i = 0, 0
    for value in sorted(bins):
        running += bins[value]
        while i < len(need) and running >= need[i][0]:
            out[need[i][1]] = float(value)
            i += 1
        if i == len(need):
            break
    return out


def merge(snapshots: Sequence[FioSnapshot]) -> FioSnapshot:
    """Combine snapshots of several clients (or jobs) into one as if they were one fio run."""
    if not snapshots:
        raise ValueError("merge needs at least one snapshot")
    if len(snapshots) == 1:
        return snapshots[0]
    dirs = {d: _sum_dirs([getattr(s, d) for s in snapshots]) for d in DIRECTIONS}
    return FioSnapshot(
        t=max(s.t for s in snapshots),
        jobs=sum(s.jobs for s in snapshots),
        read=dirs["read"],
        write=dirs["write"],
        errors=tuple(e for s in snapshots for e in s.errors),
        raw={"merged": [s.raw for s in snapshots]},
    )


def _interval_rate(prev: DirStats | None, cur: DirStats) -> tuple[int, float, float]:
    """(bytes, bytes/s, IO/s) since ``prev``: each job's delta over its own runtime delta, summed."""
    pairs: list[tuple[JobCounters | None, JobCounters]]
    if prev is None and cur.jobs:
        pairs = [(None, job) for job in cur.jobs]
    elif prev is not None and prev.jobs and len(prev.jobs) == len(cur.jobs):
        pairs = list(zip(prev.jobs, cur.jobs, strict=True))
    else:  # jobs we cannot pair: fall back to the totals on the longest job's clock
        old = JobCounters(prev.io_bytes, prev.total_ios, prev.runtime_ms) if prev is not None else None
        pairs = [(old, JobCounters(cur.io_bytes, cur.total_ios, cur.runtime_ms))]
    moved = 0
    bw = iops = 0.0
    for before, after in pairs:
        # Counters restart when ramp_time ends; a job whose clock went back starts from zero.
        if before is None or after.runtime_ms < before.runtime_ms or after.io_bytes < before.io_bytes:
            before = JobCounters(0, 0, 0)
        seconds = (after.runtime_ms - before.runtime_ms) / 1000.0
        moved += after.io_bytes - before.io_bytes
        if seconds > 0:
            bw += (after.io_bytes - before.io_bytes) / seconds
            iops += (after.total_ios - before.total_ios) / seconds
    return moved, bw, iops


def _interval_bins(before: DirStats | None, after: DirStats) -> dict[int, int]:
    """The histogram of one interval: the difference of cumulative bins (zero buckets left out)."""
    if before is not None:
        delta = {v: c - before.bins.get(v, 0) for v, c in after.bins.items()}
        if all(c >= 0 for c in delta.values()):  # else the counters restarted: after is the interval
            return {v: c for v, c in delta.items() if c}
    return dict(after.bins)


def interval_histograms(prev: FioSnapshot | None, cur: FioSnapshot) -> dict[str, dict[int, int]]:
    """Per direction, the completion-latency histogram (bucket ns -> count) of the interval.

    Samples carry these so that a listener can merge intervals and clients by summing bins, and
    compute live percentiles and CDFs that are exact in fio's own bucket resolution.
    """
    out: dict[str, dict[int, int]] = {}
    for d in DIRECTIONS:
        before: DirStats | None = getattr(prev, d) if prev is not None else None
        bins = _interval_bins(before, getattr(cur, d))
        if bins:
            out[f"{d}_clat_ns"] = bins
    return out


def interval_metrics(prev: FioSnapshot | None, cur: FioSnapshot) -> dict[str, float]:
    """Rates between two snapshots of the same run (``prev=None``: since the start).

    Per direction that moved data: ``{dir}_io_bytes`` (bytes in the interval), ``{dir}_bw_bytes_per_s``,
    ``{dir}_iops``, and, when the interval's histogram (difference of the cumulative bins) has
    samples, ``{dir}_clat_p50_us`` and ``{dir}_clat_p99_us``. Rates are zero when no job's clock moved.
    """
    out: dict[str, float] = {}
    for d in DIRECTIONS:
        before: DirStats | None = getattr(prev, d) if prev is not None else None
        after: DirStats = getattr(cur, d)
        moved, bw, iops = _interval_rate(before, after)
        if moved <= 0:
            continue
        out[f"{d}_io_bytes"] = float(moved)
        out[f"{d}_bw_bytes_per_s"] = bw
        out[f"{d}_iops"] = iops
        bins = _interval_bins(before, after)
        for p, name in ((50.0, "p50"), (99.0, "p99")):
            value = percentile_ns(bins, p)
            if value is not None:
                out[f"{d}_clat_{name}_us"] = value / 1000.0
    return out


FINAL_PERCENTILES = ((50.0, "p50"), (90.0, "p90"), (99.0, "p99"), (99.9, "p99_9"))


def final_metrics(s: FioSnapshot) -> dict[str, tuple[float, str]]:
    """Result metrics (name -> (value, unit)) for each direction that did I/O.

    Percentiles come from the (merged) histogram; for plain ``json`` output without bins, from fio's
    own list when it covers a single (or group-reported) job, and are left out otherwise.
    """
    out: dict[str, tuple[float, str]] = {}
    for d in DIRECTIONS:
        ds: DirStats = getattr(s, d)
        if not ds.did_io:
            continue
        if ds.runtime_ms > 0:
            out[f"{d}_bw_bytes_per_s"] = (ds.io_bytes / (ds.runtime_ms / 1000.0), "B/s")
            out[f"{d}_iops"] = (ds.total_ios / (ds.runtime_ms / 1000.0), "IO/s")
        own = {float(k): v for k, v in ds.percentiles_ns.items()}
        for p, name in FINAL_PERCENTILES:
            value = percentile_ns(ds.bins, p) if ds.bins else own.get(p)
            if value is not None:
                out[f"{d}_clat_{name}_us"] = (value / 1000.0, "us")
        if ds.clat_samples > 0:
            out[f"{d}_clat_mean_us"] = (ds.clat_mean_ns / 1000.0, "us")
            out[f"{d}_clat_max_us"] = (ds.clat_max_ns / 1000.0, "us")
        out[f"{d}_io_bytes"] = (float(ds.io_bytes), "B")
    return out


def parse_fio_document(data: bytes) -> FioSnapshot:
    """The result in a fio JSON/json+ file a user already has: its last object.

    Text lines around the JSON are tolerated; a file whose last object is cut short is refused,
    since the status objects before it are not a final result.
    """
    stream = FioStream()
    stream.feed(data)
    stream.close()
    expected = 'expected fio output from --output-format=json or json+ (a JSON object with "jobs")'
    if stream.truncated:
        raise FioParseError(
            f"the last JSON object is cut short after {len(stream.snapshots)} complete ones; {expected}"
        )
    if stream.last is None:
        seen = f"; found: {stream.messages[0][:120]!r}" if stream.messages else "; the input is empty"
        raise FioParseError(expected + seen)
    return stream.last


def read_fio_document(data: bytes) -> tuple[FioSnapshot, str | None]:
    """``parse_fio_document``, and why its result is not one (``classify_document``), or None."""
    snap = parse_fio_document(data)
    stream = FioStream()
    stream.feed(data)
    stream.close()
    return snap, classify_document(stream)


# fio's "eta" while a job still runs and its end is unknown; a final result says 0.
RUNNING_ETA = 2**31 - 1


def status_signs(snap: FioSnapshot) -> list[str]:
    """What shows a snapshot to be one of fio's status reports rather than its final result:
    completion latencies counted for fewer I/Os than were done, or an eta of "still running" with
    a job that ran for less than its runtime. (A final result can keep that eta, with
    ``--eta=never``, but its job then ran its whole runtime; after a SIGKILL the last object is a
    status report.)"""
    signs: list[str] = []
    jobs = snap.raw.get("jobs")
    for job in jobs if isinstance(jobs, list) else []:
        if not isinstance(job, dict):
            continue
        for d in ("read", "write", "trim"):
            stats = job.get(d)
            clat = stats.get("clat_ns") if isinstance(stats, dict) else None
            n = clat.get("N") if isinstance(clat, dict) else None
            total = stats.get("total_ios") if isinstance(stats, dict) else None
            if isinstance(n, int) and isinstance(total, int) and total and n != total:
                signs.append(f"{d} latencies counted for {n} of {total} I/Os")
        options = {**(snap.raw.get("global options") or {}), **(job.get("job options") or {})}
        runtime, done = str(options.get("runtime", "")), job.get("job_runtime")
        if (
            job.get("eta") == RUNNING_ETA
            and runtime.isdigit()
            and isinstance(done, int)
            and done < int(runtime) * 1000
        ):
            signs.append(f"eta {RUNNING_ETA} (still running) after {done} ms of its {runtime} s")
    return list(dict.fromkeys(signs))


def classify_document(stream: FioStream) -> str | None:
    """``classify_failure`` for a fio output read from a file, with no exit status to go by: a last
    object that is a status report (fio killed, e.g. by SIGKILL, before its final result) is no
    result either, unless fio said it was stopped by a signal and printed its result after that."""
    reason = classify_failure(stream, 0)
    if reason is not None or stream.last is None or stream.signal is not None:
        return reason
    signs = status_signs(stream.last)
    if signs:
        return (
            "its last JSON object is one of fio's status reports, not its final result ("
            + "; ".join(signs[:3])
            + "): fio was stopped before it finished, e.g. killed"
        )
    return None


def classify_failure(stream: FioStream, returncode: int, stderr: bytes | str = b"") -> str | None:
    """One line saying why a run failed, or None when its last snapshot is a usable result.

    A run stopped by SIGINT/SIGTERM that printed its final object after "fio: terminating on
    signal N" counts as a shorter result (fio 3.33 then exits 128) unless it did no I/O at all.
    ``stderr`` is optional: fio prints its plainest error lines there, the terse ones on stdout.
    """
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    said: dict[str, str] = {}  # fio's lines, de-duplicated ignoring numbers (offsets, pids)
    for line in stderr.splitlines() + stream.messages:
        line = line.strip()
        if line.startswith("fio:") and not _SIGNAL.match(line):
            said.setdefault(re.sub(r"\d+", "N", line), line.removeprefix("fio:").strip()[:160])
    detail = (": " + "; ".join(list(said.values())[:2])) if said else ""
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    last = stream.last
    if last is not None and last.errors:
        return "fio reported job errors: " + "; ".join(last.errors) + detail
    if stream.truncated:
        return f"fio's output stops in the middle of a result ({how}){detail}"
    if last is None:
        return f"fio printed no result ({how}){detail}"
    if stream.signal is not None and len(stream.snapshots) > stream.snapshots_before_signal:
        if not (last.read.did_io or last.write.did_io):
            return f"fio was stopped by signal {stream.signal} before doing any I/O"
        return None
    if returncode < 0:
        return f"fio was {how} before printing its final result"
    if returncode != 0:
        return f"fio failed ({how}){detail}"
    return None
