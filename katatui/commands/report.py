"""``katatui report SESSION --format table|csv|json|md|html [--out FILE] [--reference SEED]``.

``--out`` writes the report to a file, under a temporary name renamed once complete. ``html``
is one self-contained file (tables and inline SVG plots, no script, readable offline).
``--reference SEED`` lays a seed study's published figures beside the session's matching cells.
``--baseline SCENARIO`` takes ratios to that scenario (default: the profile's ``baseline``, else
the first scenario).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from katatui.core import reference
from katatui.core.errors import reading
from katatui.core.export import atomic_text
from katatui.core.library import resolve
from katatui.core.session import SessionReader
from katatui.views.report import write

FORMATS = ("table", "csv", "json", "md", "html")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="print or export a session's results", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("session", help="a session file (.katatui), or a session's name in the library")
    p.add_argument("--format", choices=FORMATS, default=None, help="default: table, or html for --out *.html")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--partial", action="store_true", help="include figures of failed or interrupted runs")
    p.add_argument(
        "--reference", metavar="SEED", help="lay a study's published figures beside (001, 002, 003 or 004)"
    )
    p.add_argument(
        "--baseline",
        metavar="SCENARIO",
        help="take ratios to SCENARIO (default: the profile's baseline, else the first)",
    )
    p.set_defaults(func=run)


@contextlib.contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
    else:
        with atomic_text(out) as f:
            yield f


def run(args: argparse.Namespace) -> int:
    fmt = args.format or (
        "html" if args.out is not None and args.out.suffix in (".html", ".htm") else "table"
    )
    seed = reference.resolve_seed(args.reference) if args.reference else None
    path = resolve(args.session)
    reader = SessionReader(path)
    try:
        with reading(f"session {path}"), _output(args.out) as out:
            write(reader, fmt, out, partial=args.partial, seed=seed, to_file=args.out is not None,
                  baseline=args.baseline)  # fmt: skip
    finally:
        reader.close()
    if args.out is not None:
        print(f"report written: {args.out}", file=sys.stderr)
    return 0
