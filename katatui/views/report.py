"""A session's report rendered: the terminal table with its notes, boot bars, spread and fairness,
and the csv, json, Markdown and HTML files (:mod:`katatui.views.html_report`)."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from rich.markup import escape

from katatui.core import fairness, reference, spread
from katatui.core.export import EXPORT_SCHEMA, cells_of
from katatui.core.report import CSV_HEADER, Summary, tidy_rows
from katatui.core.report import summarize as _summarize
from katatui.core.session import SCHEMA_VERSION, RunRow, SessionReader
from katatui.core.workloads.boot.procedure import timeline
from katatui.views import isolation, rounds
from katatui.views.bootbars import boot_bars
from katatui.views.labels import format_value
from katatui.views.ratio import summary_footer
from katatui.views.seed import seed_tables
from katatui.views.summary import print_notes, print_summary


def write(reader: SessionReader, fmt: str, out: IO[str], *, partial: bool, seed: str | None,
           to_file: bool, baseline: str | None = None) -> None:  # fmt: skip
    """The report of ``reader`` in ``fmt`` (table, csv, json, md, html) to ``out``; ``to_file``: a
    table for a file (no terminal colours, 160 columns wide); ``baseline``: the reference scenario
    (default: the profile's ``baseline``, else the first)."""
    results = reader.results()
    summarize = functools.partial(_summarize, baseline=baseline)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=[*CSV_HEADER, "verdict", "schema_version"],
                                lineterminator="\n")  # fmt: skip
        writer.writeheader()
        verdicts = verdict_of_runs(summarize(reader, headline_only=False))
        writer.writerows(
            {**r, "verdict": verdicts.get((str(r["run_id"]), str(r["metric"])), ""),
             "schema_version": EXPORT_SCHEMA}
            for r in tidy_rows(results, include_partial=partial)
        )  # fmt: skip
    elif fmt == "html":
        from katatui.views.html_report import render

        out.write(render(reader, seed=seed, baseline=baseline))
    elif fmt == "md":
        summary = summarize(reader)
        rec = fairness.record(reader)
        out.write(f"### {reader.meta.get('profile_name', 'session')} ({reader.status})\n\n")
        out.write(isolation.markdown(rec))
        out.write(seed_tables(summary, cells_of(reader)))
        out.write(f"\n#### Ratios to {summary.reference}\n\n")
        out.write(markdown(summary))
        by_round = rounds.markdown(summary)
        if by_round:
            out.write("\n" + by_round)
        if seed is not None:
            out.write("\n" + published_markdown(reader, seed))
        out.write(fairness_markdown(rec))
    elif fmt == "json":
        full = summarize(reader, headline_only=False)
        runs = reader.runs()
        doc: dict[str, object] = {
            "schema_version": EXPORT_SCHEMA,
            "session_schema_version": SCHEMA_VERSION,
            "session_id": reader.meta.get("session_id"),
            "profile": reader.meta.get("profile_name"),
            "label": reader.meta.get("label"),
            "status": reader.status,
            "hosts": reader.hosts(),
            "results": tidy_rows(results, include_partial=partial),
            "summary": summary_json(full),
            "comparisons": comparisons_json(full),
            "rounds": {"order": full.order or None, "stopped": dict(full.stopped)},
            "fairness": fairness.record(reader),
            "per_host": spread.per_host(reader),
            "start_barrier": spread.start_spreads(reader),
            "degraded_runs": [{"run_id": r, "left_out": why} for r, why in spread.degraded(reader)],
            "failed_runs": _runs_with(runs, "failed"),
            "unfinished_runs": _runs_with(runs, "unfinished"),
        }
        if seed is not None:
            doc["published"] = published_json(reader, seed)
        json.dump(doc, out, indent=2)
        out.write("\n")
    else:
        console = Console(file=out if to_file else None, highlight=False, width=160 if to_file else None)
        summary = summarize(reader)
        name = reader.meta.get("profile_name", "?")
        title = f"{name} ({reader.status}): medians, ratio to {summary.reference}"
        rec = fairness.record(reader)
        heading = isolation.table(rec)
        if heading is not None:
            console.print(heading)
        print_summary(console, summary, title)
        print_notes(console, summary.warnings())
        print_rounds(console, summary)
        boot = timeline((r.run.spec.scenario, r.metric, r.value) for r in results if not r.partial)
        if boot:
            console.print("[bold]boot timeline[/] (medians)")
            console.print(boot_bars(boot))
        for scenario, cell, reason in summary.failed:
            console.print(f"[red]failed[/] {scenario} {cell}: {reason}")
        print_spread(console, reader)
        print_fairness(console, rec)
        unfinished = sum(1 for r in reader.runs() if r.status == "unfinished")
        if unfinished:
            console.print(f"[yellow]{unfinished} run(s) unfinished: katatui stopped before they ended[/]")
        if seed is not None:
            console.print(published_markdown(reader, seed), markup=False)


def _published_rows(reader: SessionReader, seed: str) -> list[tuple[str, str, reference.Match, str]]:
    summary = _summarize(reader)
    kinds = cells_of(reader)
    out = []
    for row in summary.rows:
        if row.cell not in kinds:
            continue
        cell = kinds[row.cell]
        mine = ", ".join(f"{s} {format_value(st.median, row.unit)}" for s, st in row.by_scenario.items())
        for m in reference.lookup(seed, cell.kind, cell.variant, cell.clients, row.metric):
            out.append((row.cell, row.metric, m, mine))
    return out


def published_markdown(reader: SessionReader, seed: str) -> str:
    """The study's figures beside the session's matching cells, labelled as what they are."""
    title = reference.SEED_TITLES.get(seed, seed)
    rows = _published_rows(reader, seed)
    buf = io.StringIO()
    buf.write(f"#### {reference.PUBLISHED_LABEL.capitalize()}: {title}\n\n")
    if not rows:
        buf.write("No published figure matches this session's cells.\n")
        return buf.getvalue()
    buf.write("| cell | metric | published (scenario, study) | published value | this session (medians) |\n")
    buf.write("|---|---|---|---|---|\n")
    for cell, metric, m, mine in rows:
        buf.write(f"| {cell} | {metric} | {m.label} | {format_value(m.value, m.unit)} | {mine} |\n")
    return buf.getvalue()


def published_json(reader: SessionReader, seed: str) -> dict[str, object]:
    return {
        "label": reference.PUBLISHED_LABEL,
        "seed": seed,
        "title": reference.SEED_TITLES.get(seed, seed),
        "figures": [
            {"cell": cell, "metric": metric, "scenario": m.figure.scenario, "variant": m.figure.variant,
             "value": m.value, "unit": m.unit, "published_value": m.figure.value,
             "published_unit": m.figure.unit, "source": m.figure.seed, "note": m.figure.note}
            for cell, metric, m, _ in _published_rows(reader, seed)
        ],
    }  # fmt: skip


def comparisons_json(summary: Summary) -> list[dict[str, object]]:
    """One object per cell × metric × scenario against the reference: the ratio, its 95% interval,
    the rounds, the method, the verdict, the sign-flip p-value and the noise band."""
    out: list[dict[str, object]] = []
    for row in summary.rows:
        for s in summary.scenarios:
            v = summary.versus(row, s)
            if v is None:
                continue
            out.append(
                {"cell": row.cell, "metric": row.metric, "unit": row.unit, "scenario": s,
                 "reference": v.reference, "ratio": v.ratio, "low": v.ci.low if v.ci else None,
                 "high": v.ci.high if v.ci else None, "level": v.ci.level if v.ci else None,
                 "rounds": v.ci.rounds if v.ci else 1,
                 "method": v.method, "verdict": v.verdict, "p_value": v.ci.p_value if v.ci else None,
                 "noise_band": v.noise_band, "noise_source": v.noise_source,
                 "round_ratios": list(v.ci.round_ratios) if v.ci else []}
            )  # fmt: skip
    return out


def verdict_of_runs(summary: Summary) -> dict[tuple[str, str], str]:
    """(run id, metric) -> the verdict of its scenario against the reference on its row (csv)."""
    out: dict[tuple[str, str], str] = {}
    for row in summary.rows:
        for s, stat in row.by_scenario.items():
            v = summary.versus(row, s)
            for run_id in stat.run_ids:
                out[(run_id, row.metric)] = v.verdict if v is not None else "reference"
    return out


def _runs_with(runs: Sequence[RunRow], status: str) -> list[dict[str, object]]:
    """The runs that ended with ``status``: id, scenario, cell and why."""
    return [
        {"run_id": r.spec.run_id, "scenario": r.spec.scenario, "cell": r.spec.cell, "reason": r.reason}
        for r in runs
        if r.status == status
    ]


def summary_json(summary: Summary) -> list[dict[str, object]]:
    """Per cell, metric and scenario: the statistics behind the table, and the ratio's interval
    (``summary`` of every metric, not only the headline ones)."""
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
            v = summary.versus(row, s)
            if ref and v is not None:
                entry["reference"] = ref
                entry["ratio_of_medians"] = row.ratio(s, ref)
                entry["ratio"] = v.ratio
                entry["ratio_ci95"] = [v.ci.low, v.ci.high] if v.ci else None
                entry["method"] = v.method
                entry["verdict"] = v.verdict
            out.append(entry)
    return out


def markdown(summary: Summary) -> str:
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
            v = summary.versus(row, s)
            if v is not None:
                ratio, ci = v.ratio, v.ci
                change = f" = {(ratio - 1) * 100:+.0f}%"  # seed 002 reports overhead as a percentage
                text += (
                    f" (×{ratio:.2f}{change}, **{v.verdict}**"
                    + (
                        f", {ci.level * 100:.3g}% CI {ci.low:.2f}–{ci.high:.2f}"
                        + ("†" if ci.method == "welch" else "")
                        if ci
                        else ""
                    )
                    + ")"
                )
            cells.append(text)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    lines.append(summary_footer(summary))
    return "\n".join(lines) + "\n"


def print_rounds(console: Console, summary: Summary) -> None:
    """Each round's ratio to the reference, with a text strip (see :mod:`katatui.views.rounds`): lines,
    not a table, so that no figure is cut at any width."""
    rows = rounds.round_rows(summary)
    if not rows:
        return
    console.print(
        f"[bold]ratio by round[/] (to {escape(str(summary.reference))}; strip: log scale, lower to the "
        "left, the round's number where its ratio lies, │ at ×1, ░ the noise band)"
    )
    width = max(len(f"{r.scenario} {r.metric}") for r in rows)
    last = None
    for r in rows:
        if r.cell != last:
            console.print(f"  {escape(r.cell)}", style="dim")
            last = r.cell
        name = f"{r.scenario} {r.metric}".ljust(width)
        console.print(f"    {escape(name)}  {rounds.strip(r.ratios, r.versus.noise_band)}  "
                      f"{rounds.ratios_text(r.ratios)}", highlight=False)  # fmt: skip


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
