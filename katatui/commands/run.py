"""``katatui run PROFILE --headless``: run an experiment and save it as a session."""

from __future__ import annotations

import argparse
import asyncio
import io
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console

from katatui.core import interrupts
from katatui.core.engine import Engine, Outcome
from katatui.core.events import Event, Listener
from katatui.core.profile import load_profile, override_targets
from katatui.core.recording import Recording, check_repeats
from katatui.core.report import summarize
from katatui.core.session import SessionReader
from katatui.views.summary import HeadlessPrinter, print_notes, summary_table


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run a profile's experiment and save the session")
    p.add_argument("profile", help="a profile TOML file, e.g. profiles/quick.toml")
    p.add_argument(
        "--headless", action="store_true", help="print progress and a table instead of the dashboard"
    )
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME=ADDRESS",
        help="reach the profile's target NAME at ADDRESS: local, or ssh://user@host:port[?docker_socket=/path]",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change the profile, e.g. scenario.kata.runtime=kata-qemu, workload.fio.runtime=10, repeats=5",
    )
    p.add_argument(
        "--baseline",
        metavar="SCENARIO",
        dest="set",
        action="append",
        type=lambda v: f"baseline={v}",
        help="take ratios to SCENARIO (profile's baseline)",
    )
    p.add_argument("--out", type=Path, help="session file to write (default: in the data directory)")
    p.add_argument(
        "--repeat",
        type=repeat_arg,
        metavar="N|auto",
        help='rounds per cell (overrides the profile); "auto": until every verdict is decided, from the '
        "profile's min_repeats to max_repeats",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print each run's command line")
    p.set_defaults(func=run)


def repeat_arg(text: str) -> int | str:
    """``--repeat``: a whole number, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of rounds or auto, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    check_repeats(args.repeat)
    if not args.headless:
        from katatui.tui.launch import run_app

        return run_app(args.profile, targets=args.target, out=args.out, repeats=args.repeat, sets=args.set)
    with interrupts.raising():  # SIGTERM and SIGHUP before or after the session: as Ctrl-C
        return _headless(args)


def _headless(args: argparse.Namespace) -> int:
    profile = override_targets(load_profile(args.profile, args.set), args.target)
    profile_text = Path(args.profile).read_text(encoding="utf-8")
    recording = Recording(profile, profile_text=profile_text, out=args.out, repeats=args.repeat)
    out = recording.path
    console = Console(stderr=False, highlight=False)
    try:
        engine = recording.open(
            [_unfailing(HeadlessPrinter(console, verbose=args.verbose, auto=profile.auto))]
        )
        outcome, signum = asyncio.run(_run(engine))
    finally:
        recording.close()
    reader = SessionReader(out)
    summary = summarize(reader)
    reader.close()
    if summary.rows:
        console.print(summary_table(summary, f"{profile.name}: medians, ratio to {summary.reference}"))
        print_notes(console, summary.warnings())
    console.print(f"session saved: {out}")
    console.print(f"[dim]report: katatui report {out} --format table|csv|json|md[/]")
    if outcome.status == "interrupted":
        console.print("[yellow]interrupted: containers and scratch directories were removed; "
                      "what was measured is in the session[/]")  # fmt: skip
        return interrupts.exit_status(signum or signal.SIGINT)
    if outcome.failed:
        console.print(f"[red]{outcome.failed} run(s) failed[/], {outcome.finished} finished")
        return 1
    if outcome.status == "failed":  # the session stopped (a target lost, katatui's own error)
        console.print(f"[red]the session failed[/] ({outcome.finished} run(s) finished); see the errors")
        return 1
    return 0


def _unfailing(listener: Listener) -> Listener:
    """The printer as a listener that cannot fail the session: a terminal closed under it (EIO)
    or a reader gone from the pipe ends the printing, not the runs or their cleanup."""

    def listen(event: Event) -> None:
        try:
            listener(event)
        except OSError:
            interrupts.detach_if_hung_up()

    return listen


async def _run(engine: Engine) -> tuple[Outcome, int | None]:
    """The session, stopped (with its cleanup) by SIGINT, SIGTERM or SIGHUP; the signal, if any."""
    inner = asyncio.ensure_future(engine.run())
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, dump_waits)
    try:
        with interrupts.LoopInterrupts(inner.cancel) as caught:
            return await inner, caught.signum
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)


def dump_waits() -> None:
    """On SIGUSR1: print to stderr what every task and thread is waiting on, for a run that seems stuck
    (`kill -USR1 PID`); the run carries on."""
    out = io.StringIO()
    tasks = asyncio.all_tasks()
    print(f"katatui: {len(tasks)} task(s) waiting:", file=out)
    for task in sorted(tasks, key=lambda t: t.get_name()):
        print(f"-- {task.get_name()} ({task.get_coro()!r})", file=out)
        task.print_stack(limit=12, file=out)
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            print(f"-- thread {ident}", file=out)
            traceback.print_stack(frame, limit=12, file=out)
    sys.stderr.write(out.getvalue())
    sys.stderr.flush()
