"""The ``katatui`` command line."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from katatui import __version__
from katatui.core import interrupts
from katatui.core.errors import KatatuiError, describe


def build_parser() -> argparse.ArgumentParser:
    from katatui.commands import (
        calibrate,
        cleanup,
        compare,
        demo,
        doctor,
        export,
        image,
        imports,
        replay,
        report,
        run,
        serve,
        sessions,
    )  # fmt: skip

    parser = argparse.ArgumentParser(
        prog="katatui",
        description="Compare container runtimes (bare, runc, Kata, any OCI runtime) side by side.",
    )
    parser.add_argument("--version", action="version", version=f"katatui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = (
        run, report, replay, imports, cleanup, image, doctor, demo, serve, sessions, compare, export,
        calibrate,
    )  # fmt: skip
    for module in modules:
        module.add_parser(sub)
    parser.set_defaults(normalise=normalise, parser=parser)  # serve checks the command it serves
    return parser


COMMANDS = (
    "run", "report", "replay", "import", "cleanup", "image", "doctor", "demo", "serve", "sessions", "compare",
    "export", "calibrate",
)  # fmt: skip


def normalise(argv: Sequence[str]) -> list[str]:
    """The command line with its command first: ``katatui PROFILE`` is ``katatui run PROFILE``."""
    args = list(argv)
    if args and args[0] not in COMMANDS and not args[0].startswith("-"):
        args.insert(0, "run")
    return args


def first_command() -> int:
    """The dashboard on this machine; without any Docker here, the shipped demo and why."""
    from katatui.commands.demo import demo_notice, demo_path, first_screen
    from katatui.tui.launch import replay_app, run_app

    first = first_screen()
    if not first.demo:
        return run_app(None, targets=[], out=None, repeats=None)
    print(f"katatui: {first.reason}", file=sys.stderr)
    print("katatui: showing the demo session instead (katatui demo)", file=sys.stderr)
    return replay_app(demo_path(), notice=demo_notice(first.reason))


def bound_repeat(args: argparse.Namespace) -> None:
    """``--repeat N``: refused above its limit at once, and validated with the profile as
    ``--set repeats=N`` so that the plan's size is checked before anything starts. ``--repeat auto``
    is ``--set repeats=auto`` (the profile's min_repeats and max_repeats bound it)."""
    from katatui.core.errors import UserError
    from katatui.core.limits import repeats_problem

    if args.repeat == "auto":
        args.repeat = None
        args.set = [*args.set, 'repeats="auto"']
        return
    if args.repeat is None or args.repeat < 1:
        return  # the command says what is wrong with 0 or less
    problem = repeats_problem(args.repeat, "--repeat")
    if problem:
        raise UserError(problem)
    args.set = [*args.set, f"repeats={args.repeat}"]


def main(argv: Sequence[str] | None = None) -> int:
    args_list = normalise(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if not args_list:  # `katatui`: the dashboard on this machine with the default profile
            return first_command()
        args = parser.parse_args(args_list)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        if args.command == "run":
            bound_repeat(args)
        return int(func(args))
    except KeyboardInterrupt as exc:  # SIGINT; SIGTERM and SIGHUP where a command made them raise
        signum = interrupts.signal_of(exc)
        interrupts.say(f"katatui: interrupted ({interrupts.name_of(signum)})")
        return interrupts.exit_status(signum)
    except BrokenPipeError:  # `katatui report ... | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except KatatuiError as exc:
        print(f"katatui: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # the one place that turns the unexpected into a message
        return unexpected(exc)


INTERNAL_ERROR = 70  # sysexits' EX_SOFTWARE


def unexpected(exc: BaseException) -> int:
    """An exception katatui did not raise on purpose. Raised while an input was being read (see
    ``katatui.core.errors.reading``), it is that input's fault: exit 2 naming the file and what is
    wrong, no traceback. Anywhere else it is a bug in katatui: its traceback, and a request to report it."""
    source = getattr(exc, "katatui_input", None)
    if source is not None:
        print(f"katatui: error: {source}: cannot be read: {describe(exc)}", file=sys.stderr)
        return 2
    traceback.print_exception(exc, file=sys.stderr)
    print(f"katatui: internal error (please report it): {describe(exc)}", file=sys.stderr)
    return INTERNAL_ERROR
