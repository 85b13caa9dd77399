"""Small modal screens: confirm an abort, name a screenshot, and say the terminal is too small."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

MIN_WIDTH = 60
MIN_HEIGHT = 20


class ConfirmAbort(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, abort", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]
    DEFAULT_CSS = """
    ConfirmAbort { align: center middle; }
    ConfirmAbort > Vertical {
        width: 64; max-width: 100%; height: auto; border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmAbort Label { width: 100%; }
    """

    def __init__(self, question: str, *, then_quit: bool = False) -> None:
        super().__init__()
        self.question = question
        self.then_quit = then_quit

    def compose(self) -> ComposeResult:
        yes = "abort, clean up and quit" if self.then_quit else "abort and clean up"
        with Vertical():
            yield Label(self.question, markup=False)  # wraps: every word stays on the screen
            yield Label(f"[b]y[/b] {yes}   [b]n[/b] keep running")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ScreenshotPath(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="screenshot_cancel")]
    DEFAULT_CSS = """
    ScreenshotPath { align: center middle; }
    ScreenshotPath > Vertical {
        width: 80; max-width: 100%; height: auto; border: thick $accent; background: $surface; padding: 1 2;
    }
    ScreenshotPath Label { width: 100%; }
    """

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Save an SVG screenshot to:")
            yield Input(self.default, id="screenshot-path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TooSmall(ModalScreen[None]):
    """Shown over everything while the terminal is smaller than the dashboard needs."""

    DEFAULT_CSS = """
    TooSmall { align: center middle; background: $background; }
    TooSmall > Label { width: auto; max-width: 100%; }
    """

    def compose(self) -> ComposeResult:
        yield Label(id="too-small")

    def on_mount(self) -> None:
        self.update_text()

    def update_text(self) -> None:
        w, h = self.app.size
        self.query_one("#too-small", Label).update(
            f"katatui needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {w}×{h}.\n"
            "Enlarge the window (or reduce the font size); the run goes on meanwhile."
        )
