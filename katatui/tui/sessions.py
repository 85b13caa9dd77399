"""The saved sessions screen: the library's list, search as you type, open (replay), label,
rename, delete (asks first), and mark sessions to compare.

Every change goes through :mod:`katatui.core.library`, which refuses a session still being
recorded; its message is shown as it is. Unreadable files are listed with their error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from katatui.core import library
from katatui.core.errors import UserError
from katatui.tui.keys import bindings
from katatui.tui.prompts import AskText, Confirm
from katatui.views.sessions import human_size, runs_text, status_text

if TYPE_CHECKING:
    from katatui.tui.app import KatatuiApp

COLUMNS = ("", "date", "name", "label", "profile", "targets", "scenarios", "runs", "status", "size")
MARK = "●"


class SessionsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("sessions")
    DEFAULT_CSS = """
    SessionsScreen { layout: vertical; }
    #sessions-head { height: auto; padding: 0 1; background: $boost; }
    #sessions-search { height: 3; }
    #sessions-table { height: 1fr; }
    #sessions-info { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self.directory = directory
        self.entries: list[library.SessionEntry] = []
        self.shown: list[library.SessionEntry] = []
        self.marked: list[Path] = []  # in the order they were marked: A, B, C in the comparison
        self.loaded = False  # the first listing arrived (tests wait on it)

    @property
    def katatui(self) -> KatatuiApp:
        return cast("KatatuiApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="sessions-head")
        yield Input(
            placeholder="search: name, label, profile, scenario, target, status…", id="sessions-search"
        )
        yield DataTable[str | Text](id="sessions-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="sessions-info")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#sessions-table", DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name or "mark", width=1 if not name else None)
        where = library.sessions_dir(self.directory)
        self.query_one("#sessions-head", Static).update(
            Text.assemble(("katatui ", "bold"), f"saved sessions in {where}")
        )
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.app.call_after_refresh(getattr(self.app, "check_size", lambda: None))

    # -- the list -------------------------------------------------------------------------------
    @work(exclusive=True, group="library", exit_on_error=False)
    async def load(self) -> None:
        """Read the directory (in a thread: every file is opened) and show the list."""
        try:
            self.entries = await asyncio.to_thread(library.list_sessions, self.directory)
        except UserError as exc:
            self.entries = []
            self.notify(str(exc), title="sessions", severity="error", timeout=10, markup=False)
        paths = {e.path for e in self.entries}
        self.marked = [p for p in self.marked if p in paths]
        self.fill()
        self.loaded = True

    def fill(self) -> None:
        text = self.query_one("#sessions-search", Input).value.strip()
        self.shown = [e for e in self.entries if not text or e.matches(text)]
        table = self.query_one("#sessions-table", DataTable)
        current = self.current()
        table.clear()
        for e in self.shown:
            table.add_row(*self.cells(e), key=str(e.path))
        if current is not None and current in self.shown:
            table.move_cursor(row=self.shown.index(current))
        self.update_info()

    def cells(self, e: library.SessionEntry) -> list[str | Text]:
        mark = Text(MARK, style="bold magenta") if e.path in self.marked else Text("")
        date = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.when))
        name = e.path.name.removesuffix(library.SUFFIX)
        if e.error:
            return [mark, date, name, "", "", "", "", "", status_text(e), human_size(e.size_bytes)]
        return [
            mark, date, name, e.label, e.profile, ", ".join(e.targets), ", ".join(e.scenarios),
            runs_text(e), status_text(e), human_size(e.size_bytes),
        ]  # fmt: skip

    def update_info(self) -> None:
        total = len(self.entries)
        info = Text(f"{len(self.shown)} of {total} sessions · {human_size(library.total_size(self.entries))}")
        info.append(" · enter opens, p replays, / searches, m marks, c compares", style="dim")
        if self.marked:
            letters = ", ".join(f"{chr(65 + i)}={p.name}" for i, p in enumerate(self.marked))
            info.append(f" · marked to compare: {letters}", style="magenta")
        self.query_one("#sessions-info", Static).update(info)

    def current(self) -> library.SessionEntry | None:
        table = self.query_one("#sessions-table", DataTable)
        if not self.shown or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), len(self.shown) - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return next((e for e in self.shown if str(e.path) == key), None)

    @on(Input.Changed, "#sessions-search")
    def _search(self) -> None:
        self.fill()

    @on(Input.Submitted, "#sessions-search")
    def _search_done(self) -> None:
        self.query_one("#sessions-table", DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#sessions-search", Input).focus()

    def action_reload(self) -> None:
        self.load()

    # -- open and compare -----------------------------------------------------------------------
    @on(DataTable.RowSelected, "#sessions-table")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        self.open(speed=0.0)

    def action_play(self) -> None:
        self.open(speed=1.0)

    def open(self, *, speed: float) -> None:
        e = self.current()
        if e is None:
            self.notify("no session to open here", severity="warning")
        elif e.error:
            why = f"{e.path}: {e.error}"
            self.notify(why, title="cannot open", severity="error", timeout=10, markup=False)
        else:
            self.replay(e.path, speed)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def replay(self, path: Path, speed: float) -> None:
        from katatui.tui.sources import ReplaySource

        source = ReplaySource(path, speed=speed)
        try:
            source.timeline = await asyncio.to_thread(source.load)
        except UserError as exc:
            self.notify(str(exc), title="cannot open", severity="error", timeout=10, markup=False)
            return
        if not source.timeline.events:
            self.notify(f"session {path}: it holds no events to replay", severity="warning", markup=False)
            return
        self.katatui.open_replay(source)

    def action_mark(self) -> None:
        e = self.current()
        if e is None:
            return
        if e.path in self.marked:
            self.marked.remove(e.path)
        elif e.error:
            why = f"{e.path.name} cannot be read, so not compared: {e.error}"
            self.notify(why, severity="error", markup=False)
            return
        else:
            self.marked.append(e.path)
        table = self.query_one("#sessions-table", DataTable)
        table.update_cell(str(e.path), "mark", self.cells(e)[0])
        self.update_info()

    def action_compare(self) -> None:
        from katatui.tui.compare import CompareScreen

        if len(self.marked) < 2:
            self.notify(
                f"mark at least two sessions to compare (m marks; {len(self.marked)} marked)",
                severity="warning",
            )
            return
        self.app.push_screen(CompareScreen(list(self.marked)))

    # -- label, rename, delete ------------------------------------------------------------------
    def action_label(self) -> None:
        e = self.current()
        if e is None:
            return

        def given(text: str | None) -> None:
            if text is not None:
                self.change(lambda: library.set_label(e.path, text),
                            f"{e.path.name}: label {text.strip()!r}" if text.strip() else
                            f"{e.path.name}: label removed")  # fmt: skip

        self.app.push_screen(AskText(f"Label for {e.path.name} (empty removes it):", e.label), given)

    def action_rename(self) -> None:
        e = self.current()
        if e is None:
            return
        old = e.path.name.removesuffix(library.SUFFIX)

        def given(text: str | None) -> None:
            if text is not None and text.strip() and text.strip() != old:
                self.change(lambda: self._renamed(e.path, text), f"{e.path.name} renamed")

        self.app.push_screen(AskText(f"New file name for {e.path.name} (same directory):", old), given)

    def _renamed(self, path: Path, name: str) -> None:
        new = library.rename_session(path, name)
        if path in self.marked:
            self.marked[self.marked.index(path)] = new

    def action_delete(self) -> None:
        e = self.current()
        if e is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(lambda: library.delete_session(e.path), f"deleted {e.path}")
            else:
                self.notify(f"kept {e.path.name}", markup=False)

        what = f"{e.name} ({e.runs_total} runs, {human_size(e.size_bytes)})" if not e.error else e.path.name
        self.app.push_screen(
            Confirm(f"Delete the session {what}?\n{e.path}\nThe file is removed for good.",
                    "delete it", "keep it"),
            answered,
        )  # fmt: skip

    @work(group="change", exit_on_error=False)
    async def change(self, do: Callable[[], object], done: str) -> None:
        """Run a library change in a thread; its refusal (a UserError) is shown as it is."""
        try:
            await asyncio.to_thread(do)
        except UserError as exc:
            self.notify(str(exc), title="not changed", severity="error", timeout=10, markup=False)
        else:
            self.notify(done, markup=False)
        self.load()

    def action_back(self) -> None:
        stack = self.app.screen_stack
        if len(stack) > 1 and stack[-2].id != "_default":  # a screen to go back to
            self.app.pop_screen()
        else:
            self.notify("q quits", severity="information")
