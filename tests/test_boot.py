"""The boot timeline on real runc, runc-alt and gVisor launches in the test dockerd, locally and over
SSH; and the split of recorded gVisor and runc launches (tests/fixtures/gvisor)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from katatui.core.session import SessionReader
from katatui.core.workloads.boot.procedure import OWN_KERNEL_TOLERANCE, parse_output, phases_for
from tests.conftest import TestEnv
from tests.helpers import katatui

integration = pytest.mark.integration
RUNC_PHASES = ["create", "start", "run", "exit"]
GVISOR_PHASES = ["create", "sandbox", "guest_boot", "run", "exit"]
GVISOR = Path(__file__).parent / "fixtures" / "gvisor"


def recorded(runtime: str) -> tuple[dict[str, float], float]:
    """The recorded launch's phases (as named when it ran, and under another name) and its total."""
    inspect = json.loads((GVISOR / f"boot_{runtime}_inspect.json").read_text())
    output = (GVISOR / f"boot_{runtime}.txt").read_text()
    total = inspect["reported"] - inspect["requested"]
    phases = dict(
        phases_for(
            inspect["runtime"], requested=inspect["requested"], total=total, attrs=inspect, output=output
        )
    )
    renamed = dict(phases_for("kata-qemu", requested=inspect["requested"], total=total, attrs=inspect,
                              output=output))  # fmt: skip
    assert renamed == phases  # the evidence decides, not the name
    assert sum(phases.values()) == pytest.approx(total)
    return phases, total


def test_recorded_gvisor_launch_has_a_sandbox_and_a_guest_boot() -> None:
    up0, up1, dmesg = parse_output((GVISOR / "boot_runsc.txt").read_text())
    assert (up0, up1) == (0.07, 0.07)  # gVisor's clock started with its sandbox
    assert dmesg.startswith("[   0.000000] Starting gVisor...\n") and "Ready!" in dmesg
    phases, total = recorded("runsc")
    assert list(phases) == GVISOR_PHASES
    # Docker's Created 22.0 ms after the request; FinishedAt 248.7 ms; the kernel 70 ms before it.
    assert phases["create"] == pytest.approx(0.022019, abs=1e-5)
    assert phases["sandbox"] == pytest.approx(0.248660 - 0.07 - 0.022019, abs=1e-5)
    assert phases["guest_boot"] == pytest.approx(0.07, abs=1e-5)
    assert phases["run"] == pytest.approx(0.0, abs=1e-5)  # up0 == up1 in gVisor's 10 ms steps
    assert phases["exit"] == pytest.approx(total - 0.248660, abs=1e-5)


def test_recorded_runc_launch_keeps_runc_phases() -> None:
    up0, up1, dmesg = parse_output((GVISOR / "boot_runc.txt").read_text())
    assert up0 == up1 == 422.02 and dmesg == ""  # the host's uptime; dmesg not permitted
    phases, _ = recorded("runc")
    assert list(phases) == RUNC_PHASES
    assert phases["start"] == pytest.approx(0.067034, abs=1e-5)  # StartedAt - Created


def test_own_kernel_is_told_by_when_it_started() -> None:
    """Constructed around the tolerance: a kernel that seems to start a little before the request
    (the clocks' error) is still the container's; one started well before is the host's."""
    attrs = {
        "Created": "2026-12-06T19:04:28.100000000Z",
        "State": {
            "StartedAt": "2026-12-06T19:04:28.300000000Z",
            "FinishedAt": "2026-12-06T19:04:28.400000000Z",
        },
    }
    t0 = 1796583868.0  # 2026-12-06T19:04:28Z

    def names(up1: float) -> list[str]:
        output = f"katatui-boot-uptime-start {up1}\nkatatui-boot-dmesg\nkatatui-boot-dmesg-end\n" \
                 f"katatui-boot-uptime-end {up1}\n"  # fmt: skip
        return [p for p, _ in phases_for("runc", requested=t0, total=0.5, attrs=attrs, output=output)]

    assert names(0.3) == GVISOR_PHASES
    assert names(0.4 + OWN_KERNEL_TOLERANCE - 0.01) == GVISOR_PHASES
    assert names(0.4 + OWN_KERNEL_TOLERANCE + 0.01) == RUNC_PHASES
    assert names(373.88) == RUNC_PHASES
    no_output = phases_for("kata-qemu", requested=t0, total=0.5, attrs=attrs, output="")
    assert [p for p, _ in no_output] == RUNC_PHASES  # nothing to tell by: Docker's own times


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


@integration
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


@integration
def test_boot_phases_over_ssh(testenv: TestEnv, tmp_path: Path) -> None:
    out = tmp_path / "boot.katatui"
    target = f"local={testenv.ssh_url}?docker_socket={testenv.docker_sock}"
    done = katatui("run", str(boot_profile(tmp_path, testenv, repeats=1)), "--headless", "--target", target,
                   "--out", str(out), env={"HOME": str(testenv.ssh_home)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    check_phases(out, 2)


@integration
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


@integration
def test_boot_phases_on_gvisor(testenv: TestEnv, tmp_path: Path) -> None:
    """runsc twice, once under a name that says nothing of gVisor (``sandbox``), beside runc."""
    if not {"runsc", "sandbox"} <= set(testenv.runtimes):
        pytest.skip("the test dockerd has no runsc runtimes")
    path = tmp_path / "boot.toml"
    path.write_text(
        f'name = "boot"\nrepeats = 2\n[targets.local]\nhost = "local"\n'
        f'docker_socket = "{testenv.docker_sock}"\n'
        + "".join(
            f'[[scenarios]]\nlauncher = "docker"\nruntime = "{r}"\n' for r in ("runc", "runsc", "sandbox")
        )
        + '[[workloads]]\ntype = "boot"\n'
    )
    out = tmp_path / "boot.katatui"
    done = katatui("run", str(path), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    reader = SessionReader(out)
    failed = [(r.spec.scenario, r.reason) for r in reader.runs() if r.status != "finished"]
    assert failed == []
    by_run: dict[tuple[str, str], dict[str, float]] = {}
    for r in reader.results():
        by_run.setdefault((r.run.spec.scenario, r.run.spec.run_id), {})[r.metric] = r.value
    reader.close()
    assert len(by_run) == 6
    for (scenario, _), metrics in by_run.items():
        phases = {k[5:-2]: v for k, v in metrics.items() if k != "boot_total_s"}
        assert sorted(phases) == sorted(RUNC_PHASES if scenario == "runc" else GVISOR_PHASES), scenario
        assert all(v >= 0 for v in phases.values()), phases
        assert sum(phases.values()) == pytest.approx(metrics["boot_total_s"])
        if scenario != "runc":
            assert phases["sandbox"] > 0 and phases["guest_boot"] > 0, phases
    report = katatui("report", str(out))
    assert report.returncode == 0
    assert "■ sandbox" in report.stdout and "■ guest boot" in report.stdout
