"""How far katatui's fio figures for the bare scenario are from running the same fio by hand.

Alternates N times: `katatui run` of a one-run bare profile, then the very fio command katatui
recorded for that run, started directly in a fresh directory. Prints each pair, the medians and
the ratio of medians (katatui / direct). Run by hand: python benchmarks/fio_overhead.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from katatui.core.session import SessionReader

MIB = 2**20
PROFILE = """
name = "overhead"
[targets.local]
host = "local"
scratch_base = "{base}"
[[scenarios]]
launcher = "bare"
[[workloads]]
type = "fio"
rw = "{rw}"
bs = "{bs}"
iodepth = 8
size = "128m"
runtime = {runtime}
"""


def katatui_run(workdir: Path, i: int) -> tuple[float, list[str]]:
    out = workdir / f"k{i}.katatui"
    subprocess.run(
        [sys.executable, "-m", "katatui", "run", str(workdir / "p.toml"), "--headless", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    reader = SessionReader(out)
    run = reader.runs()[0]
    metric = next(r for r in reader.results() if r.metric.endswith("bw_bytes_per_s"))
    reader.close()
    return metric.value, run.commands[0]


def direct_run(argv: list[str], base: Path) -> float:
    with tempfile.TemporaryDirectory(dir=base) as d:
        cmd = [a if not a.startswith("--directory=") else f"--directory={d}" for a in argv]
        cmd = [a for a in cmd if a not in ("--status-interval=1",)]
        cmd = [a if a != "--output-format=json+" else "--output-format=json" for a in cmd]
        done = subprocess.run(cmd, check=True, capture_output=True)
    job = json.loads(done.stdout)["jobs"][0]
    direction = "read" if job["read"]["io_bytes"] else "write"
    return float(job[direction]["bw_bytes"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--rw", default="randread")
    ap.add_argument("--bs", default="4k")
    ap.add_argument("--runtime", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="katatui-bench-", dir="/var/tmp") as tmp:
        workdir = Path(tmp)
        base = workdir / "scratch"
        base.mkdir()
        (workdir / "p.toml").write_text(
            PROFILE.format(base=base, rw=args.rw, bs=args.bs, runtime=args.runtime)
        )
        _, argv = katatui_run(workdir, 999)  # a warm-up run, and the exact command katatui runs
        kat: list[float] = []
        direct: list[float] = []
        for i in range(args.rounds):
            # Alternate which goes first so that drift does not favour one side.
            for side in ("k", "d") if i % 2 == 0 else ("d", "k"):
                if side == "k":
                    kat.append(katatui_run(workdir, i)[0])
                else:
                    direct.append(direct_run(argv, base))
            print(f"round {i + 1}: katatui {kat[-1] / MIB:8.1f} MiB/s   direct {direct[-1] / MIB:8.1f} MiB/s")
        mk, md = statistics.median(kat), statistics.median(direct)
        print(
            f"{args.rw} bs={args.bs} iodepth=8 {args.runtime}s, {args.rounds} rounds, {os.cpu_count()} CPUs"
        )
        print(f"median katatui {mk / MIB:.1f} MiB/s, direct {md / MIB:.1f} MiB/s, ratio {mk / md:.3f}")
        spread = [k / d for k, d in zip(kat, direct, strict=True)]
        print(
            f"per-round ratio: min {min(spread):.3f} median {statistics.median(spread):.3f} "
            f"max {max(spread):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
