"""How long seeking in a replay takes: a seek back rebuilds the dashboard's model from the start.

Two sessions: the shipped demo (katatui/data/demo.katatui, as recorded), and a long one made of
its real fio interval samples (with their latency histograms) re-addressed to ``--streams``
client streams (2 scenarios) for ``--minutes`` minutes, one Sample per stream and second. For
each: building the timeline, a fresh replay to the end (keeping copies of the model as the app
does), and a seek back to the middle, both from the start (every event up to there applied
again) and from the last copy of the model before the middle (what the app does). The long
session is first written to a session file as a live run writes it, and read back from there
(``replay.events``, what ``katatui replay`` does before its first frame; the seeks then run on
what was read, as in the app).

    python benchmarks/replay_seek.py [--streams 16] [--minutes 10] [--dir /var/tmp/katatui-bench]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from katatui.commands.demo import demo_path  # noqa: E402
from katatui.core import replay  # noqa: E402
from katatui.core.events import Event, RunSpec, RunStarted, Sample, SessionStarted  # noqa: E402
from katatui.core.playback import Playback, Timeline  # noqa: E402
from katatui.core.session import SessionReader, SessionWriter  # noqa: E402
from katatui.tui.checkpoints import Checkpoints, interval  # noqa: E402
from katatui.tui.model import SessionModel  # noqa: E402


def recorded() -> list[Event]:
    reader = SessionReader(demo_path())
    try:
        return list(replay.events(reader))
    finally:
        reader.close()


def long_session(events: list[Event], streams: int, minutes: int) -> list[Event]:
    samples = [e for e in events if isinstance(e, Sample) and e.hist]
    clients = max(1, streams // 2)
    cell = f"fio[rw=randread,bs=4k,iodepth=4,numjobs=1,clients={clients}]"
    specs = tuple(
        RunSpec(f"run-{s}", i, cell, s, "docker", s, "local", "fio", "fio", {"rw": "randread"}, clients, 0)
        for i, s in enumerate(("bare", "runc"))
    )
    t0 = 1_000_000.0
    out: list[Event] = [SessionStarted("bench", "long", "concurrent", specs, at=t0)]
    out += [RunStarted(s.run_id, (("fio",),) * clients, at=t0) for s in specs]
    k = 0
    for second in range(1, minutes * 60 + 1):
        for spec in specs:
            for client in range(clients):
                src = samples[k % len(samples)]
                k += 1
                out.append(replace(src, run_id=spec.run_id, client=client, t=float(second), at=t0 + second))
    return out


def measure(name: str, events: list[Event]) -> None:
    t = time.perf_counter()
    timeline = Timeline.of(events)
    built = time.perf_counter() - t

    model = SessionModel()
    keep = Checkpoints(model)
    every = interval(len(events))
    pb = Playback(timeline)
    t = time.perf_counter()
    for n, ev in enumerate(pb.seek(timeline.total).events, 1):
        model.apply(ev)
        if n % every == 0:
            keep.save(n)
    to_end = time.perf_counter() - t

    moved = pb.seek(timeline.total / 2)
    assert moved.rewind
    t = time.perf_counter()
    scratch = SessionModel()
    for ev in moved.events:
        scratch.apply(ev)
    from_start = time.perf_counter() - t
    t = time.perf_counter()
    begin = keep.restore(len(moved.events))
    for ev in moved.events[begin:]:
        model.apply(ev)
    from_copy = time.perf_counter() - t
    print(
        f"{name}: {len(events):,} events over {timeline.total:,.0f} s · timeline {built * 1000:.0f} ms · "
        f"replay to the end {to_end * 1000:.0f} ms ({len(keep)} copies of the model) · seek back to the "
        f"middle: from the start {from_start * 1000:.0f} ms, from the last copy "
        f"({len(moved.events) - begin:,} events again) {from_copy * 1000:.0f} ms"
    )


def through_a_file(events: list[Event], base: Path) -> list[Event]:
    """``events`` written to a session file and read back, with the time and size it took."""
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="replay-seek-", dir=base))
    try:
        path = folder / "long.katatui"
        writer = SessionWriter(path, session_id="long", profile_text="", profile_json="{}")
        for n, ev in enumerate(events):
            writer(ev)
            if n % 256 == 255:
                writer.checkpoint()  # commits as a live run's would
        writer.close()
        t = time.perf_counter()
        with SessionReader(path) as reader:
            back = list(replay.events(reader))
        took = time.perf_counter() - t
        print(
            f"  session file {path.stat().st_size / 2**20:,.1f} MiB; read back (replay.events): "
            f"{took:.2f} s for {len(back):,} events ({len(back) / took:,.0f} events/s)"
        )
        assert len(back) == len(events)
        return back
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--dir", type=Path, default=Path("/var/tmp/katatui-bench"))
    args = ap.parse_args()
    events = recorded()
    measure("demo session", events)
    long = long_session(events, args.streams, args.minutes)
    measure(f"{args.streams} streams × {args.minutes} min", through_a_file(long, args.dir))


if __name__ == "__main__":
    main()
