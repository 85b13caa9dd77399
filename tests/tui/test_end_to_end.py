"""The whole way through the app: start screen, a real short run over SSH and Docker, summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.session import SessionReader
from katatui.tui.app import KatatuiApp
from katatui.tui.column import ScenarioColumn
from katatui.tui.live import LiveScreen
from katatui.tui.start import StartScreen
from katatui.tui.summary import SummaryScreen
from tests.conftest import TestEnv
from tests.helpers import need
from tests.tui.conftest import HOST_DEADLINE, SIZE, all_probed, screen_up, text_of, until

pytestmark = pytest.mark.integration


LOCAL_DOCKER = """
[targets.local]
host = "local"
docker_socket = "{sock}"
scratch_base = "{scratch}"
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "runc"
"""
# bare over SSH (the test sshd) next to runc in the test dockerd
SSH_AND_DOCKER = """
[targets.remote]
host = "{ssh}"
scratch_base = "{scratch}"
[targets.local]
host = "local"
docker_socket = "{sock}"
scratch_base = "{scratch}"
[[scenarios]]
launcher = "bare"
targets = ["remote"]
[[scenarios]]
launcher = "docker"
runtime = "runc"
targets = ["local"]
"""
FIO = """
[[workloads]]
type = "fio"
rw = "randread"
bs = "4k"
iodepth = 4
size = "16m"
runtime = 2
"""


@pytest.mark.parametrize(
    "targets",
    [
        pytest.param(LOCAL_DOCKER, id="local+dockerd"),
        pytest.param(SSH_AND_DOCKER, id="sshd+dockerd"),
    ],
)
async def test_a_short_profile_through_the_app(
    targets: str, testenv: TestEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("fio")
    monkeypatch.setenv("HOME", str(testenv.ssh_home))
    body = targets.format(ssh=testenv.ssh_url, sock=testenv.docker_sock, scratch=tmp_path / "scratch")
    path = tmp_path / "e2e.toml"
    path.write_text('name = "e2e"\nrepeats = 1\n' + body + FIO)
    out = tmp_path / "e2e.katatui"
    app = KatatuiApp(profile_path=path, out=out)
    async with app.run_test(size=SIZE) as pilot:
        start = await screen_up(pilot, StartScreen)
        # the probe goes over SSH and asks Docker for its runtimes
        await until(
            pilot,
            lambda: all_probed(start),
            "every target probed",
            timeout=HOST_DEADLINE,
            detail=lambda: text_of(app, "#targets-info"),
        )
        info = text_of(app, "#targets-info")
        assert "reachable" in info and "unreachable" not in info, info
        await until(pilot, lambda: not start.query_one("#start-button").disabled, "the start button")
        await pilot.press("g")
        await screen_up(pilot, LiveScreen)
        saw_running = False

        def over() -> bool:
            nonlocal saw_running
            if isinstance(app.screen, LiveScreen):
                views = [c.view for c in app.screen.query(ScenarioColumn)]
                saw_running |= any(v is not None and v.state == "running" and v.rows for v in views)
            return app.model.status is not None and isinstance(app.screen, SummaryScreen)

        def log() -> list[str]:
            return [line.text for line in app.model.log]

        await until(pilot, over, "the session's end, on the summary", timeout=HOST_DEADLINE, detail=log)
        assert app.model.status == "completed", log()
        assert saw_running
        # the summary fills its head once the session file is closed
        await until(
            pilot, lambda: str(out) in text_of(app, "#summary-head"), "the session file on the summary"
        )
        assert app.exit_status() == 0
    reader = SessionReader(out)
    assert [r.status for r in reader.runs()] == ["finished", "finished"]
    reader.close()
