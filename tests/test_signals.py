"""SIGINT, SIGTERM and SIGHUP at any moment leave nothing behind.

Each test starts katatui for real (the test dockerd, the test sshd), sends one signal at one
moment (planning, an image build, each workload; locally and over SSH; headless and in the
dashboard under tmux) and checks the promise: exit status 128 + the signal (130, 143, 129), no
container with the session's label, an empty scratch base, no process katatui started still
running, and what was measured in the session. Every moment and every signal is covered at least
once, not every combination.

Processes are found by a mark: katatui runs with a unique variable in its environment, which
whatever it starts on this machine inherits; what it starts over SSH is started by sshd with
sshd's environment, so those are found by what their command lines hold (the test's own scratch
directory, the test's own port).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from katatui.core.launchers.docker import LABEL_SESSION
from katatui.core.session import SessionReader
from tests.conftest import TestEnv
from tests.helpers import REPO, count_events, need

pytestmark = pytest.mark.integration

MARK = "KATATUI_TEST_SIGNAL_MARK"
STOP_WITHIN = 120.0  # seconds for katatui to stop after the signal (sysbench in a container: ~8 s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Katatui:
    """One katatui started by a test, and how to find what it started."""

    out: Path
    scratch: Path
    mark: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Over SSH: substrings that together mark a command line as one katatui started.
    remote: list[tuple[str, ...]] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, MARK: self.mark, "COLUMNS": "200"}


def command_lines() -> Iterator[tuple[int, bytes, bytes]]:
    """(pid, command line, environment) of every process that can be read."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        yield int(entry), cmdline.replace(b"\0", b" "), environ


def started_by(k: Katatui) -> list[str]:
    """The processes katatui started that still run (zombies aside)."""
    found = []
    mark = f"{MARK}={k.mark}".encode()
    for pid, cmdline, environ in command_lines():
        if k.proc is not None and pid == k.proc.pid:
            continue  # katatui itself (katatui serve, still serving)
        ours = mark in environ.split(b"\0") or any(
            all(part.encode() in cmdline for part in parts) for parts in k.remote
        )
        if ours and not _zombie(pid):
            found.append(f"{pid}: {cmdline.decode(errors='replace')[:200]}")
    return found


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True  # gone


def profile(
    tmp_path: Path,
    testenv: TestEnv,
    workload: str,
    *,
    scenario: str = "runc",
    repeats: int = 1,
) -> Path:
    runtime = '[[scenarios]]\nlauncher = "bare"\n' if scenario == "bare" else (
        f'[[scenarios]]\nlauncher = "docker"\nruntime = "{scenario}"\n'
    )  # fmt: skip
    text = f"""
name = "signals"
repeats = {repeats}
[targets.local]
host = "local"
scratch_base = "{tmp_path / "scratch"}"
docker_socket = "{testenv.docker_sock}"
{runtime}
[[workloads]]
{workload}
"""
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def prepare(tmp_path: Path) -> Katatui:
    (tmp_path / "scratch").mkdir()
    return Katatui(out=tmp_path / "s.katatui", scratch=tmp_path / "scratch")


def start(k: Katatui, prof: Path, testenv: TestEnv, *, ssh: bool = False) -> Katatui:
    args = [sys.executable, "-m", "katatui", "run", str(prof), "--headless", "--out", str(k.out)]
    env = k.env
    if ssh:
        args += ["--target", f"local={testenv.ssh_url}?docker_socket={testenv.docker_sock}"]
        env["HOME"] = str(testenv.ssh_home)
        k.remote.append((str(k.scratch),))
    k.proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    return k


def wait_for(k: Katatui, kind: str, n: int, timeout: float = 120) -> None:
    """Until the session holds ``n`` events of ``kind`` (katatui must still be running then)."""
    assert k.proc is not None
    deadline = time.monotonic() + timeout
    while count_events(k.out, kind) < n:
        if k.proc.poll() is not None:
            out, err = k.proc.communicate()
            pytest.fail(f"katatui ended before {n} {kind} event(s):\n{out[-3000:]}\n{err[-3000:]}")
        if time.monotonic() > deadline:
            k.proc.kill()
            pytest.fail(f"no {n} {kind} event(s) within {timeout:.0f} s")
        time.sleep(0.05)


def interrupt(k: Katatui, sig: signal.Signals) -> tuple[int, str, str]:
    assert k.proc is not None
    k.proc.send_signal(sig)
    try:
        out, err = k.proc.communicate(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        k.proc.kill()
        out, err = k.proc.communicate()
        pytest.fail(
            f"katatui still running {STOP_WITHIN:.0f} s after {sig.name}:\n{out[-3000:]}\n{err[-3000:]}"
        )
    return k.proc.returncode, out, err


def session_containers(client: docker.DockerClient, out: Path) -> list[str]:
    with SessionReader(out) as reader:
        session_id = reader.meta["session_id"]
    found = client.containers.list(all=True, filters={"label": f"{LABEL_SESSION}={session_id}"})
    return [str(c.name) for c in found]


def eventually_none(what: str, look: Callable[[], Sequence[str]], within: float = 15) -> None:
    """``look()`` finds nothing, at once or after what katatui stopped has finished exiting."""
    deadline = time.monotonic() + within
    while (found := list(look())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not found, f"{what} left behind: {found}"


def assert_left_nothing(
    k: Katatui, client: docker.DockerClient, sig: signal.Signals, rc: int, out: str, err: str
) -> SessionReader:
    assert rc == 128 + sig, f"exit status {rc} after {sig.name}\n{out[-3000:]}\n{err[-3000:]}"
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert f"interrupted ({sig.name})" in err
    assert session_containers(client, k.out) == []
    assert list(k.scratch.iterdir()) == []
    eventually_none("processes katatui started", lambda: started_by(k))
    reader = SessionReader(k.out)
    assert reader.status == "interrupted"
    return reader


FIO = 'type = "fio"\nrw = "randread"\nbs = "4k"\nsize = "16m"\nruntime = 60'


@pytest.fixture(autouse=True)
def _tools() -> None:
    for tool in ("fio", "iperf3", "ab", "nginx", "sysbench", "dd"):
        need(tool)


# -- planning: connecting, probing, identifying the scenarios -------------------------------------
def test_sighup_while_planning(testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    k = start(prepare(tmp_path), profile(tmp_path, testenv, FIO), testenv)
    wait_for(k, "HostFacts", 1)  # the target is reached; the scenario's probes are next
    reader = assert_left_nothing(k, docker_client, signal.SIGHUP, *interrupt(k, signal.SIGHUP))
    assert all(r.status != "finished" for r in reader.runs())
    assert reader.hosts()["local"]["kernel"]  # what was learned of the host is kept
    reader.close()


def test_sigint_while_planning_over_ssh(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    k = start(prepare(tmp_path), profile(tmp_path, testenv, FIO), testenv, ssh=True)
    wait_for(k, "ScenarioFacts", 1)  # the fairness probe ran; the guest identity is read next
    assert_left_nothing(k, docker_client, signal.SIGINT, *interrupt(k, signal.SIGINT)).close()


def test_sighup_ignored_at_start_stays_ignored(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """``nohup katatui run ...``: logging out does not stop the run."""
    k = prepare(tmp_path)
    wl = 'type = "fio"\nrw = "randread"\nbs = "4k"\nsize = "8m"\nruntime = 3'
    argv = [sys.executable, "-m", "katatui", "run", str(profile(tmp_path, testenv, wl, scenario="bare")),
            "--headless", "--out", str(k.out)]  # fmt: skip

    def nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    k.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=k.env,
                              cwd=REPO, preexec_fn=nohup)  # fmt: skip
    wait_for(k, "Sample", 1)
    k.proc.send_signal(signal.SIGHUP)
    out, err = k.proc.communicate(timeout=STOP_WITHIN)
    assert k.proc.returncode == 0, out + err
    with SessionReader(k.out) as reader:
        assert [r.status for r in reader.runs()] == ["finished"]


# -- each workload --------------------------------------------------------------------------------
def test_sigterm_during_fio_over_ssh_bare(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    k = start(prepare(tmp_path), profile(tmp_path, testenv, FIO, scenario="bare"), testenv, ssh=True)
    wait_for(k, "Sample", 2)
    assert started_by(k), "the remote fio is not found by its scratch directory"
    reader = assert_left_nothing(k, docker_client, signal.SIGTERM, *interrupt(k, signal.SIGTERM))
    run = reader.runs()[0]
    assert run.status == "failed" and run.reason and "interrupted" in run.reason
    assert any(r.partial and r.metric == "read_iops" and r.value > 0 for r in reader.results())
    reader.close()


def test_sighup_during_iperf3(testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    wl = f'type = "iperf3"\nduration = 60\nport = {free_port()}'
    k = start(prepare(tmp_path), profile(tmp_path, testenv, wl), testenv)
    wait_for(k, "Sample", 2)
    assert started_by(k), "the iperf3 server on the host is not found by its mark"
    reader = assert_left_nothing(k, docker_client, signal.SIGHUP, *interrupt(k, signal.SIGHUP))
    assert any(r.partial and r.metric == "received_bits_per_second" for r in reader.results())
    reader.close()


def test_sigterm_during_ab_stops_the_hosts_ab(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    wl = f'type = "ab"\nrequests = 50000000\nconcurrency = 2\nport = {free_port()}'
    k = start(prepare(tmp_path), profile(tmp_path, testenv, wl), testenv)
    wait_for(k, "Sample", 2)
    assert any(" -n 50000000 " in p for p in started_by(k)), "ab is not found on the host"
    reader = assert_left_nothing(k, docker_client, signal.SIGTERM, *interrupt(k, signal.SIGTERM))
    partial = {r.metric: r.value for r in reader.results() if r.partial}
    assert partial.get("complete_requests", 0) > 0 and "latency_p50_ms" in partial
    reader.close()


def test_sigint_during_sysbench_over_ssh(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    wl = 'type = "sysbench"\ntest = "cpu"\ntime = 60'
    k = start(prepare(tmp_path), profile(tmp_path, testenv, wl), testenv, ssh=True)
    wait_for(k, "Sample", 2)
    reader = assert_left_nothing(k, docker_client, signal.SIGINT, *interrupt(k, signal.SIGINT))
    run = reader.runs()[0]
    # sysbench prints nothing when it is stopped: what was measured is its seconds
    assert len(reader.samples(run.spec.run_id)) >= 2
    reader.close()


def test_sighup_during_dd_bare(testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    wl = 'type = "dd"\nmode = "write"\ncount = 1000000'
    k = start(prepare(tmp_path), profile(tmp_path, testenv, wl, scenario="bare"), testenv)
    wait_for(k, "Sample", 2)
    reader = assert_left_nothing(k, docker_client, signal.SIGHUP, *interrupt(k, signal.SIGHUP))
    assert any(r.partial and r.metric == "bytes" and r.value > 0 for r in reader.results())
    reader.close()


@pytest.mark.parametrize(
    ("workload", "sig", "ssh"),
    [("launch", signal.SIGTERM, False), ("boot", signal.SIGHUP, True)],
)
def test_signal_between_short_launches(
    testenv: TestEnv,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    workload: str,
    sig: signal.Signals,
    ssh: bool,
) -> None:
    k = start(
        prepare(tmp_path), profile(tmp_path, testenv, f'type = "{workload}"', repeats=60), testenv, ssh=ssh
    )
    wait_for(k, "RunFinished", 2)
    reader = assert_left_nothing(k, docker_client, sig, *interrupt(k, sig))
    finished = [r for r in reader.runs() if r.status == "finished"]
    assert len(finished) >= 2 and len(finished) < 60  # the launches measured before the signal are kept
    assert {r.run.spec.run_id for r in reader.results() if not r.partial} >= {r.spec.run_id for r in finished}
    reader.close()


def test_sigint_during_footprint(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    k = start(prepare(tmp_path), profile(tmp_path, testenv, 'type = "footprint"\nsettle = 60'), testenv)
    wait_for(k, "RunFacts", 1)  # the run started: its container is starting or settling
    reader = assert_left_nothing(k, docker_client, signal.SIGINT, *interrupt(k, signal.SIGINT))
    assert reader.runs()[0].status == "failed"
    reader.close()


# -- katatui image build ----------------------------------------------------------------------------
def image_build(k: Katatui, testenv: TestEnv, *args: str) -> None:
    env = {**k.env, "DOCKER_HOST": testenv.docker_url}
    argv = [sys.executable, "-m", "katatui", "image", "build", *args]
    k.proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
    )


def read_until(k: Katatui, text: str, *, stdout: bool = False) -> str:
    """stderr (or stdout) up to the line holding ``text`` (katatui still running)."""
    assert k.proc is not None and k.proc.stderr is not None and k.proc.stdout is not None
    said = ""
    for line in k.proc.stdout if stdout else k.proc.stderr:
        said += line
        if text in line:
            return said
    k.proc.wait()
    pytest.fail(f"katatui ended before saying {text!r}:\n{said}")


@pytest.fixture
def tag(docker_client: docker.DockerClient) -> Iterator[str]:
    name = f"katatui/signals-test:{uuid.uuid4().hex[:12]}"
    yield name
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(name, force=True)


def test_sigterm_during_image_build_from_host(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path, tag: str
) -> None:
    k = prepare(tmp_path)
    image_build(k, testenv, "--from-host", "--tag", tag)
    read_until(k, "fetching")  # the host's binaries are being packed (tar on the host)
    rc, _, err = interrupt(k, signal.SIGTERM)
    assert rc == 143 and "Traceback" not in err and "interrupted (SIGTERM)" in err, err
    eventually_none("processes katatui started", lambda: started_by(k))
    # The daemon's import is all or nothing: an image under the tag, if the import had begun, is
    # a whole one (it carries every label).
    try:
        image = docker_client.images.get(tag)
    except docker.errors.ImageNotFound:
        return
    assert image.labels.get("io.katatui.tools")


def test_sigint_during_a_dockerfile_build_cancels_it(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path, tag: str
) -> None:
    marker = uuid.uuid4().hex
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {testenv.image}\nRUN sleep 300 && echo {marker}\n")
    k = prepare(tmp_path)
    image_build(k, testenv, "--context", str(context), "--tag", tag)
    read_until(k, "Running in")  # the daemon's build container runs the sleep

    def building() -> list[str]:
        listed = docker_client.containers.list(all=True)
        return [str(c.name) for c in listed if marker in " ".join(c.attrs.get("Config", {}).get("Cmd") or [])]

    assert building()
    rc, _, err = interrupt(k, signal.SIGINT)
    assert rc == 130 and "Traceback" not in err and "interrupted (SIGINT)" in err, err
    eventually_none("the build's container", building, within=60)  # far less than its sleep
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)


# -- the dashboard, and a terminal closed under katatui -----------------------------------------------
class Tmux:
    """A tmux server of the test's own (never the user's), one session running one command."""

    def __init__(self) -> None:
        need("tmux")
        self.socket = f"katatui-signals-{uuid.uuid4().hex[:8]}"
        self.session = "katatui"

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True,
                              text=True, check=check)  # fmt: skip
        return done.stdout

    def start(self, argv: Sequence[str], env: dict[str, str], status: Path) -> int:
        """Run ``argv`` in the session under a shell that writes its exit status to ``status``;
        returns the command's PID (the shell's child)."""
        exports = [f"{key}={value}" for key, value in env.items()]
        script = '"$@"; echo $? > "$0"'
        self.tmux("new-session", "-d", "-s", self.session, "-x", "120", "-y", "40",
                  "env", "-u", "COLUMNS", "-u", "LINES", "-C", str(REPO), *exports,
                  "sh", "-c", script, str(status), *argv)  # fmt: skip
        shell = int(self.tmux("display-message", "-p", "-t", self.session, "#{pane_pid}").strip())
        deadline = time.monotonic() + 30
        while True:
            for entry in os.listdir("/proc"):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    if (
                        entry.isdigit()
                        and int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == shell
                    ):
                        return int(entry)
            assert time.monotonic() < deadline, "the command did not start under tmux"
            time.sleep(0.05)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session, check=False)

    def close(self) -> None:
        self.tmux("kill-server", check=False)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux()
    yield t
    t.close()


def exit_status(path: Path, within: float = 30) -> int | None:
    """What the shell under tmux wrote once its command ended."""
    deadline = time.monotonic() + within
    while not (path.exists() and path.read_text().strip()):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
    return int(path.read_text())


def gone(pid: int, within: float = STOP_WITHIN) -> bool:
    deadline = time.monotonic() + within
    while not _zombie(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def start_dashboard(k: Katatui, tmux: Tmux, prof: Path, testenv: TestEnv, *, ssh: bool = False) -> int:
    """The dashboard on ``prof`` in tmux, started with its g key once the start screen offers it."""
    args = [sys.executable, "-m", "katatui", "run", str(prof), "--out", str(k.out)]
    env = {MARK: k.mark, "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}
    if ssh:
        args += ["--target", f"local={testenv.ssh_url}?docker_socket={testenv.docker_sock}"]
        env["HOME"] = str(testenv.ssh_home)
        k.remote.append((str(k.scratch),))
    pid = tmux.start(args, env, k.out.with_suffix(".status"))
    deadline = time.monotonic() + 60
    while "Start (g)" not in tmux.screen() or "reachable" not in tmux.screen():
        assert time.monotonic() < deadline, f"no start screen:\n{tmux.screen()}"
        time.sleep(0.2)
    while count_events(k.out, "SessionStarted") < 1 and count_events(k.out, "HostFacts") < 1:
        assert time.monotonic() < deadline, f"the session did not start:\n{tmux.screen()}"
        tmux.tmux("send-keys", "-t", tmux.session, "g")
        time.sleep(1)
    return pid


def test_closing_the_terminal_under_the_dashboard_cleans_up(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path, tmux: Tmux
) -> None:
    wl = f'type = "ab"\nrequests = 50000000\nconcurrency = 2\nport = {free_port()}'
    k = prepare(tmp_path)
    pid = start_dashboard(k, tmux, profile(tmp_path, testenv, wl), testenv)
    wait_dashboard(k, "Sample", 2)
    assert any(" -n 50000000 " in p for p in started_by(k)), "ab is not found on the host"
    tmux.tmux("kill-session", "-t", tmux.session)  # the terminal closes: SIGHUP
    assert gone(pid), "katatui still runs after its terminal closed"
    assert session_containers(docker_client, k.out) == []
    assert list(k.scratch.iterdir()) == []
    eventually_none("processes katatui started", lambda: started_by(k))
    with SessionReader(k.out) as reader:
        assert reader.status == "interrupted"
        assert any(r.partial and r.metric == "complete_requests" for r in reader.results())


def test_sigterm_to_the_dashboard_over_ssh(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path, tmux: Tmux
) -> None:
    k = prepare(tmp_path)
    pid = start_dashboard(k, tmux, profile(tmp_path, testenv, FIO, scenario="bare"), testenv, ssh=True)
    wait_dashboard(k, "Sample", 2)
    assert started_by(k), "the remote fio is not found by its scratch directory"
    os.kill(pid, signal.SIGTERM)
    assert gone(pid), "katatui still runs after SIGTERM"
    assert exit_status(k.out.with_suffix(".status")) == 143
    assert list(k.scratch.iterdir()) == []
    eventually_none("processes katatui started", lambda: started_by(k))
    with SessionReader(k.out) as reader:
        assert reader.status == "interrupted"
        assert any(r.partial and r.metric == "read_iops" for r in reader.results())


def test_sigint_to_the_dashboard_while_planning(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path, tmux: Tmux
) -> None:
    k = prepare(tmp_path)
    pid = start_dashboard(k, tmux, profile(tmp_path, testenv, FIO), testenv)  # returns as it plans
    os.kill(pid, signal.SIGINT)
    assert gone(pid), "katatui still runs after SIGINT"
    assert exit_status(k.out.with_suffix(".status")) == 130
    assert session_containers(docker_client, k.out) == []
    assert list(k.scratch.iterdir()) == []
    eventually_none("processes katatui started", lambda: started_by(k))
    with SessionReader(k.out) as reader:
        assert reader.status == "interrupted"
        assert not any(r.status == "finished" for r in reader.runs())


def test_closing_the_terminal_under_a_headless_run(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path, tmux: Tmux
) -> None:
    k = prepare(tmp_path)
    wl = f'type = "iperf3"\nduration = 60\nport = {free_port()}'
    argv = [sys.executable, "-m", "katatui", "run", str(profile(tmp_path, testenv, wl)), "--headless",
            "--out", str(k.out)]  # fmt: skip
    env = {MARK: k.mark, "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}
    pid = tmux.start(argv, env, k.out.with_suffix(".status"))
    wait_dashboard(k, "Sample", 2)
    tmux.tmux("kill-session", "-t", tmux.session)
    assert gone(pid), "katatui still runs after its terminal closed"
    assert session_containers(docker_client, k.out) == []
    eventually_none("processes katatui started", lambda: started_by(k))
    with SessionReader(k.out) as reader:
        assert reader.status == "interrupted"


def wait_dashboard(k: Katatui, kind: str, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while count_events(k.out, kind) < n:
        assert time.monotonic() < deadline, f"no {n} {kind} event(s) within {timeout:.0f} s"
        time.sleep(0.1)


def test_closing_the_served_page_cleans_up(
    testenv: TestEnv, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """The browser tab of ``katatui serve`` closed mid-run: the app quits, after its cleanup."""
    import asyncio
    import json

    import aiohttp

    k = prepare(tmp_path)
    wl = f'type = "ab"\nrequests = 50000000\nconcurrency = 2\nport = {free_port()}'
    port = free_port()
    prof = profile(tmp_path, testenv, wl)
    args = ["serve", "--port", str(port), "--", "run", str(prof), "--out", str(k.out)]
    k.proc = subprocess.Popen([sys.executable, "-m", "katatui", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=k.env, cwd=REPO)  # fmt: skip
    assert k.proc.stdout is not None
    assert "serving" in k.proc.stdout.readline()

    async def browse() -> None:
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # the port opens just after the line
                with contextlib.suppress(aiohttp.ClientError):
                    ws = await http.ws_connect(f"http://127.0.0.1:{port}/ws?width=160&height=48")
                    break
                await asyncio.sleep(0.1)
            screen = b""

            async def read() -> None:
                nonlocal screen
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        screen += msg.data

            reader = asyncio.create_task(read())
            while b"reachable" not in screen or b"Start (g)" not in screen:
                assert time.monotonic() < deadline, "no start screen"
                await asyncio.sleep(0.2)
            while count_events(k.out, "HostFacts") < 1:
                assert time.monotonic() < deadline, "the session did not start"
                await ws.send_str(json.dumps(["stdin", "g"]))
                await asyncio.sleep(1)
            while count_events(k.out, "Sample") < 2:
                assert time.monotonic() < deadline, "no samples"
                await asyncio.sleep(0.2)
            assert any(" -n 50000000 " in p for p in started_by(k)), "ab is not found on the host"
            await ws.close()  # the tab closes
            reader.cancel()

    try:
        asyncio.run(browse())
        deadline = time.monotonic() + STOP_WITHIN
        while count_events(k.out, "SessionFinished") < 1:
            assert time.monotonic() < deadline, "the session did not end after the page closed"
            time.sleep(0.2)
        eventually_none("processes katatui started", lambda: started_by(k), within=60)
    finally:
        k.proc.send_signal(signal.SIGTERM)
        k.proc.wait(60)
    assert session_containers(docker_client, k.out) == []
    assert list(k.scratch.iterdir()) == []
    with SessionReader(k.out) as reader:
        assert reader.status == "interrupted"


def test_sighup_while_a_run_imports_its_image_into_containerd(
    testenv: TestEnv, docker_client: docker.DockerClient, ctrd: str, tmp_path: Path, tag: str
) -> None:
    """The image step a run takes before its first run (here: containerd lacks the image and the
    run copies it from Docker, ``docker save`` into ``ctr images import``), cut by SIGHUP."""
    from katatui.core.launchers.containerd import NAMESPACE, image_ref

    docker_client.images.get(testenv.image).tag(tag)  # a name of its own: containerd lacks it
    k = prepare(tmp_path)
    prof = tmp_path / "profile.toml"
    prof.write_text(f"""
name = "signals"
[targets.local]
host = "local"
scratch_base = "{k.scratch}"
containerd_socket = "{ctrd}"
docker_socket = "{testenv.docker_sock}"
[[scenarios]]
name = "ctr"
launcher = "containerd"
runtime = "io.containerd.runc.v2"
image = "{tag}"
[[workloads]]
{FIO}
""")
    ctr = ["ctr", "--address", ctrd, "--namespace", NAMESPACE]
    start(k, prof, testenv)
    try:
        read_until(k, "importing", stdout=True)
        deadline = time.monotonic() + 60
        while not any("import" in p for p in started_by(k)):  # `ctr images import` reads the image
            assert k.proc is not None and k.proc.poll() is None, "katatui ended before importing"
            assert time.monotonic() < deadline, "no ctr import"
            time.sleep(0.02)
        rc, out, err = interrupt(k, signal.SIGHUP)
        assert rc == 129 and "Traceback" not in err, out + err
        eventually_none("processes katatui started", lambda: started_by(k))
        assert list(k.scratch.iterdir()) == []
        listed = subprocess.run([*ctr, "containers", "list", "-q"], capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        with SessionReader(k.out) as reader:
            assert reader.status == "interrupted"
            assert not any(reader.meta["session_id"] in line for line in listed.stdout.splitlines())
    finally:
        subprocess.run([*ctr, "images", "rm", image_ref(tag)], capture_output=True, timeout=120)
