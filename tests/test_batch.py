"""Many processes through one SSH channel (katatui.core.transport.batch), over the real sshd."""

from __future__ import annotations

import asyncio

import pytest

from katatui.core.events import RunSpec
from katatui.core.launchers.bare import BareLauncher
from katatui.core.transport.batch import BatchedProcess, start_many
from katatui.core.transport.ssh import SSHTransport
from tests.conftest import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
def home(testenv: TestEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(testenv.ssh_home))


async def collect(proc: object) -> tuple[bytes, bytes, int]:
    assert isinstance(proc, BatchedProcess)
    out, err = bytearray(), bytearray()
    while (chunk := await proc.read()) is not None:
        (out if chunk[0] == "stdout" else err).extend(chunk[1])
    return bytes(out), bytes(err), await proc.wait()


async def test_children_share_one_starter_and_keep_their_streams(testenv: TestEnv, home: None) -> None:
    t = SSHTransport("h", testenv.ssh_url)
    try:
        script = 'echo "out $1 $PPID"; echo "err $1" >&2; exit "$1"'
        procs = await start_many(t, [["sh", "-c", script, "sh", str(i)] for i in range(8)])
        results = await asyncio.gather(*(collect(p) for p in procs))
    finally:
        await t.close()
    parents = set()
    for i, (out, err, rc) in enumerate(results):
        word, n, ppid = out.decode().split()
        assert (word, n, rc, err) == ("out", str(i), i, f"err {i}\n".encode())
        parents.add(ppid)
    assert len(parents) == 1  # one starter started them all: one channel
    assert all(isinstance(p, BatchedProcess) and p.started_ns for p in procs)


async def test_output_streams_and_signals_reach_one_child(testenv: TestEnv, home: None) -> None:
    t = SSHTransport("h", testenv.ssh_url)
    try:
        waiting = 'trap "echo got-int; exit 7" INT; echo ready; while :; do sleep 0.1; done'
        procs = await start_many(
            t, [["sh", "-c", waiting], ["sh", "-c", "sleep 0.5; echo done"], ["true"], ["true"]]
        )
        assert all(isinstance(p, BatchedProcess) for p in procs)
        first = await asyncio.wait_for(procs[0].read(), 30)
        assert first == ("stdout", b"ready\n")  # before the child ends: output streams
        await procs[0].signal("INT")
        out0 = await collect(procs[0])
        out1 = await collect(procs[1])
        await asyncio.gather(*(collect(p) for p in procs[2:]))
    finally:
        await t.close()
    assert out0[0] == b"got-int\n" and out0[2] == 7
    assert out1 == (b"done\n", b"", 0)  # the other child was not touched


async def test_bare_launcher_start_many_and_missing_program(testenv: TestEnv, home: None) -> None:
    t = SSHTransport("h", testenv.ssh_url)
    spec = RunSpec("r", 0, "c", "bare", "bare", None, "h", "w", "launch", {}, 2, 0)
    try:
        clients = [
            (0, ["echo", "a"], None),
            (1, ["no-such-program-x"], None),
            (2, ["true"], None),
            (3, ["true"], None),
        ]
        procs = await BareLauncher(t).start_many(spec, clients)
        assert all(isinstance(p, BatchedProcess) for p in procs)
        a, missing, *_ = await asyncio.gather(*(collect(p) for p in procs))
    finally:
        await t.close()
    assert a == (b"a\n", b"", 0)
    assert missing[2] == 127 and b"no-such-program-x" in missing[1]


async def test_local_machine_starts_each_directly() -> None:
    from katatui.core.transport.local import LocalTransport

    procs = await start_many(LocalTransport(), [["echo", "x"], ["true"], ["true"], ["true"]])
    assert not any(isinstance(p, BatchedProcess) for p in procs)  # a local fork costs nothing
    assert [await p.wait() for p in procs] == [0, 0, 0, 0]
