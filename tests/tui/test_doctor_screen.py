"""The doctor on the start screen: d opens the checks of the profile's targets and scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.tui.app import KatatuiApp
from katatui.tui.doctor import DoctorScreen
from katatui.tui.start import StartScreen
from tests.conftest import TestEnv
from tests.tui.conftest import HOST_DEADLINE, SIZE, screen_up, text_of, until

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
        start = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: start.profile is not None, "the profile read")
        await pilot.press("d")
        doctor = await screen_up(pilot, DoctorScreen)
        # the checks run in a worker of the screen, on the test dockerd
        await until(
            pilot,
            lambda: doctor.diagnosis is not None,
            "the diagnosis",
            timeout=HOST_DEADLINE,
            detail=lambda: text_of(app, "#doctor-head"),
        )
        assert doctor.diagnosis is not None
        assert doctor.diagnosis.exit_code == 1  # kata-qemu cannot run here
        canaries = [(c.scope, c.status) for c in doctor.diagnosis.canaries]
        assert canaries == [("canary runc-alt@local", "pass")]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is start, "back on the start screen")
        info = str(start.query_one("#doctor-info").render())
        assert "local:" in info and "fail" in info and "runtime" in info
