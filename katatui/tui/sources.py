"""Where the dashboard's events come from: a live engine or a recorded session.

Both push the same typed events into one listener, so the screens cannot tell them apart. Each
source also takes the user's "stop this run" and "skip this cell" requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from katatui.core.events import Event, Listener, RunStarted, SessionFinished

if TYPE_CHECKING:
    from katatui.core.profile import Profile

Status = str  # "completed" | "failed" | "interrupted"


class Source(Protocol):
    session_path: Path | None

    async def run(self, listener: Listener) -> Status:
        """Send every event to ``listener``; return the session's final status."""
        ...

    def stop_run(self, run_id: str) -> str:
        """Ask for one run to stop; returns what was done, for the log."""
        ...

    def skip_cell(self, cell: str) -> str: ...

    def abort(self) -> None:
        """Interrupt the session; it still ends with SessionFinished after cleaning up."""
        ...


class LiveSource:
    """The engine on a profile, recorded by a SessionWriter as it runs.

    ``stop_run``/``skip_cell`` use ``Engine.stop_run(run_id)`` / ``Engine.skip_cell()`` when the
    engine has them; until then the only way to stop is to interrupt the whole session.
    """

    def __init__(
        self,
        profile: Profile,
        *,
        out: Path | None,
        repeats: int | None,
        profile_text: str,
        engine_factory: Callable[..., Any] | None = None,
    ) -> None:
        from katatui.commands.common import default_session_path, new_session_id

        self.profile = profile
        self.repeats = repeats
        self.session_id = new_session_id()
        self.session_path: Path | None = out or default_session_path(self.session_id, profile.name)
        self.profile_text = profile_text
        self._engine_factory = engine_factory
        self.engine: Any = None
        self._task: asyncio.Task[Any] | None = None

    async def run(self, listener: Listener) -> Status:
        from katatui.core.engine import Engine
        from katatui.core.session import SessionWriter

        assert self.session_path is not None
        writer = SessionWriter(
            self.session_path, session_id=self.session_id, profile_text=self.profile_text,
            profile_json=self.profile.model_dump_json(),
        )  # fmt: skip
        factory = self._engine_factory or Engine
        self.engine = factory(
            self.profile, session_id=self.session_id, listeners=[writer, listener], repeats=self.repeats
        )
        self._task = asyncio.ensure_future(self.engine.run())
        try:
            outcome = await asyncio.shield(self._task)
        except asyncio.CancelledError:
            # Our worker was cancelled (quit): let the engine clean up before we return.
            self._task.cancel()
            outcome = await self._task
        finally:
            await asyncio.to_thread(writer.close)
        return str(outcome.status)

    def abort(self) -> None:
        """Interrupt the session; the engine stops its runs and cleans up, then finishes."""
        if self._task is not None and not self._task.done() and not self._task.cancelling():
            self._task.cancel()  # once: a second cancel would cut the engine's cleanup short

    def stop_run(self, run_id: str) -> str:
        hook = getattr(self.engine, "stop_run", None)
        if callable(hook):
            hook(run_id)
            return f"stopping run {run_id}"
        self.abort()
        return "this engine cannot stop a single run yet: interrupting the session (with cleanup)"

    def skip_cell(self, cell: str) -> str:
        hook = getattr(self.engine, "skip_cell", None)
        if callable(hook):
            hook()
            return f"skipping the rest of {cell}"
        self.abort()
        return "this engine cannot skip a cell yet: interrupting the session (with cleanup)"


class ReplaySource:
    """A recorded session played back at ``speed`` × its recorded pace (0: as fast as possible).

    Stopping a run or skipping a cell fast-forwards over its remaining events.
    """

    def __init__(self, path: Path, *, speed: float = 1.0, max_gap: float = 2.0) -> None:
        self.session_path: Path | None = path
        self.speed = speed
        self.max_gap = max_gap  # long pauses in a recording (image builds) are shortened to this
        self._skip_run: str | None = None
        self._skip_cell: str | None = None
        self._cells: dict[str, str] = {}
        self._aborted = False

    def load(self) -> list[Event]:
        from katatui.core import replay
        from katatui.core.session import SessionReader

        reader = SessionReader(self.session_path or "")
        try:
            self._cells = {r.spec.run_id: r.spec.cell for r in reader.runs()}
            return list(replay.events(reader))
        finally:
            reader.close()

    async def run(self, listener: Listener) -> Status:
        events = await asyncio.to_thread(self.load)
        status: Status = "completed"
        last_at: float | None = None
        for i, ev in enumerate(events):
            if self._aborted:
                listener(SessionFinished("interrupted"))
                return "interrupted"
            run_id = getattr(ev, "run_id", None)
            if isinstance(ev, RunStarted) and self._cells.get(ev.run_id) != self._skip_cell:
                self._skip_cell = None
            skipping = run_id is not None and (
                run_id == self._skip_run or self._cells.get(run_id) == self._skip_cell
            )
            if self.speed > 0 and last_at is not None and not skipping:
                await asyncio.sleep(min(self.max_gap, max(0.0, ev.at - last_at)) / self.speed)
            elif i % 200 == 0:
                await asyncio.sleep(0)  # let the screen breathe between large batches
            last_at = ev.at
            if isinstance(ev, SessionFinished):
                status = ev.status
            listener(ev)
        return status

    def abort(self) -> None:
        self._aborted = True

    def stop_run(self, run_id: str) -> str:
        self._skip_run = run_id
        return f"replay: fast-forwarding over the rest of run {run_id}"

    def skip_cell(self, cell: str) -> str:
        self._skip_cell = cell
        return f"replay: fast-forwarding over the rest of {cell}"
