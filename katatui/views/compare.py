"""``katatui compare`` rendered: the side-by-side table (Rich), Markdown, CSV and JSON, and the
threshold checks' table; the compare screen shows its cells with :func:`cell_text` too."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from katatui.core import reference
from katatui.core.compare import Comparison, to_records
from katatui.core.export import EXPORT_SCHEMA
from katatui.core.threshold import Check
from katatui.views.fit import SplitTable, print_whole, widest
from katatui.views.labels import format_value, metric_label
from katatui.views.ratio import footer, interval_text, versus_style


def csv_text(records: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    if records:
        w = csv.DictWriter(buf, fieldnames=[*records[0], "schema_version"], lineterminator="\n")
        w.writeheader()
        w.writerows({**r, "schema_version": EXPORT_SCHEMA} for r in records)
    return buf.getvalue()


def json_doc(cmp: Comparison) -> dict[str, object]:
    return {
        "schema_version": EXPORT_SCHEMA,
        "sessions": [
            {"letter": s.letter, "path": str(s.path), "profile": s.profile, "status": s.status,
             "session_id": s.session_id, "label": s.label}
            for s in cmp.sessions
        ],
        "columns": cmp.column_labels,
        "baseline": cmp.baseline,
        "published_label": reference.PUBLISHED_LABEL if cmp.seed else None,
        "rows": to_records(cmp),
        "only_in": [{"session": s, "cell": c} for s, c in cmp.only_in],
    }  # fmt: skip


def cell_text(cmp: Comparison, row: Any, col: str) -> tuple[str, str | None, str]:
    """(median, ratio text or None, style of the ratio)."""
    stat = row.by_column.get(col)
    if stat is None:
        return "-", None, ""
    text = format_value(stat.median, row.unit)
    if stat.n > 1 and stat.cv is not None:
        text += f" ±{stat.cv * 100:.0f}%"
    if col == cmp.baseline:
        return text, None, ""
    v = row.versus(col, cmp.baseline)
    if v is None:
        return text, None, ""
    return text, f"×{v.ratio:.2f} {v.verdict}\n{interval_text(v)}", versus_style(v)


def table(cmp: Comparison, columns: list[str] | None = None) -> Table:
    """The side-by-side table of ``columns`` (default: all); each column as wide as its longest figure."""
    labels = cmp.column_labels if columns is None else columns
    t = Table(
        title=f"medians; ×ratio to {cmp.baseline}",
        caption=escape(footer(_methods(cmp), [], cmp.baseline)),
        header_style="bold",
    )
    t.add_column("cell", overflow="fold", max_width=28)
    t.add_column("metric")
    published = any(r.published for r in cmp.rows)
    rows: list[list[Text | str]] = []
    last = None
    for row in cmp.rows:
        cells: list[Text | str] = [row.key.label if row.key != last else "", metric_label(row.metric)]
        last = row.key
        for col in labels:
            value, ratio, style = cell_text(cmp, row, col)
            text = Text(value, no_wrap=True)
            if ratio:
                text.append("\n" + ratio, style=style)
            cells.append(text)
        if published:
            cells.append("\n".join(f"{m.label}: {format_value(m.value, m.unit)}" for m in row.published))
        rows.append(cells)
    for i, col in enumerate(labels):
        t.add_column(col, justify="right", min_width=widest([r[2 + i] for r in rows]), no_wrap=True)
    if published:
        t.add_column(f"{reference.PUBLISHED_LABEL}", justify="right", style="magenta")
    for n, cells in enumerate(rows):
        if n and cmp.rows[n].key != cmp.rows[n - 1].key:
            t.add_section()
        t.add_row(*cells)
    return t


def split_table(cmp: Comparison) -> SplitTable:
    """The table, split over several (each with the baseline column) where it would not fit."""
    return SplitTable(lambda columns: table(cmp, columns), cmp.column_labels, [cmp.baseline])


def _methods(cmp: Comparison) -> set[str]:
    return {v.method for row in cmp.rows for col in cmp.column_labels if (v := row.versus(col, cmp.baseline))}


def print_comparison(console: Console, cmp: Comparison) -> None:
    """``katatui compare``'s table: the sessions by letter, the table, the cells only one has."""
    for s in cmp.sessions:
        console.print(
            f"[bold]{s.letter}[/]: {s.path} ({s.profile}, {s.status})" + (f" [{s.label}]" if s.label else "")
        )
    if cmp.rows:
        print_whole(console, split_table(cmp))
    else:
        console.print("[yellow]no cell (workload, variant, clients) is in more than one session[/]")
    for letter, cell in cmp.only_in:
        console.print(Text(f"only in {letter}: {cell}", style="dim"))


def markdown(cmp: Comparison) -> str:
    lines = [f"- **{s.letter}**: `{s.path}` ({s.profile}, {s.status})" for s in cmp.sessions]
    head = ["cell", "metric", *cmp.column_labels]
    published = any(r.published for r in cmp.rows)
    if published:
        head.append(reference.PUBLISHED_LABEL)
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in cmp.rows:
        cells = [row.key.label, row.metric]
        for col in cmp.column_labels:
            value, ratio, _ = cell_text(cmp, row, col)
            cells.append(value + (f" ({ratio.replace(chr(10), ' ')})" if ratio else ""))
        if published:
            cells.append(
                "; ".join(f"{m.label}: {format_value(m.value, m.unit)}" for m in row.published) or "-"
            )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    lines.append(f"medians; (×ratio to {cmp.baseline}: " + footer(_methods(cmp), [], cmp.baseline) + ")")
    return "\n".join(lines) + "\n"


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def threshold_text(checks: list[Check], fmt: str) -> str:
    """checkmetrics' summary table: one row per entry and scenario, P or F first."""
    if fmt == "json":
        return (
            json.dumps({"schema_version": EXPORT_SCHEMA, "checks": [c.to_json() for c in checks]}, indent=2)
            + "\n"
        )
    if fmt == "csv":
        return csv_text([c.to_json() for c in checks])
    head = [
        "result",
        "name",
        "scenario",
        "cell",
        "type",
        "min",
        "max",
        "value",
        "iters",
        "sd",
        "cov %",
        "why",
    ]
    rows = [
        ["P" if c.passed else "F", c.bound.name, c.scenario, c.cell,
         c.bound.checktype + (f" / {c.bound.relative_to}" if c.bound.relative_to else ""),
         *(("/".join(c.bound.allowed), "") if c.bound.checktype == "verdict"
           else (_num(c.bound.low), _num(c.bound.high))),
         f"×{c.value:.2f} {c.verdict}" if c.verdict is not None and c.value is not None else _num(c.value),
         str(c.n), _num(c.sd), _num(c.cov), c.reason]
        for c in checks
    ]  # fmt: skip
    if fmt == "md":
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    t = Table(title="threshold checks", header_style="bold")
    for h in head:
        t.add_column(
            h, justify="left" if h in ("result", "name", "scenario", "cell", "type", "why") else "right"
        )
    for r, c in zip(rows, checks, strict=True):
        t.add_row(Text(r[0], style="green" if c.passed else "bold red"), *r[1:])
    console = Console(highlight=False, record=True, file=io.StringIO(), width=200)
    console.print(t)
    return console.export_text()
