"""``katatui sessions``: the saved sessions, and label, rename or delete one.

    katatui sessions [--dir DIR] [--json] [--search TEXT]
    katatui sessions --tui [--dir DIR]
    katatui sessions label SESSION TEXT
    katatui sessions rename SESSION NEW-NAME
    katatui sessions delete SESSION... [--yes]

SESSION is a path, or a file name, session id or label in the library. The library is
``$KATATUI_DATA_DIR/sessions`` or the XDG data directory; ``--dir`` reads another one.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console

from katatui.core import library
from katatui.core.errors import UserError
from katatui.views.sessions import table


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sessions",
        help="list saved sessions; label, rename or delete one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dir", help="the session directory (default: $KATATUI_DATA_DIR/sessions or XDG's)")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--search", metavar="TEXT", help="only sessions whose name, profile, label, ... has TEXT")
    p.add_argument(
        "--tui", action="store_true", help="open the sessions screen: search, replay, label, delete, compare"
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    label = actions.add_parser("label", help='give a session a label ("" removes it)')
    label.add_argument("session")
    label.add_argument("text")
    rename = actions.add_parser("rename", help="rename a session's file (in its directory)")
    rename.add_argument("session")
    rename.add_argument("new_name")
    delete = actions.add_parser("delete", help="delete sessions (asks first, unless --yes)")
    delete.add_argument("sessions", nargs="+")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "label":
        path = library.resolve(args.session, args.dir)
        library.set_label(path, args.text)
        print(f"{path}: label {args.text.strip()!r}" if args.text.strip() else f"{path}: label removed")
        return 0
    if args.action == "rename":
        path = library.resolve(args.session, args.dir)
        new = library.rename_session(path, args.new_name)
        print(f"renamed {path} to {new}")
        return 0
    if args.action == "delete":
        return _delete(args)
    if args.tui:
        from pathlib import Path

        from katatui.tui.launch import sessions_app

        library.session_files(args.dir)  # a --dir that is not a directory is said here, not on screen
        return sessions_app(Path(args.dir) if args.dir else None)
    entries = library.list_sessions(args.dir, search=args.search)
    if args.json:
        doc = {
            "directory": str(library.sessions_dir(args.dir)),
            "sessions": [e.to_json() for e in entries],
        }
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = Console(highlight=False)
    where = library.sessions_dir(args.dir)
    if not entries:
        console.print(f"no sessions in {where}" + (f" matching {args.search!r}" if args.search else ""))
        return 0
    console.print(table(entries, f"sessions in {where}"))
    return 0


def _delete(args: argparse.Namespace) -> int:
    paths = [library.resolve(s, args.dir) for s in args.sessions]
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(
                "delete: pass --yes to delete without a prompt (standard input is not a terminal)"
            )
        names = "\n".join(f"  {p}" for p in paths)
        answer = input(f"delete {len(paths)} session(s)?\n{names}\n[y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for path in paths:
        library.delete_session(path)
        print(f"deleted {path}")
    return 0
