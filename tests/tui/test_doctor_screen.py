"""The doctor on the start screen: d opens the checks of the profile's targets and scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.tui.app import KatatuiApp
from katatui.tui.doctor import DoctorScreen
from katatui.tui.start import StartScreen
from tests.conftest import TestEnv
from tests.tui.conftest import SIZE

pytestmark = pytest.mark.integration


async def test_doctor_screen_from_the_start_screen(testenv: TestEnv, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        f'name = "d"\n[targets.local]\nhost = "local"\ndocker_socket = "{testenv.docker_sock}"\n'
        '[[scenarios]]\nlauncher = "docker"\nruntime = "runc-alt"\n'
        '[[scenarios]]\nlauncher = "docker"\nruntime = "kata-qemu"\n'
        '[[workloads]]\ntype = "boot"\n'
    )
    app = KatatuiApp(profile_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        start = app.screen
        assert isinstance(start, StartScreen)
        await pilot.press("d")
        await pilot.pause(0.2)
        doctor = app.screen
        assert isinstance(doctor, DoctorScreen)
        await app.workers.wait_for_complete()
        for _ in range(100):  # the checks run in a worker of the screen
            if doctor.diagnosis is not None:
                break
            await pilot.pause(0.2)
        assert doctor.diagnosis is not None
        assert doctor.diagnosis.exit_code == 1  # kata-qemu cannot run here
        canaries = [(c.scope, c.status) for c in doctor.diagnosis.canaries]
        assert canaries == [("canary runc-alt@local", "pass")]
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.screen is start
        info = str(start.query_one("#doctor-info").render())
        assert "local:" in info and "fail" in info and "runtime" in info
