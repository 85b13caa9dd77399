"""Where the dashboard's events come from: a live engine or a recorded session.

Both push the same typed events into one listener, so the screens cannot tell them apart. Each
source also takes the user's "stop this run" and "skip this cell" requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from katatui.core.aio import within
from katatui.core.errors import UserError
from katatui.core.events import Listener, SessionFinished
from katatui.core.playback import Moved, Playback, Timeline
from katatui.tui.checkpoints import interval

if TYPE_CHECKING:
    from katatui.core.engine import Engine, Outcome
    from katatui.core.profile import Profile
    from katatui.core.recording import EngineFactory

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
    """The engine on a profile, recorded by a SessionWriter as it runs (a
    :class:`katatui.core.recording.Recording`, as for ``katatui run --headless``).

    ``stop_run``/``skip_cell`` ask the engine (``Engine.stop_run`` / ``Engine.skip_cell``); before
    the engine exists the only way to stop is to interrupt the whole session.
    """

    def __init__(
        self,
        profile: Profile,
        *,
        out: Path | None,
        repeats: int | None,
        profile_text: str,
        engine_factory: EngineFactory | None = None,
    ) -> None:
        from katatui.core.recording import Recording

        self.profile = profile
        self.baseline: str | None = profile.baseline  # the scenario ratios are taken to
        self.recording = Recording(
            profile, profile_text=profile_text, out=out, repeats=repeats, engine_factory=engine_factory
        )
        self.repeats = repeats
        # repeats = "auto" (and no number given instead): the plan is the most runs it may take.
        self.auto = profile.auto and repeats is None
        self.session_id = self.recording.session_id
        self.session_path: Path | None = self.recording.path
        self.profile_text = profile_text
        self.engine: Engine | None = None
        self._task: asyncio.Task[Outcome] | None = None

    async def run(self, listener: Listener) -> Status:
        self.engine = self.recording.open([listener])
        self._task = asyncio.ensure_future(self.engine.run())
        try:
            outcome = await asyncio.shield(self._task)
        except asyncio.CancelledError:
            # Our worker was cancelled (quit): let the engine clean up before we return.
            self._task.cancel()
            outcome = await self._task
        finally:
            await asyncio.to_thread(self.recording.close)
        return str(outcome.status)

    def abort(self) -> None:
        """Interrupt the session; the engine stops its runs and cleans up, then finishes."""
        if self._task is not None and not self._task.done() and not self._task.cancelling():
            self._task.cancel()  # once: a second cancel would cut the engine's cleanup short

    def stop_run(self, run_id: str) -> str:
        if self.engine is None:
            self.abort()
            return "the session has not started yet: interrupting it (with cleanup)"
        self.engine.stop_run(run_id)
        return f"stopping run {run_id}"

    def skip_cell(self, cell: str) -> str:
        if self.engine is None:
            self.abort()
            return "the session has not started yet: interrupting it (with cleanup)"
        self.engine.skip_cell()
        return f"skipping the rest of {cell}"


class Rewinder(Protocol):
    """Who holds the state built from a replay's events (the app's model)."""

    def checkpoint(self, index: int) -> None:
        """The timeline's first ``index`` events have been sent: keep a copy of the state."""
        ...

    def rewind_to(self, index: int) -> int:
        """Go back to the last copy at or before ``index`` (cleared: 0); return its index."""
        ...


class ReplaySource:
    """A recorded session played back on a replay clock (:class:`katatui.core.playback.Playback`).

    It sends the same events as the live run did, in the same order, at ``speed`` × their recorded
    pace (0: all at once); ``start`` seconds in, the session up to there arrives at once. While it
    plays, the dashboard can pause, step, seek and change the speed. Every ``checkpoint_every``
    events the ``rewinder`` (the app) keeps a copy of its state; seeking back asks it to go back to
    the last copy before the target, then sends the events from there on. Stopping a run or
    skipping a cell seeks to where it ended.
    """

    replay = True
    TICK = 0.25  # the clock on the status line moves at least this often

    def __init__(
        self,
        path: Path,
        *,
        speed: float = 1.0,
        start: float = 0.0,
        max_gap: float = 2.0,
        timeline: Timeline | None = None,
        paused: bool = False,
        checkpoint_every: int | None = None,
    ) -> None:
        self.session_path: Path | None = path
        self.initial_speed = speed
        self.start = start
        self.start_paused = paused
        self.max_gap = max_gap  # long pauses in a recording (image builds) are shortened to this
        self.timeline = timeline
        self.playback: Playback | None = None
        self.rewinder: Rewinder | None = None
        self.checkpoint_every = checkpoint_every  # None: about 100 copies over the session
        self._listener: Listener | None = None
        self._aborted = False
        self._wake: asyncio.Event | None = None
        self._last: float | None = None

    @property
    def baseline(self) -> str | None:
        """The recorded profile's ``baseline`` scenario (None: the first)."""
        from katatui.core.session import SessionReader

        try:
            with SessionReader(self.session_path or "") as reader:
                doc = json.loads(reader.meta.get("profile_json", "{}"))
        except (OSError, ValueError, UserError):
            return None
        chosen = doc.get("baseline") if isinstance(doc, dict) else None
        return chosen if isinstance(chosen, str) else None

    def load(self) -> Timeline:
        from katatui.core import replay
        from katatui.core.session import SessionReader

        reader = SessionReader(self.session_path or "")
        try:
            return Timeline.of(list(replay.events(reader)))
        finally:
            reader.close()

    async def run(self, listener: Listener) -> Status:
        self._listener = listener
        if self.playback is None:  # the first run: read the session, then start where asked
            if self.timeline is None:
                self.timeline = await asyncio.to_thread(self.load)
            pb = Playback(self.timeline, speed=self.initial_speed or 1.0, max_gap=self.max_gap)
            pb.paused = self.start_paused
            self.checkpoint_every = self.checkpoint_every or interval(len(self.timeline.events))
            start = self.timeline.total if self.initial_speed == 0 else self.start
            self.playback = pb
            if start > 0:
                self._deliver(pb.seek(start))
        pb = self.playback  # later runs (after the end, the user went back) go on from there
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        while not self._aborted and not pb.ended:
            self._wake.clear()
            wait = pb.wait()
            timeout = self.TICK if wait is None else min(wait, self.TICK)
            with contextlib.suppress(TimeoutError):
                await within(self._wake.wait(), timeout)
            self.sync()
        if self._aborted:
            listener(SessionFinished("interrupted"))
            return "interrupted"
        return pb.timeline.final_status() or "interrupted"  # none recorded: the session was cut off

    def sync(self) -> None:
        """Move the clock on by the wall time since the last call and send what became due."""
        if self.playback is None or self._last is None:
            return
        now = asyncio.get_running_loop().time()
        elapsed, self._last = now - self._last, now
        self._deliver(self.playback.advance(elapsed))

    def _deliver(self, moved: Moved) -> None:
        events, start = moved.events, moved.start
        if moved.rewind:  # without a rewinder (nothing keeps state) there is nothing to go back to
            begin = self.rewinder.rewind_to(len(events)) if self.rewinder is not None else 0
            events, start = events[begin:], begin
        every = self.checkpoint_every or 0
        for n, ev in enumerate(events, start + 1):
            if self._listener is not None:
                self._listener(ev)
            if self.rewinder is not None and every and n % every == 0:
                self.rewinder.checkpoint(n)

    def _control(self, move: Callable[[Playback], Moved | None]) -> None:
        pb = self.playback
        if pb is None:  # still reading the session: keys wait for it
            return
        self.sync()  # the time played so far counts at the old speed / before the pause
        moved = move(pb)
        if moved is not None:
            self._deliver(moved)
        if self._wake is not None:
            self._wake.set()

    # -- what the dashboard's keys ask for ------------------------------------------------------
    def toggle_pause(self) -> None:
        def flip(pb: Playback) -> None:
            pb.paused = not pb.paused

        self._control(flip)

    def seek_by(self, seconds: float) -> None:
        self._control(lambda pb: pb.seek(pb.t + seconds))

    def seek_to(self, t: float) -> None:
        self._control(lambda pb: pb.seek(t))

    def step(self) -> None:
        self._control(lambda pb: pb.step())

    def faster(self) -> None:
        def up(pb: Playback) -> None:
            pb.faster()

        self._control(up)

    def slower(self) -> None:
        def down(pb: Playback) -> None:
            pb.slower()

        self._control(down)

    def abort(self) -> None:
        self._aborted = True
        if self._wake is not None:
            self._wake.set()

    def stop_run(self, run_id: str) -> str:
        end = self.playback.timeline.end_of_run(run_id) if self.playback else None
        if end is None:
            return f"replay: run {run_id} never ended in this recording"
        self.seek_to(end)
        return f"replay: skipped to the end of run {run_id}"

    def skip_cell(self, cell: str) -> str:
        end = self.playback.timeline.end_of_cell(cell) if self.playback else None
        if end is None:
            return f"replay: {cell} never ended in this recording"
        self.seek_to(end)
        return f"replay: skipped to the end of {cell}"
