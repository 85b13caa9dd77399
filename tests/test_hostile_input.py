"""Hostile and broken input: exit status 2 with the file and what is wrong, never a traceback."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from katatui.cli import main

FIXTURE = Path(__file__).parent / "tui" / "fixtures" / "missing_runtime.katatui"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def damaged(tmp_path: Path, sql: str) -> Path:
    """A copy of a small recorded session with ``sql`` applied to it."""
    path = tmp_path / "damaged.katatui"
    shutil.copyfile(FIXTURE, path)
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()
    return path


def replay_load(path: Path) -> int:
    """``katatui replay`` up to the moment the screen would open."""
    return main(["replay", str(path), "--speed", "0"])


@pytest.fixture
def no_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoApp:
        def __init__(self, **kwargs: object) -> None:
            pass

        def run(self) -> int:
            return 0

    monkeypatch.setattr("katatui.tui.app.KatatuiApp", NoApp)


SAMPLE = "(SELECT min(seq) FROM events WHERE kind='Sample')"
DAMAGE = {
    "payload not JSON": f"UPDATE events SET payload = '{{\"run_id\": ' WHERE seq = {SAMPLE}",
    "histogram bucket not a number": (
        "UPDATE events SET payload = json_set(payload, '$.hist', json('{\"clat\": {\"x1\": 3}}'))"
        f" WHERE seq = {SAMPLE}"
    ),
    "result not a number": "UPDATE results SET value = 'many' WHERE rowid = (SELECT min(rowid) FROM results)",
    "variant not JSON": "UPDATE runs SET variant = '{bs' WHERE idx = 0",
    "clients not a number": "UPDATE runs SET clients = 'two' WHERE idx = 0",
    "event payload a list": f"UPDATE events SET payload = '[1]' WHERE seq = {SAMPLE}",
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize(
    "command",
    [
        lambda p: main(["report", str(p)]),
        lambda p: main(["report", str(p), "--format", "json"]),
        lambda p: main(["compare", str(p), str(FIXTURE)]),
        replay_load,
    ],
    ids=["report", "report-json", "compare", "replay"],
)
def test_damaged_session_is_exit_2_naming_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_screen: None,
    damage: str,
    command: Callable[[Path], int],
) -> None:
    path = damaged(tmp_path, DAMAGE[damage])
    before = path.read_bytes()
    code = command(path)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code != 0:  # a command that never reads the damaged part may well succeed
        assert code == 2, err
        assert str(path) in err and ("damaged" in err or "cannot be read" in err), err
    assert path.read_bytes() == before


def test_damaged_sample_is_refused_by_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_screen: None
) -> None:
    for damage in ("payload not JSON", "histogram bucket not a number", "event payload a list"):
        path = damaged(tmp_path, DAMAGE[damage])
        assert replay_load(path) == 2
        err = capsys.readouterr().err
        assert f"session {path}: damaged" in err, err
        path.unlink()


def test_damaged_result_is_refused_by_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = damaged(tmp_path, DAMAGE["result not a number"])
    code, err = run_cli(capsys, "report", str(path))
    assert code == 2 and "damaged" in err and "not a number" in err, err


def test_a_session_that_is_not_a_file_is_named_for_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_screen: None
) -> None:
    folder = tmp_path / "folder.katatui"
    folder.mkdir()
    fifo = tmp_path / "pipe.katatui"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.katatui"
    zero.symlink_to("/dev/zero")
    for path, what in ((folder, "a directory"), (fifo, "a FIFO"), (zero, "a device")):
        for argv in (["report", str(path)], ["compare", str(path), str(FIXTURE)], ["replay", str(path)]):
            code, err = run_cli(capsys, *argv)
            assert code == 2, (argv, err)
            assert what in err and "no such file" not in err, (argv, err)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_bug_is_an_internal_error_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise ZeroDivisionError("division by zero")

    import katatui.commands.sessions as sessions_cmd

    monkeypatch.setattr(sessions_cmd, "run", broken)
    code, err = run_cli(capsys, "sessions")
    assert code == 70
    assert "internal error (please report it)" in err and "Traceback" in err


PROFILE = """\
name = "hostile"
[targets.local]
host = "local"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[workloads]]
type = "fio"
name = "fio"
[[workloads]]
type = "sysbench"
name = "sysbench"
test = "memory"
"""


def check_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *sets: str) -> str:
    """``katatui run`` on ``text`` with ``--set`` items: exit 2 with a message, no traceback."""
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    argv = ["run", str(path), "--headless", "--out", str(tmp_path / "s.katatui")]
    for item in sets:
        argv += ["--set", item]
    code, err = run_cli(capsys, *argv)
    assert "Traceback" not in err
    assert code == 2, err
    assert err.startswith("katatui: error:"), err
    return err


HUGE = "9" * 400


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ([f'workload.fio.size="{HUGE}"'], "too large"),
        ([f'workload.fio.size="{HUGE}k"'], "too large"),
        ([f'limits.memory="{HUGE}"'], "too large"),
        ([f'workload.sysbench.memory_total_size="{HUGE}"'], "too large"),
        ([f"workload.fio.size={HUGE}"], "valid string"),
        (['workload.fio.size="0"'], "at least one byte"),
        (['workload.fio.bs="0k"'], "at least one byte"),
        (['workload.fio.bs=["4k", "0"]'], "at least one byte"),
        (["limits.cpus=inf"], "finite"),
        (["limits.cpus=1e308"], "less than or equal to 4096"),
        (["limits.cpus=1e-300"], "greater than or equal to 0.01"),
        (['scenario.runc.image="--rm"'], "not an image reference"),
        (['scenario.runc.image="debian:12 --privileged"'], "not an image reference"),
        (["workload.fio.bs=" + "[" * 5000 + "]" * 5000], "nested too deeply"),
    ],
)
def test_values_that_cannot_run_are_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None, sets: list[str], expected: str
) -> None:
    err = check_profile(tmp_path, capsys, PROFILE, *sets)
    assert expected in err, err


def test_profile_nested_5000_deep_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None
) -> None:
    err = check_profile(tmp_path, capsys, PROFILE + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested too deeply" in err, err
    err = check_profile(tmp_path, capsys, PROFILE + "x = " + "{a = " * 5000 + "}" * 5000 + "\n")
    assert "nested too deeply" in err, err


def test_a_huge_value_is_echoed_cut_and_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None
) -> None:
    huge = "x" * 100_000
    for item in (f'workload.fio.bs="{huge}"', f'scenario.runc.image="{huge}"', f'limits.memory="{huge}"',
                 f"workload.fio.rw={huge}", f"{huge}=1"):  # fmt: skip
        err = check_profile(tmp_path, capsys, PROFILE, item)
        assert len(err) < 1000, (item[:40], len(err))
        assert "(100002 characters)" in err or "characters)" in err, err


def test_the_shipped_profiles_and_image_still_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None
) -> None:
    for item in ('scenario.runc.image="docker.io/library/debian:12"',
                 'scenario.runc.image="registry.local:5000/katatui/bench@sha256:' + "a" * 64 + '"',
                 'workload.fio.size="1024p"', "limits.cpus=0.01", 'workload.fio.bs="512"'):  # fmt: skip
        path = tmp_path / "ok.toml"
        path.write_text(PROFILE, encoding="utf-8")
        code, err = run_cli(capsys, "run", str(path), "--headless", "--set", item)
        assert code == 0 and "profile accepted" in err, (item, err)


def test_a_password_in_an_ssh_address_is_refused_and_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None
) -> None:
    secret = "hunter2-s3cret"
    text = PROFILE.replace('host = "local"', f'host = "ssh://root:{secret}@127.0.0.1:22"')
    err = check_profile(tmp_path, capsys, text)
    assert secret not in err and "password" in err and "ssh-agent" in err, err
    err = check_profile(tmp_path, capsys, PROFILE, f"target.local.host=ssh://root:{secret}@node1")
    assert secret not in err and "password" in err, err
    path = tmp_path / "p.toml"
    path.write_text(PROFILE, encoding="utf-8")
    out = tmp_path / "s.katatui"
    code, err = run_cli(capsys, "run", str(path), "--headless", "--out", str(out),
                        "--target", f"local=ssh://root:{secret}@node1")  # fmt: skip
    assert code == 2 and secret not in err and "password" in err, err
    assert not out.exists()


def test_sessions_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from katatui.core.library import default_session_path
    from katatui.core.session import SessionWriter

    old = os.umask(0o022)
    try:
        out = tmp_path / "new" / "deeper" / "s.katatui"
        writer = SessionWriter(out, session_id="s", profile_text="", profile_json="{}")
        writer.close()
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(out.parent.parent.stat().st_mode) == 0o700
        # the library: created 0700, and an older one readable by everyone is tightened
        data = tmp_path / "data"
        (data / "sessions").mkdir(parents=True, mode=0o755)
        os.chmod(data, 0o755)
        monkeypatch.setenv("KATATUI_DATA_DIR", str(data))
        path = default_session_path("20260101-000000-abcdef", "p")
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "sessions").stat().st_mode) == 0o700
        monkeypatch.setenv("KATATUI_DATA_DIR", str(tmp_path / "fresh"))
        path = default_session_path("20260101-000000-abcdef", "p")
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    finally:
        os.umask(old)


FIO = Path(__file__).parent / "fixtures" / "fio"
AB = Path(__file__).parent / "fixtures" / "ab"


def import_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, *files: Path
) -> tuple[int, str, Path]:
    out = tmp_path / f"import-{kind}.katatui"
    code = main(["import", kind, *map(str, files), "--scenario", "imported", "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err, out


def test_import_fio_refuses_a_status_object_as_a_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # killed with SIGKILL: two status objects (eta 2147483647, clat N != total_ios), no final one
    code, err, out = import_cli(capsys, tmp_path, "fio", FIO / "sigkill.stdout")
    assert code == 2 and "status reports" in err and "eta 2147483647" in err, err
    assert not out.exists()
    # stopped by SIGINT: fio said so and printed its result after it; that is a (shorter) result
    code, err, out = import_cli(capsys, tmp_path, "fio", FIO / "sigint.stdout")
    assert code == 0, err
    code, err, out = import_cli(capsys, tmp_path / "x", "fio", FIO / "randread_1job.stdout")
    assert code == 0, err


def test_import_fio_refuses_a_failed_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    doc = json.loads((FIO / "randread_1job_json.stdout").read_text())
    doc["jobs"][0]["error"] = 13
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps(doc))
    code, err, out = import_cli(capsys, tmp_path, "fio", failed)
    assert code == 2 and "error 13" in err and "Permission denied" in err, err
    assert not out.exists()
    code, err, out = import_cli(capsys, tmp_path, "fio", FIO / "error_enospc.stdout")
    assert code == 2 and "error 28" in err, err


def test_import_ab_says_what_is_wrong_with_a_usable_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from katatui.core.session import SessionReader

    code, err, out = import_cli(capsys, tmp_path, "ab", AB / "not_found.stdout")
    assert code == 0 and "warning" in err and "not 2xx" in err and "error page" in err, err
    with SessionReader(out) as reader:
        assert any("not 2xx" in m.text for m in reader.logs())
    code, err, out = import_cli(capsys, tmp_path / "t", "ab", AB / "timelimit.stdout")
    assert code == 0 and "time limit" in err, err
    code, err, out = import_cli(capsys, tmp_path / "k", "ab", AB / "keepalive.stdout")
    assert code == 0 and "warning" not in err, err


def test_a_profile_or_import_that_is_not_a_file_is_refused_without_blocking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, err = run_cli(capsys, "run", str(fifo), "--headless")
    assert code == 2 and "not a regular file" in err, err
    code, err = run_cli(capsys, "run", str(tmp_path), "--headless")
    assert code == 2 and "not a regular file" in err, err
    code, err, _out = import_cli(capsys, tmp_path, "fio", fifo)
    assert code == 2 and "not a regular file" in err, err
