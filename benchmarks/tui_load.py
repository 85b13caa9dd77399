"""How the dashboard copes with many live streams: event-loop lag and CPU while samples pour in.

Streams are clients × 2 scenarios (bare, runc) in one cell, each sending one Sample a second, with
the interval histograms of a real recorded session (tests/tui/fixtures/three_columns.katatui)
re-addressed to each stream. The app runs headless (Textual still lays out and renders every
frame; only the terminal write is skipped) at 160×48 with the live screen showing.

    python benchmarks/tui_load.py [--seconds 20] [--streams 2 16 128]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from katatui.core import replay  # noqa: E402
from katatui.core.events import Listener, RunSpec, RunStarted, Sample, SessionStarted  # noqa: E402
from katatui.core.session import SessionReader  # noqa: E402
from katatui.tui.app import KatatuiApp  # noqa: E402

FIXTURE = REPO / "tests" / "tui" / "fixtures" / "three_columns.katatui"


def real_samples() -> list[Sample]:
    reader = SessionReader(FIXTURE)
    try:
        return [e for e in replay.events(reader) if isinstance(e, Sample) and e.hist]
    finally:
        reader.close()


class StreamSource:
    def __init__(self, streams: int, seconds: int) -> None:
        self.clients = max(1, streams // 2)
        self.seconds = seconds
        self.session_path: Path | None = None
        self.samples = real_samples()
        self.sent = 0

    async def run(self, listener: Listener) -> str:
        cell = f"fio[rw=randread,bs=4k,iodepth=4,numjobs=1,clients={self.clients}]"
        specs = tuple(
            RunSpec(f"run-{s}", i, cell, s, "bare" if s == "bare" else "docker", None if s == "bare" else s,
                    "local", "fio", "fio", {"rw": "randread"}, self.clients, 0)
            for i, s in enumerate(("bare", "runc"))
        )  # fmt: skip
        listener(SessionStarted("bench", "load", "concurrent", specs))
        for spec in specs:
            listener(RunStarted(spec.run_id, tuple(("fio", f"--client={c}") for c in range(self.clients))))
        start = time.monotonic()
        k = 0
        for second in range(1, self.seconds + 1):
            # the second's samples arrive in 10 bursts, as clients' intervals are not aligned
            for burst in range(10):
                for spec in specs:
                    for c in range(burst, self.clients, 10):
                        real = self.samples[k % len(self.samples)]
                        k += 1
                        listener(replace(real, run_id=spec.run_id, t=second - 0.2, client=c, at=time.time()))
                        self.sent += 1
                await asyncio.sleep(max(0.0, start + second - 1 + (burst + 1) / 10 - time.monotonic()))
        return "completed"

    def stop_run(self, run_id: str) -> str:
        return ""

    def skip_cell(self, cell: str) -> str:
        return ""

    def abort(self) -> None:
        pass


async def measure(streams: int, seconds: int) -> dict[str, float]:
    source = StreamSource(streams, seconds)
    app = KatatuiApp(source=source)
    lags: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        cpu0, wall0 = time.process_time(), time.monotonic()
        worker = next(iter(app.workers))
        while not worker.is_finished:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append((time.monotonic() - t - 0.01) * 1000)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        await pilot.pause(0.2)
    q = statistics.quantiles(lags, n=100)
    return {
        "streams": streams,
        "samples": source.sent,
        "rate": source.sent / wall,
        "lag_p50": q[49],
        "lag_p95": q[94],
        "lag_p99": q[98],
        "lag_max": max(lags),
        "cpu": 100 * cpu / wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--streams", type=int, nargs="+", default=[2, 16, 128])
    args = ap.parse_args()
    print(f"{'streams':>7} {'samples/s':>9} {'lag p50':>8} {'p95':>7} {'p99':>7} {'max':>7} {'CPU %':>6}")
    for n in args.streams:
        r = asyncio.run(measure(n, args.seconds))
        lags = " ".join(f"{r[k]:>5.1f}ms" for k in ("lag_p50", "lag_p95", "lag_p99", "lag_max"))
        print(f"{n:>7} {r['rate']:>9.0f} {lags} {r['cpu']:>6.1f}")


if __name__ == "__main__":
    main()
