"""The help screen: the keys of the screen it was opened on, then those that work everywhere, from
the action table and the keys in effect (after the config's keymap)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from katatui.tui.config import config_path
from katatui.tui.keys import ACTIONS, Action

SCOPES = {
    "app": "everywhere",
    "start": "start screen",
    "live": "live screen",
    "replay": "replays",
    "sessions": "sessions screen",
    "compare": "compare screen",
}


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help_close")
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 100%; height: 80%; min-height: 12; max-height: 100%;
        border: thick $accent; background: $surface;
    }
    """

    def __init__(self, keymap: dict[str, str], actions: Sequence[Action] = ACTIONS) -> None:
        """``actions``: what the screen below offers, its own first (all of them by default)."""
        super().__init__()
        self.keymap = keymap
        self.rows = [(pretty_key(keymap.get(a.id, a.key)), a.help, SCOPES[a.scope], a.id) for a in actions]

    def compose(self) -> ComposeResult:
        table = Table(title="katatui keys on this screen", expand=True, header_style="bold")
        table.add_column("key", no_wrap=True)
        table.add_column("action", ratio=1)
        table.add_column("where", no_wrap=True)
        table.add_column(Text("id (for [keys])"), style="dim", no_wrap=True)
        last = None
        for row in self.rows:
            if last is not None and row[2] != last and row[2] == SCOPES["app"]:
                table.add_section()  # this screen's keys above, everywhere's below
            last = row[2]
            table.add_row(*(Text(cell) for cell in row))  # literal: "[replay]" is not markup
        table.caption = Text(
            f"Other screens list their own keys here (?). Remap keys in {config_path()} under [keys], "
            'e.g.  pause = "space"',
            style="dim",
        )
        with VerticalScroll():
            yield Static(table)
            yield Static("ctrl+p opens the command palette: every action above is there too; "
                         "ctrl+c or ctrl+q quits as q does.")  # fmt: skip


def pretty_key(key: str) -> str:
    names = {
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "question_mark": "?",
        "full_stop": ".",
        "minus": "-",
        "plus": "+",
        "equals_sign": "=",
    }
    return ", ".join(names.get(k.strip(), k.strip()) for k in key.split(","))
