"""Entry points for the CLI: the dashboard on a profile, or on a recorded session.

The one door from :mod:`katatui.commands` into the screens: a command's ``--tui`` flag imports
this module inside its function (so a plain command never loads Textual), an exception the
import contracts in pyproject.toml name command by command.

Both return the same exit statuses as the headless run: 0 every run finished, 1 some failed,
2 the profile had problems and the user quit, 130 the session was aborted.
"""

from __future__ import annotations

from pathlib import Path

from katatui.tui import hangup
from katatui.tui.clock import clock

DEFAULT_PROFILE = Path("profiles/quick.toml")
# Where the shipped profiles are when katatui runs from its source tree (pip install -e .).
SHIPPED = Path(__file__).resolve().parents[2] / "profiles" / "quick.toml"


def default_profile() -> Path:
    return DEFAULT_PROFILE if DEFAULT_PROFILE.is_file() or not SHIPPED.is_file() else SHIPPED


def run_app(
    profile_path: str | None,
    *,
    targets: list[str],
    out: Path | None,
    repeats: int | None,
    sets: list[str] | None = None,
) -> int:
    """Open the start screen on ``profile_path`` (default: profiles/quick.toml) and run from there
    (``repeats``: checked by the command, see katatui.core.recording.check_repeats)."""
    from katatui.tui.app import KatatuiApp
    from katatui.tui.config import load_config

    path = Path(profile_path) if profile_path else default_profile()
    app = KatatuiApp(
        profile_path=path, targets=targets, out=out, repeats=repeats, config=load_config(), sets=sets or []
    )
    status = app.run()
    return hangup.exit_status(app, 130 if status is None else int(status))


def replay_app(
    session_path: Path,
    *,
    speed: float = 1.0,
    start: str | None = None,
    paused: bool = False,
    notice: str = "",
) -> int:
    """Play a recorded session into the dashboard at ``speed`` × its pace (0: at once), from
    ``start`` (a time into the session: 90, 1:30, 2m), ``paused`` or playing. Exit status 0 once
    the user quits."""
    from katatui.core.errors import UserError, reading
    from katatui.core.playback import parse_time
    from katatui.tui.app import KatatuiApp
    from katatui.tui.config import load_config
    from katatui.tui.sources import ReplaySource

    if speed < 0 or speed != speed:
        raise UserError(f"--speed {speed}: expected 0 (as fast as possible) or more")
    at = parse_time(start) if start is not None else 0.0
    source = ReplaySource(session_path, speed=speed, start=at, paused=paused)
    with reading(f"session {session_path}"):
        timeline = source.load()  # a missing or foreign file is a UserError, before the screen opens
    source.timeline = timeline
    if not timeline.events:
        raise UserError(f"session {session_path}: it holds no events to replay")
    if at > timeline.total:
        raise UserError(
            f"--from {start}: the session lasts {clock(timeline.total)} ({timeline.total:.0f} s); "
            "give a time within it"
        )
    app = KatatuiApp(source=source, config=load_config(), notice=notice)
    status = app.run()
    return hangup.exit_status(app, 130 if status is None else int(status))


def sessions_app(directory: Path | None = None) -> int:
    """The saved sessions screen on ``directory`` (default: the library). Exit status 0."""
    from katatui.tui.app import KatatuiApp
    from katatui.tui.config import load_config
    from katatui.tui.sessions import SessionsScreen

    app = KatatuiApp(config=load_config(), first=SessionsScreen(directory))
    app.run()
    return 0


def compare_app(paths: list[Path], *, seed: str | None = None, baseline: str | None = None) -> int:
    """The compare screen on saved sessions (already resolved to files). Exit status 0."""
    from katatui.tui.app import KatatuiApp
    from katatui.tui.compare import CompareScreen
    from katatui.tui.config import load_config

    app = KatatuiApp(config=load_config(), first=CompareScreen(paths, seed=seed, baseline=baseline))
    app.run()
    return 0
