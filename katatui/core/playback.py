"""The replay clock: where a replay is in a recorded session, and which events are due.

A :class:`Timeline` is a session's events with their times since the first one. A
:class:`Playback` moves a replay clock along it: ``advance`` by wall-clock time × speed, ``seek``
to any time (going back returns every event from the start, so a listener rebuilds its state from
scratch), ``step`` by one second. It does no waiting and no I/O: whoever drives it decides when to
call it, which also makes it testable without sleeping.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from katatui.core.errors import UserError
from katatui.core.events import Event, RunFailed, RunFinished, SessionFinished, SessionStarted

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
STEP_SECONDS = 1.0


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]
    offsets: tuple[float, ...]  # seconds since the first event, never decreasing
    cells: dict[str, str] = field(default_factory=dict)  # run_id -> its matrix cell

    @classmethod
    def of(cls, events: Sequence[Event]) -> Timeline:
        offsets: list[float] = []
        first = events[0].at if events else 0.0
        last = 0.0
        for ev in events:
            last = max(last, ev.at - first)  # a late timestamp from another thread cannot go back
            offsets.append(last)
        cells = {r.run_id: r.cell for ev in events if isinstance(ev, SessionStarted) for r in ev.runs}
        return cls(tuple(events), tuple(offsets), cells)

    @property
    def total(self) -> float:
        return self.offsets[-1] if self.offsets else 0.0

    def count_until(self, t: float) -> int:
        """How many events happened at or before ``t``."""
        return bisect.bisect_right(self.offsets, t)

    def final_status(self) -> str | None:
        """The recorded SessionFinished status; None for a session cut off before it ended."""
        return next((e.status for e in reversed(self.events) if isinstance(e, SessionFinished)), None)

    def end_of_run(self, run_id: str) -> float | None:
        """When the run finished or failed (None: never, in this recording)."""
        for ev, t in zip(reversed(self.events), reversed(self.offsets), strict=True):
            if isinstance(ev, RunFinished | RunFailed) and ev.run_id == run_id:
                return t
        return None

    def end_of_cell(self, cell: str) -> float | None:
        """When the last run of ``cell`` ended."""
        ends = [self.end_of_run(r) for r, c in self.cells.items() if c == cell]
        known = [t for t in ends if t is not None]
        return max(known) if known else None


@dataclass
class Moved:
    """What a clock move delivers: ``events`` are the timeline's from index ``start`` on;
    ``rewind`` means "forget everything, then apply them" (``start`` is then 0)."""

    events: Sequence[Event]
    rewind: bool = False
    start: int = 0


class Playback:
    """A replay clock over a timeline.

    ``t`` is the replay time (seconds since the session's first event), ``sent`` how many events
    have been delivered; both only change through the methods below. Idle stretches longer than
    ``max_gap`` (an image build, a slow host) are jumped over so that only ``max_gap`` of them is
    played.
    """

    def __init__(self, timeline: Timeline, *, speed: float = 1.0, max_gap: float = 2.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be above 0")
        self.timeline = timeline
        self.speed = speed
        self.max_gap = max_gap
        self.t = 0.0
        self.sent = 0
        self.paused = False

    # -- state ----------------------------------------------------------------------------------
    @property
    def total(self) -> float:
        return self.timeline.total

    @property
    def ended(self) -> bool:
        return self.sent >= len(self.timeline.events)

    def wait(self) -> float | None:
        """Wall-clock seconds until the next event is due; None when paused or ended."""
        if self.paused or self.ended:
            return None
        self._skip_idle()
        return max(0.0, self.timeline.offsets[self.sent] - self.t) / self.speed

    # -- moves ----------------------------------------------------------------------------------
    def advance(self, wall_seconds: float) -> Moved:
        """The clock runs on for ``wall_seconds`` of real time (nothing moves while paused)."""
        if self.paused or self.ended or wall_seconds <= 0:
            return Moved((), start=self.sent)
        self._skip_idle()
        return self._forward_to(self.t + wall_seconds * self.speed)

    def seek(self, t: float) -> Moved:
        """Jump to replay time ``t`` (clamped to the session). Going back rewinds: the events from
        the start up to ``t`` come again, for a listener that has cleared its state."""
        t = min(max(0.0, t), self.total)
        k = self.timeline.count_until(t)
        if k < self.sent:
            self.sent, self.t = k, t
            return Moved(self.timeline.events[:k], rewind=True, start=0)
        return self._forward_to(t)

    def step(self) -> Moved:
        """Pause, then move one second on, or to the next event when nothing happens in that second."""
        self.paused = True
        if self.ended:
            return Moved((), start=self.sent)
        nxt = self.timeline.offsets[self.sent]
        return self._forward_to(max(self.t + STEP_SECONDS, nxt))

    def faster(self) -> float:
        self.speed = next((s for s in SPEEDS if s > self.speed), self.speed)
        return self.speed

    def slower(self) -> float:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), self.speed)
        return self.speed

    def _forward_to(self, t: float) -> Moved:
        t = min(max(self.t, t), self.total)
        k = self.timeline.count_until(t)
        moved = Moved(self.timeline.events[self.sent : k], start=self.sent)
        self.sent, self.t = k, t
        return moved

    def _skip_idle(self) -> None:
        if not self.ended and self.timeline.offsets[self.sent] - self.t > self.max_gap:
            self.t = self.timeline.offsets[self.sent] - self.max_gap


_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_UNITS = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|min|h)?$")


def parse_time(text: str, *, what: str = "--from") -> float:
    """Seconds from ``90``, ``90s``, ``1.5m``, ``1h``, ``1:30`` or ``1:02:03``."""
    s = text.strip().lower()
    m = _CLOCK.match(s)
    if m:
        h, mi, sec = m.groups()
        return int(h or 0) * 3600 + int(mi) * 60 + float(sec)
    m = _UNITS.match(s)
    if m:
        value, unit = float(m.group(1)), m.group(2) or "s"
        return value * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    raise UserError(f"{what} {text!r}: expected a time into the session such as 90, 90s, 1.5m or 1:30")
