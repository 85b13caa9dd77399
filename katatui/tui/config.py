"""The user's settings: ``config.toml`` in the XDG config directory (``$KATATUI_CONFIG`` overrides).

```toml
[keys]
pause = "space"        # a binding id from the help screen (?) -> one key or "a,b"
stop_run = "ctrl+x"

[replay]
seek_seconds = 10      # how far b / f jump in a replay

[screenshots]
directory = "~/Pictures/katatui"   # where s saves (default: screenshots/ in the data directory)
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from katatui.tui.keys import BY_ID

DEFAULT_SEEK = 10.0


def config_path() -> Path:
    env = os.environ.get("KATATUI_CONFIG")
    return Path(env) if env else platformdirs.user_config_path("katatui") / "config.toml"


@dataclass(frozen=True)
class TuiConfig:
    keymap: dict[str, str] = field(default_factory=dict)
    seek_seconds: float = DEFAULT_SEEK
    screenshot_dir: Path | None = None  # None: screenshots/ in katatui's data directory
    problems: tuple[str, ...] = ()  # shown in the log: a typo must not stop the dashboard


def load_config(path: Path | None = None) -> TuiConfig:
    path = path or config_path()
    if not path.is_file():
        return TuiConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return TuiConfig(problems=(f"{path}: ignored: {exc}",))
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        return TuiConfig(problems=(f'{path}: keys: expected a table such as [keys] pause = "space"',))
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for key_id, value in keys.items():
        if key_id not in BY_ID:
            problems.append(f"{path}: keys.{key_id}: no such action (known: {', '.join(BY_ID)})")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f'{path}: keys.{key_id}: expected a key such as "space" or "ctrl+x"')
        else:
            keymap[key_id] = value.strip()
    seek = DEFAULT_SEEK
    replay = data.get("replay", {})
    value = replay.get("seek_seconds", DEFAULT_SEEK) if isinstance(replay, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        seek = float(value)
    else:
        problems.append(f"{path}: replay.seek_seconds: expected a number of seconds above 0, such as 10")
    shots: Path | None = None
    section = data.get("screenshots", {})
    where = section.get("directory") if isinstance(section, dict) else None
    if isinstance(where, str) and where.strip():
        shots = Path(where.strip()).expanduser()
    elif where is not None or not isinstance(section, dict):
        problems.append(f'{path}: screenshots.directory: expected a directory such as "~/Pictures/katatui"')
    return TuiConfig(keymap=keymap, seek_seconds=seek, screenshot_dir=shots, problems=tuple(problems))
