"""How a large session behaves: its size on disk, and the time to list, open, summarise and replay it.

The session is what a live run of ``--streams`` fio clients writes for ``--minutes``: one fio cell
with ``streams / 2`` clients under two scenarios (bare, runc), and for each client and second the
Sample a live run records (metrics and the interval latency histogram) and the raw json+ status
object fio printed, both taken from a real recording (``--source``, by default
``benchmarks/data/fio-randread-8x60.katatui``: 8 fio clients, 4k random reads, 60 s, recorded on
the project's test machine). Each stream walks through one real client's seconds in order from
its own starting point, so that the histograms vary as real ones do and no two streams say the
same thing at the same second; each run also has its sandbox sample a second (client 2000) and
its results. Everything goes through SessionWriter as in a live run, committed every half
second of the session's time (as the writer does every ``COMMIT_INTERVAL`` live).

Then, each timed ``--repeat`` times (median reported): list (``library.list_sessions``), open
(``SessionReader`` and its runs), summarise (``report.summarize``); once each: every event back
(``replay.events``, what a replay reads before it plays), the same with every histogram read,
every raw output back (``reader.raw``, what ``katatui export --raw`` writes), and the HTML report.

    python benchmarks/large_session.py [--streams 128] [--minutes 60] [--source S] [--dir DIR]
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
    SANDBOX_CLIENT,
    Metric,
    RawOutput,
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

SOURCE = REPO / "benchmarks" / "data" / "fio-randread-8x60.katatui"


class Recorded:
    """One real fio run: each client's samples and json+ status objects, second by second."""

    def __init__(self, path: Path) -> None:
        with SessionReader(path) as reader:
            run = next(r for r in reader.runs() if r.status == "finished" and r.spec.kind == "fio")
            rid = run.spec.run_id
            events = [e for e in replay.events(reader) if isinstance(e, Sample) and e.run_id == rid]
            self.sandbox = [e for e in events if e.client == SANDBOX_CLIENT]
            self.samples: list[list[Sample]] = []
            self.objects: list[list[bytes]] = []
            for c in range(run.spec.clients):
                samples = [e for e in events if e.client == c and e.hist]
                raw = reader.raw(rid, c)
                objects = [b"{" + o for o in raw.split(b"\n{")]
                objects[0] = objects[0][1:]
                objects = [o if i == len(objects) - 1 else o + b"\n" for i, o in enumerate(objects)]
                assert b"".join(objects) == raw
                objects = [o for o in objects if b'"jobs"' in o]
                n = min(len(samples), len(objects))
                self.samples.append(samples[:n])
                self.objects.append(objects[:n])
            self.results = {
                r.metric: Metric(r.value, r.unit) for r in reader.results() if r.run.spec.run_id == rid
            }
            self.n = min(len(s) for s in self.samples)
            self.clients = run.spec.clients


def build(path: Path, src: Recorded, streams: int, seconds: int) -> tuple[float, int, int]:
    clients = max(1, streams // 2)
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
    queue = writer._queue  # keep the writer's backlog bounded, as a live run's pace would
    n_samples = raw_bytes = 0
    for second in range(1, seconds + 1):
        for k, spec in enumerate(specs):
            at = t0 + second + k / 2
            for c in range(clients):
                # each stream its own real client and starting second: no two alike at one time
                src_client = c % src.clients
                i = (second + (c // src.clients) * 5 + k * 3) % src.n
                sample = src.samples[src_client][i]
                writer(replace(sample, run_id=spec.run_id, t=float(second), client=c, at=at))
                data = src.objects[src_client][i]
                writer(RawOutput(spec.run_id, c, "stdout", data, at=at))
                n_samples += 1
                raw_bytes += len(data)
            box = src.sandbox[second % len(src.sandbox)] if src.sandbox else None
            if box is not None:
                writer(replace(box, run_id=spec.run_id, t=float(second), at=at))
                n_samples += 1
            if hasattr(writer, "checkpoint"):  # the commit a live writer makes every half second
                writer.checkpoint()
        while queue.qsize() > 20_000:
            time.sleep(0.005)
    for spec in specs:
        writer(RunFinished(spec.run_id, src.results, float(seconds), at=t0 + seconds))
    writer(SessionFinished("completed", at=t0 + seconds))
    writer.close()
    return time.monotonic() - start, n_samples, raw_bytes


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


def replay_it(path: Path, *, histograms: bool = False) -> int:
    n = 0
    with SessionReader(path) as reader:
        for ev in replay.events(reader):
            n += 1
            if histograms and isinstance(ev, Sample):
                for bins in ev.hist.values():
                    len(bins)
    return n


def raw_back(path: Path) -> int:
    with SessionReader(path) as reader:
        return sum(len(reader.raw(r, c, s)) for r, c, s, _ in reader.raw_streams())


def html_it(path: Path) -> int:
    with SessionReader(path) as reader:
        return len(render(reader))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=128)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--source", type=Path, default=SOURCE, help="a recorded session with a fio run")
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp/katatui-bench"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the session file")
    args = parser.parse_args()
    src = Recorded(args.source)
    sessions = args.dir / "sessions"
    if sessions.exists():
        shutil.rmtree(sessions)
    sessions.mkdir(parents=True)
    path = sessions / "large.katatui"
    seconds = int(args.minutes * 60)
    cpu = time.process_time()
    built, n_samples, raw_bytes = build(path, src, args.streams, seconds)
    cpu = time.process_time() - cpu
    size = sum(p.stat().st_size for p in sessions.iterdir() if p.name.startswith(path.name))
    per = args.streams * seconds
    print(f"session: {args.streams} streams x {seconds} s of 1 s samples = {per:,} samples"
          f" (+{n_samples - per:,} sandbox samples), with {raw_bytes / 2**20:,.1f} MiB of fio's raw json+;"
          f" from {args.source.name}")  # fmt: skip
    print(f"written in {built:.1f} s ({cpu:.1f} s of CPU, writer and this benchmark's own events)")
    print(f"size {size / 2**20:,.1f} MiB ({size / per:,.0f} B/sample)")
    entries = library.list_sessions(sessions)
    assert len(entries) == 1 and entries[0].runs_finished == 2, entries
    listed = timed(lambda: library.list_sessions(sessions), args.repeat)
    print(f"list (katatui sessions):    {listed * 1000:8.1f} ms")
    print(f"open (reader + runs):       {timed(lambda: open_it(path), args.repeat) * 1000:8.1f} ms")
    print(f"summarise (report table):   {timed(lambda: summarise_it(path), args.repeat) * 1000:8.1f} ms")
    start, cpu = time.perf_counter(), time.process_time()
    n = replay_it(path)
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"every event back (replay): {took:.2f} s for {n:,} events")
    print(f"  = {n / took:,.0f} events/s ({n / cpu:,.0f} per CPU second); histograms decoded when first read")
    start, cpu = time.perf_counter(), time.process_time()
    n = replay_it(path, histograms=True)
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"  with every histogram read: {took:.2f} s = {n / took:,.0f} events/s ({n / cpu:,.0f} per CPU s)")
    start = time.perf_counter()
    back = raw_back(path)
    took = time.perf_counter() - start
    assert back == raw_bytes, (back, raw_bytes)
    mib = back / 2**20
    print(f"every raw output back:      {took:8.1f} s for {mib:,.1f} MiB ({mib / took:,.0f} MiB/s)")
    start = time.perf_counter()
    html = html_it(path)
    print(f"HTML report with CDFs:      {time.perf_counter() - start:8.1f} s ({html:,} bytes)")
    if not args.keep:
        shutil.rmtree(sessions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
