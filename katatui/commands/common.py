"""Things several commands share: where sessions live, session ids, the console."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from katatui.core.library import data_dir, sessions_dir

__all__ = ["data_dir", "default_session_path", "new_session_id", "sessions_dir"]


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def default_session_path(session_id: str, profile_name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile_name)
    return sessions_dir() / f"{session_id}-{safe}.katatui"
