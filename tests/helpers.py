"""Shared by the tests that run katatui for real."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def need(tool: str) -> None:
    """Skip when a tool is missing, except in CI where a missing component is a failure."""
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed; scripts/system-packages installs it")
        pytest.skip(f"{tool} is not installed")


def katatui(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run katatui to the end. One that outlives ``timeout`` is asked what it waits on (SIGUSR1, for
    `katatui run`), interrupted so it cleans up, and the test fails with what it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "katatui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=REPO,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if args and args[0] == "run":
            proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(
            f"katatui {' '.join(args)} still running after {timeout:.0f} s; it printed:\n"
            f"{out[-6000:]}\n--- stderr:\n{err[-20000:]}",
            pytrace=False,
        )
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def start_katatui(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "katatui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=REPO,
    )


def count_events(path: Path, kind: str) -> int:
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(path, timeout=1)
    except sqlite3.Error:
        return 0
    try:
        n = int(conn.execute("SELECT count(*) FROM events WHERE kind=?", (kind,)).fetchone()[0])
    except sqlite3.Error:
        n = 0
    if kind == "Sample":  # a compact session keeps its samples in blocks
        with contextlib.suppress(sqlite3.Error):
            n += int(conn.execute("SELECT coalesce(sum(count), 0) FROM samples").fetchone()[0])
    conn.close()
    return n


def wait_for_events(path: Path, kind: str, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_events(path, kind) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"no {n} {kind} events in {path} within {timeout} s")


def fio_profile(
    tmp_path: Path, *, scenarios: str, runtime: int = 2, extra: str = "", target: str = ""
) -> Path:
    text = f"""
name = "test"
repeats = 1
[targets.local]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
{target}
{scenarios}
[[workloads]]
type = "fio"
rw = "randread"
bs = "4k"
iodepth = 4
size = "16m"
runtime = {runtime}
{extra}
"""
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path
