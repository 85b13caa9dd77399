"""The signals that stop katatui: SIGINT (Ctrl-C), SIGTERM (``kill``, a service manager) and SIGHUP
(the terminal was closed).

Whenever one arrives (connecting, building the image, during any workload), katatui keeps the same
promise: its containers and scratch directories are removed, the tools it started on the hosts are
stopped, what was measured stays in the session, and it exits with 128 + the signal's number
(130, 143, 129), as a shell reports a program that signal ended.

On a running event loop, :class:`LoopInterrupts` turns the first of them into one call (cancel
the session; its cleanup runs), and later ones into a word that cleanup is under way. Outside a
loop, :func:`raising` makes SIGTERM and SIGHUP raise :class:`Interrupted` as SIGINT raises
KeyboardInterrupt. After a SIGHUP the terminal may be gone: :func:`detach_if_hung_up` points the
standard streams at /dev/null so that what katatui still prints cannot fail the cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def exit_status(signum: int) -> int:
    """The exit status of a run a signal stopped: 130 for SIGINT, 143 SIGTERM, 129 SIGHUP."""
    return 128 + int(signum)


def name_of(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived outside an event loop (SIGINT raises KeyboardInterrupt itself)."""

    def __init__(self, signum: int) -> None:
        super().__init__(name_of(signum))
        self.signum = signum


def signal_of(exc: BaseException) -> int:
    """The signal an interruption came from (KeyboardInterrupt: SIGINT)."""
    return int(getattr(exc, "signum", signal.SIGINT))


def _raise(signum: int, _frame: FrameType | None) -> None:
    if signum == signal.SIGHUP:
        detach_if_hung_up()
    raise Interrupted(signum)


def install_raising() -> None:
    """From now on SIGTERM and SIGHUP raise :class:`Interrupted` (in the main thread), so that a
    command's ``finally`` blocks run as they do on Ctrl-C."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave them be
            if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup's choice stands
                signal.signal(sig, _raise)


@contextlib.contextmanager
def raising() -> Iterator[None]:
    """:func:`install_raising` for a block, restoring the previous handlers after it."""
    before = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            before[sig] = signal.getsignal(sig)
    install_raising()
    try:
        yield
    finally:
        for sig, handler in before.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)


def _is_hung_up(fd: int) -> bool:
    """True for a terminal that is gone: a write to it (even of nothing) fails with EIO."""
    try:
        if not os.isatty(fd):
            return False
        os.write(fd, b"")
    except OSError as exc:
        return exc.errno in (errno.EIO, errno.ENXIO, errno.EBADF)
    return False


def detach_if_hung_up() -> bool:
    """When the controlling terminal has hung up, point stdin, stdout and stderr at /dev/null
    (writes to the dead terminal fail with EIO; the cleanup still has things to say). Returns
    whether it did."""
    if not any(_is_hung_up(fd) for fd in (1, 2)):
        return False
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
    finally:
        os.close(null)
    return True


def say(text: str) -> None:
    """A line on stderr that never fails (a closed terminal, a closed pipe)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


class LoopInterrupts:
    """SIGINT, SIGTERM and SIGHUP on a running loop: the first calls ``stop`` (once) and is kept
    in ``signum``; later ones only say that cleanup is under way. SIGHUP first lets go of a
    terminal that has gone. Use as ``with LoopInterrupts(task.cancel):`` inside the loop."""

    def __init__(self, stop: Callable[[], Any], *, what: str = "stopping runs and cleaning up") -> None:
        self.stop = stop
        self.what = what
        self.signum: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._before: dict[int, object] = {}

    def __enter__(self) -> LoopInterrupts:
        self._loop = asyncio.get_running_loop()
        for sig in STOPPING:
            self._before[sig] = signal.getsignal(sig)
            if self._before[sig] is not signal.SIG_IGN:  # ignored when started (nohup, `&`): stays so
                self._loop.add_signal_handler(sig, self.arrived, sig)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None
        for sig in self._before:
            with contextlib.suppress(Exception):
                self._loop.remove_signal_handler(sig)
            # The handler from before (``raising``'s, in a command), not the default that
            # removing the loop's leaves: a signal while the summary prints must not kill katatui.
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, self._before[sig])  # type: ignore[arg-type]

    def arrived(self, signum: int) -> None:
        if signum == signal.SIGHUP:
            detach_if_hung_up()
        if self.signum is not None:
            say("katatui: still cleaning up (containers, scratch directories); please wait")
            return
        self.signum = signum
        self.stop()
        say(f"\nkatatui: interrupted ({name_of(signum)}); {self.what}")
