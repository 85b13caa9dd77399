"""The ``katatui`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from katatui import __version__
from katatui.core.errors import KatatuiError


def build_parser() -> argparse.ArgumentParser:
    from katatui.commands import cleanup, image, imports, report, run

    parser = argparse.ArgumentParser(
        prog="katatui",
        description="Compare container runtimes (bare, runc, Kata, any OCI runtime) side by side.",
    )
    parser.add_argument("--version", action="version", version=f"katatui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (run, report, imports, cleanup, image):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        print("katatui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `katatui report ... | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except KatatuiError as exc:
        print(f"katatui: error: {exc}", file=sys.stderr)
        return exc.exit_code
