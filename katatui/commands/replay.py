"""``katatui replay SESSION [--speed X] [--from T]``: play a recorded session into the dashboard."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("replay", help="play a saved session back in the dashboard (no hosts needed)")
    p.add_argument(
        "session", nargs="?", help="a session: a .katatui file, or its name, id or label in the library"
    )
    p.add_argument("--demo", action="store_true", help="replay the demo session shipped with katatui")
    p.add_argument("--speed", type=float, default=1.0, help="times real time; 0 plays it at once (default 1)")
    p.add_argument("--from", dest="start", metavar="T", help="start T into the session: 90, 1:30, 2m")
    p.add_argument("--paused", action="store_true", help="open paused (p plays)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from katatui.commands.demo import demo_notice, demo_path
    from katatui.core.errors import UserError
    from katatui.core.library import resolve
    from katatui.tui.launch import replay_app

    if args.demo and args.session is not None:
        raise UserError("give a SESSION or --demo, not both")
    if args.demo:
        return replay_app(
            demo_path(), speed=args.speed, start=args.start, paused=args.paused, notice=demo_notice()
        )
    if args.session is None:
        raise UserError("replay: which session? give a .katatui file, or --demo for the shipped one")
    # the same names as report and compare: a path, or a file name, session id or label in the library
    path = resolve(args.session)
    return replay_app(path, speed=args.speed, start=args.start, paused=args.paused)
