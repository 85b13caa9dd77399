"""A small widget: the boot timeline, one bar per scenario (shown when a session measured it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import Static

from katatui.views.bootbars import boot_bars


class BootTimeline(Static):
    DEFAULT_CSS = """
    BootTimeline { height: auto; padding: 1 0 0 0; }
    """

    def show(self, timeline: Mapping[str, Sequence[tuple[str, float]]]) -> None:
        self.display = bool(timeline)
        if timeline:
            width = max(20, min(60, self.size.width - 40)) if self.size.width else 50
            head = Text("boot timeline (medians)\n", style="bold")
            self.update(head + boot_bars(timeline, width))
