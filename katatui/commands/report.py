"""``katatui report SESSION --format table|csv|json|md``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from katatui.bootbars import boot_bars
from katatui.core import fairness, spread
from katatui.core.report import CSV_HEADER, format_value, summarize, tidy_rows
from katatui.core.session import SCHEMA_VERSION, SessionReader
from katatui.core.workloads.boot import timeline
from katatui.headless import print_notes, summary_table


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="print a session's results")
    p.add_argument("session", type=Path, help="a session file (.katatui)")
    p.add_argument("--format", choices=("table", "csv", "json", "md"), default="table")
    p.add_argument("--partial", action="store_true", help="include figures of failed or interrupted runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    reader = SessionReader(args.session)
    try:
        results = reader.results()
        if args.format == "csv":
            writer = csv.DictWriter(sys.stdout, fieldnames=list(CSV_HEADER), lineterminator="\n")
            writer.writeheader()
            writer.writerows(tidy_rows(results, include_partial=args.partial))
        elif args.format == "json":
            doc = {
                "schema_version": SCHEMA_VERSION,
                "session_id": reader.meta.get("session_id"),
                "profile": reader.meta.get("profile_name"),
                "status": reader.status,
                "hosts": reader.hosts(),
                "results": tidy_rows(results, include_partial=args.partial),
                "summary": summary_json(reader),
                "fairness": fairness.record(reader),
                "per_host": spread.per_host(reader),
                "start_barrier": spread.start_spreads(reader),
                "degraded_runs": [{"run_id": r, "left_out": why} for r, why in spread.degraded(reader)],
                "failed_runs": [
                    {
                        "run_id": r.spec.run_id,
                        "scenario": r.spec.scenario,
                        "cell": r.spec.cell,
                        "reason": r.reason,
                    }
                    for r in reader.runs()
                    if r.status == "failed"
                ],
            }
            json.dump(doc, sys.stdout, indent=2)
            sys.stdout.write("\n")
        elif args.format == "md":
            sys.stdout.write(markdown(reader))
            sys.stdout.write(fairness_markdown(fairness.record(reader)))
        else:
            console = Console(highlight=False)
            summary = summarize(reader)
            name = reader.meta.get("profile_name", "?")
            title = f"{name} ({reader.status}): medians, ratio to {summary.reference}"
            console.print(summary_table(summary, title))
            print_notes(console, summary.warnings())
            boot = timeline((r.run.spec.scenario, r.metric, r.value) for r in results if not r.partial)
            if boot:
                console.print("[bold]boot timeline[/] (medians)")
                console.print(boot_bars(boot))
            for scenario, cell, reason in summary.failed:
                console.print(f"[red]failed[/] {scenario} {cell}: {reason}")
            print_spread(console, reader)
            print_fairness(console, fairness.record(reader))
    finally:
        reader.close()
    return 0


def summary_json(reader: SessionReader) -> list[dict[str, object]]:
    """Per cell, metric and scenario: the statistics behind the table, and the ratio's interval."""
    summary = summarize(reader, headline_only=False)
    ref = summary.reference
    out: list[dict[str, object]] = []
    for row in summary.rows:
        for s, stat in row.by_scenario.items():
            d = stat.d
            entry: dict[str, object] = {
                "cell": row.cell, "metric": row.metric, "unit": row.unit, "scenario": s, "n": d.n,
                "median": d.median, "mean": d.mean, "stdev": d.stdev, "cv": d.cv, "min": d.low, "max": d.high,
                "outlier_runs": stat.outlier_runs(),
            }  # fmt: skip
            if ref and s != ref:
                ci = row.ratio_ci(s, ref)
                entry["reference"] = ref
                entry["ratio_of_medians"] = row.ratio(s, ref)
                entry["ratio_of_means_ci95"] = [ci.low, ci.high] if ci else None
            out.append(entry)
    return out


def markdown(reader: SessionReader) -> str:
    summary = summarize(reader)
    ref = summary.reference
    head = ["cell", "metric", *[s if s == ref else f"{s} (×{ref})" for s in summary.scenarios]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary.rows:
        cells = [row.cell, row.metric]
        for s in summary.scenarios:
            stat = row.by_scenario.get(s)
            if stat is None:
                cells.append("-")
                continue
            text = format_value(stat.median, row.unit)
            if stat.cv is not None:
                text += f" ±{stat.cv * 100:.0f}%"
            ratio = row.ratio(s, ref) if ref and s != ref else None
            if ratio is not None:
                ci = row.ratio_ci(s, ref) if ref else None
                change = f" = {(ratio - 1) * 100:+.0f}%"  # seed 002 reports overhead as a percentage
                text += (
                    f" (×{ratio:.2f}{change}" + (f", 95% CI {ci.low:.2f}–{ci.high:.2f}" if ci else "") + ")"
                )
            cells.append(text)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def print_spread(console: Console, reader: SessionReader) -> None:
    """Runs spread over several targets: each host's share (a slow node shows), start spreads."""
    from rich.table import Table

    rows = spread.per_host(reader)
    if rows:
        table = Table(title="per host (clients spread over targets): medians", title_style="bold")
        for h in ("cell", "scenario", "host", "clients", "metric", "median"):
            table.add_column(h, justify="right" if h in ("clients", "median") else "left")
        for r in rows:
            table.add_row(escape(r["cell"]), r["scenario"], r["host"], str(r["clients"]), r["metric"],
                          format_value(r["median"], r["unit"]))  # fmt: skip
        console.print(table)
    for s in spread.start_spreads(reader):
        console.print(
            f"start barrier {s['scenario']} {escape(s['cell'])}: clients started within "
            f"{s['start_spread_median_s'] * 1000:,.0f} ms (median of {s['runs']}; worst "
            f"{s['start_spread_max_s'] * 1000:,.0f} ms; by {', '.join(s['measured_by'])})"
        )
    for run_id, why in spread.degraded(reader):
        console.print(f"[yellow]degraded[/] run {run_id} went on without: {escape(', '.join(why))}")


def print_fairness(console: Console, rec: dict[str, Any]) -> None:
    """The fairness record under the results: what each side saw and got, and where they differ."""
    from rich.markup import escape
    from rich.table import Table

    head, rows = fairness.record_rows(rec)
    if not rows:
        return
    table = Table(title="fairness record: what each scenario saw and got", title_style="bold")
    for i, h in enumerate(head):
        table.add_column(h, style="dim" if i == 0 else None)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for w in rec.get("warnings", []):
        console.print(f"[yellow]fairness[/] {escape(w)}")


def fairness_markdown(rec: dict[str, Any]) -> str:
    head, rows = fairness.record_rows(rec)
    if not rows:
        return ""
    lines = ["", "### Fairness record", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    lines += [""] + [f"- **warning** {w}" for w in rec.get("warnings", [])]
    return "\n".join(lines) + "\n"
