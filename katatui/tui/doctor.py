"""The doctor screen: the host checks of every target, the profile's scenarios and their canaries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from katatui.core.doctor import Diagnosis, diagnose
from katatui.views.doctor import compact, diagnosis_view

if TYPE_CHECKING:
    from katatui.core.profile import Profile


class DoctorScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="doctor_back", tooltip="Back to the start screen"),
        Binding("r", "recheck", "Check again", id="doctor_recheck", tooltip="Run every check again"),
    ]
    DEFAULT_CSS = """
    DoctorScreen { layout: vertical; }
    #doctor-head { height: auto; padding: 0 1; background: $boost; }
    #doctor-body { height: 1fr; padding: 0 1; }
    """

    def __init__(
        self,
        targets: Mapping[str, Any],
        profile: Profile | None,
        on_done: Callable[[Diagnosis], None] | None = None,
    ) -> None:
        super().__init__()
        self.targets = dict(targets)
        self.profile = profile
        self.on_done = on_done
        self.diagnosis: Diagnosis | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="doctor-head")
        with VerticalScroll(id="doctor-body"):
            yield Static(id="doctor-report")
        yield Footer()

    def on_mount(self) -> None:
        self.action_recheck()

    def action_recheck(self) -> None:
        what = (
            "the profile's scenarios, with a canary container under each runtime" if self.profile else "hosts"
        )
        self.query_one("#doctor-head", Static).update(Text(f"doctor: checking {what}…", style="yellow"))
        self.check()

    @work(exclusive=True, group="doctor", exit_on_error=False)
    async def check(self) -> None:
        try:
            diagnosis = await diagnose(self.targets, self.profile, canary=self.profile is not None)
        except Exception as exc:  # shown, not raised: the dashboard stays up
            self.query_one("#doctor-head", Static).update(Text(f"doctor failed: {exc}", style="red"))
            return
        self.diagnosis = diagnosis
        head = Text("doctor ", style="bold")
        head.append_text(compact(diagnosis))
        self.query_one("#doctor-head", Static).update(head)
        self.query_one("#doctor-report", Static).update(diagnosis_view(diagnosis))
        if self.on_done is not None:
            self.on_done(diagnosis)
