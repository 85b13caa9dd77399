"""The writer's CPU per fio status object: the raw output encoder, first and second encodings.

Each client's json+ output of a recorded fio run (``--source``, by default
``benchmarks/data/fio-randread-8x60.katatui``) is cut into its status objects and written to an
encoder one object at a time, flushed every ``--flush-every`` objects as the session writer's
commits do; the CPU time (``time.process_time``) of each write and its share of the flushes is
taken per object. Both encoders run in the same process, alternately, ``--rounds`` times; the
median over every object of every round is reported, with the compressed bytes per object and a
check that each stream decodes to the bytes written.

    python benchmarks/raw_encoder.py [--source S] [--rounds 3] [--flush-every 1]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from katatui.core import sessionformat as fmt  # noqa: E402
from katatui.core.session import SessionReader  # noqa: E402

SOURCE = REPO / "benchmarks" / "data" / "fio-randread-8x60.katatui"


def objects(path: Path) -> list[list[bytes]]:
    """Each client's raw output as its status objects (the last one with what follows it)."""
    out = []
    with SessionReader(path) as reader:
        for run_id, client, stream, _ in reader.raw_streams():
            raw = reader.raw(run_id, client, stream)
            cuts = [0, *(i + 1 for i in range(len(raw)) if raw.startswith(b"\n{", i)), len(raw)]
            out.append([raw[a:b] for a, b in itertools.pairwise(cuts) if b > a])
    return out


def measure(cls: type, streams: list[list[bytes]], flush_every: int) -> tuple[list[float], int, int]:
    per_object: list[float] = []
    size = count = 0
    for objs in streams:
        enc = cls()
        chunks = []
        for i, obj in enumerate(objs):
            cpu = time.process_time()
            enc.write(obj)
            if (i + 1) % flush_every == 0:
                chunks.append(enc.flush())
            per_object.append(time.process_time() - cpu)
        chunks.append(enc.close())
        assert fmt.decode_raw(chunks) == b"".join(objs)
        size += sum(len(t) + len(n) for t, n in chunks)
        count += len(objs)
    return per_object, size, count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flush-every", type=int, default=1)
    args = parser.parse_args()
    streams = objects(args.source)
    results: dict[str, tuple[list[float], int, int]] = {}
    encoders = {
        "first encoding (RawEncoderV1)": fmt.RawEncoderV1,
        "second encoding (RawEncoder)": fmt.RawEncoder,
    }
    for _ in range(args.rounds):
        for name, cls in encoders.items():
            times, size, count = measure(cls, streams, args.flush_every)
            before = results.get(name, ([], 0, 0))[0]
            results[name] = (before + times, size, count)
    printed = sum(len(o) for objs in streams for o in objs)
    medians = {}
    for name, (times, size, count) in results.items():
        medians[name] = statistics.median(times)
        print(f"{name}: {medians[name] * 1000:.3f} ms CPU per object (median of {len(times):,}),"
              f" {size / count:,.0f} B per object compressed ({count} objects,"
              f" {printed / count:,.0f} B each as printed)")  # fmt: skip
    first, second = medians.values()
    print(f"second / first: {first / second:.1f}x less CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
