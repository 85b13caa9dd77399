"""How the runs of a session ended, counted the way a user reads them: a run the user stopped (x) or
skipped (n) did not fail, and is counted apart from the runs that did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from katatui.tui.model import SessionModel

# The reasons the engine gives a run the user ended (katatui.core.engine: stop_run, skip_cell).
BY_THE_USER = {"stopped by the user": "stopped", "skipped by the user": "skipped"}


def ended_by_user(reason: str | None) -> str | None:
    """'stopped' or 'skipped' for a run the user ended; None for any other ending."""
    return BY_THE_USER.get(reason or "")


@dataclass(frozen=True)
class Outcomes:
    finished: int = 0
    failed: int = 0
    stopped: int = 0
    skipped: int = 0

    def text(self) -> Text:
        """'3 finished, 1 failed, 2 skipped' with the failures in red (parts at 0 are left out,
        except finished)."""
        out = Text(f"{self.finished} finished")
        for count, what, style in (
            (self.failed, "failed", "bold red"),
            (self.stopped, "stopped", "yellow"),
            (self.skipped, "skipped", "yellow"),
        ):
            if count:
                out.append(", ")
                out.append(f"{count} {what}", style=style)
        return out


def outcomes(model: SessionModel) -> Outcomes:
    counts = {"finished": 0, "failed": 0, "stopped": 0, "skipped": 0}
    for run in model.runs.values():
        if run.status == "finished":
            counts["finished"] += 1
        elif run.status == "failed":
            counts[ended_by_user(run.reason) or "failed"] += 1
    return Outcomes(**counts)
