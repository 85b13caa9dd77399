"""sysbench (1.0.x) cpu and memory tests: the argument list, interval lines, and the final report.

We run ``sysbench TEST [options] --report-interval=1 run``. sysbench 1.0.20 then prints, once a
second, ``[ 1s ] thds: 2 eps: 8261.73 lat (ms,95%): 0.27`` for cpu, but only
``[ 1s ] 3740.83 MiB/sec`` for memory (no event rate, no latency), and at the end a report:
"events per second" (cpu) or "Total operations: N (X per second)" and
"X MiB transferred (Y MiB/sec)" (memory), "General statistics", "Latency (ms)" (min, avg, max,
95th percentile, sum) and "Threads fairness". Latencies are printed with two decimals in ms, so
memory events (well under 10 us) show as 0.00.

The report of older 1.0 builds (seen in a published Kata study, tests/fixtures/sysbench/README.md)
says "response time:" with "approx.  95 percentile:" and "Operations performed: N (X ops/sec)",
and gives no events per second for cpu: it is derived as events / total time, and flagged.

An interrupted run (SIGINT, SIGTERM) dies without a report. Errors: "FATAL: ..." on stdout
(unknown test, invalid option value), "invalid option: ..." on stderr, exit status 1.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Literal

from katatui.core.errors import WorkloadError

Test = Literal["cpu", "memory"]
TESTS = ("cpu", "memory")


class SysbenchParseError(WorkloadError, ValueError):
    """Input that is not a sysbench report; the message says what was expected."""


@dataclass(frozen=True)
class SysbenchParams:
    """One run, in sysbench's own option names. ``time=0`` and ``events=0`` mean "no limit"."""

    test: str
    threads: int = 1
    time: int = 10
    events: int = 0
    cpu_max_prime: int | None = None
    memory_block_size: str | None = None  # e.g. "1K", "4K", "1M"
    memory_total_size: str | None = None  # e.g. "100G" (sysbench's default), "4G"
    memory_oper: str | None = None  # "read" | "write" | "none"


_SIZE = re.compile(r"\d+[KMGTkmgt]?")


def _size(option: str, value: str) -> str:
    if not _SIZE.fullmatch(value):
        raise ValueError(f"sysbench --{option}: refusing value {value!r} (expected e.g. 4K, 1M, 100G)")
    return value


def build_argv(params: SysbenchParams, *, sysbench: str = "sysbench") -> list[str]:
    """sysbench's argv, with ``--report-interval=1`` for live samples."""
    if not sysbench or sysbench.startswith("-") or any(c in sysbench for c in "\n\r\0"):
        raise ValueError(f"sysbench: refusing binary {sysbench!r}")
    if params.test not in TESTS:
        raise ValueError(f"sysbench: test {params.test!r} is not one of {', '.join(TESTS)}")
    if not 1 <= params.threads <= 4096:
        raise ValueError(f"sysbench --threads: {params.threads} is out of range")
    if params.time < 0 or params.events < 0:
        raise ValueError("sysbench --time/--events: negative values")
    bounded_by_size = params.test == "memory" and params.memory_total_size is not None
    if params.time == 0 and params.events == 0 and not bounded_by_size:
        raise ValueError("sysbench: --time=0 and --events=0 would run forever")
    argv = [sysbench, params.test, f"--threads={params.threads}", f"--time={params.time}"]
    if params.events:
        argv.append(f"--events={params.events}")
    if params.test == "cpu":
        if params.memory_block_size or params.memory_total_size or params.memory_oper:
            raise ValueError("sysbench cpu: memory options given")
        if params.cpu_max_prime is not None:
            if params.cpu_max_prime < 3:
                raise ValueError(f"sysbench --cpu-max-prime: {params.cpu_max_prime} is out of range")
            argv.append(f"--cpu-max-prime={params.cpu_max_prime}")
    else:
        if params.cpu_max_prime is not None:
            raise ValueError("sysbench memory: --cpu-max-prime given")
        if params.memory_block_size is not None:
            argv.append(f"--memory-block-size={_size('memory-block-size', params.memory_block_size)}")
        if params.memory_total_size is not None:
            argv.append(f"--memory-total-size={_size('memory-total-size', params.memory_total_size)}")
        if params.memory_oper is not None:
            if params.memory_oper not in ("read", "write", "none"):
                raise ValueError(f"sysbench --memory-oper: {params.memory_oper!r} is not read, write or none")
            argv.append(f"--memory-oper={params.memory_oper}")
    argv += ["--report-interval=1", "run"]
    return argv


def _pct_name(pct: float) -> str:
    return f"latency_p{pct:g}_ms".replace(".", "_")


@dataclass(frozen=True)
class SysbenchSample:
    """One interval line. ``t`` is sysbench's own second counter; a field is None when the line
    does not carry it (memory lines only have MiB/sec)."""

    t: float
    threads: int | None = None
    events_per_s: float | None = None
    latency_pct: float | None = None  # which percentile (95 unless --percentile was changed)
    latency_ms: float | None = None
    mib_per_s: float | None = None

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.events_per_s is not None:
            out["events_per_s"] = self.events_per_s
        if self.latency_ms is not None and self.latency_pct is not None:
            out[_pct_name(self.latency_pct)] = self.latency_ms
        if self.mib_per_s is not None:
            out["mib_per_s"] = self.mib_per_s
        return out


_NUMBER = r"(\d+(?:\.\d+)?)"
_CPU_LINE = re.compile(rf"^\[ *{_NUMBER}s \] thds: (\d+) eps: {_NUMBER} lat \(ms,{_NUMBER}%\): {_NUMBER}")
_MEMORY_LINE = re.compile(rf"^\[ *{_NUMBER}s \] {_NUMBER} MiB/sec$")


@dataclass(frozen=True)
class SysbenchResult:
    """The final report. ``events_per_second_derived`` is set when the report did not print the
    rate (older builds, cpu) and it was computed as total events / total time."""

    test: str
    version: str | None
    threads: int | None
    total_time_s: float
    total_events: int
    events_per_second: float
    latency_min_ms: float | None = None
    latency_avg_ms: float | None = None
    latency_max_ms: float | None = None
    latency_pct: float | None = None
    latency_pct_ms: float | None = None
    latency_sum_ms: float | None = None
    total_mib: float | None = None
    mib_per_s: float | None = None
    events_per_second_derived: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)


_REPORT = {
    "version": re.compile(r"^sysbench (\S+?):?(?:\s|$)"),
    "threads": re.compile(r"^Number of threads: (\d+)"),
    "eps": re.compile(rf"^events per second:\s+{_NUMBER}"),
    "total_time": re.compile(rf"^total time:\s+{_NUMBER}s"),
    "total_events": re.compile(r"^total number of events:\s+(\d+)"),
    "operations": re.compile(
        rf"^(?:Total operations|Operations performed): (\d+) \({_NUMBER} (?:per second|ops/sec)\)"
    ),
    "mib": re.compile(rf"^{_NUMBER} MiB transferred \({_NUMBER} MiB/sec\)"),
}
_LATENCY = re.compile(rf"^(min|avg|max|sum):\s+{_NUMBER}(?:ms)?$")
_PERCENTILE = re.compile(rf"^(?:{_NUMBER}th percentile|approx\.\s+{_NUMBER} percentile):\s+{_NUMBER}(?:ms)?$")


def parse_report(text: str) -> SysbenchResult:
    """The report at the end of sysbench's stdout; SysbenchParseError when there is none."""
    found: dict[str, tuple[str, ...]] = {}
    latency: dict[str, float] = {}
    pct: tuple[float, float] | None = None
    in_latency = False
    test = ""
    warnings: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("WARNING:"):
            warnings.append(line.removeprefix("WARNING:").strip())
        if line.startswith("Prime numbers limit:"):
            test = "cpu"
        elif line.startswith("Running memory speed test") or line.startswith(
            ("Total operations", "Operations")
        ):
            test = "memory"
        if line in ("Latency (ms):", "response time:"):
            in_latency = True
            continue
        if in_latency:
            if (m := _LATENCY.match(line)) is not None:
                latency[m.group(1)] = float(m.group(2))
                continue
            if (p := _PERCENTILE.match(line)) is not None:
                pct = (float(p.group(1) or p.group(2)), float(p.group(3)))
                continue
            in_latency = False
        for key, pattern in _REPORT.items():
            if key not in found and (m := pattern.match(line)) is not None:
                found[key] = m.groups()
    if "total_time" not in found or "total_events" not in found:
        raise SysbenchParseError(
            'expected a sysbench report ("General statistics:" with "total time:" and '
            '"total number of events:")'
        )
    total_time = float(found["total_time"][0])
    total_events = int(found["total_events"][0])
    derived = False
    if "eps" in found:
        eps = float(found["eps"][0])
    elif "operations" in found:
        eps = float(found["operations"][1])
    else:
        eps, derived = (total_events / total_time if total_time > 0 else 0.0), True
    mib = found.get("mib")
    return SysbenchResult(
        test=test,
        version=found["version"][0] if "version" in found else None,
        threads=int(found["threads"][0]) if "threads" in found else None,
        total_time_s=total_time,
        total_events=total_events,
        events_per_second=eps,
        latency_min_ms=latency.get("min"),
        latency_avg_ms=latency.get("avg"),
        latency_max_ms=latency.get("max"),
        latency_pct=pct[0] if pct else None,
        latency_pct_ms=pct[1] if pct else None,
        latency_sum_ms=latency.get("sum"),
        total_mib=float(mib[0]) if mib else None,
        mib_per_s=float(mib[1]) if mib else None,
        events_per_second_derived=derived,
        warnings=tuple(warnings),
    )


class SysbenchStream:
    """Incremental reader of sysbench's stdout: interval samples as they come, the report at the end.

    The whole output is kept (it is small: one line per second plus the report) so ``close()``
    can parse the report; ``result`` is None when there was none (an interrupted run).
    """

    MAX_KEPT = 4 << 20

    def __init__(self) -> None:
        self.samples: list[SysbenchSample] = []
        self.fatal: list[str] = []
        self.result: SysbenchResult | None = None
        self.closed = False
        self._text: list[str] = []
        self._kept = 0
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> list[SysbenchSample]:
        text = self._pending + self._utf8.decode(data)
        *lines, self._pending = text.split("\n")
        return [s for s in (self._line(line) for line in lines) if s is not None]

    def close(self) -> list[SysbenchSample]:
        rest = self._pending + self._utf8.decode(b"", final=True)
        self._pending = ""
        sample = self._line(rest) if rest else None
        self.closed = True
        try:
            self.result = parse_report("\n".join(self._text))
        except SysbenchParseError:
            self.result = None
        return [sample] if sample is not None else []

    def _line(self, line: str) -> SysbenchSample | None:
        if self._kept < self.MAX_KEPT:
            self._text.append(line)
            self._kept += len(line) + 1
        line = line.strip()
        if line.startswith("FATAL:"):
            self.fatal.append(line.removeprefix("FATAL:").strip())
            return None
        if (m := _CPU_LINE.match(line)) is not None:
            sample = SysbenchSample(
                t=float(m.group(1)),
                threads=int(m.group(2)),
                events_per_s=float(m.group(3)),
                latency_pct=float(m.group(4)),
                latency_ms=float(m.group(5)),
            )
        elif (m := _MEMORY_LINE.match(line)) is not None:
            sample = SysbenchSample(t=float(m.group(1)), mib_per_s=float(m.group(2)))
        else:
            return None
        self.samples.append(sample)
        return sample


def final_metrics(result: SysbenchResult) -> dict[str, tuple[float, str]]:
    """Result metrics (name -> (value, unit))."""
    out: dict[str, tuple[float, str]] = {
        "events_per_second": (result.events_per_second, "ev/s"),
        "total_events": (float(result.total_events), "count"),
        "total_time_s": (result.total_time_s, "s"),
    }
    for name, value in (
        ("latency_min_ms", result.latency_min_ms),
        ("latency_avg_ms", result.latency_avg_ms),
        ("latency_max_ms", result.latency_max_ms),
    ):
        if value is not None:
            out[name] = (value, "ms")
    if result.latency_pct is not None and result.latency_pct_ms is not None:
        out[_pct_name(result.latency_pct)] = (result.latency_pct_ms, "ms")
    if result.mib_per_s is not None:
        out["mib_per_s"] = (result.mib_per_s, "MiB/s")
    if result.total_mib is not None:
        out["total_mib"] = (result.total_mib, "MiB")
    return out


def classify_failure(stream: SysbenchStream, returncode: int, stderr: bytes | str = b"") -> str | None:
    """One line saying why a run failed, or None when its report is usable."""
    err = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    said = [line.strip() for line in err.splitlines() if line.strip()]
    if stream.fatal:
        return f"sysbench failed: {stream.fatal[0]} ({how})"
    if said and stream.result is None:
        return f"sysbench failed: {said[0][:200]} ({how})"
    if stream.result is None:
        intervals = f" after {len(stream.samples)} interval reports" if stream.samples else ""
        if returncode < 0 or 128 < returncode <= 128 + 64:  # a shell or a container reports 128 + N
            signal = -returncode if returncode < 0 else returncode - 128
            return (
                f"sysbench was stopped by signal {signal}{intervals}; "
                + "an interrupted sysbench prints no report"
            )
        return f"sysbench printed no report{intervals} ({how})"
    if returncode != 0:
        return f"sysbench failed ({how})"
    if stream.result.total_events == 0:
        return "sysbench ran no events"
    return None
