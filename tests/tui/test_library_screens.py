"""The sessions screen and the compare screen (Pilot) on real recorded sessions: list, search,
label, rename, delete (asking first), open in the dashboard, and compare with the same figures as
``katatui compare --format json``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from katatui.core import library
from katatui.core.compare import compare
from katatui.core.session import SessionWriter
from katatui.tui.app import KatatuiApp
from katatui.tui.compare import CompareCDF, CompareScreen
from katatui.tui.config import TuiConfig
from katatui.tui.help import HelpScreen
from katatui.tui.live import LiveScreen
from katatui.tui.prompts import AskText, Confirm
from katatui.tui.sessions import SessionsScreen
from katatui.tui.summary import SummaryScreen
from tests.helpers import katatui
from tests.tui.conftest import SIZE, quiet, screen_up, text_of, until

pytestmark = pytest.mark.integration


@pytest.fixture
def library_dir(tmp_path: Path, session_a: Path, session_b: Path) -> Path:
    """Copies of both recorded sessions and a file that is no session."""
    d = tmp_path / "sessions"
    d.mkdir()
    shutil.copy(session_a, d / "a.katatui")
    shutil.copy(session_b, d / "b.katatui")
    (d / "junk.katatui").write_text("not a session")
    return d


def sessions_app(directory: Path) -> tuple[KatatuiApp, SessionsScreen]:
    screen = SessionsScreen(directory)
    return KatatuiApp(config=TuiConfig(), first=screen), screen


def listen(app: KatatuiApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **kw: said.append(str(message)))
    return said


def names(screen: SessionsScreen) -> list[str]:
    return [e.path.name for e in screen.shown]


async def select(pilot: Any, screen: SessionsScreen, name: str) -> None:
    table = screen.query_one("#sessions-table", DataTable)
    table.focus()
    table.move_cursor(row=names(screen).index(name))

    def on_it() -> bool:
        current = screen.current()
        return table.has_focus and current is not None and current.path.name == name

    await until(pilot, on_it, f"the cursor on {name}")


async def search(pilot: Any, screen: SessionsScreen, text: str, found: list[str]) -> None:
    """Type ``text`` into the search field; the list is filtered as it is typed."""
    await pilot.press("slash")
    field = screen.query_one("#sessions-search", Input)
    await until(pilot, lambda: field.has_focus, "the search field")
    await pilot.press(*text)
    await until(
        pilot,
        lambda: field.value == text and names(screen) == found,
        f"the list filtered by {text!r}",
        detail=lambda: (field.value, names(screen)),
    )


async def clear_search(pilot: Any, screen: SessionsScreen) -> None:
    screen.query_one("#sessions-search", Input).value = ""
    await until(pilot, lambda: len(names(screen)) == len(screen.entries), "the whole list again")


async def answer_text(pilot: Any, text: str) -> None:
    dialog = await screen_up(pilot, AskText, "the text dialog")
    field = dialog.query_one("#ask-text", Input)
    field.value = text
    await pilot.press("enter")


async def test_list_search_label_rename(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, screen = sessions_app(library_dir)
    said = listen(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen.loaded, "the list")
        assert sorted(names(screen)) == ["a.katatui", "b.katatui", "junk.katatui"]
        table = screen.query_one("#sessions-table", DataTable)
        junk = table.get_row(str(library_dir / "junk.katatui"))
        assert "unreadable" in str(junk[8])  # listed with its error, not hidden
        a = table.get_row(str(library_dir / "a.katatui"))
        entry = library.read_entry(library_dir / "a.katatui")
        assert (a[4], str(a[5]), str(a[6])) == ("session-a", "local", "bare, runc")
        assert str(a[7]) == f"{entry.runs_total}: {entry.runs_finished} ok" and str(a[8]) == "completed"

        await search(pilot, screen, "runc-alt", ["b.katatui"])  # filtered as you type
        await clear_search(pilot, screen)
        assert len(names(screen)) == 3

        await select(pilot, screen, "a.katatui")
        await pilot.press("e")
        await answer_text(pilot, "kata 9p tuesday")
        await until(pilot, lambda: library.read_entry(library_dir / "a.katatui").label == "kata 9p tuesday",
                    "the label in the file")  # fmt: skip
        await until(
            pilot, lambda: any(e.label == "kata 9p tuesday" for e in screen.shown), "the new label shown"
        )
        await search(pilot, screen, "tuesday", ["a.katatui"])  # the label is searched too
        await clear_search(pilot, screen)
        await pilot.press("enter")  # back to the table
        await until(pilot, lambda: screen.query_one("#sessions-table", DataTable).has_focus, "the table")

        await select(pilot, screen, "b.katatui")
        await pilot.press("r")
        await answer_text(pilot, "runc-alt-week")
        await until(pilot, lambda: (library_dir / "runc-alt-week.katatui").is_file(), "the renamed file")
        assert not (library_dir / "b.katatui").exists()
        await until(pilot, lambda: "runc-alt-week.katatui" in names(screen), "the new name listed")

        await select(pilot, screen, "runc-alt-week.katatui")
        await pilot.press("r")
        await answer_text(pilot, "a")  # taken: never overwrites
        await until(pilot, lambda: any("already exists" in s for s in said), "the refusal")
        assert (library_dir / "runc-alt-week.katatui").is_file()


async def test_delete_asks_first(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, screen = sessions_app(library_dir)
    said = listen(app, monkeypatch)
    target = library_dir / "a.katatui"
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen.loaded, "the list")
        await select(pilot, screen, "a.katatui")
        await pilot.press("D")
        await screen_up(pilot, Confirm, "the question")
        assert str(target) in text_of(app, "#ask-question")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen and "kept a.katatui" in said, "the answer taken")
        await quiet(pilot)
        assert target.is_file() and "a.katatui" in names(screen)  # "no" keeps it

        await select(pilot, screen, "a.katatui")
        await pilot.press("delete")
        await screen_up(pilot, Confirm, "the question")
        await pilot.press("escape")
        await until(
            pilot, lambda: app.screen is screen and said.count("kept a.katatui") == 2, "the answer taken"
        )
        await quiet(pilot)
        assert target.is_file()

        await select(pilot, screen, "a.katatui")
        await pilot.press("D")
        await screen_up(pilot, Confirm, "the question")
        await pilot.press("y")
        await until(pilot, lambda: "a.katatui" not in names(screen), "the row gone")
        assert not target.exists()
        assert sorted(names(screen)) == ["b.katatui", "junk.katatui"]


async def test_a_session_being_recorded_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "live.katatui"
    writer = SessionWriter(path, session_id="live", profile_text="", profile_json="{}")
    try:
        app, screen = sessions_app(tmp_path)
        said = listen(app, monkeypatch)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: screen.loaded, "the list")
            assert names(screen) == ["live.katatui"]
            await pilot.press("D")
            await screen_up(pilot, Confirm, "the question")
            await pilot.press("y")
            await until(pilot, lambda: any("being recorded" in s for s in said), "the library's refusal")
            await pilot.press("r")
            await answer_text(pilot, "other")
            await until(pilot, lambda: sum("being recorded" in s for s in said) == 2, "the second refusal")
            assert path.is_file() and not (tmp_path / "other.katatui").exists()
    finally:
        writer.close()


async def test_open_replays_in_the_dashboard_and_comes_back(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, screen = sessions_app(library_dir)
    said = listen(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen.loaded, "the list")
        await select(pilot, screen, "b.katatui")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), "the session opened to its end")
        assert app.replay is not None and app.replay.session_path == library_dir / "b.katatui"
        entry = library.read_entry(library_dir / "b.katatui")
        assert app.model.done_count() == entry.runs_total
        assert set(app.model.scenarios) == {"bare", "runc-alt"}
        await pilot.press("escape")
        await screen_up(pilot, LiveScreen, "the dashboard under the summary")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen and app.replay is None, "back on the list")

        await select(pilot, screen, "junk.katatui")
        await pilot.press("enter")
        junk = str(library_dir / "junk.katatui")
        await until(pilot, lambda: any(s.startswith(junk) for s in said), "the reason it cannot be opened")
        await quiet(pilot)
        assert app.screen is screen and app.replay is None  # an unreadable file does not open

        await select(pilot, screen, "a.katatui")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), "the second session opened")
        assert set(app.model.scenarios) == {"bare", "runc"}  # a fresh dashboard, nothing of b left


async def test_compare_screen_matches_katatui_compare(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = library_dir / "a.katatui", library_dir / "b.katatui"
    done = katatui("compare", str(a), str(b), "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    app, screen = sessions_app(library_dir)
    said = listen(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen.loaded, "the list")
        await select(pilot, screen, "a.katatui")
        await pilot.press("c")
        await until(pilot, lambda: any("at least two" in s for s in said), "the refusal")
        assert app.screen is screen
        await pilot.press("m")
        await until(pilot, lambda: screen.marked == [a], "a marked")
        await select(pilot, screen, "junk.katatui")
        await pilot.press("m")  # unreadable: not marked
        await until(pilot, lambda: any("cannot be read, so not compared" in s for s in said), "the refusal")
        await select(pilot, screen, "b.katatui")
        await pilot.press("space")
        await until(pilot, lambda: screen.marked == [a, b], "b marked", detail=lambda: screen.marked)
        await pilot.press("c")
        cmp_screen = await screen_up(pilot, CompareScreen)
        await until(pilot, lambda: cmp_screen.loaded, "the comparison")
        cmp = cmp_screen.comparison
        assert cmp is not None and cmp.column_labels == doc["columns"] and cmp.baseline == doc["baseline"]
        table = cmp_screen.query_one("#compare-table", DataTable)
        records = {
            (r["workload"], r["variant"], r["clients"], r["metric"], r["column"]): r for r in doc["rows"]
        }
        checked = 0
        for i, row in enumerate(cmp.rows):
            for col in doc["columns"]:
                rec = records[(row.key.kind, row.key.variant, row.key.clients, row.metric, col)]
                shown = str(table.get_cell(str(i), col))
                if rec["ratio"] is not None:
                    ratio = f"×{rec['ratio']:.2f} {rec['verdict']}"
                    if rec["ratio_ci95_low"] is not None:
                        ratio += f"\n[{rec['ratio_ci95_low']:.2f}–{rec['ratio_ci95_high']:.2f}]"
                    assert ratio in shown, (col, row.metric, shown)
                    checked += 1
        assert checked >= 3 * 4  # three columns against the baseline, at least four headline metrics
        assert "read IOPS" in {str(c) for c in table.get_column_at(1)}

        # the overlaid CDFs: every column of the highlighted cell, from its runs' histograms
        plot = cmp_screen.query_one("#compare-cdf", CompareCDF)
        assert plot.display
        row = cmp.rows[0]
        assert set(cmp_screen.curves[row.key]) == set(doc["columns"])
        assert "latency CDF" in str(cmp_screen.query_one("#compare-cdf-title").render())

        await pilot.press("b")  # the next column becomes the baseline: the same as --baseline
        await until(pilot, lambda: cmp_screen.baseline == "A:runc" and cmp_screen.comparison is not None
                    and cmp_screen.comparison.baseline == "A:runc", "the new baseline")  # fmt: skip
        again = compare([a, b], baseline="A:runc")
        assert cmp_screen.comparison is not None
        assert [r.ratio("B:runc-alt", "A:runc") for r in cmp_screen.comparison.rows] == [
            r.ratio("B:runc-alt", "A:runc") for r in again.rows
        ]

        await pilot.press("p")  # published figures from other hardware, clearly labelled
        await until(pilot, lambda: cmp_screen.comparison is not None and cmp_screen.comparison.seed == "001",
                    "the published figures")  # fmt: skip
        head = str(cmp_screen.query_one("#compare-head").render())
        assert "published figures from other hardware" in head
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back on the list")


def test_compare_tui_needs_two_sessions(session_a: Path) -> None:
    done = katatui("compare", str(session_a), "--tui")
    assert done.returncode == 2 and "at least two" in done.stderr and "Traceback" not in done.stderr
    bad = katatui("sessions", "--tui", "--dir", str(session_a))
    assert bad.returncode == 2 and "not a directory" in bad.stderr and "Traceback" not in bad.stderr


async def test_help_lists_the_new_keys() -> None:
    app = KatatuiApp(
        config=TuiConfig(keymap={"session_delete": "x"}), first=SessionsScreen(Path("/nonexistent"))
    )
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, SessionsScreen)
        await pilot.press("question_mark")
        help_screen = await screen_up(pilot, HelpScreen)
        rows = {r[3]: r for r in help_screen.rows}
        assert rows["session_delete"][0] == "x" and rows["session_delete"][2] == "sessions screen"
        # the sessions screen's keys, then everywhere's: the compare and start screens list theirs
        assert {r[2] for r in help_screen.rows} == {"sessions screen", "everywhere"}
        assert "compare_reference" not in rows and "sessions" not in rows


def test_the_commands_open_the_screens(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``katatui compare A B --tui`` and ``katatui sessions --tui`` open the app on those screens."""
    from katatui.cli import main

    opened: list[KatatuiApp] = []

    def run(self: KatatuiApp, *args: Any, **kw: Any) -> int:
        opened.append(self)
        return 0

    monkeypatch.setattr(KatatuiApp, "run", run)
    a, b = library_dir / "a.katatui", library_dir / "b.katatui"
    assert main(["compare", str(a), str(b), "--tui", "--reference", "1", "--baseline", "B:bare"]) == 0
    first = opened[-1].first
    assert isinstance(first, CompareScreen)
    assert (first.paths, first.seed, first.baseline) == ([a, b], "001", "B:bare")
    assert main(["sessions", "--tui", "--dir", str(library_dir)]) == 0
    first = opened[-1].first
    assert isinstance(first, SessionsScreen) and first.directory == library_dir


async def test_the_start_screen_opens_the_library(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from katatui.tui import start
    from katatui.tui.start import StartScreen
    from tests.tui.test_snapshots import fixed_probe

    monkeypatch.setattr(start, "probe_target", fixed_probe)
    monkeypatch.setenv("KATATUI_DATA_DIR", str(library_dir.parent))  # library_dir is DATA/sessions
    app = KatatuiApp(profile_path=Path("tests/tui/fixtures/three_columns.toml"), config=TuiConfig())
    async with app.run_test(size=SIZE) as pilot:
        start_screen = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: start_screen.profile is not None, "the profile read")
        await pilot.press("o")
        screen = await screen_up(pilot, SessionsScreen)
        await until(pilot, lambda: screen.loaded, "the list")
        assert sorted(names(screen)) == ["a.katatui", "b.katatui", "junk.katatui"]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is start_screen, "back on the start screen")
