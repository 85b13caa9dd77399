"""``katatui compare A B [C...]``: sessions side by side, or checked against bounds.

Cells are matched across sessions by workload kind, variant and clients; each (session,
scenario) is a column named ``LETTER:scenario`` (A is the first session). Every column shows the
median of its runs and, beside the baseline column (the first, or --baseline), the ratio of
medians with Welch's 95% interval of the ratio of means.

``--threshold FILE.toml`` checks each session against bounds per metric in the style of the Kata
metrics checkmetrics tool (see profiles/thresholds/example.toml) and prints a pass/fail table.
Exit status: 0 all bounds met, 3 a bound not met, 2 a usage error (bad file, unknown session).

``--reference SEED`` lays a seed study's published figures (from other hardware) beside the
matching rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from katatui.core import reference
from katatui.core.compare import Comparison, compare, to_records
from katatui.core.errors import UserError
from katatui.core.export import EXPORT_SCHEMA, write_text
from katatui.core.library import resolve
from katatui.core.report import HIGHER_IS_BETTER
from katatui.core.threshold import THRESHOLD_FAILED, Check, check, load_bounds
from katatui.views.labels import format_value, metric_label

FORMATS = ("table", "csv", "json", "md")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare sessions side by side, or check them against bounds",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("sessions", nargs="+", help="session files, or names in the library")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--baseline", metavar="COLUMN", help="the column ratios are taken to, e.g. B:runc")
    p.add_argument("--all-metrics", action="store_true", help="every metric, not only the headline ones")
    p.add_argument("--reference", metavar="SEED", help="lay a study's published figures beside (001..004)")
    p.add_argument(
        "--threshold", type=Path, metavar="FILE.toml", help="check bounds per metric; exit 3 on a failure"
    )
    p.add_argument("--dir", help="the session directory for names (default: the library)")
    p.add_argument("--tui", action="store_true", help="open the compare screen (with overlaid latency CDFs)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths = [resolve(s, args.dir) for s in args.sessions]
    if args.threshold is not None:
        bounds = load_bounds(args.threshold)
        checks = check(bounds, paths)
        _emit(args, threshold_text(checks, args.format))
        failed = sum(1 for c in checks if not c.passed)
        print(
            f"threshold: {len(checks) - failed} passed, {failed} failed ({args.threshold})", file=sys.stderr
        )
        return THRESHOLD_FAILED if failed else 0
    seed = reference.resolve_seed(args.reference) if args.reference else None
    cmp = compare(paths, baseline=args.baseline, all_metrics=args.all_metrics, seed=seed)
    if args.tui:
        from katatui.tui.launch import compare_app

        if len(paths) < 2:
            raise UserError("compare --tui: give at least two sessions")
        return compare_app(paths, seed=seed, baseline=cmp.baseline)
    if args.format == "csv":
        text = _csv(to_records(cmp))
    elif args.format == "json":
        text = json.dumps(_json(cmp), indent=2) + "\n"
    elif args.format == "md":
        text = markdown(cmp)
    else:
        text = ""
        console = Console(highlight=False, width=200 if args.out else None, record=args.out is not None,
                          file=io.StringIO() if args.out else None)  # fmt: skip
        for s in cmp.sessions:
            console.print(
                f"[bold]{s.letter}[/]: {s.path} ({s.profile}, {s.status})"
                + (f" [{s.label}]" if s.label else "")
            )
        if cmp.rows:
            console.print(table(cmp))
        else:
            console.print("[yellow]no cell (workload, variant, clients) is in more than one session[/]")
        for letter, cell in cmp.only_in:
            console.print(Text(f"only in {letter}: {cell}", style="dim"))
        if args.out is not None:
            text = console.export_text()
    if text:
        _emit(args, text)
    return 0


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.out is not None:
        write_text(args.out, text)
        print(f"written: {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _csv(records: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    if records:
        w = csv.DictWriter(buf, fieldnames=[*records[0], "schema_version"], lineterminator="\n")
        w.writeheader()
        w.writerows({**r, "schema_version": EXPORT_SCHEMA} for r in records)
    return buf.getvalue()


def _json(cmp: Comparison) -> dict[str, object]:
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


def _cell_text(cmp: Comparison, row: Any, col: str) -> tuple[str, str | None, str]:
    """(median, ratio text or None, style of the ratio)."""
    stat = row.by_column.get(col)
    if stat is None:
        return "-", None, ""
    text = format_value(stat.median, row.unit)
    if stat.n > 1 and stat.cv is not None:
        text += f" ±{stat.cv * 100:.0f}%"
    if col == cmp.baseline:
        return text, None, ""
    ratio = row.ratio(col, cmp.baseline)
    if ratio is None:
        return text, None, ""
    ci = row.ratio_ci(col, cmp.baseline)
    better = (ratio >= 1) == HIGHER_IS_BETTER.get(row.unit, True)
    style = "yellow" if ci is not None and not ci.separates else ("green" if better else "red")
    ratio_text = f"×{ratio:.2f}" + (f" [{ci.low:.2f}–{ci.high:.2f}]" if ci else "")
    return text, ratio_text, style


def table(cmp: Comparison) -> Table:
    t = Table(
        title=f"medians; ×ratio to {cmp.baseline} [95% interval of the ratio of means, Welch]",
        header_style="bold",
    )
    t.add_column("cell", overflow="fold", max_width=28)
    t.add_column("metric")
    for col in cmp.column_labels:
        t.add_column(col, justify="right")
    published = any(r.published for r in cmp.rows)
    if published:
        t.add_column(f"{reference.PUBLISHED_LABEL}", justify="right", style="magenta")
    last = None
    for row in cmp.rows:
        if last is not None and row.key != last:
            t.add_section()
        cells: list[Text | str] = [row.key.label if row.key != last else "", metric_label(row.metric)]
        last = row.key
        for col in cmp.column_labels:
            value, ratio, style = _cell_text(cmp, row, col)
            text = Text(value, no_wrap=True)
            if ratio:
                text.append("\n" + ratio, style=style)
            cells.append(text)
        if published:
            cells.append("\n".join(f"{m.label}: {format_value(m.value, m.unit)}" for m in row.published))
        t.add_row(*cells)
    return t


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
            value, ratio, _ = _cell_text(cmp, row, col)
            cells.append(value + (f" ({ratio})" if ratio else ""))
        if published:
            cells.append(
                "; ".join(f"{m.label}: {format_value(m.value, m.unit)}" for m in row.published) or "-"
            )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    lines.append(f"medians; (×ratio to {cmp.baseline} [95% interval of the ratio of means, Welch])")
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
        return _csv([c.to_json() for c in checks])
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
         _num(c.bound.low), _num(c.bound.high), _num(c.value), str(c.n), _num(c.sd), _num(c.cov), c.reason]
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
