"""``katatui demo``: replay the session shipped with katatui (no hosts, no Docker needed).

The same replay is what plain ``katatui`` shows on a machine without Docker, with a message
saying so; see :func:`first_screen`.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from katatui.core.errors import UserError

DOCKER_SOCKET = Path("/var/run/docker.sock")
RECORDED_ON = "a 2-CPU Debian 12 VM"


def demo_path() -> Path:
    """The shipped demo session (katatui/data/demo.katatui)."""
    path = Path(str(resources.files("katatui") / "data" / "demo.katatui"))
    if not path.is_file():
        raise UserError(
            f"the demo session is missing from this installation ({path}); reinstall katatui "
            "or replay a session of your own with `katatui replay SESSION`"
        )
    return path


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help="replay the shipped demo session (bare metal against Docker runtimes) in the dashboard"
    )
    p.add_argument("--speed", type=float, default=1.0, help="times real time; 0 plays it at once (default 1)")
    p.add_argument("--from", dest="start", metavar="T", help="start T into the session: 90, 1:30, 2m")
    p.add_argument("--paused", action="store_true", help="open paused (p plays)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from katatui.tui.launch import replay_app

    return replay_app(
        demo_path(), speed=args.speed, start=args.start, paused=args.paused, notice=demo_notice()
    )


def demo_notice(reason: str = "", path: Path | None = None) -> str:
    """What the demo is: where it was recorded and the scenarios it compares (read from the session
    ``path``, the shipped demo by default), after ``reason`` when there is one."""
    head = f"{reason}\n" if reason else ""
    scenarios = " vs ".join(session_scenarios(path or demo_path()))
    what = f" ({scenarios})" if scenarios else ""
    return (
        f"{head}Demo: a session recorded on {RECORDED_ON}{what}; its figures are from that machine, "
        "not this one."
    )


def session_scenarios(path: Path) -> list[str]:
    """The scenarios of the session at ``path`` in the order its plan has them ([] when it cannot be read)."""
    from katatui.core.session import SessionReader

    try:
        with SessionReader(path) as reader:
            return list(dict.fromkeys(r.spec.scenario for r in reader.runs()))
    except (OSError, UserError):
        return []


@dataclass(frozen=True)
class FirstScreen:
    """What plain ``katatui`` opens: the start screen, or the demo and why."""

    demo: bool
    reason: str = ""


def first_screen(environ: Mapping[str, str] | None = None, socket: Path | None = None) -> FirstScreen:
    """The demo when nothing says Docker is on this machine (no ``DOCKER_HOST``, no daemon socket).

    A socket that is there but does not answer (daemon down, no permission) is a real problem the
    start screen explains, so it never falls back to the demo.
    """
    env = os.environ if environ is None else environ
    socket = socket or DOCKER_SOCKET
    if env.get("DOCKER_HOST") or socket.exists():
        return FirstScreen(False)
    installed = shutil.which("dockerd", path=env.get("PATH")) or shutil.which("docker", path=env.get("PATH"))
    if installed:
        why = (
            f"Docker is installed ({installed}) but its daemon is not running: there is no {socket} "
            "and DOCKER_HOST is not set. Start it (sudo systemctl start docker), then run katatui again."
        )
    else:
        why = (
            f"No Docker on this machine (no {socket}, DOCKER_HOST not set): install it with "
            "sudo scripts/install, or point a profile at another host with --target NAME=ssh://user@host."
        )
    return FirstScreen(True, f"{why} `katatui run profiles/quick.toml` still opens the start screen.")
