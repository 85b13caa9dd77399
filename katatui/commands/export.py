"""``katatui export SESSION --raw DIR``: every raw tool output of a session as files.

DIR gets one folder per run (``INDEX-SCENARIO-RUNID``) holding ``client-N.stdout`` and
``client-N.stderr`` exactly as the tools printed them, and ``index.json`` naming each file's run,
scenario, workload, variant, client and command. DIR must be new or empty; it is built under a
temporary name and renamed at the end, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from katatui.core.export import export_raw
from katatui.core.library import resolve
from katatui.core.session import SessionReader


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="write a session's raw tool outputs as files", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("session", help="a session file (.katatui), or a session's name in the library")
    p.add_argument(
        "--raw", type=Path, required=True, metavar="DIR", help="the directory to write (new or empty)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with SessionReader(resolve(args.session)) as reader:
        index = export_raw(reader, args.raw)
    total = sum(int(f["bytes"]) for f in index["files"])
    print(f"{len(index['files'])} raw outputs ({total:,} bytes) written to {args.raw}")
    print(f"index: {args.raw / 'index.json'}")
    return 0
