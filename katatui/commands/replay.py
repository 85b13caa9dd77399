"""``katatui replay SESSION [--speed X]``: play a recorded session into the dashboard."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("replay", help="play a saved session back in the dashboard (no hosts needed)")
    p.add_argument("session", type=Path, help="a session file (.katatui)")
    p.add_argument("--speed", type=float, default=1.0, help="times real time; 0 plays it at once (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from katatui.tui.launch import replay_app

    return replay_app(args.session, speed=args.speed)
