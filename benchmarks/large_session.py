"""How a large session behaves in the library: its size, and the time to list, open and summarise it.

The session has 128 streams for an hour of 1 s samples: one fio cell with 64 clients under two
scenarios (bare, runc), each client sending one Sample a second with the metrics and interval
latency histogram of a real recorded sample (tests/tui/fixtures/three_columns.katatui), re-addressed
to each stream, plus each run's RunStarted/RunFinished, written through SessionWriter as a live run
is. Then, each timed ``--repeat`` times (median reported):

- list: ``library.list_sessions`` of its directory (what ``katatui sessions`` shows);
- open: ``SessionReader`` plus its runs (what every command does first);
- summarise: ``report.summarize`` (the side-by-side table);
- and once each: every event back (``replay.events``, what a replay reads) and the HTML report
  (which sums every sample's histogram for the latency CDFs).

    python benchmarks/large_session.py [--streams 128] [--minutes 60] [--dir /var/tmp/katatui-bench]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from katatui.core import library, replay  # noqa: E402
from katatui.core.events import (  # noqa: E402
    Metric,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    SessionFinished,
    SessionStarted,
)
from katatui.core.report import summarize  # noqa: E402
from katatui.core.session import SessionReader, SessionWriter  # noqa: E402
from katatui.views.html_report import render  # noqa: E402

FIXTURE = REPO / "tests" / "tui" / "fixtures" / "three_columns.katatui"


def real_samples() -> list[Sample]:
    with SessionReader(FIXTURE) as reader:
        return [e for e in replay.events(reader) if isinstance(e, Sample) and e.hist]


def real_results() -> dict[str, Metric]:
    with SessionReader(FIXTURE) as reader:
        first = reader.runs()[0].spec.run_id
        return {r.metric: Metric(r.value, r.unit) for r in reader.results() if r.run.spec.run_id == first}


def build(path: Path, streams: int, seconds: int) -> float:
    clients = max(1, streams // 2)
    samples = real_samples()
    cell = f"fio[rw=randread,bs=4k,iodepth=4,numjobs=1,clients={clients}]"
    specs = tuple(
        RunSpec(f"run-{s}", i, cell, s, "bare" if s == "bare" else "docker", None if s == "bare" else s,
                "local", "fio", "fio", {"rw": "randread", "bs": "4k", "iodepth": 4, "numjobs": 1}, clients, 0)
        for i, s in enumerate(("bare", "runc"))
    )  # fmt: skip
    start = time.monotonic()
    t0 = time.time() - seconds
    writer = SessionWriter(path, session_id="large", profile_text="", profile_json="{}")
    writer(SessionStarted("large", f"large-{streams}x{seconds}s", "concurrent", specs, at=t0))
    for spec in specs:
        writer(RunStarted(spec.run_id, tuple(("fio", f"--client={c}") for c in range(clients)), at=t0))
    k = 0
    queue = writer._queue  # keep the writer's backlog bounded, as a live run's pace would
    for second in range(1, seconds + 1):
        for spec in specs:
            for c in range(clients):
                real = samples[k % len(samples)]
                k += 1
                writer(replace(real, run_id=spec.run_id, t=float(second), client=c, at=t0 + second))
        while queue.qsize() > 20_000:
            time.sleep(0.005)
    results = real_results()
    for spec in specs:
        writer(RunFinished(spec.run_id, results, float(seconds), at=t0 + seconds))
    writer(SessionFinished("completed", at=t0 + seconds))
    writer.close()
    return time.monotonic() - start


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def open_it(path: Path) -> None:
    with SessionReader(path) as reader:
        reader.runs()


def summarise_it(path: Path) -> None:
    with SessionReader(path) as reader:
        summarize(reader)


def replay_it(path: Path) -> int:
    with SessionReader(path) as reader:
        return sum(1 for _ in replay.events(reader))


def html_it(path: Path) -> int:
    with SessionReader(path) as reader:
        return len(render(reader))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=128)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp/katatui-bench"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the session file")
    args = parser.parse_args()
    sessions = args.dir / "sessions"
    if sessions.exists():
        shutil.rmtree(sessions)
    sessions.mkdir(parents=True)
    path = sessions / "large.katatui"
    seconds = int(args.minutes * 60)
    built = build(path, args.streams, seconds)
    size = path.stat().st_size
    print(f"session: {args.streams} streams x {seconds} s of 1 s samples = {args.streams * seconds:,} samples")
    print(f"written in {built:.1f} s; size {size / 2**20:,.1f} MiB ({size / (args.streams * seconds):,.0f} B/sample)")
    entries = library.list_sessions(sessions)
    assert len(entries) == 1 and entries[0].runs_finished == 2, entries
    print(f"list (katatui sessions):    {timed(lambda: library.list_sessions(sessions), args.repeat) * 1000:8.1f} ms")
    print(f"open (reader + runs):       {timed(lambda: open_it(path), args.repeat) * 1000:8.1f} ms")
    print(f"summarise (report table):   {timed(lambda: summarise_it(path), args.repeat) * 1000:8.1f} ms")
    start = time.perf_counter()
    n = replay_it(path)
    print(f"every event back (replay):  {time.perf_counter() - start:8.1f} s for {n:,} events")
    start = time.perf_counter()
    html = html_it(path)
    print(f"HTML report with CDFs:      {time.perf_counter() - start:8.1f} s ({html:,} bytes)")
    if not args.keep:
        shutil.rmtree(sessions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
