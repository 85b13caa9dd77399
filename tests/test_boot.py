"""The boot timeline on real runc and runc-alt launches in the test dockerd, locally and over SSH."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import katatui

pytestmark = pytest.mark.integration
RUNC_PHASES = ["create", "start", "run", "exit"]


def boot_profile(tmp_path: Path, env: TestEnv, repeats: int = 2) -> Path:
    path = tmp_path / "boot.toml"
    path.write_text(
        f'name = "boot"\nrepeats = {repeats}\n[targets.local]\nhost = "local"\n'
        f'docker_socket = "{env.docker_sock}"\n'
        '[[scenarios]]\nlauncher = "docker"\nruntime = "runc"\n'
        '[[scenarios]]\nlauncher = "docker"\nruntime = "runc-alt"\n'
        '[[workloads]]\ntype = "boot"\n'
    )
    return path


def check_phases(out: Path, runs: int) -> None:
    reader = SessionReader(out)
    failed = [(r.spec.scenario, r.reason) for r in reader.runs() if r.status != "finished"]
    assert failed == []
    by_run: dict[str, dict[str, float]] = {}
    for r in reader.results():
        assert not r.partial
        by_run.setdefault(r.run.spec.run_id, {})[r.metric] = r.value
        assert r.unit == "s"
    reader.close()
    assert len(by_run) == runs
    for metrics in by_run.values():
        phases = {k[5:-2]: v for k, v in metrics.items() if k != "boot_total_s"}
        assert sorted(phases) == sorted(RUNC_PHASES)
        assert all(v >= 0 for v in phases.values()), phases
        total = metrics["boot_total_s"]
        assert total > 0
        assert sum(phases.values()) <= total + 1e-9
        assert phases["start"] > 0  # runc create + start take time the daemon records


def test_boot_phases_on_runc(testenv: TestEnv, tmp_path: Path) -> None:
    out = tmp_path / "boot.katatui"
    done = katatui("run", str(boot_profile(tmp_path, testenv)), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    check_phases(out, 4)
    report = katatui("report", str(out))
    assert report.returncode == 0
    assert "boot timeline" in report.stdout
    bars = [line for line in report.stdout.splitlines() if "█" in line]
    assert [line.split()[0] for line in bars] == ["runc", "runc-alt"]  # one bar per scenario
    assert "■ create" in report.stdout and "■ exit" in report.stdout


def test_boot_phases_over_ssh(testenv: TestEnv, tmp_path: Path) -> None:
    out = tmp_path / "boot.katatui"
    target = f"local={testenv.ssh_url}?docker_socket={testenv.docker_sock}"
    done = katatui("run", str(boot_profile(tmp_path, testenv, repeats=1)), "--headless", "--target", target,
                   "--out", str(out), env={"HOME": str(testenv.ssh_home)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    check_phases(out, 2)


def test_boot_is_for_containers_only(testenv: TestEnv, tmp_path: Path) -> None:
    path = boot_profile(tmp_path, testenv)
    path.write_text(
        path.read_text().replace('launcher = "docker"\nruntime = "runc"\n', 'launcher = "bare"\n')
    )
    out = tmp_path / "b.katatui"
    done = katatui("run", str(path), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    scenarios = {r.spec.scenario for r in reader.runs()}
    assert scenarios == {"runc-alt"}, done.stdout  # bare has no boot to time
    reader.close()
