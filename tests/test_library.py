"""The session library: listing, searching, label, rename and delete, on real recorded sessions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from katatui.core import library
from katatui.core.errors import UserError
from katatui.core.library import default_session_path
from katatui.core.session import SessionReader, SessionWriter
from tests.helpers import katatui
from tests.test_session_files import crashed_session

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir(tmp_path: Path, session_a: Path, session_b: Path) -> Path:
    """A data directory holding both recorded sessions, a crashed one and a file that is no session."""
    sessions = tmp_path / "data" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(session_a, sessions / "a.katatui")
    shutil.copy(session_b, sessions / "b.katatui")
    crashed = crashed_session(tmp_path)
    for f in tmp_path.iterdir():
        if f.name.startswith(crashed.name):
            shutil.move(f, sessions / f.name)
    (sessions / "junk.katatui").write_text("not a session")
    (sessions / "notes.txt").write_text("not listed")
    return tmp_path / "data"


def env(data: Path) -> dict[str, str]:
    return {"KATATUI_DATA_DIR": str(data)}


def test_run_writes_into_the_library_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KATATUI_DATA_DIR", str(tmp_path))
    assert default_session_path("20261122-000000-abcdef", "quick").parent == tmp_path / "sessions"
    assert library.sessions_dir() == tmp_path / "sessions"
    monkeypatch.delenv("KATATUI_DATA_DIR")
    assert library.sessions_dir().parts[-2:] == ("katatui", "sessions")  # the XDG data directory


def test_sessions_lists_what_each_session_holds(data_dir: Path) -> None:
    done = katatui("sessions", "--json", env=env(data_dir))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["directory"] == str(data_dir / "sessions")
    by_name = {Path(e["path"]).name: e for e in doc["sessions"]}
    assert set(by_name) == {"a.katatui", "b.katatui", "crashed.katatui", "junk.katatui"}
    a = by_name["a.katatui"]
    with SessionReader(data_dir / "sessions" / "a.katatui") as reader:
        runs = reader.runs()
        assert a["session_id"] == reader.meta["session_id"]
    assert a["profile"] == "session-a"
    assert a["scenarios"] == ["bare", "runc"]
    assert a["targets"] == ["local"]
    assert a["workloads"] == ["fio"]
    assert a["runs_total"] == len(runs) == 4
    assert a["runs_finished"] == sum(r.status == "finished" for r in runs) == 4
    assert (a["runs_failed"], a["runs_unfinished"]) == (0, 0)
    assert a["status"] == "completed"
    assert a["size_bytes"] == (data_dir / "sessions" / "a.katatui").stat().st_size
    crashed = by_name["crashed.katatui"]
    assert (crashed["runs_finished"], crashed["runs_unfinished"]) == (1, 2)
    assert crashed["status"].startswith("incomplete")
    assert "not a readable katatui session" in by_name["junk.katatui"]["error"]

    table = katatui("sessions", env=env(data_dir))
    assert table.returncode == 0, table.stderr
    for text in ("session-a", "session-b", "bare, runc", "4: 4 ok", "1 ok, 2 unfinished", "unreadable"):
        assert text in table.stdout
    found = json.loads(katatui("sessions", "--json", "--search", "runc-alt", env=env(data_dir)).stdout)
    assert [Path(e["path"]).name for e in found["sessions"]] == ["b.katatui"]


def test_dir_overrides_the_data_directory(data_dir: Path, tmp_path: Path) -> None:
    done = katatui("sessions", "--dir", str(data_dir / "sessions"), "--json", env=env(tmp_path / "elsewhere"))
    assert len(json.loads(done.stdout)["sessions"]) == 4
    empty = katatui("sessions", env=env(tmp_path / "elsewhere"))
    assert empty.returncode == 0 and "no sessions in" in empty.stdout


def test_label_rename_and_delete(data_dir: Path) -> None:
    e = env(data_dir)
    sessions = data_dir / "sessions"
    done = katatui("sessions", "label", "a", "baseline before the upgrade", env=e)
    assert done.returncode == 0, done.stderr
    listed = {
        Path(x["path"]).name: x for x in json.loads(katatui("sessions", "--json", env=e).stdout)["sessions"]
    }
    assert listed["a.katatui"]["label"] == "baseline before the upgrade"
    # a labelled session is found by its label
    report = katatui("report", "baseline before the upgrade", "--format", "json", env=e)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["label"] == "baseline before the upgrade"

    done = katatui("sessions", "rename", "b", "runc-alt-tuesday", env=e)
    assert done.returncode == 0, done.stderr
    assert not (sessions / "b.katatui").exists() and (sessions / "runc-alt-tuesday.katatui").is_file()
    taken = katatui("sessions", "rename", "runc-alt-tuesday", "a", env=e)
    assert taken.returncode == 2 and "already exists" in taken.stderr
    assert (sessions / "runc-alt-tuesday.katatui").is_file()

    refused = katatui("sessions", "delete", "a", env=e)  # no terminal to ask on, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert (sessions / "a.katatui").is_file()
    done = katatui("sessions", "delete", "a", "crashed", "--yes", env=e)
    assert done.returncode == 0, done.stderr
    assert not (sessions / "a.katatui").exists()
    assert not any(p.name.startswith("crashed.katatui") for p in sessions.iterdir())  # -wal, -shm too
    unknown = katatui("sessions", "delete", "nothing-of-that-name", "--yes", env=e)
    assert unknown.returncode == 2 and "no such file" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_session_being_recorded_is_not_changed(tmp_path: Path) -> None:
    path = tmp_path / "live.katatui"
    writer = SessionWriter(path, session_id="live", profile_text="", profile_json="{}")
    try:
        entry = library.read_entry(path)
        assert entry.status == "running" and entry.error is None
        for action in (
            lambda: library.set_label(path, "x"),
            lambda: library.rename_session(path, "y"),
            lambda: library.delete_session(path),
        ):
            with pytest.raises(UserError, match="being recorded"):
                action()
    finally:
        writer.close()
    library.set_label(path, "now it can")
    assert library.read_entry(path).label == "now it can"


def test_bad_labels_and_names_are_refused(tmp_path: Path, session_a: Path) -> None:
    path = tmp_path / "s.katatui"
    shutil.copy(session_a, path)
    with pytest.raises(UserError, match="printable"):
        library.set_label(path, "bad\x1b[31m")
    with pytest.raises(UserError, match="without '/'"):
        library.rename_session(path, "../elsewhere")
