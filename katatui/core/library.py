"""The library of saved sessions: where they live, what each holds, label, rename and delete.

Sessions live in ``$KATATUI_DATA_DIR/sessions``, else in the XDG data directory
(``~/.local/share/katatui/sessions`` on Linux). Listing reads each file's metadata and run table
only, never its samples, so a library of large sessions lists quickly. Every function here is
plain and synchronous; a screen calls it from a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from katatui.core.errors import UserError
from katatui.core.session import ENDED, SessionReader, check_session_path, private_dirs, writer_alive

SUFFIX = ".katatui"
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files next to a session
MAX_LABEL = 200


def data_dir() -> Path:
    """katatui's data directory: ``$KATATUI_DATA_DIR`` or the XDG data directory."""
    env = os.environ.get("KATATUI_DATA_DIR")
    return Path(env) if env else platformdirs.user_data_path("katatui")


def sessions_dir(directory: str | Path | None = None) -> Path:
    """Where sessions are kept: ``directory`` when given, else ``data_dir()/sessions``."""
    return Path(directory) if directory is not None else data_dir() / "sessions"


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def default_session_path(session_id: str, profile_name: str) -> Path:
    """Where a new session goes in the library, whose directories are made private (0700) first:
    created so, or tightened when an older katatui left them readable by everyone."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile_name)
    private_data_dirs()
    return sessions_dir() / f"{session_id}-{safe}.katatui"


def private_data_dirs() -> None:
    """The data directory and its ``sessions`` directory exist with mode 0700 when they are ours."""
    top = data_dir()
    private_dirs(top / "sessions")
    for d in (top, top / "sessions"):
        with contextlib.suppress(OSError):
            st = d.stat()
            if st.st_uid == os.geteuid() and st.st_mode & 0o077:
                os.chmod(d, st.st_mode & 0o700 | 0o700)


@dataclass(frozen=True)
class SessionEntry:
    """One saved session as the library lists it. ``error`` is set (and most fields empty) for a
    file that cannot be read; the library still lists it so that it can be looked at or deleted."""

    path: Path
    size_bytes: int
    modified_at: float
    session_id: str = ""
    label: str = ""
    profile: str = ""
    created_at: float | None = None
    finished_at: float | None = None
    status: str = ""
    targets: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    runs_total: int = 0
    runs_finished: int = 0
    runs_failed: int = 0
    runs_unfinished: int = 0
    schema_version: int | None = None
    katatui_version: str = ""
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """What to call it: its label, else its file name without the suffix."""
        return self.label or self.path.name.removesuffix(SUFFIX)

    @property
    def when(self) -> float:
        return self.created_at if self.created_at is not None else self.modified_at

    def matches(self, text: str) -> bool:
        """Whether a search text appears in its name, profile, label, scenarios or targets."""
        needle = text.lower()
        hay = " ".join(
            [self.path.name, self.label, self.profile, self.session_id, self.status,
             *self.scenarios, *self.targets, *self.workloads]
        ).lower()  # fmt: skip
        return needle in hay

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        out["name"] = self.name
        for key in ("targets", "scenarios", "workloads"):
            out[key] = list(out[key])
        out.pop("extra")
        return out


def _size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += path.with_name(path.name + suffix).stat().st_size
    return total


def read_entry(path: str | Path) -> SessionEntry:
    """One session's metadata (never its samples); an unreadable file gives an entry with ``error``."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        return SessionEntry(path, 0, 0.0, error=f"cannot be read: {exc.strerror or exc}")
    size = _size(path)
    try:
        reader = SessionReader(path)
    except UserError as exc:
        return SessionEntry(path, size, st.st_mtime, error=str(exc))
    try:
        meta = reader.meta
        conn = reader._conn  # the library's own aggregate queries
        counts = dict(conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        scenarios = [
            r[0] for r in conn.execute("SELECT scenario FROM runs GROUP BY scenario ORDER BY min(idx)")
        ]
        targets = [r[0] for r in conn.execute("SELECT target FROM runs GROUP BY target ORDER BY min(idx)")]
        workloads = [r[0] for r in conn.execute("SELECT kind FROM runs GROUP BY kind ORDER BY min(idx)")]
        gone = reader.writer_gone
        status = reader.status
    except sqlite3.DatabaseError as exc:
        reader.close()
        return SessionEntry(path, size, st.st_mtime, error=f"session {path}: damaged ({exc})")
    reader.close()
    total = sum(int(v) for v in counts.values())
    finished, failed = int(counts.get("finished", 0)), int(counts.get("failed", 0))
    unended = total - sum(int(counts.get(s, 0)) for s in ENDED)
    return SessionEntry(
        path=path,
        size_bytes=size,
        modified_at=st.st_mtime,
        session_id=meta.get("session_id", ""),
        label=meta.get("label", ""),
        profile=meta.get("profile_name", ""),
        created_at=_float(meta.get("created_at")),
        finished_at=_float(meta.get("finished_at")),
        status=status,
        targets=tuple(targets),
        scenarios=tuple(scenarios),
        workloads=tuple(workloads),
        runs_total=total,
        runs_finished=finished,
        runs_failed=failed,
        # A run not yet ended is unfinished only once its writer is gone or the session ended.
        runs_unfinished=unended if gone or meta.get("status") != "running" else 0,
        schema_version=reader.schema_version,
        katatui_version=meta.get("katatui_version", ""),
    )


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def session_files(directory: str | Path | None = None) -> list[Path]:
    base = sessions_dir(directory)
    if not base.exists():
        return []
    if not base.is_dir():
        raise UserError(f"session directory {base} is not a directory; pass --dir DIR")
    try:
        return sorted(p for p in base.iterdir() if p.name.endswith(SUFFIX) and p.is_file())
    except OSError as exc:
        raise UserError(f"session directory {base} cannot be read: {exc}") from None


def list_sessions(directory: str | Path | None = None, *, search: str | None = None) -> list[SessionEntry]:
    """Every session in the library, newest first; ``search`` keeps those that match it."""
    entries = [read_entry(p) for p in session_files(directory)]
    if search:
        entries = [e for e in entries if e.matches(search)]
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def resolve(spec: str | Path, directory: str | Path | None = None) -> Path:
    """A session given as a path, or by file name, session id or label in the library."""
    path = Path(spec)
    if path.is_file():
        return path
    text = str(spec)
    if os.sep not in text:
        entries = list_sessions(directory)
        exact = [
            e for e in entries
            if text in (e.path.name, e.path.name.removesuffix(SUFFIX), e.session_id, e.label)
        ]  # fmt: skip
        found = exact or [e for e in entries if e.path.name.startswith(text)]
        if len(found) == 1:
            return found[0].path
        if len(found) > 1:
            names = ", ".join(e.path.name for e in found[:5])
            raise UserError(
                f"session {text!r} matches {len(found)} sessions ({names}); give more of the name"
            )
    if path.exists() or path.is_symlink():
        check_session_path(path)  # a directory, a FIFO, a device: said as what it is
        return path
    raise UserError(
        f"session {text}: no such file, and no session of that name in {sessions_dir(directory)} "
        "(katatui sessions lists them)"
    )


def _refuse_live(path: Path, what: str) -> None:
    try:
        reader = SessionReader(path)
    except UserError:
        return  # unreadable: nobody is writing it through katatui
    meta = dict(reader.meta)
    reader.close()
    if writer_alive(meta):
        raise UserError(
            f"session {path} is being recorded (katatui pid {meta.get('writer_pid')}); {what} it once it ends"
        )


def set_label(path: str | Path, label: str) -> None:
    """Give a session a label (an empty label removes it). The label is kept inside the file."""
    path = Path(path)
    label = label.strip()
    if len(label) > MAX_LABEL or any(not c.isprintable() for c in label):
        raise UserError(f"label {label[:40]!r}: expected printable text of at most {MAX_LABEL} characters")
    SessionReader(path).close()  # a readable session of a version this katatui knows
    _refuse_live(path, "label")
    try:
        conn = sqlite3.connect(path, timeout=10)
        try:
            with conn:
                if label:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('label', ?)", (label,))
                else:
                    conn.execute("DELETE FROM meta WHERE key='label'")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('labelled_at', ?)", (str(time.time()),))
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        raise UserError(f"session {path}: the label cannot be written ({exc})") from None


def rename_session(path: str | Path, new_name: str) -> Path:
    """Rename a session's file within its directory; returns the new path. Never overwrites."""
    path = Path(path)
    name = new_name.strip()
    if not name or "/" in name or os.sep in name or name in (".", "..") or name.startswith("."):
        raise UserError(f"new name {new_name!r}: expected a file name without '/' (e.g. kata-9p-tuesday)")
    if not name.endswith(SUFFIX):
        name += SUFFIX
    SessionReader(path).close()
    _refuse_live(path, "rename")
    target = path.with_name(name)
    try:
        os.link(path, target)  # fails if the name is taken: never overwrites another session
    except FileExistsError:
        raise UserError(f"{target} already exists; choose another name") from None
    except OSError as exc:
        raise UserError(f"session {path} cannot be renamed to {target}: {exc}") from None
    os.unlink(path)
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def delete_session(path: str | Path) -> None:
    """Delete a session file (and SQLite's companion files). Refuses one that is being recorded."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"session {path}: no such file")
    if not path.name.endswith(SUFFIX):
        try:
            SessionReader(path).close()
        except UserError:
            raise UserError(
                f"{path} is neither named *{SUFFIX} nor a katatui session; not deleting it"
            ) from None
    _refuse_live(path, "delete")
    try:
        path.unlink()
        for suffix in COMPANIONS:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    except OSError as exc:
        raise UserError(f"session {path} cannot be deleted: {exc}") from None


def total_size(entries: Iterable[SessionEntry]) -> int:
    return sum(e.size_bytes for e in entries)
