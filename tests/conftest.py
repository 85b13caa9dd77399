"""Shared fixtures: the integration-test environment that ``scripts/testenv up`` starts."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from katatui.core.errors import KatatuiError

pytest_plugins = ["tests.recorded"]  # real recorded sessions for the tests of saved sessions

ENV_KEYS = (
    "KATATUI_TEST_DIR",
    "KATATUI_TEST_DOCKER_SOCK",
    "KATATUI_TEST_SSH_PORT",
    "KATATUI_TEST_SSH_HOME",
    "KATATUI_TEST_SSH_KEY",
    "KATATUI_TEST_IMAGE",
    "KATATUI_TEST_RUNTIMES",
)


@dataclass(frozen=True)
class TestEnv:
    """Where the test dockerd and sshd are. Tests must not use anything else on the machine."""

    __test__ = False  # not a test class, whatever its name

    dir: Path
    docker_sock: str
    ssh_port: int
    ssh_home: Path
    ssh_key: Path
    image: str
    runtimes: tuple[str, ...]

    @property
    def ssh_alias(self) -> str:
        """The ``Host`` entry in ``ssh_home/.ssh/config`` (use with ``HOME=ssh_home``)."""
        return "katatui-test"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_home / ".ssh" / "config"

    @property
    def ssh_url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.ssh_port}"

    @property
    def docker_url(self) -> str:
        return "unix://" + self.docker_sock


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 1 and "=" in words[0]:
            key, _, value = words[0].partition("=")
            values[key] = value
    return values


def load_testenv() -> tuple[TestEnv | None, str]:
    """The environment from the exported variables, else from the env file; or (None, why not)."""
    values = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    if len(values) < len(ENV_KEYS):
        env_file = Path(os.environ.get("KATATUI_TESTENV_DIR", "/tmp/katatui-testenv")) / "env"
        if not env_file.is_file():
            return None, f"no {env_file}"
        values = read_env_file(env_file)
        missing = [k for k in ENV_KEYS if k not in values]
        if missing:
            return None, f"{env_file} lacks {', '.join(missing)}"
    env = TestEnv(
        dir=Path(values["KATATUI_TEST_DIR"]),
        docker_sock=values["KATATUI_TEST_DOCKER_SOCK"],
        ssh_port=int(values["KATATUI_TEST_SSH_PORT"]),
        ssh_home=Path(values["KATATUI_TEST_SSH_HOME"]),
        ssh_key=Path(values["KATATUI_TEST_SSH_KEY"]),
        image=values["KATATUI_TEST_IMAGE"],
        runtimes=tuple(values["KATATUI_TEST_RUNTIMES"].split()),
    )
    if not Path(env.docker_sock).is_socket():
        return None, f"the test dockerd socket {env.docker_sock} does not exist"
    return env, ""


def _unavailable(why: str) -> None:
    message = f"test environment not up ({why}): run scripts/testenv up"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def testenv() -> TestEnv:
    env, why = load_testenv()
    if env is None:
        _unavailable(why)
    assert env is not None
    return env


@pytest.fixture(scope="session")
def ctrd(testenv: TestEnv) -> str:
    """The test containerd's socket."""
    from tests.helpers import need

    need("ctr")
    sock = os.environ.get("KATATUI_TEST_CONTAINERD") or str(testenv.dir / "containerd" / "containerd.sock")
    if not Path(sock).is_socket():
        pytest.skip(f"the test containerd socket {sock} does not exist")
    return sock


@pytest.fixture(scope="session")
def docker_client(testenv: TestEnv) -> Iterator[docker.DockerClient]:
    """A Docker SDK client for the test dockerd (never the system's)."""
    client = docker.DockerClient(base_url=testenv.docker_url, timeout=120)
    try:
        client.ping()
    except Exception as exc:
        client.close()
        _unavailable(f"the test dockerd does not answer on {testenv.docker_sock}: {exc}")
    yield client
    client.close()


LEFTOVERS: list[str] = []
STUCK: list[str] = []
ANSWER_WITHIN = 60.0  # seconds for the test dockerd to list its containers between tests


@pytest.fixture(autouse=True)
def _containers_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test of the test environment: note the containers katatui started that are
    still on the test dockerd (said at the end of the session; the tests that check cleanup assert
    it themselves), and check that the daemon still answers. One that does not is described (its
    goroutines, processes stuck in the kernel) and restarted, so the tests after it still run."""
    yield
    if "testenv" not in request.fixturenames:
        return
    env, _ = load_testenv()
    if env is None:
        return
    left = []
    try:
        client = docker.DockerClient(base_url=env.docker_url, timeout=ANSWER_WITHIN)
        try:
            # The list endpoint alone: listing with an inspect per container fails with "No such
            # container" when one is removed meanwhile (by a test running beside this one), which
            # is not a daemon that stopped answering.
            left = [c for c in client.api.containers(all=True)
                    if any(k.startswith("io.katatui.") for k in c.get("Labels") or {})]  # fmt: skip
        finally:
            client.close()
    except Exception as exc:
        stuck: BaseException | None = exc
    else:
        stuck = None
    if stuck is not None:
        from tests.stuck import describe, restart, runs_a_container

        text = describe(env.dir, stuck)
        restarted = restart(env.dir)
        if restarted is None:
            restarted = runs_a_container(env)  # a wedge below the daemons survives their restart
        STUCK.append(f"{request.node.nodeid}: {stuck}\n{text}")  # said again at the end of the run
        if restarted is not None:
            pytest.exit(f"the test dockerd stopped answering after {request.node.nodeid} and could not be "
                        f"restarted: {restarted}\n{text}", returncode=1)  # fmt: skip
        pytest.fail(
            f"the test dockerd stopped answering after this test (restarted it):\n{text}", pytrace=False
        )
    if left:
        names = sorted(str((c.get("Names") or ["?"])[0]).lstrip("/") for c in left)
        more = ", ..." if len(names) > 3 else ""
        LEFTOVERS.append(f"{request.node.nodeid}: {len(names)} ({', '.join(names[:3])}{more})")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STUCK:
        terminalreporter.section("the test dockerd stopped answering (and was restarted) after")
        for line in STUCK:
            terminalreporter.line(line)
    if LEFTOVERS:
        terminalreporter.section("containers still on the test dockerd after a test")
        for line in LEFTOVERS:
            terminalreporter.line(line)


class ProfileAccepted(KatatuiError):
    """Raised instead of starting a run: the profile passed validation."""

    exit_code = 0


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """``katatui run --headless`` stops once its profile is validated: nothing runs, nothing is written."""

    def accepted(*args: object, **kwargs: object) -> None:
        raise ProfileAccepted("profile accepted")

    monkeypatch.setattr("katatui.core.recording.Recording.open", accepted)
