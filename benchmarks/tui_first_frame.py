"""Time to the dashboard's first frame, against a minimal Textual app on the same machine.

Each sample is a fresh interpreter (imports included) that runs the app headless and prints the
wall clock once its first frame is painted; the time counts from just before the interpreter is
spawned. The two apps alternate so drift hits both alike.

    python benchmarks/tui_first_frame.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

FIRST = """
import os, sys, time
def first_frame():
    sys.stdout.write(repr(time.time())); sys.stdout.flush(); os._exit(0)
"""

MINIMAL = (
    FIRST
    + """
from textual.app import App
from textual.widgets import Footer, Static
class Minimal(App[None]):
    def compose(self):
        yield Static("hello")
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(first_frame)
Minimal().run(headless=True, size=(160, 48))
"""
)

KATATUI = (
    FIRST
    + """
from pathlib import Path
from katatui.tui.app import KatatuiApp
class First(KatatuiApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(first_frame)
First(profile_path=Path("profiles/quick.toml")).run(headless=True, size=(160, 48))
"""
)


def once(code: str) -> float:
    t = time.time()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    return float(done.stdout.strip()) - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    once(MINIMAL), once(KATATUI)  # warm the file cache
    minimal: list[float] = []
    ours: list[float] = []
    for _ in range(args.runs):
        minimal.append(once(MINIMAL))
        ours.append(once(KATATUI))
    m, k = statistics.median(minimal), statistics.median(ours)
    print(f"minimal Textual app: median {m * 1000:.0f} ms ({', '.join(f'{x * 1000:.0f}' for x in minimal)})")
    print(f"katatui start screen: median {k * 1000:.0f} ms ({', '.join(f'{x * 1000:.0f}' for x in ours)})")
    print(f"ratio: {k / m:.2f}×")
    mods = subprocess.run(
        [sys.executable, "-c", "import sys; import katatui.tui.app, katatui.tui.start; "
         "print(' '.join(m for m in ('docker', 'kubernetes', 'plotext', 'asyncssh') if m in sys.modules))"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    print(f"heavy modules imported before the first frame: {mods or 'none'}")


if __name__ == "__main__":
    main()
