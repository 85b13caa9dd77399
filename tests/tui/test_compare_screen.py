"""The compare screen at 80×24 and 160×48: the cell and metric columns stay while the sessions'
columns scroll, the published figures scroll into view, and every series of the overlaid CDF has
a colour and a line of its own (recorded sessions, no test environment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Static

from katatui.tui.app import KatatuiApp
from katatui.tui.compare import SERIES_COLORS, CompareCDF, CompareScreen, series_styles
from katatui.tui.config import TuiConfig
from tests.tui.conftest import FIXTURES, THREE, until

LATER = FIXTURES / "three_columns_later.katatui"


def shown(widget: Widget) -> str:
    w, h = widget.size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, w, h)))


def test_eight_series_and_more_look_apart() -> None:
    columns = [f"{letter}:{s}" for letter in "ABC" for s in ("bare", "runc", "crun", "runsc")]
    styles = series_styles(columns)
    first = columns[: len(SERIES_COLORS)]
    assert len({styles[c].color for c in first}) == len(first) >= 8  # a colour each up to twelve
    assert len({(s.color, s.marker) for s in styles.values()}) == len(columns)  # and past it
    assert styles["A:crun"].color != styles["B:runc"].color
    assert styles["A:crun"].marker != styles["B:runc"].marker  # each session its line style
    assert {styles[c].marker for c in columns if c.startswith("A:")} == {styles["A:bare"].marker}
    legend = CompareCDF.legend(columns)
    for column in columns:
        assert column in legend.plain
    assert len({str(span.style) for span in legend.spans}) == len(columns)


@pytest.fixture
def three_sessions(tmp_path: Path) -> list[Path]:
    third = tmp_path / "third.katatui"
    shutil.copy(THREE, third)
    return [THREE, LATER, third]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_compare_keeps_cell_and_metric_columns_and_scrolls_to_published(
    three_sessions: list[Path], size: tuple[int, int]
) -> None:
    screen = CompareScreen(three_sessions)
    app = KatatuiApp(first=screen, config=TuiConfig())
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.loaded and screen.comparison is not None, "the comparison")
        cmp = screen.comparison
        assert cmp is not None and len(cmp.column_labels) == 9
        table = screen.query_one("#compare-table", DataTable)
        assert table.fixed_columns == 2
        await until(pilot, lambda: table.max_scroll_x > 0, "nine columns wider than the screen")

        def at_right() -> bool:  # (again while the layout settles: the plot below takes its height)
            table.scroll_to(x=table.max_scroll_x, animate=False)
            return table.scroll_x == table.max_scroll_x

        await until(
            pilot,
            at_right,
            "scrolled to the right",
            detail=lambda: (table.scroll_x, table.max_scroll_x),
        )
        text = shown(table)
        assert "read IOPS" in text and "fio" in text  # the metric and cell columns stayed
        assert "C:runc-alt" in text  # the last session's last column came into view
        assert "A:bare" not in text  # ... and the first ones scrolled away

        # the legend names the nine series, each in its own colour
        legend = screen.query_one("#compare-legend", Static)
        said = str(legend.render())
        for column in cmp.column_labels:
            assert column in said

        table.scroll_to(x=0, animate=False)
        await until(pilot, lambda: table.scroll_x == 0, "back to the left")
        screen.action_reference()  # p: published figures, in the last column
        await until(
            pilot,
            lambda: screen.comparison is not None and screen.comparison.seed is not None,
            "the published figures",
        )
        await until(
            pilot,
            lambda: table.scroll_x == table.max_scroll_x > 0 and "published" in shown(table),
            "the published column scrolled into view",
            detail=lambda: (table.scroll_x, table.max_scroll_x),
        )
        assert "read IOPS" in shown(table)
