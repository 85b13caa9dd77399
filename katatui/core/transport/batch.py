"""Many processes through one SSH channel: a small starter on the host starts them all and sends
their output back framed, so that starting 64 clients costs one channel, not 64.

Each SSH session channel costs the remote sshd a fork and a session setup (about 0.12 s each,
one after another), which is what makes 64 clients slow to start one channel at a time. The
starter (Python 3, fixed text, run as ``python3 -c STARTER``) reads the argument lists as JSON on
its stdin and starts every child as ``sh`` waiting at a barrier (a pipe on its stdin); once all
are started it ends the pipe, and they execute their programs together (stdin /dev/null), each in
a session of its own, so a signal reaches its whole process group as with one channel each. It
writes frames ``<index> <kind> <length>\\n<bytes>``: ``p`` the child's PID, ``t`` the host's
clock when the children were released (ns), ``o`` stdout, ``e`` stderr, ``x`` the exit status.
Where the host has no ``python3``, or for the local machine (where a fork costs nothing), each
process is started on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from weakref import WeakKeyDictionary

from katatui.core.aio import within
from katatui.core.errors import TargetError
from katatui.core.transport.base import Process, StreamedProcess, Transport

STARTER = r"""
import json, os, selectors, signal, subprocess, sys, time
specs = json.loads(sys.stdin.buffer.read())
out = sys.stdout.buffer
def frame(i, kind, data):
    out.write(b"%d %s %d\n" % (i, kind, len(data)) + data)
    out.flush()
# The start barrier: each child starts as a shell that waits for the end of this pipe (its stdin)
# before it executes the program; the pipe ends when all are started, so they run together.
r, w = os.pipe()
WAIT = 'read x; exec "$@" </dev/null'
sel = selectors.DefaultSelector()
procs = []
for i, argv in enumerate(specs):
    try:
        p = subprocess.Popen(["sh", "-c", WAIT, "sh", *argv], stdin=r, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        frame(i, b"e", ("%s: %s\n" % (argv[0], exc)).encode())
        frame(i, b"x", b"127")
        procs.append(None)
        continue
    frame(i, b"p", str(p.pid).encode())
    procs.append(p)
    for kind, f in ((b"o", p.stdout), (b"e", p.stderr)):
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ, (i, kind))
t = str(time.time_ns()).encode()
os.close(w)
os.close(r)
for i, p in enumerate(procs):
    if p is not None:
        frame(i, b"t", t)
open_streams = {i: 2 for i, p in enumerate(procs) if p is not None}
while open_streams:
    for key, _ in sel.select():
        i, kind = key.data
        data = os.read(key.fileobj.fileno(), 65536)
        if data:
            frame(i, kind, data)
            continue
        sel.unregister(key.fileobj)
        open_streams[i] -= 1
        if not open_streams[i]:
            del open_streams[i]
            frame(i, b"x", str(procs[i].wait()).encode())
"""

# Below this many clients on one host, a channel each is as quick as launching the starter.
BATCH_MIN = 4
_has_python: WeakKeyDictionary[Transport, bool] = WeakKeyDictionary()


class BatchedProcess(StreamedProcess):
    """One child of the starter."""

    def __init__(self, argv: Sequence[str], transport: Transport) -> None:
        super().__init__(argv)
        self.transport = transport
        self.pid: int | None = None
        self.started_ns: int | None = None
        self._returncode: int | None = None
        self._done = asyncio.Event()
        self._pid_known = asyncio.Event()

    def _closed(self, returncode: int) -> None:
        if self._done.is_set():
            return
        self._returncode = returncode
        self._queue.put_nowait(None)
        self._queue.put_nowait(None)
        self._pid_known.set()
        self._done.set()

    async def wait(self) -> int:
        await self._done.wait()
        assert self._returncode is not None
        return self._returncode

    async def signal(self, name: str) -> None:
        if self._done.is_set():
            return
        await within(self._pid_known.wait(), 10)
        if self.pid is None or self._done.is_set():
            return
        # The child leads its own session: its PID is its process group.
        done = await self.transport.run(["kill", "-s", name, "--", f"-{self.pid}"], timeout=20)
        if not done.ok:
            await self.transport.run(["kill", "-s", name, str(self.pid)], timeout=20)


async def _demux(starter: Process, children: list[BatchedProcess]) -> None:
    buffer = bytearray()
    errors = bytearray()
    try:
        while (chunk := await starter.read()) is not None:
            stream, data = chunk
            if stream == "stderr":
                errors += data[: max(0, 8192 - len(errors))]
                continue
            buffer += data
            while True:
                nl = buffer.find(b"\n")
                if nl < 0:
                    break
                index, kind, size = bytes(buffer[:nl]).split(b" ")
                end = nl + 1 + int(size)
                if len(buffer) < end:
                    break
                payload = bytes(buffer[nl + 1 : end])
                del buffer[:end]
                child = children[int(index)]
                if kind == b"o":
                    child._queue.put_nowait(("stdout", payload))
                elif kind == b"e":
                    child._queue.put_nowait(("stderr", payload))
                elif kind == b"p":
                    child.pid = int(payload)
                    child._pid_known.set()
                elif kind == b"t":
                    child.started_ns = int(payload)
                elif kind == b"x":
                    child._closed(int(payload))
        rc = await starter.wait()
    except (TargetError, ValueError) as exc:
        errors += f"\n{exc}".encode()
        rc = -1
    said = errors.decode(errors="replace").strip()
    for child in children:
        if not child._done.is_set():  # the starter died before this child ended
            child._queue.put_nowait(
                ("stderr", f"katatui: the batch starter ended (status {rc}): {said}\n".encode())
            )
            child._closed(-1)


async def start_many(transport: Transport, argvs: Sequence[Sequence[str]]) -> list[Process]:
    """Start every argument list on the transport's host; one SSH channel for all where possible."""
    if transport.is_local or len(argvs) < BATCH_MIN or not await _python(transport):
        return [await transport.start(argv) for argv in argvs]
    spec = json.dumps([list(a) for a in argvs]).encode()
    starter = await transport.start(["python3", "-c", STARTER], stdin=spec)
    children = [BatchedProcess(argv, transport) for argv in argvs]
    task = asyncio.create_task(_demux(starter, children))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return list(children)


_tasks: set[asyncio.Task[None]] = set()


async def _python(transport: Transport) -> bool:
    if transport not in _has_python:
        found = False
        with contextlib.suppress(TargetError):
            found = (await transport.run(["python3", "-c", "pass"], timeout=30)).ok
        _has_python[transport] = found
    return _has_python[transport]
