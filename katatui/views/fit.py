"""Tables whose figures are never cut: a figure keeps its width (a column is at least as wide as its
longest line), and a table too wide for the width it gets is split over several tables, each with
the columns every part needs (the reference); output that is not a terminal gets it whole and wide.

Rich would otherwise shrink the columns and end a figure with an ellipsis (``221.6 MiB…``,
``×1.04 [0.…``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

UNBOUNDED = 100_000


def widest(cells: Sequence[Text | str]) -> int:
    """The longest line among ``cells``: the least width their column needs to keep them whole."""
    return max((cell_len(line) for c in cells for line in str(c).splitlines()), default=1)


def natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes with no cell wrapped but those that may fold (measured unconstrained:
    Rich caps a measure at the width it is given)."""
    return Measurement.get(console, console.options.update_width(UNBOUNDED), table).maximum


class SplitTable:
    """A renderable: ``build(columns)`` as one table, or as several with the ``columns`` split (each
    part led by ``keep``) so that each fits the width it is given."""

    def __init__(
        self, build: Callable[[list[str]], Table], columns: Sequence[str], keep: Sequence[str]
    ) -> None:
        self.build = build
        self.columns = list(columns)
        self.keep = [k for k in keep if k in self.columns]

    def table(self) -> Table:
        return self.build(self.columns)

    def tables(self, console: Console, width: int) -> list[Table]:
        others = [c for c in self.columns if c not in self.keep]
        tables = [self.table()]
        if not others:  # only the reference column: nothing to split
            return tables
        for k in range(1, len(others) + 1):
            size = -(-len(others) // k)
            groups = [others[i : i + size] for i in range(0, len(others), size)] or [[]]
            tables = [self.build([c for c in self.columns if c in self.keep or c in g]) for g in groups]
            if all(natural_width(console, t) <= width for t in tables):
                break
        return tables

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.tables(console, options.max_width)


def print_whole(console: Console, split: SplitTable) -> None:
    """``split`` on ``console``: split to fit a terminal; whole and as wide as it needs otherwise."""
    needed = natural_width(console, split.table())
    if console.is_terminal or needed <= console.width:
        console.print(split)
        return
    width = console.width
    console.width = needed
    try:
        console.print(split.table())
    finally:
        console.width = width
