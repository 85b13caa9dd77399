"""The shipped demo session, ``katatui demo`` / ``replay --demo``, the fallback of plain ``katatui``
when this machine has no Docker, and the replay command's answers to bad input."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from katatui import cli
from katatui.commands import demo
from katatui.core.report import summarize
from katatui.core.session import SessionReader
from tests.conftest import TestEnv

DEMO = demo.demo_path()


def test_the_demo_is_a_small_real_session_of_four_scenarios() -> None:
    assert DEMO.stat().st_size < 1_500_000
    assert (DEMO.parent / "README.md").is_file() and (DEMO.parent / "demo.toml").is_file()
    reader = SessionReader(DEMO)
    try:
        # one real failure: iperf3 under gVisor, told as gVisor's limit
        assert reader.status == "failed"
        runs = reader.runs()
        assert {r.spec.scenario for r in runs} == {"bare", "runc", "crun", "runsc"}
        assert {r.spec.kind for r in runs} == {
            "fio",
            "iperf3",
            "ab",
            "sysbench",
            "launch",
            "footprint",
            "boot",
        }
        failed = [r for r in runs if r.status != "finished"]
        assert [(r.spec.kind, r.spec.scenario) for r in failed] == [("iperf3", "runsc")] and len(runs) == 60
        assert "a limit of gVisor" in (failed[0].reason or "")
        facts = reader.scenario_facts()
        assert (facts[("runsc", "local")]["isolation"], facts[("runsc", "local")]["sandbox"]) == (
            "user-space-kernel",
            "gVisor",
        )
        assert {facts[(s, "local")]["isolation"] for s in ("runc", "crun")} == {"shared-kernel"}
        assert {r.spec.repeat for r in runs} == {0, 1}
        summary = summarize(reader)
        metrics = {row.metric for row in summary.rows}
        assert {"read_iops", "write_iops", "received_bits_per_second", "requests_per_second"} <= metrics
    finally:
        reader.close()


def test_replaying_the_demo_leaves_the_file_as_it_was() -> None:
    before = DEMO.read_bytes()
    reader = SessionReader(DEMO)
    reader.runs()
    reader.close()
    assert DEMO.read_bytes() == before
    assert not Path(str(DEMO) + "-wal").exists() and not Path(str(DEMO) + "-journal").exists()
    conn = sqlite3.connect(f"file:{DEMO}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_no_docker_at_all_means_the_demo_with_the_reason(tmp_path: Path) -> None:
    first = demo.first_screen({"PATH": str(tmp_path)}, tmp_path / "docker.sock")
    assert first.demo
    assert "No Docker on this machine" in first.reason and str(tmp_path / "docker.sock") in first.reason
    assert "katatui run profiles/quick.toml" in first.reason


def test_docker_installed_but_not_running_says_so(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    dockerd = fake_bin / "dockerd"
    dockerd.write_text("#!/bin/sh\nexit 1\n")
    dockerd.chmod(0o755)
    first = demo.first_screen({"PATH": str(fake_bin)}, tmp_path / "docker.sock")
    assert first.demo and "installed" in first.reason and "not running" in first.reason


def test_a_docker_that_is_there_is_never_hidden_by_the_demo(testenv: TestEnv, tmp_path: Path) -> None:
    # the test dockerd's socket exists: the start screen opens (and shows any error there)
    assert not demo.first_screen({"PATH": ""}, Path(testenv.docker_sock)).demo
    # DOCKER_HOST set, even to a dead daemon: the start screen explains what is wrong
    dead = {"PATH": "", "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    assert not demo.first_screen(dead, tmp_path / "docker.sock").demo


def test_plain_katatui_falls_back_to_the_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        "katatui.tui.launch.replay_app", lambda path, **kw: calls.append(("replay", path, kw)) or 0
    )
    monkeypatch.setattr("katatui.tui.launch.run_app", lambda *a, **kw: calls.append(("run", a)) or 0)
    monkeypatch.setattr(demo, "DOCKER_SOCKET", tmp_path / "docker.sock")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main([]) == 0
    assert calls[0][0] == "replay" and calls[0][1] == DEMO
    assert "No Docker on this machine" in calls[0][2]["notice"]
    err = capsys.readouterr().err
    assert "No Docker on this machine" in err and "showing the demo session instead" in err
    calls.clear()
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/katatui-testenv/docker.sock")
    assert cli.main([]) == 0
    assert calls == [("run", (None,))]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "/nonexistent/s.katatui"], "no such file"),
        (["replay"], "which session?"),
        (["replay", str(DEMO), "--demo"], "not both"),
        (["replay", "--demo", "--from", "soon"], "--from 'soon': expected a time"),
        (["replay", "--demo", "--from", "2h"], "the session lasts 3:2"),
        (["replay", "--demo", "--speed", "-1"], "--speed -1.0"),
        (["demo", "--from", "99:00"], "give a time within it"),
    ],
)
def test_replay_answers_bad_input_before_the_screen_opens(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_file_that_is_not_a_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.katatui"
    bogus.write_text("not a database\n" * 100)
    assert cli.main(["replay", str(bogus)]) == 2
    assert "not a readable katatui session file" in capsys.readouterr().err
    assert bogus.read_text() == "not a database\n" * 100
    assert os.listdir(tmp_path) == ["notes.katatui"]


def test_the_demo_notice_names_the_sessions_own_scenarios() -> None:
    notice = demo.demo_notice("no Docker here")
    assert notice.startswith("no Docker here\nDemo: a session recorded on")
    assert "(bare vs runc vs crun vs runsc)" in notice and "runc-alt" not in notice
    other = Path(__file__).parent / "tui" / "fixtures" / "three_columns.katatui"
    assert "(bare vs runc vs runc-alt)" in demo.demo_notice(path=other)
