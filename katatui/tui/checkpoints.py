"""Snapshots of the dashboard's model during a replay, so that going back is quick.

A replay that seeks back must show exactly what a fresh replay up to there shows. Applying every
event from the start does that, but costs as much as the whole session so far (each fio sample
merges its latency histogram). Instead, the model is copied every ``every`` events while the
replay moves forward; going back restores the last copy at or before the target and applies only
the events after it. A copy costs the size of the model (bounded: at most 600 points per series,
merged histograms), not the number of events behind it.
"""

from __future__ import annotations

import bisect
import copy

from katatui.tui.model import SessionModel

MAX_SNAPSHOTS = 100
MIN_EVERY = 500


def interval(events: int) -> int:
    """Events between snapshots: at least MIN_EVERY, and no more than MAX_SNAPSHOTS in all."""
    return max(MIN_EVERY, -(-events // MAX_SNAPSHOTS))


class Checkpoints:
    """Copies of ``model`` keyed by how many of the timeline's events it had applied."""

    def __init__(self, model: SessionModel) -> None:
        self.model = model
        self._at: list[int] = []
        self._copies: dict[int, SessionModel] = {}

    def __len__(self) -> int:
        return len(self._at)

    def save(self, index: int) -> None:
        """The model has applied exactly the timeline's first ``index`` events: keep a copy."""
        if index <= 0 or index in self._copies:
            return
        bisect.insort(self._at, index)
        self._copies[index] = copy.deepcopy(self.model)

    def restore(self, index: int) -> int:
        """Put the model back to the last copy at or before ``index`` (cleared when there is none);
        returns how many events that copy had applied."""
        i = bisect.bisect_right(self._at, index)
        if i == 0:
            self.model.reset()
            return 0
        at = self._at[i - 1]
        self.model.restore(copy.deepcopy(self._copies[at]))
        return at
