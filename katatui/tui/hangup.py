"""The dashboard told to stop by a signal: the terminal closed (SIGHUP), ``kill`` (SIGTERM) or
SIGINT from outside (Ctrl+C itself is a key in the dashboard, see the key bindings).

A live session is aborted as the abort key does (its runs stop, their containers and scratch
directories are removed, what was measured stays in the session file), then the dashboard exits
with 128 + the signal's number (129, 143, 130). Anything else (the start screen, a replay, the
summary) exits at once with that status: there is nothing to clean up.

When the terminal has gone, writing to it fails; the standard streams are pointed at /dev/null
(:func:`katatui.core.interrupts.detach_if_hung_up`) and, if the screen's writer thread already
died of such a write, a new one writes there, so that nothing the dashboard still draws can stall
the cleanup.

An exit asked for some other way while a session runs (ctrl+q; the browser tab of ``katatui
serve`` closed, which quits the app) waits the same way for the session's cleanup
(:func:`hold_exit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any

from katatui.core import interrupts

if TYPE_CHECKING:
    from textual.app import App

CAUGHT = "_katatui_signal"  # the app's attribute holding the signal that stopped it
HELD = "_katatui_exit_held"  # an exit waits for the session's cleanup


def install(app: App[Any]) -> None:
    """Handle SIGHUP, SIGTERM and SIGINT on the app's loop (call from ``on_mount``); a signal
    ignored when katatui started (nohup) stays ignored."""
    if app.is_headless:  # a test's pilot: the test process's signals are its own
        return
    loop = asyncio.get_running_loop()
    for sig in interrupts.STOPPING:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue
        with contextlib.suppress(ValueError, RuntimeError):  # not the main thread (tests): no handler
            loop.add_signal_handler(sig, _arrived, app, sig)


def caught(app: App[Any]) -> int | None:
    """The signal that stopped the app, if one did."""
    signum: int | None = getattr(app, CAUGHT, None)
    return signum


def exit_status(app: App[Any], status: int) -> int:
    """The app's exit status, or 128 + the signal's number when a signal stopped it."""
    signum = caught(app)
    return status if signum is None else interrupts.exit_status(signum)


def _arrived(app: App[Any], signum: int) -> None:
    if signum == signal.SIGHUP and interrupts.detach_if_hung_up():
        _revive_writer(app)
    if caught(app) is not None:
        return  # already stopping: the first signal's cleanup goes on
    setattr(app, CAUGHT, signum)
    app.run_worker(_stop(app, signum), name="signal", group="signal", exit_on_error=False)


def _live(app: App[Any]) -> Any:
    """The live session's source while one runs (not a replay), else None."""
    source: Any = getattr(app, "source", None)
    live = source is not None and not getattr(source, "replay", False) and hasattr(source, "abort")
    return source if live and getattr(app, "session_running", False) else None


def hold_exit(app: App[Any]) -> bool:
    """An exit asked for while a live session runs (ctrl+q, or the browser tab of ``katatui
    serve`` closed): abort the session first and exit once its cleanup is done. True when the
    exit must wait (the caller then prevents it). A test's pilot (headless) exits at once."""
    if app.is_headless or _live(app) is None:
        return False
    if caught(app) is None and not getattr(app, HELD, False):
        setattr(app, HELD, True)
        app.run_worker(_stop(app, None), name="exit", group="signal", exit_on_error=False)
    return True


async def _stop(app: App[Any], signum: int | None) -> None:
    """Abort a live session and wait for its cleanup, then exit (with 128 + ``signum`` for a
    signal, else the app's own status)."""
    source = _live(app)
    if source is not None:
        source.abort()
        while getattr(app, "session_running", False):
            if signum == signal.SIGHUP:
                _revive_writer(app)
            await asyncio.sleep(0.05)
    if signum is not None:
        app.exit(interrupts.exit_status(signum))
        return
    status = getattr(app, "exit_status", None)
    app.exit(status() if callable(status) else None)


def _revive_writer(app: App[Any]) -> None:
    """If the driver's writer thread died writing to the closed terminal, start another on the
    same stream (now /dev/null): a dead writer's full queue would block the loop, and the cleanup
    with it."""
    driver = getattr(app, "_driver", None)
    writer = getattr(driver, "_writer_thread", None)
    if writer is None or writer.is_alive():
        return
    with contextlib.suppress(Exception):
        fresh = type(writer)(writer._file)
        fresh.start()
        driver._writer_thread = fresh  # type: ignore[union-attr]
