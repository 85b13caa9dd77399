"""Things several commands share: where sessions live, session ids, the console."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Where sessions are kept: ``$KATATUI_DATA_DIR`` or the XDG data directory."""
    env = os.environ.get("KATATUI_DATA_DIR")
    return Path(env) if env else platformdirs.user_data_path("katatui")


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def default_session_path(session_id: str, profile_name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile_name)
    return data_dir() / "sessions" / f"{session_id}-{safe}.katatui"
