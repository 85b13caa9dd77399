"""The summary: every finished cell's medians, spread and ratio to the reference scenario."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from katatui.core import fairness
from katatui.core.workloads.boot.procedure import timeline
from katatui.tui.boot import BootTimeline
from katatui.tui.model import SessionModel
from katatui.tui.outcomes import ended_by_user, outcomes
from katatui.views.summary import summary_table


class SummaryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back to the live view")
    ]
    DEFAULT_CSS = """
    SummaryScreen { layout: vertical; }
    #summary-head { height: auto; padding: 0 1; background: $boost; }
    #summary-body { height: 1fr; padding: 0; scrollbar-size-vertical: 1; }
    #summary-table { width: 100%; }
    """

    def __init__(self, model: SessionModel, session_path: Path | None) -> None:
        super().__init__()
        self.model = model
        self.session_path = session_path

    def compose(self) -> ComposeResult:
        yield Static(id="summary-head")
        with VerticalScroll(id="summary-body"):
            yield Static(id="summary-table")
            yield BootTimeline(id="boot-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_summary()

    def on_screen_resume(self) -> None:
        self.refresh_summary()
        self.app.call_after_refresh(getattr(self.app, "check_size", lambda: None))

    def refresh_summary(self) -> None:
        m = self.model
        summary = m.summary()
        head = Text()
        head.append(f"{m.profile_name}: ", style="bold")
        state = m.status or "running"
        head.append(f"session {state}", style="green" if state == "completed" else "yellow")
        head.append(" · runs: ")
        head.append_text(outcomes(m).text())
        head.append("\n")
        if self.session_path is not None:
            head.append("session file: ", style="dim")
            head.append(str(self.session_path), style="bold")
            head.append("\n")
            head.append(f"katatui report {self.session_path} --format table|csv|json|md", style="dim")
            head.append("  (every metric, as text, CSV, JSON or Markdown)", style="dim")
        self.query_one("#summary-head", Static).update(head)
        parts: list[Text | object] = []
        if summary.rows:
            ref = summary.reference
            parts.append(summary_table(summary, f"medians (± coefficient of variation), ratio to {ref}"))
        else:
            parts.append(Text("no run has finished yet", style="dim"))
        for scenario, cell, reason in summary.failed:
            how = ended_by_user(reason)
            style = "yellow" if how else "red"
            said = (
                f"{how}: {scenario} {cell} (by the user)" if how else f"failed: {scenario} {cell}: {reason}"
            )
            parts.append(Text(said, style=style))
        by_target: dict[str, list[fairness.Side]] = {}
        for (scenario, target), record in m.fairness.items():
            by_target.setdefault(target, []).append(fairness.Side(scenario, target, None, record))
        for target, sides in by_target.items():
            for warning in fairness.check(sides):
                parts.append(Text(f"fairness on {target}: {warning}", style="yellow"))
        self.query_one("#summary-table", Static).update(Group(*parts))  # type: ignore[arg-type]
        finished = [m.runs[r] for r in m.order if m.runs[r].status == "finished"]
        rows = [(r.spec.scenario, k, v.value) for r in finished for k, v in r.results.items()]
        self.query_one("#boot-timeline", BootTimeline).show(timeline(rows))
