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
import io
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from katatui.core import reference
from katatui.core.compare import compare, to_records
from katatui.core.errors import UserError, reading
from katatui.core.export import write_text
from katatui.core.library import resolve
from katatui.core.threshold import THRESHOLD_FAILED, check, load_bounds
from katatui.views.compare import csv_text, json_doc, markdown, print_comparison, threshold_text

FORMATS = ("table", "csv", "json", "md")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare sessions side by side, or check them against bounds",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("sessions", nargs="+", help="session files, or names in the library")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument(
        "--baseline", metavar="COLUMN", help="the column ratios are taken to, e.g. B:runc, or runc"
    )
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
    what = f"session {paths[0]}" if len(paths) == 1 else "one of the sessions " + ", ".join(map(str, paths))
    if args.threshold is not None:
        bounds = load_bounds(args.threshold)
        with reading(what):
            checks = check(bounds, paths)
        _emit(args, threshold_text(checks, args.format))
        failed = sum(1 for c in checks if not c.passed)
        print(
            f"threshold: {len(checks) - failed} passed, {failed} failed ({args.threshold})", file=sys.stderr
        )
        return THRESHOLD_FAILED if failed else 0
    seed = reference.resolve_seed(args.reference) if args.reference else None
    with reading(what):
        cmp = compare(paths, baseline=args.baseline, all_metrics=args.all_metrics, seed=seed)
    if args.tui:
        from katatui.tui.launch import compare_app

        if len(paths) < 2:
            raise UserError("compare --tui: give at least two sessions")
        return compare_app(paths, seed=seed, baseline=cmp.baseline)
    if args.format == "csv":
        text = csv_text(to_records(cmp))
    elif args.format == "json":
        text = json.dumps(json_doc(cmp), indent=2) + "\n"
    elif args.format == "md":
        text = markdown(cmp)
    else:
        text = ""
        console = Console(highlight=False, width=200 if args.out else None, record=args.out is not None,
                          file=io.StringIO() if args.out else None)  # fmt: skip
        print_comparison(console, cmp)
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
