"""The saved sessions as a table, for ``katatui sessions`` and the sessions screen's cells."""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text

from katatui.core import library

STATUS_STYLE = {"completed": "green", "failed": "red", "interrupted": "yellow"}


def status_text(e: library.SessionEntry) -> Text:
    """The session's status in its colour, or why its file cannot be read."""
    if e.error:
        return Text(f"unreadable: {e.error}", style="red")
    return Text(e.status, style=STATUS_STYLE.get(e.status, "yellow"))


def runs_text(e: library.SessionEntry) -> Text:
    text = Text(f"{e.runs_total}: ")
    text.append(f"{e.runs_finished} ok", style="green")
    if e.runs_failed:
        text.append(f", {e.runs_failed} failed", style="red")
    if e.runs_unfinished:
        text.append(f", {e.runs_unfinished} unfinished", style="yellow")
    return text


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def table(entries: list[library.SessionEntry], title: str) -> Table:
    t = Table(title=title, header_style="bold")
    for name, justify in (
        ("date", "left"),
        ("name", "left"),
        ("profile", "left"),
        ("targets", "left"),
        ("scenarios", "left"),
        ("runs", "left"),
        ("status", "left"),
        ("size", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]  # fmt: skip
    for e in entries:
        date = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.when))
        if e.error:
            t.add_row(date, e.path.name, "", "", "", "", status_text(e), human_size(e.size_bytes))
            continue
        t.add_row(
            date,
            e.name,
            e.profile,
            ", ".join(e.targets),
            ", ".join(e.scenarios),
            runs_text(e),
            status_text(e),
            human_size(e.size_bytes),
        )
    return t
