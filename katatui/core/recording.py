"""A recorded session, assembled once for the headless run and the dashboard: its id, the file
it goes to, the SessionWriter that records every event there, and the engine that makes them.
``--repeat`` is checked here too, once, by the command that takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from katatui.core.errors import UserError
from katatui.core.events import Listener

if TYPE_CHECKING:
    from katatui.core.engine import Engine
    from katatui.core.profile import Profile
    from katatui.core.session import SessionWriter

# Engine's own signature: (profile, *, session_id, listeners, repeats).
EngineFactory = Callable[..., "Engine"]


def check_repeats(repeats: int | None) -> int | None:
    """``--repeat``: a whole number of at least 1, or None (the profile's own)."""
    if repeats is not None and repeats < 1:
        raise UserError(f"--repeat {repeats}: expected a whole number of at least 1")
    return repeats


class Recording:
    """One session of ``profile`` on its way to ``path`` (default: in the data directory).

    :meth:`open` makes the writer and the engine (events go to the writer first, then to the
    given listeners); :meth:`close` closes the writer once the engine is done."""

    def __init__(
        self,
        profile: Profile,
        *,
        profile_text: str,
        out: Path | None = None,
        repeats: int | None = None,
        engine_factory: EngineFactory | None = None,
    ) -> None:
        from katatui.core.library import default_session_path, new_session_id

        self.profile = profile
        self.profile_text = profile_text
        self.repeats = repeats
        self.session_id = new_session_id()
        self.path: Path = out or default_session_path(self.session_id, profile.name)
        self._engine_factory = engine_factory
        self.writer: SessionWriter | None = None
        self.engine: Engine | None = None

    def open(self, listeners: Sequence[Listener]) -> Engine:
        from katatui.core.session import SessionWriter

        self.writer = SessionWriter(
            self.path, session_id=self.session_id, profile_text=self.profile_text,
            profile_json=self.profile.model_dump_json(),
        )  # fmt: skip
        if self._engine_factory is None:
            from katatui.core.engine import Engine

            factory: EngineFactory = Engine
        else:
            factory = self._engine_factory
        self.engine = factory(
            self.profile, session_id=self.session_id, listeners=[self.writer, *listeners],
            repeats=self.repeats,
        )  # fmt: skip
        return self.engine

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
