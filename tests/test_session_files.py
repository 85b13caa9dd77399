"""Session files that went wrong: cut off by a crash, truncated, corrupted, from a newer katatui,
and two katatui processes writing at once. A reader never changes the file it reads."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from katatui.core.errors import UserError
from katatui.core.session import SCHEMA_VERSION, SessionReader, SessionWriter
from tests.helpers import REPO, katatui

pytestmark = pytest.mark.integration

# A katatui that records a session and is killed with SIGKILL mid-run: one run finished, one going,
# one not started. The events are the engine's own types, written by the real SessionWriter.
CRASH = """
import os, sys, time
from katatui.core.events import *
from katatui.core.session import SessionWriter
w = SessionWriter(sys.argv[1], session_id="crash", profile_text="", profile_json="{}")
runs = tuple(RunSpec(f"r{i}", i, "fio[rw=read,clients=1]", "bare", "bare", None, "local", "fio", "fio",
                     {"rw": "read"}, 1, 0) for i in range(3))
w(SessionStarted("crash", "crashed", "sequential", runs))
w(RunStarted("r0", (("fio", "--name=x"),)))
w(Sample("r0", 1.0, {"read_iops": 100.0}, hist={"read_clat_ns": {1000: 3, 2000: 1}}))
w(Sample("r0", 2.0, {"read_iops": 100.0}, hist={"read_clat_ns": {1000: 1, 4000: 2}}))
w(RunFinished("r0", {"read_iops": Metric(100.0, "IO/s")}, 1.0))
w(RunStarted("r1", (("fio", "--name=x"),)))
w(Sample("r1", 1.0, {"read_iops": 90.0}, hist={"read_clat_ns": {8000: 5}}))
time.sleep(1.5)  # past a commit
os.kill(os.getpid(), 9)
"""


def digest(path: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.iterdir())
        if p.name.startswith(path.name)
    }


def crashed_session(tmp_path: Path) -> Path:
    out = tmp_path / "crashed.katatui"
    done = subprocess.run([sys.executable, "-c", CRASH, str(out)], cwd=REPO, capture_output=True, timeout=60)
    assert done.returncode == -9, done.stderr
    assert out.with_name(out.name + "-wal").exists()  # the crash left its write-ahead log
    return out


def test_a_crashed_session_opens_with_its_unfinished_runs_marked_and_is_not_modified(tmp_path: Path) -> None:
    path = crashed_session(tmp_path)
    before = digest(path)
    with SessionReader(path) as reader:
        status = {r.spec.run_id: r.status for r in reader.runs()}
        assert status == {"r0": "finished", "r1": "unfinished", "r2": "unfinished"}
        assert reader.status.startswith("incomplete")
        assert [(r.run.spec.run_id, r.value) for r in reader.results()] == [("r0", 100.0)]
        assert len(reader.samples("r1")) == 1  # what was measured before the crash is there
        # histograms: r0's totals were stored when it finished, r1's are summed from its samples
        hist = reader.histogram_totals()
        assert hist == {
            ("fio[rw=read,clients=1]", "bare", "read_clat_ns"): {1000: 4, 2000: 1, 4000: 2, 8000: 5}
        }
    done = katatui("report", str(path))
    assert done.returncode == 0, done.stderr
    assert "2 run(s) unfinished" in done.stdout
    assert digest(path) == before  # the file, its log and its shared index: byte for byte


def expect_user_error(path: Path, *words: str) -> str:
    before = digest(path)
    done = katatui("report", str(path))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert str(path) in done.stderr
    for word in words:
        assert word in done.stderr
    assert digest(path) == before
    return done.stderr


def test_a_truncated_session_is_reported_with_its_path_and_left_as_it_is(
    tmp_path: Path, session_a: Path
) -> None:
    data = session_a.read_bytes()
    path = tmp_path / "truncated.katatui"
    path.write_bytes(data[: len(data) // 3])
    expect_user_error(path, "left as it is")


def test_a_corrupted_session_is_reported_with_its_path_and_left_as_it_is(
    tmp_path: Path, session_a: Path
) -> None:
    data = bytearray(session_a.read_bytes())
    data[0:100] = os.urandom(100)  # the SQLite header is gone
    path = tmp_path / "corrupted.katatui"
    path.write_bytes(bytes(data))
    expect_user_error(path, "not a readable katatui session file")
    text = tmp_path / "notes.katatui"
    text.write_text("these are my notes, not a session\n")
    expect_user_error(text, "not a readable katatui session file")


def test_a_session_of_a_newer_schema_says_so(tmp_path: Path, session_a: Path) -> None:
    path = tmp_path / "newer.katatui"
    shutil.copy(session_a, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.close()
    err = expect_user_error(path, "newer katatui", "schema version 99", "upgrade katatui")
    assert f"reads up to {SCHEMA_VERSION}" in err
    with pytest.raises(UserError, match="newer katatui"):
        SessionReader(path)


def test_two_writers_never_share_a_file(tmp_path: Path) -> None:
    path = tmp_path / "same.katatui"
    first = SessionWriter(path, session_id="a", profile_text="", profile_json="{}")
    try:
        with pytest.raises(UserError, match="already exists"):
            SessionWriter(path, session_id="b", profile_text="", profile_json="{}")
    finally:
        first.close()


WRITER = """
import sys
from katatui.core.events import *
from katatui.core.session import SessionWriter
name, n = sys.argv[1], int(sys.argv[2])
w = SessionWriter(name, session_id=name, profile_text="", profile_json="{}")
runs = (RunSpec("r0", 0, "fio[clients=1]", "bare", "bare", None, "local", "fio", "fio", {}, 1, 0),)
w(SessionStarted(name, name, "sequential", runs))
w(RunStarted("r0", ()))
for i in range(n):
    w(Sample("r0", float(i), {"read_iops": float(i)}))
    w(RawOutput("r0", 0, "stdout", b"%d\\n" % i))
w(RunFinished("r0", {"read_iops": Metric(float(n), "IO/s")}, 1.0))
w(SessionFinished("completed"))
w.close()
"""


def test_two_processes_writing_sessions_at_once_do_not_interfere(tmp_path: Path) -> None:
    n = 3000
    names = [tmp_path / f"w{i}.katatui" for i in range(2)]
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(p), str(n)], cwd=REPO, stderr=subprocess.PIPE)
        for p in names
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for path in names:
        with SessionReader(path) as reader:
            assert reader.status == "completed"
            assert reader.meta["session_id"] == str(path)
            samples = reader.samples("r0")
            assert [s["metrics"]["read_iops"] for s in samples] == [float(i) for i in range(n)]
            assert reader.raw("r0") == b"".join(b"%d\n" % i for i in range(n))
