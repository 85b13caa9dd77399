"""A Docker daemon that stops answering: one timeout, not one per container.

Fake clients stand in for the daemon (no real hang is needed): their calls raise what a timed-out
request raises, and count how often they were made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import docker.errors
import pytest
import requests.exceptions

from katatui.core.errors import DaemonError, TargetError
from katatui.core.events import RunSpec
from katatui.core.launchers import docker as docker_launcher
from katatui.core.launchers.bare import BareLauncher
from katatui.core.launchers.base import Launcher, Mount
from katatui.core.launchers.docker import DockerLauncher, DockerProcess, daemon_health, remove_session
from katatui.core.profile import Limits
from katatui.core.runner import SERVER_CLIENT_BASE, RunContext, Runner
from katatui.core.transport.base import Process
from katatui.core.transport.local import LocalTransport

RUN = RunSpec("daemon000001", 0, "c", "runc", "docker", "runc", "node1", "w", "fio", {}, 64, 0)


def late() -> Exception:
    # What the Docker SDK raises through its Unix socket when the daemon does not answer in time.
    return requests.exceptions.ConnectionError(
        "UnixHTTPConnectionPool(host='localhost', port=None): Read timed out. (read timeout=120)"
    )


class FakeContainer:
    def __init__(self, client: FakeClient, number: int) -> None:
        self.client = client
        self.id = f"{number:064x}"
        self.short_id = self.id[:10]

    def remove(self, **_: Any) -> None:
        self.client.call("remove")

    def start(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> dict[str, int]:
        self.client.waits.append(timeout)
        outcome = self.client.wait_outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return {"StatusCode": outcome}


class FakeContainers:
    def __init__(self, client: FakeClient) -> None:
        self.client = client

    def create(self, **_: Any) -> FakeContainer:
        self.client.call("create")
        return FakeContainer(self.client, 999)


class FakeApi:
    base_url = "http+docker://localhost"

    def __init__(self, client: FakeClient) -> None:
        self.client = client

    def get(self, url: str, timeout: float | None = None) -> Any:
        self.client.call("ping")
        return self

    def close(self) -> None:
        pass

    def attach_socket(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("not reached")

    def logs(self, *_: Any, **__: Any) -> bytes:
        return b""


class FakeClient:
    """A daemon whose calls take ``delay`` seconds and then do what ``fail`` says (None: succeed)."""

    def __init__(self, fail: dict[str, Exception | None], delay: float = 0.0) -> None:
        self.fail = fail
        self.delay = delay
        self.containers = FakeContainers(self)
        self.api = FakeApi(self)
        self.calls: dict[str, int] = {}
        self.log: list[str] = []  # "call:remove", "failed:remove", ... in the order they happened
        self.waits: list[float | None] = []
        self.wait_outcomes: list[Exception | int] = []
        self._lock = threading.Lock()

    def call(self, what: str) -> None:
        with self._lock:
            self.calls[what] = self.calls.get(what, 0) + 1
            self.log.append(f"call:{what}")
        time.sleep(self.delay)
        exc = self.fail.get(what)
        if exc is not None:
            with self._lock:
                self.log.append(f"failed:{what}")
            raise exc


def launcher_on(client: FakeClient, target: str = "node1") -> DockerLauncher:
    return DockerLauncher(LocalTransport(target), cast(Any, client), runtime="runc",
                          image="katatui/bench:0.1", session_id="daemontest", limits=Limits())  # fmt: skip


def context(launcher: Launcher, warnings: list[str], run: RunSpec = RUN) -> RunContext:
    return RunContext(run=run, driver=cast(Any, None), launcher=launcher, host=BareLauncher(LocalTransport()),
                      transport=LocalTransport(), scratch_base="/tmp", session_id="daemontest", mode="volume",
                      emit=lambda _: None, warn=warnings.append)  # fmt: skip


def test_a_silent_daemon_costs_one_timeout_and_is_told_once() -> None:
    """64 containers on a daemon that does not answer: only the removals already under way when
    the first timed out asked the daemon; the others did not, one warning names all 64, and the
    next start fails at once with what happened, without asking the daemon."""
    client = FakeClient({"remove": late(), "create": late()}, delay=0.2)
    launcher = launcher_on(client)
    for c in range(64):
        launcher._containers[(RUN.run_id, c)] = FakeContainer(client, c)
    warnings: list[str] = []

    async def main() -> None:
        await Runner()._release_all(context(launcher, warnings))
        with pytest.raises(DaemonError) as refused:
            await launcher.start(RUN, 0, ["true"], None)
        said = str(refused.value)
        assert said.startswith("the Docker daemon on node1 did not answer earlier in this session (")
        assert "Read timed out" in said
        # Another launcher on the same daemon (another scenario) knows too; another daemon does not.
        with pytest.raises(DaemonError):
            await launcher_on(cast(Any, client)).start(RUN, 1, ["true"], None)
        assert await remove_session(cast(Any, client), "daemontest") == []

    asyncio.run(main())
    first = client.log.index("failed:remove")
    assert "call:remove" not in client.log[first:], "a removal asked the daemon after it timed out"
    assert client.calls["remove"] <= 8  # at most the removals under way together
    assert "create" not in client.calls
    assert len(launcher.unremoved) == 64
    assert len(warnings) == 1
    assert warnings[0].startswith("on node1: the Docker daemon did not answer (ConnectionError:")
    assert "64 containers of this session were left there" in warnings[0]
    assert "katatui cleanup" in warnings[0] and "by their label" in warnings[0]
    # Told once: a later run's release adds nothing to say.
    launcher._containers[("later", 0)] = FakeContainer(client, 100)
    more: list[str] = []
    asyncio.run(Runner()._release_all(context(launcher, more, dataclasses.replace(RUN, run_id="later"))))
    assert more == [] and len(launcher.unremoved) == 65
    assert launcher_on(FakeClient({})).release_notes() == []


def test_starts_queued_behind_a_timeout_do_not_ask_the_daemon() -> None:
    """Twenty starts on four threads: the four that asked keep their own reason (the timeout);
    the sixteen queued behind them find the daemon known silent and fail without a create."""
    client = FakeClient({"create": late()}, delay=0.2)
    launcher = launcher_on(client)

    async def main() -> list[BaseException]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
        got = await asyncio.gather(*(launcher.start(RUN, c, ["true"], None) for c in range(20)),
                                   return_exceptions=True)  # fmt: skip
        return [g for g in got if isinstance(g, BaseException)]

    errors = asyncio.run(main())
    assert client.calls["create"] == 4
    timed_out = [e for e in errors if not isinstance(e, DaemonError)]
    refused = [e for e in errors if isinstance(e, DaemonError)]
    assert len(timed_out) == 4 and len(refused) == 16
    assert all(isinstance(e, TargetError) and "did not start the container" in str(e) for e in timed_out)
    assert all("did not answer earlier in this session" in str(e) for e in refused)


def test_a_container_already_gone_is_an_answer_not_silence() -> None:
    client = FakeClient({"remove": docker.errors.NotFound("404 Client Error: No such container: abc")})
    launcher = launcher_on(client)
    for c in range(3):
        launcher._containers[(RUN.run_id, c)] = FakeContainer(client, c)
    warnings: list[str] = []
    asyncio.run(Runner()._release_all(context(launcher, warnings)))
    assert client.calls["remove"] == 3
    assert not daemon_health(cast(Any, client)).silent
    assert launcher.unremoved == [] and warnings == []


def attached_at_eof() -> socket.socket:
    ours, theirs = socket.socketpair()
    theirs.close()
    return ours


def test_a_wait_retries_while_the_daemon_answers_and_fails_when_it_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(docker_launcher, "WAIT_POLL", 0.01)

    async def waited(client: FakeClient) -> int:
        container = FakeContainer(client, 1)
        proc = DockerProcess(["true"], cast(Any, client), container, attached_at_eof(), "node1")
        return await proc.wait()

    # A tool that runs longer than one poll: the daemon answers its ping, the wait goes on.
    healthy = FakeClient({})
    healthy.wait_outcomes = [late(), late(), 3]
    assert asyncio.run(waited(healthy)) == 3
    assert healthy.waits == [0.01, 0.01, 0.01] and healthy.calls["ping"] == 2

    # The daemon does not answer its ping either: a DaemonError, and the daemon is marked.
    hung = FakeClient({"ping": late()})
    hung.wait_outcomes = [late()]
    with pytest.raises(DaemonError, match="on node1: the Docker daemon did not answer in time"):
        asyncio.run(waited(hung))
    assert daemon_health(cast(Any, hung)).silent

    # A container the daemon says is gone stays a TargetError, as before.
    gone = FakeClient({})
    gone.wait_outcomes = [docker.errors.NotFound("No such container")]
    with pytest.raises(TargetError, match="lost the container"):
        asyncio.run(waited(gone))
    assert not daemon_health(cast(Any, gone)).silent


class SlowLauncher(Launcher):
    """Releases take 0.2 s each and say when they begin and end."""

    name = "slow"

    def __init__(self, events: list[str]) -> None:
        super().__init__(LocalTransport())
        self.events = events

    def scratch_path(self, host_path: str | None) -> str:
        return "/scratch"

    def needs_host_scratch(self, mode: str) -> bool:
        return False

    def describe(self, run: RunSpec, argv: Sequence[str], mount: Mount | None) -> list[str]:
        return list(argv)

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> Process:
        raise AssertionError("not started here")

    async def release(self, run: RunSpec, client: int) -> None:
        if client >= SERVER_CLIENT_BASE:
            return
        self.events.append(f"begin {client}")
        await asyncio.sleep(0.2)
        if client == 7:
            raise TargetError("this one fails; the others are released all the same")
        self.events.append(f"end {client}")


def test_release_all_releases_every_client_at_once() -> None:
    events: list[str] = []
    run = RunSpec("daemon000002", 0, "c", "s", "slow", None, "node1", "w", "fio", {}, 20, 0)
    asyncio.run(Runner()._release_all(context(SlowLauncher(events), [], run)))
    begins = [e for e in events if e.startswith("begin")]
    assert len(begins) == 20 and len(events) == 39  # client 7's release failed
    first_end = next(i for i, e in enumerate(events) if e.startswith("end"))
    assert first_end == 20, "a release began only after another had ended"
