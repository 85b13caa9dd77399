"""The user's settings: ``config.toml`` in the XDG config directory (``$KATATUI_CONFIG`` overrides).

```toml
[keys]
pause = "space"        # a binding id from the help screen (?) -> one key or "a,b"
stop_run = "ctrl+x"
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from katatui.tui.keys import BY_ID


def config_path() -> Path:
    env = os.environ.get("KATATUI_CONFIG")
    return Path(env) if env else platformdirs.user_config_path("katatui") / "config.toml"


@dataclass(frozen=True)
class TuiConfig:
    keymap: dict[str, str] = field(default_factory=dict)
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
    return TuiConfig(keymap=keymap, problems=tuple(problems))
