"""Exports of a session: atomic files and every raw tool output (seed-shaped Markdown tables are
:mod:`katatui.views.seed`).

Every file is written to a temporary name in its directory and renamed into place, so a failed
export (a full disk, an interrupted katatui) leaves no half-written file. JSON and CSV exports
carry ``EXPORT_SCHEMA``, the version of their layout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from katatui.core.cell import Cell
from katatui.core.errors import UserError
from katatui.core.session import SCHEMA_VERSION, SessionReader

EXPORT_SCHEMA = 1  # the layout of katatui's JSON and CSV exports


@contextlib.contextmanager
def atomic_text(path: str | Path) -> Iterator[IO[str]]:
    """A text file written under a temporary name and renamed to ``path`` once complete."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{path}: the directory {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    except OSError as exc:
        raise UserError(f"{path} cannot be written: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UserError(
                f"{path} cannot be written: {exc.strerror or exc}; nothing was left behind"
            ) from None
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_text(path) as f:
        f.write(text)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "x"


def export_raw(reader: SessionReader, directory: str | Path) -> dict[str, Any]:
    """Every raw tool output of the session as a file, with ``index.json`` describing each one.

    Files are ``RUN/client-N.stdout`` (``RUN`` = run index, scenario and run id). The directory is
    built under a temporary name and renamed at the end; an existing non-empty one is refused.
    """
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"--raw {target}: exists and is not an empty directory; choose a new one")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"--raw {target}: the directory {parent} does not exist")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    except OSError as exc:
        raise UserError(f"--raw {target} cannot be written: {exc.strerror or exc}") from None
    try:
        runs = {r.spec.run_id: r for r in reader.runs()}
        files = []
        for run_id, client, stream, size in reader.raw_streams():
            run = runs.get(run_id)
            folder = (
                f"{run.spec.index:04d}-{_safe(run.spec.scenario)}-{_safe(run_id)}"
                if run
                else f"x-{_safe(run_id)}"
            )
            name = f"{folder}/client-{client}.{_safe(stream)}"
            (tmp / folder).mkdir(exist_ok=True)
            (tmp / name).write_bytes(reader.raw(run_id, client, stream))
            entry: dict[str, Any] = {"file": name, "run_id": run_id, "client": client, "stream": stream,
                                     "bytes": size}  # fmt: skip
            if run is not None:
                s = run.spec
                entry.update(
                    scenario=s.scenario, workload=s.workload, kind=s.kind, variant=dict(s.variant),
                    clients=s.clients, repeat=s.repeat, target=s.target, runtime=s.runtime,
                    status=run.status,
                    command=run.commands[client] if client < len(run.commands) else None,
                )  # fmt: skip
            files.append(entry)
        index = {
            "schema_version": EXPORT_SCHEMA,
            "session_schema_version": SCHEMA_VERSION,
            "session": str(reader.path),
            "session_id": reader.meta.get("session_id"),
            "profile": reader.meta.get("profile_name"),
            "files": files,
        }
        (tmp / "index.json").write_text(json.dumps(index, indent=2, default=str) + "\n", encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise UserError(
                f"--raw {target} cannot be written: {exc.strerror or exc}; nothing was left behind"
            ) from None
        raise
    return index


def cells_of(reader: SessionReader) -> dict[str, Cell]:
    """The session's cells by their keys."""
    return {r.spec.cell: r.spec.matrix_cell for r in reader.runs()}
