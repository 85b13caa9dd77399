"""katatui run against the local machine, bare: the session file, the report, SIGKILL and SIGINT."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from katatui.core.session import SessionReader
from tests.helpers import fio_profile, katatui, need, start_katatui, wait_for_events

BARE = '[[scenarios]]\nlauncher = "bare"\n'
FIO_METRICS = {"read_bw_bytes_per_s", "read_iops", "read_clat_p50_us", "read_clat_p90_us", "read_clat_p99_us",
               "read_clat_p99_9_us"}  # fmt: skip


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("fio")


def test_bare_run_and_reports(tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, extra="clients = [1, 2]")
    out = tmp_path / "s.katatui"
    done = katatui("run", str(prof), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bare" in done.stdout and "session saved" in done.stdout
    assert list((tmp_path / "scratch").iterdir()) == []  # scratch directories removed

    reader = SessionReader(out)
    runs = reader.runs()
    assert [r.status for r in runs] == ["finished", "finished"]
    assert runs[1].spec.clients == 2 and len(runs[1].commands) == 2
    assert reader.hosts()["local"]["tools"]["fio"]
    assert reader.samples(runs[0].spec.run_id), "per-second samples were recorded"
    assert reader.raw(runs[0].spec.run_id).lstrip().startswith(b"{")
    assert reader.raw(runs[1].spec.run_id, client=1)
    reader.close()

    rows = list(csv.DictReader(io.StringIO(katatui("report", str(out), "--format", "csv").stdout)))
    assert list(rows[0]) == [
        "run_id",
        "scenario",
        "launcher",
        "runtime",
        "host",
        "workload",
        "variant",
        "clients",
        "repeat",
        "metric",
        "value",
        "unit",
        "verdict",
        "schema_version",
    ]
    assert {r["metric"] for r in rows} >= FIO_METRICS
    one = {r["metric"]: float(r["value"]) for r in rows if r["clients"] == "1"}
    two = {r["metric"]: float(r["value"]) for r in rows if r["clients"] == "2"}
    assert one["read_bw_bytes_per_s"] > 0 and two["read_bw_bytes_per_s"] > 0
    assert one["read_clat_p50_us"] <= one["read_clat_p99_us"] <= one["read_clat_p99_9_us"]

    doc = json.loads(katatui("report", str(out), "--format", "json").stdout)
    assert len(doc["results"]) == len(rows)
    assert "| cell |" in katatui("report", str(out), "--format", "md").stdout
    assert "read IOPS" in katatui("report", str(out)).stdout


def test_sigkill_mid_run_keeps_the_session(tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=30)
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(prof), "--headless", "--out", str(out))
    try:
        wait_for_events(out, "Sample", 3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    reader = SessionReader(out)
    assert reader.status.startswith("incomplete")
    run = reader.runs()[0]
    assert run.status == "unfinished"  # its writer is gone: the run never ended
    assert len(reader.samples(run.spec.run_id)) >= 2  # at most the last second is lost
    assert reader.raw(run.spec.run_id).count(b'"jobs"') >= 2
    reader.close()
    assert katatui("report", str(out), "--format", "json").returncode == 0
    # the next start removes what the killed katatui left behind
    again = katatui("run", str(fio_profile(tmp_path, scenarios=BARE, runtime=1)), "--headless",
                    "--out", str(tmp_path / "s2.katatui"))  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "removed scratch directories left behind" in again.stdout
    assert list((tmp_path / "scratch").iterdir()) == []
    os.sync()


def test_sigint_stops_cleans_and_keeps_partial(tmp_path: Path) -> None:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=30)
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(prof), "--headless", "--out", str(out))
    wait_for_events(out, "Sample", 2)
    proc.send_signal(signal.SIGUSR1)  # says what it waits on, and goes on
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert "task(s) waiting" in stderr and "Runner._client" in stderr
    assert list((tmp_path / "scratch").iterdir()) == []
    reader = SessionReader(out)
    assert reader.status == "interrupted"
    run = reader.runs()[0]
    assert run.status == "failed" and run.reason and "interrupted" in run.reason
    partial = [r for r in reader.results() if r.partial]
    assert any(r.metric == "read_bw_bytes_per_s" and r.value > 0 for r in partial)


def test_missing_fio_is_named(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        for entry in Path(d).iterdir():
            if entry.name != "fio" and not (bindir / entry.name).exists():
                (bindir / entry.name).symlink_to(entry)
    prof = fio_profile(tmp_path, scenarios=BARE)
    done = katatui(
        "run", str(prof), "--headless", "--out", str(tmp_path / "s.katatui"), env={"PATH": str(bindir)}
    )
    assert done.returncode == 1
    assert "fio not installed on local" in done.stdout
    assert "apt-get install fio" in done.stdout
    assert "Traceback" not in done.stderr


def test_fio_killed_mid_run_fails_that_run_and_keeps_the_others(tmp_path: Path) -> None:
    # Two runs (randread, randwrite); the first one's fio is killed from outside, as a crash would.
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=30).read_text()
    path = tmp_path / "p2.toml"
    path.write_text(prof.replace('rw = "randread"', "rw = ['randread', 'randwrite']").replace("= 30", "= 3"))
    out = tmp_path / "s.katatui"
    proc = start_katatui("run", str(path), "--headless", "--out", str(out))
    wait_for_events(out, "Sample", 1)
    subprocess.run(["pkill", "-KILL", "-f", "--", f"--directory={tmp_path / 'scratch'}"], check=True)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stdout + stderr
    assert "Traceback" not in stderr
    reader = SessionReader(out)
    first, second = reader.runs()
    assert first.status == "failed" and first.reason and "fio" in first.reason
    assert second.status == "finished"
    assert reader.samples(first.spec.run_id)  # what was measured before the crash stays
    assert list((tmp_path / "scratch").iterdir()) == []


def test_scratch_base_that_is_a_file_is_refused(tmp_path: Path) -> None:
    afile = tmp_path / "not-a-dir"
    afile.write_text("precious")
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1).read_text()
    prof = prof.replace(f'scratch_base = "{tmp_path / "scratch"}"', f'scratch_base = "{afile}"')
    path = tmp_path / "p.toml"
    path.write_text(prof)
    done = katatui("run", str(path), "--headless", "--out", str(tmp_path / "s.katatui"))
    assert done.returncode == 1
    assert f"scratch_base {afile} is a regular file, not a directory" in " ".join(done.stdout.split())
    assert afile.read_text() == "precious"


def _refused_on_setup(base: Path) -> str:
    """The refusal must come from the check, before anything is created or run there."""
    import asyncio

    from katatui.core.errors import TargetError
    from katatui.core.scratch import check_base
    from katatui.core.transport.local import LocalTransport

    with pytest.raises(TargetError) as info:
        asyncio.run(check_base(LocalTransport("local"), str(base)))
    return str(info.value)


def _with_base(tmp_path: Path, base: Path) -> Path:
    prof = fio_profile(tmp_path, scenarios=BARE, runtime=1).read_text()
    prof = prof.replace(f'scratch_base = "{tmp_path / "scratch"}"', f'scratch_base = "{base}"')
    prof = prof.replace('size = "16m"', 'size = "1m"')
    path = tmp_path / "p.toml"
    path.write_text(prof)
    return path


def test_scratch_base_linked_to_a_system_directory_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "katatui"
    link.symlink_to("/etc")
    before = sorted(os.listdir("/etc"))
    # asserted before anything runs: if the check let it through, fio is never started
    message = " ".join(_refused_on_setup(link).split())
    assert f"scratch_base {link} resolves to /etc" in message and "system directory" in message
    done = katatui("run", str(_with_base(tmp_path, link)), "--headless", "--out", str(tmp_path / "s.katatui"))
    text = " ".join(done.stdout.split())
    assert done.returncode == 1, text
    assert f"scratch_base {link} resolves to /etc" in text and "/var/tmp/katatui" in text, text
    assert "Traceback" not in done.stderr
    assert sorted(os.listdir("/etc")) == before
    assert not [n for n in os.listdir("/etc") if n.startswith("katatui.")]


def test_scratch_base_others_may_write_to_is_refused(tmp_path: Path) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    assert "can be written by other users (mode 0777)" in _refused_on_setup(open_dir)
    done = katatui(
        "run", str(_with_base(tmp_path, open_dir)), "--headless", "--out", str(tmp_path / "s.katatui")
    )
    assert done.returncode == 1
    assert "can be written by other users" in " ".join(done.stdout.split())
    assert os.listdir(open_dir) == []
    # under a directory others may write to (not sticky), a base does not exist safely either
    assert "can be written by other users" in _refused_on_setup(open_dir / "k")
    # a link planted in a sticky directory by someone else
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    target = tmp_path / "elsewhere"
    target.mkdir()
    (sticky / "k").symlink_to(target)
    if os.geteuid() == 0:
        os.lchown(sticky / "k", 65534, 65534)
        assert "belongs to another user (uid 65534)" in _refused_on_setup(sticky / "k")
    # a fresh base in a sticky directory is fine: katatui creates it 0755
    done = katatui("run", str(_with_base(tmp_path, sticky / "fresh")), "--headless",
                   "--out", str(tmp_path / "t.katatui"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (sticky / "fresh").stat().st_mode & 0o7777 == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another user")
def test_scratch_base_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert "belongs to another user (uid 65534)" in _refused_on_setup(theirs)


def test_a_sessions_scratch_directories_are_found_by_its_id(tmp_path: Path) -> None:
    """At the end of a session, its scratch directories katatui never learnt the path of (a
    ``mktemp`` cancelled after it ran on the target) are removed; no other session's."""
    import asyncio

    from katatui.core.scratch import PREFIX, remove_session
    from katatui.core.transport.local import LocalTransport

    base = tmp_path / "base"
    mine = [base / f"{PREFIX}20261206-1-abc.{s}" for s in ("AAAAAAAA", "BBBBBBBB")]
    other = base / f"{PREFIX}20261206-2-def.CCCCCCCC"
    for d in [*mine, other]:
        (d / "data").mkdir(parents=True)
    removed = asyncio.run(remove_session(LocalTransport("local"), str(base), "20261206-1-abc"))
    assert sorted(removed) == sorted(str(d) for d in mine)
    assert not any(d.exists() for d in mine) and (other / "data").is_dir()
    assert asyncio.run(remove_session(LocalTransport("local"), str(base), "x*")) == []  # not a pattern
