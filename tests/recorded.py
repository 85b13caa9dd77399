"""Real sessions recorded once per test process on the test environment, for the tests of saved
sessions (library, compare, exports). Each is a real ``katatui run --headless`` of fio under bare
and a Docker runtime of the test dockerd, short runtimes, two repeats (so ratios have intervals)."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import katatui, need

PROFILE = """
name = "{name}"
repeats = 2
pairing = "sequential"
[targets.local]
host = "local"
scratch_base = "{scratch}"
docker_socket = "{sock}"
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "{runtime}"
[[workloads]]
type = "fio"
rw = "randread"
bs = "4k"
iodepth = 4
size = "16m"
runtime = 1
clients = 1
"""


def record(base: Path, env: TestEnv, name: str, runtime: str) -> Path:
    """``base/NAME.katatui``, recorded unless an earlier test already did (a lock keeps it once)."""
    need("fio")
    base.mkdir(parents=True, exist_ok=True)
    out = base / f"{name}.katatui"
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.exists():
            return out
        profile = base / f"{name}.toml"
        profile.write_text(
            PROFILE.format(name=name, scratch=base / "scratch", sock=env.docker_sock, runtime=runtime)
        )
        why = ""
        for _ in range(3):  # the test dockerd is shared: another test's cleanup can remove a container
            done = katatui("run", str(profile), "--headless", "--out", str(out))
            why = (
                complete(out)
                if done.returncode == 0
                else f"exit {done.returncode}: {done.stdout}{done.stderr}"
            )
            if not why:
                return out
            out.unlink(missing_ok=True)
        pytest.fail(f"recording {name} failed: {why}")
    return out


def complete(path: Path) -> str:
    """Why a recorded session is not a complete one, or ''."""
    with SessionReader(path) as reader:
        if reader.status != "completed" or any(r.status != "finished" for r in reader.runs()):
            return f"session {reader.status}: " + "; ".join(m.text[-300:] for m in reader.logs())
    return ""


@pytest.fixture(scope="session")
def recorded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "recorded-sessions"


@pytest.fixture(scope="session")
def session_a(recorded_dir: Path, testenv: TestEnv) -> Path:
    """bare vs runc."""
    return record(recorded_dir, testenv, "session-a", "runc")


@pytest.fixture(scope="session")
def session_b(recorded_dir: Path, testenv: TestEnv) -> Path:
    """bare vs runc-alt, the same fio cell as session_a."""
    return record(recorded_dir, testenv, "session-b", "runc-alt")
