"""Sessions on disk: one SQLite file per session, written as events arrive.

A writer thread owns the connection and commits at least every ``COMMIT_INTERVAL`` seconds, so a
katatui killed with SIGKILL loses at most the last second, and the file still opens (SQLite's
journal makes every commit atomic). Listeners never wait on the disk.

A reader never changes a session file: it opens it read-only (SQLite URI ``mode=ro``). A session
whose writer was killed while its write-ahead log still held commits is read from a private copy
of the file and its log, so the original stays exactly as the crash left it. The file carries its
schema version in ``meta``; a reader refuses a newer one by name instead of misreading it.

Schema 2 stores samples in compressed blocks and raw output as compressed streams
(:mod:`katatui.core.sessionformat`), each row with a CRC-32 and each ended run with a checksum of
its row, results and histogram totals; a reader verifies them and refuses damage by the file and
the run. Files of schema 1 (a JSON text per sample, raw output as written) are read as they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import queue
import shutil
import socket
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from katatui import __version__
from katatui.core import sessionformat as fmt
from katatui.core.errors import SessionDamaged, UserError
from katatui.core.events import (
    Event,
    HostFacts,
    LogMessage,
    Metric,
    RawOutput,
    RoundFinished,
    RunFailed,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    ScenarioFacts,
    SessionFinished,
    SessionStarted,
)

SCHEMA_VERSION = 2
COMMIT_INTERVAL = 0.5
# A block of samples is written at each commit and rewritten whole at the next ones while it is
# small and young (a slow run's few samples a second still make one block worth compressing);
# once it holds BLOCK_SAMPLES samples or is BLOCK_SECONDS old, the next samples start a new one.
BLOCK_SAMPLES = 64
BLOCK_SECONDS = 30.0


# Schema 1, as older katatui wrote it: still read.
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hosts (target TEXT PRIMARY KEY, facts TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (
    scenario TEXT NOT NULL, target TEXT NOT NULL, facts TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (scenario, target)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, idx INTEGER NOT NULL, cell TEXT NOT NULL, scenario TEXT NOT NULL,
    launcher TEXT NOT NULL, runtime TEXT, target TEXT NOT NULL, workload TEXT NOT NULL,
    kind TEXT NOT NULL, variant TEXT NOT NULL, clients INTEGER NOT NULL, repeat INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned', started_at REAL, finished_at REAL, duration REAL,
    commands TEXT, reason TEXT, hosts TEXT
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL,
    run_id TEXT, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,
    partial INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, metric)
);
CREATE TABLE IF NOT EXISTS raw (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, client INTEGER NOT NULL,
    stream TEXT NOT NULL, at REAL NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS raw_run ON raw(run_id, client, stream);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, run_id);
CREATE TABLE IF NOT EXISTS hist_totals (
    run_id TEXT NOT NULL, name TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (run_id, name, bucket)
);
"""
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hosts (
    target TEXT PRIMARY KEY, facts TEXT NOT NULL, at REAL NOT NULL, crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (
    scenario TEXT NOT NULL, target TEXT NOT NULL, facts TEXT NOT NULL, at REAL NOT NULL,
    crc INTEGER NOT NULL, PRIMARY KEY (scenario, target)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, idx INTEGER NOT NULL, cell TEXT NOT NULL, scenario TEXT NOT NULL,
    launcher TEXT NOT NULL, runtime TEXT, target TEXT NOT NULL, workload TEXT NOT NULL,
    kind TEXT NOT NULL, variant TEXT NOT NULL, clients INTEGER NOT NULL, repeat INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned', started_at REAL, finished_at REAL, duration REAL,
    commands TEXT, reason TEXT, hosts TEXT, checksum TEXT
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, run_id TEXT,
    payload TEXT NOT NULL, crc INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, run_id);
CREATE TABLE IF NOT EXISTS samples (
    first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, count INTEGER NOT NULL,
    runs TEXT NOT NULL, data BLOB NOT NULL, crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,
    partial INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, metric)
);
CREATE TABLE IF NOT EXISTS raw_chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, client INTEGER NOT NULL,
    stream TEXT NOT NULL, frame INTEGER NOT NULL, size INTEGER NOT NULL, text BLOB NOT NULL,
    nums BLOB NOT NULL, crc INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS raw_run ON raw_chunks(run_id, client, stream);
-- each ended run's latency histograms summed over its samples, as one block of one sample
CREATE TABLE IF NOT EXISTS hist_totals (run_id TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
# The states of a run in a session whose writer is gone: "running" and "planned" runs never ended.
ENDED = ("finished", "failed")


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def _row_crc(*fields: Any) -> int:
    """The CRC-32 of a row's fields, as stored beside them and checked by the reader."""
    parts = [f if isinstance(f, bytes) else repr(f).encode() for f in fields]
    return fmt.crc(b"%d|" % len(parts), *(b"%d:%s" % (len(p), p) for p in parts))


def _run_checksum(row: tuple[Any, ...], results: list[tuple[Any, ...]], totals: list[tuple[Any, ...]]) -> str:
    """A run's row (as ended), its results and its histogram totals, in a hash."""
    h = hashlib.sha256(repr(tuple(row)).encode())
    h.update(repr(sorted(results)).encode())
    h.update(repr(sorted(totals)).encode())
    return h.hexdigest()[:32]


RUN_COLUMNS = (
    "run_id, idx, cell, scenario, launcher, runtime, target, workload, kind, variant, clients,"
    " repeat, status, started_at, finished_at, duration, commands, reason, hosts"
)


class SessionWriter:
    """A listener that records every event. Call ``close()`` once at the end."""

    def __init__(self, path: str | Path, *, session_id: str, profile_text: str, profile_json: str) -> None:
        self.path = Path(path)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._error: BaseException | None = None
        # Each run's latency histograms summed over its samples, stored when the run ends, so that
        # a report's CDFs never decode every sample of a long session.
        self._hist: dict[str, dict[str, dict[int, int]]] = {}
        self._seq = 0  # every event's place in the session's order (samples and the rest)
        self._pending: list[fmt.SampleRow] = []  # the open block's samples (see BLOCK_SAMPLES)
        self._opened = 0.0  # when the open block began
        # Each raw output stream's encoder, its frame number and the bytes it has taken so far.
        self._raw: dict[tuple[str, int, str], fmt.RawEncoder] = {}
        self._frames: dict[tuple[str, int, str], int] = {}
        self._raw_sizes: dict[tuple[str, int, str], int] = {}
        try:
            private_dirs(self.path.parent)
            # Created exclusively: two katatui processes never share a file, even with the same name;
            # readable by its owner only (it holds hosts, users, profiles and raw outputs), as are
            # SQLite's log files next to it, which take the file's mode.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, 0o600)  # whatever the umask
            os.close(fd)
        except FileExistsError:
            raise UserError(f"session file {self.path} already exists; choose another --out") from None
        except OSError as exc:
            raise UserError(
                f"session file {self.path} cannot be written ({exc}); choose another --out"
            ) from None
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UserError(
                f"session file {self.path} cannot be written ({exc}); choose another --out"
            ) from None
        meta = {
            "schema_version": str(SCHEMA_VERSION),
            "katatui_version": __version__,
            "session_id": session_id,
            "created_at": str(time.time()),
            "status": "running",
            "writer_pid": str(os.getpid()),
            "writer_host": socket.gethostname(),
            "profile_toml": profile_text,
            "profile_json": profile_json,
        }
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        conn.commit()
        self._conn = conn
        self._thread = threading.Thread(target=self._loop, name="katatui-session-writer", daemon=True)
        self._thread.start()

    def __call__(self, event: Event) -> None:
        self._queue.put(event)

    def checkpoint(self) -> None:
        """Commit what has arrived so far now, as the writer does every ``COMMIT_INTERVAL``."""
        self._queue.put(_COMMIT)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        conn = self._conn
        try:  # no longer being written, whatever its status says
            with conn:
                conn.execute("DELETE FROM meta WHERE key='writer_pid'")
        except sqlite3.Error:
            pass
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to keep and share
        except sqlite3.OperationalError:
            pass  # a reader has it open: it stays in WAL mode, which opens just as well
        conn.close()
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        last_commit = time.monotonic()
        done = False
        while not done:
            try:
                event = self._queue.get(timeout=COMMIT_INTERVAL)
            except queue.Empty:
                event = _TICK
            if event is None:
                done = True
            elif event is _COMMIT:
                last_commit = 0.0
            elif event is not _TICK:
                try:
                    self._write(event)
                except Exception as exc:  # keep writing what can be written; report at close
                    self._error = exc
            if done or time.monotonic() - last_commit >= COMMIT_INTERVAL:
                try:
                    self._flush(final=done)
                except Exception as exc:
                    self._error = exc
                self._conn.commit()
                last_commit = time.monotonic()

    def _flush(self, *, final: bool = False) -> None:
        """Write the pending samples as a block, and what each raw stream took since the last flush."""
        if self._pending:
            self._write_block(self._pending)
            if len(self._pending) >= BLOCK_SAMPLES or time.monotonic() - self._opened >= BLOCK_SECONDS:
                self._pending = []
        for key in list(self._raw):
            self._flush_raw(key, close=final)

    def _write_block(self, rows: list[fmt.SampleRow]) -> None:
        data = fmt.encode_samples(rows)
        first, last, runs = rows[0][0], rows[-1][0], _json(sorted({r[1] for r in rows}))
        self._conn.execute(
            "INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?, ?, ?)",
            (first, last, len(rows), runs, data, _row_crc(first, last, len(rows), runs, data)),
        )

    def _flush_raw(self, key: tuple[str, int, str], *, close: bool) -> None:
        enc = self._raw[key]
        done = self._raw_sizes.get(key, 0)
        if close:
            text, nums = enc.close()
            del self._raw[key]
        else:
            text, nums = enc.flush()
        size = enc.size - len(enc.pending) - done
        self._raw_sizes[key] = done + size
        if size or close:
            run_id, client, stream = key
            frame = self._frames.get(key, 0)
            self._conn.execute(
                "INSERT INTO raw_chunks (run_id, client, stream, frame, size, text, nums, crc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, client, stream, frame, size, text, nums,
                 _row_crc(run_id, client, stream, frame, size, text, nums)),
            )  # fmt: skip
        if close:
            self._frames[key] = self._frames.get(key, 0) + 1
            self._raw_sizes.pop(key, None)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _write(self, ev: Event) -> None:
        c = self._conn
        if isinstance(ev, RawOutput):
            key = (ev.run_id, ev.client, ev.stream)
            enc = self._raw.get(key)
            if enc is None:
                enc = self._raw[key] = fmt.RawEncoder()
            enc.write(ev.data)
            return
        run_id = getattr(ev, "run_id", None)
        if isinstance(ev, Sample):  # the many: into the next block
            totals = self._hist.setdefault(ev.run_id, {})
            hist = {}
            for name, bins in ev.hist.items():
                target = totals.setdefault(name, {})
                copy = hist[name] = {int(b): int(n) for b, n in bins.items()}
                for bucket, count in copy.items():
                    target[bucket] = target.get(bucket, 0) + count
            if not self._pending:
                self._opened = time.monotonic()
            self._pending.append(
                (
                    self._next_seq(),
                    ev.run_id,
                    float(ev.t),
                    dict(ev.metrics),
                    int(ev.client),
                    hist,
                    float(ev.at),
                )
            )
            if len(self._pending) >= 16 * BLOCK_SAMPLES:  # a burst between two commits
                self._write_block(self._pending)
                self._pending = []
            return
        payload = asdict(ev)
        if isinstance(ev, SessionStarted):
            payload["runs"] = [r.run_id for r in ev.runs]
            c.executemany(
                "INSERT INTO runs (run_id, idx, cell, scenario, launcher, runtime, target, workload, kind,"
                " variant, clients, repeat, hosts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.run_id, r.index, r.cell, r.scenario, r.launcher, r.runtime, r.target, r.workload,
                     r.kind, _json(r.variant), r.clients, r.repeat, _json(list(r.hosts)) if r.hosts else None)
                    for r in ev.runs
                ],
            )  # fmt: skip
            c.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("profile_name", ev.profile_name), ("pairing", ev.pairing), ("started_at", str(ev.at))],
            )
        elif isinstance(ev, HostFacts):
            facts = _json(ev.facts)
            c.execute(
                "INSERT OR REPLACE INTO hosts VALUES (?, ?, ?, ?)",
                (ev.target, facts, ev.at, _row_crc(ev.target, facts, ev.at)),
            )
        elif isinstance(ev, ScenarioFacts):
            facts = _json(ev.facts)
            c.execute(
                "INSERT OR REPLACE INTO scenarios VALUES (?, ?, ?, ?, ?)",
                (ev.scenario, ev.target, facts, ev.at, _row_crc(ev.scenario, ev.target, facts, ev.at)),
            )
        elif isinstance(ev, RunStarted):
            c.execute(
                "UPDATE runs SET status='running', started_at=?, commands=? WHERE run_id=?",
                (ev.at, _json(ev.commands), ev.run_id),
            )
        elif isinstance(ev, RunFinished):
            c.execute(
                "UPDATE runs SET status='finished', finished_at=?, duration=? WHERE run_id=?",
                (ev.at, ev.duration, ev.run_id),
            )
            self._results(ev.run_id, ev.results, partial=False)
            self._hist_totals(ev.run_id)
            self._end_run(ev.run_id)
        elif isinstance(ev, RunFailed):
            c.execute(
                "UPDATE runs SET status='failed', finished_at=?, reason=? WHERE run_id=?",
                (ev.at, ev.reason, ev.run_id),
            )
            self._results(ev.run_id, ev.partial, partial=True)
            self._hist_totals(ev.run_id)
            self._end_run(ev.run_id)
        elif isinstance(ev, RoundFinished) and (ev.outcome or ev.looks > 1):
            # repeats = "auto": the cell stopped adding rounds; the rounds it no longer needs leave the plan
            c.executemany("DELETE FROM runs WHERE run_id=? AND status='planned'", [(r,) for r in ev.dropped])
            row = c.execute("SELECT value FROM meta WHERE key='rounds'").fetchone()
            done = json.loads(row[0]) if row else {}
            done[ev.cell] = {
                "rounds": ev.round + 1,
                "outcome": ev.outcome,
                "note": ev.note,
                "looks": ev.looks,
            }
            c.execute("INSERT OR REPLACE INTO meta VALUES ('rounds', ?)", (_json(done),))
        elif isinstance(ev, SessionFinished):
            c.execute("INSERT OR REPLACE INTO meta VALUES ('status', ?)", (ev.status,))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('finished_at', ?)", (str(ev.at),))
        seq, kind, text = self._next_seq(), type(ev).__name__, _json(payload)
        c.execute(
            "INSERT INTO events (seq, at, kind, run_id, payload, crc) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, ev.at, kind, run_id, text, _row_crc(seq, ev.at, kind, run_id, text)),
        )

    def _end_run(self, run_id: str) -> None:
        """An ended run: its raw streams closed, and its checksum stored."""
        for key in [k for k in self._raw if k[0] == run_id]:
            self._flush_raw(key, close=True)
        c = self._conn
        row = c.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if row is None:
            return
        results = c.execute(
            "SELECT metric, value, unit, partial FROM results WHERE run_id=?", (run_id,)
        ).fetchall()
        totals = c.execute("SELECT data FROM hist_totals WHERE run_id=?", (run_id,)).fetchall()
        c.execute("UPDATE runs SET checksum=? WHERE run_id=?", (_run_checksum(row, results, totals), run_id))

    def _hist_totals(self, run_id: str) -> None:
        totals = self._hist.pop(run_id, {})
        data = fmt.encode_samples([(0, run_id, 0.0, {}, 0, totals, 0.0)])
        self._conn.execute("INSERT OR REPLACE INTO hist_totals VALUES (?, ?)", (run_id, data))

    def _results(self, run_id: str, results: Mapping[str, Metric], *, partial: bool) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
            [(run_id, k, m.value, m.unit, int(partial)) for k, m in results.items()],
        )


_TICK: Any = object()
_COMMIT: Any = object()


@dataclass(frozen=True)
class RunRow:
    spec: RunSpec
    status: str
    started_at: float | None
    finished_at: float | None
    duration: float | None
    commands: list[list[str]]
    reason: str | None


@dataclass(frozen=True)
class ResultRow:
    run: RunRow
    metric: str
    value: float
    unit: str
    partial: bool


class SessionReader:
    """Read a session file, including one whose writer was killed mid-run; never modify it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._copy: Path | None = None
        self._verified = False  # the runs' checksums (see verify)
        check_session_path(self.path)
        try:
            self._conn = self._open()
            # A damaged byte in a text value reads as U+FFFD instead of failing every query on it.
            self._conn.text_factory = _text
            self.meta: dict[str, str] = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            self._discard()
            raise UserError(
                f"session {self.path}: not a readable katatui session file ({exc}); it was left as it is"
            ) from None
        raw_version = self.meta.get("schema_version", "0")
        try:
            version = int(raw_version)
        except ValueError:
            self.close()
            raise UserError(
                f"session {self.path}: schema version {raw_version!r} is not a number; "
                "the file is damaged or was not written by katatui (it was left as it is)"
            ) from None
        if version > SCHEMA_VERSION:
            self.close()
            raise UserError(
                f"session {self.path} was written by a newer katatui (schema version {version}; this "
                f"katatui reads up to {SCHEMA_VERSION}); upgrade katatui to open it"
            )
        self.schema_version = version

    def _open(self) -> sqlite3.Connection:
        """Read-only. A write-ahead log whose writer is gone (killed) is read from a private copy of
        the file and its log; one whose writer is at work is read in place (its index is live)."""
        uri = self.path.resolve().as_uri()
        wal = self.path.with_name(self.path.name + "-wal")
        if not (wal.exists() and wal.stat().st_size > 0):
            return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10)
        if writer_alive(self._checkpointed_meta(uri)):
            return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10)
        self._copy = Path(tempfile.mkdtemp(prefix="katatui-session-"))
        copy = self._copy / "session.katatui"
        try:
            shutil.copyfile(self.path, copy)
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        except OSError as exc:
            raise sqlite3.DatabaseError(f"cannot copy it to read its log: {exc}") from None
        conn = sqlite3.connect(copy)  # SQLite recovers the copy's log; the original is untouched
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            meta = {}
        if meta and writer_alive(meta):  # its writer started after all: read it in place
            conn.close()
            self._discard()
            return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10)
        return conn

    @staticmethod
    def _checkpointed_meta(uri: str) -> dict[str, str]:
        """The meta rows already in the main file, read without touching the log or its index."""
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
            try:
                return dict(conn.execute("SELECT key, value FROM meta").fetchall())
            finally:
                conn.close()
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return {}

    def _discard(self) -> None:
        if self._copy is not None:
            shutil.rmtree(self._copy, ignore_errors=True)
            self._copy = None

    def close(self) -> None:
        self._conn.close()
        self._discard()

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise UserError(
                f"session {self.path}: damaged ({exc}); it was left as it is, and what can be read "
                "was not enough for this"
            ) from None

    @property
    def writer_gone(self) -> bool:
        """The session says it is running, but no katatui is writing it (killed, or the machine stopped)."""
        return self.meta.get("status") == "running" and not writer_alive(self.meta)

    @property
    def status(self) -> str:
        status = self.meta.get("status", "unknown")
        if status == "running":
            return "incomplete (katatui stopped before the end)" if self.writer_gone else "running"
        return status

    def _loads(self, text: Any, what: str) -> Any:
        """A JSON value stored by the writer; anything else is damage, said as such."""
        if not isinstance(text, str | bytes):
            raise SessionDamaged(self.path, f"{what} is not JSON text")
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SessionDamaged(self.path, f"{what} is not valid JSON: {str(exc)[:120]}") from None

    def _object(self, text: Any, what: str) -> dict[str, Any]:
        value = self._loads(text, what)
        if not isinstance(value, dict):
            raise SessionDamaged(self.path, f"{what} is not a JSON object")
        return value

    @property
    def compact(self) -> bool:
        """Schema 2 or later: samples in blocks, raw output compressed, checksums beside them."""
        return self.schema_version >= 2

    def _crc_ok(self, stored: Any, *fields: Any) -> bool:
        return not self.compact or stored == _row_crc(*fields)

    def hosts(self) -> dict[str, dict[str, Any]]:
        if not self.compact:
            rows = self._query("SELECT target, facts FROM hosts")
            return {t: self._object(f, f"the facts of host {t!r}") for t, f in rows}
        out = {}
        for t, f, at, c in self._query("SELECT target, facts, at, crc FROM hosts"):
            if not self._crc_ok(c, t, f, at):
                raise SessionDamaged(self.path, f"the facts of host {str(t)[:40]!r} fail their checksum")
            out[t] = self._object(f, f"the facts of host {t!r}")
        return out

    def scenario_facts(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(scenario, target) -> what the scenario's sandbox looked like from inside."""
        if self.compact:
            out = {}
            for sc, t, f, at, c in self._query("SELECT scenario, target, facts, at, crc FROM scenarios"):
                if not self._crc_ok(c, sc, t, f, at):
                    raise SessionDamaged(
                        self.path, f"the facts of scenario {str(sc)[:40]!r} fail their checksum"
                    )
                out[(sc, t)] = self._object(f, f"the facts of scenario {sc!r}")
            return out
        try:
            rows = self._conn.execute("SELECT scenario, target, facts FROM scenarios").fetchall()
        except sqlite3.OperationalError:  # a session written before this table existed
            return {}
        return {(s, t): self._object(f, f"the facts of scenario {s!r}") for s, t, f in rows}

    def runs(self) -> list[RunRow]:
        """Every planned run. In a session whose writer is gone, a run that never ended is ``unfinished``."""
        cols = (
            "run_id, idx, cell, scenario, launcher, runtime, target, workload, kind, variant, clients,"
            " repeat, status, started_at, finished_at, duration, commands, reason"
        )
        try:
            rows = self._conn.execute(f"SELECT {cols}, hosts FROM runs ORDER BY idx").fetchall()
        except sqlite3.OperationalError:  # a session written before clients could be spread
            rows = [(*r, None) for r in self._query(f"SELECT {cols} FROM runs ORDER BY idx")]
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise UserError(f"session {self.path}: damaged ({exc}); it was left as it is") from None
        gone = self.writer_gone
        out = []
        for r in rows:
            self._check_run(r)
            spec = RunSpec(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                self._object(r[9], f"the variant of run {r[0]!r}"),
                r[10],
                r[11],
                tuple(self._list(r[18], f"the hosts of run {r[0]!r}")) if r[18] else (),
            )
            status = "unfinished" if gone and r[12] not in ENDED else r[12]
            reason = r[17]
            if status == "unfinished" and r[12] == "running":
                reason = "katatui stopped while this run was going"
            out.append(
                RunRow(
                    spec,
                    status,
                    r[13],
                    r[14],
                    r[15],
                    self._list(r[16], f"the commands of run {r[0]!r}") if r[16] else [],
                    reason,
                )
            )
        return out

    def verify(self) -> None:
        """Check every ended run's checksum (its row, results and histogram totals): a damaged run
        is ``SessionDamaged`` naming it. Checked once per reader, before results are read."""
        if not self.compact or self._verified:
            return
        rows = self._query(f"SELECT {RUN_COLUMNS}, checksum FROM runs")
        results: dict[Any, list[tuple[Any, ...]]] = {}
        for r in self._query("SELECT run_id, metric, value, unit, partial FROM results"):
            results.setdefault(r[0], []).append(tuple(r[1:]))
        totals: dict[Any, list[tuple[Any, ...]]] = {}
        for r in self._query("SELECT run_id, data FROM hist_totals"):
            totals.setdefault(r[0], []).append(tuple(r[1:]))
        # (results of a run the file does not list are never read: a run whose result moved
        # away that way fails its own checksum)
        for row in rows:
            run_id, status, checksum = row[0], row[12], row[-1]
            if status not in ENDED and checksum is None:
                if results.get(run_id) or totals.get(run_id):
                    raise SessionDamaged(
                        self.path,
                        f"run {str(run_id)[:40]!r} has results but never ended (its state is damaged)",
                    )
                continue
            if checksum != _run_checksum(row[:-1], results.get(run_id, []), totals.get(run_id, [])):
                raise SessionDamaged(
                    self.path, f"run {str(run_id)[:40]!r} fails its checksum (its results or record changed)"
                )
        self._verified = True

    def _list(self, text: Any, what: str) -> list[Any]:
        value = self._loads(text, what)
        if not isinstance(value, list):
            raise SessionDamaged(self.path, f"{what} is not a JSON list")
        return value

    def _check_run(self, r: tuple[Any, ...]) -> None:
        """A run row as the writer stores it: its text, whole numbers and times of the right types."""
        texts = (0, 2, 3, 4, 6, 7, 8, 12)
        if any(not isinstance(r[i], str) for i in texts) or not (r[5] is None or isinstance(r[5], str)):
            raise SessionDamaged(self.path, f"run {str(r[0])[:40]!r} has a field that is not text")
        if any(not isinstance(r[i], int) or r[i] < 0 for i in (1, 10, 11)):
            raise SessionDamaged(
                self.path, f"run {r[0]!r} has an index, clients or repeat that is not a count"
            )
        if any(
            not (r[i] is None or (isinstance(r[i], int | float) and math.isfinite(r[i])))
            for i in (13, 14, 15)
        ):
            raise SessionDamaged(self.path, f"run {r[0]!r} has a time that is not a number")
        if not (r[17] is None or isinstance(r[17], str)):
            raise SessionDamaged(self.path, f"run {r[0]!r} has a reason that is not text")

    def results(self) -> list[ResultRow]:
        self.verify()
        runs = {r.spec.run_id: r for r in self.runs()}
        rows = self._query("SELECT run_id, metric, value, unit, partial FROM results")
        for r in rows:
            if not (isinstance(r[1], str) and isinstance(r[3], str)):
                raise SessionDamaged(
                    self.path, f"a result of run {r[0]!r} has a name or unit that is not text"
                )
            if isinstance(r[2], bool) or not isinstance(r[2], int | float) or not math.isfinite(r[2]):
                raise SessionDamaged(
                    self.path, f"result {r[1]!r} of run {r[0]!r} is not a number ({r[2]!r:.40})"
                )
        out = [ResultRow(runs[r[0]], r[1], r[2], r[3], bool(r[4])) for r in rows if r[0] in runs]
        out.sort(key=lambda x: (x.run.spec.index, x.metric))
        return out

    # -- events -------------------------------------------------------------------------------------
    def records(self) -> Iterator[tuple[float, str, str | None, dict[str, Any] | fmt.SampleRow]]:
        """Every event in order as (at, kind, run_id, payload); a sample of a schema-2 session comes
        as its :data:`~katatui.core.sessionformat.SampleRow` instead of a dict (what a replay reads
        fastest). Damage is ``SessionDamaged`` naming the file and the run."""
        if not self.compact:
            yield from self.events()
            return
        self.verify()
        try:
            others = self._conn.execute(
                "SELECT seq, at, kind, run_id, payload, crc FROM events ORDER BY seq"
            ).fetchall()
            blocks = self._conn.execute(
                "SELECT first_seq, last_seq, count, runs, data, crc FROM samples ORDER BY first_seq"
            )
            i, n = 0, len(others)
            upcoming = others[0][0] if others else math.inf  # the next other event's place
            for block in blocks:
                for row in self._block(block):
                    if row[0] > upcoming:
                        while i < n and others[i][0] < row[0]:
                            yield self._event_row(others[i])
                            i += 1
                        upcoming = others[i][0] if i < n else math.inf
                    yield row[6], "Sample", row[1], row
            while i < n:
                yield self._event_row(others[i])
                i += 1
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise UserError(f"session {self.path}: damaged ({exc}); it was left as it is") from None

    def _event_row(self, r: tuple[Any, ...]) -> tuple[float, str, str | None, dict[str, Any]]:
        seq, at, kind, run_id, payload, c = r
        if not self._crc_ok(c, seq, at, kind, run_id, payload):
            what = f"of run {str(run_id)[:40]!r} " if run_id else ""
            raise SessionDamaged(self.path, f"a {str(kind)[:40]} event {what}fails its checksum")
        return self._event(at, kind, run_id, payload)

    def _block(self, block: tuple[Any, ...]) -> Iterator[fmt.SampleRow]:
        first, last, count, runs, data, c = block
        if not isinstance(data, bytes) or not self._crc_ok(c, first, last, count, runs, data):
            raise SessionDamaged(self.path, f"the samples of runs {str(runs)[:80]} fail their checksum")
        try:
            rows = list(fmt.decode_samples(data))
        except fmt.FormatError as exc:
            raise SessionDamaged(self.path, f"the samples of runs {str(runs)[:80]}: {exc}") from None
        if len(rows) != count or (rows and (rows[0][0] != first or rows[-1][0] != last)):
            raise SessionDamaged(self.path, f"the samples of runs {str(runs)[:80]} do not add up")
        return iter(rows)

    def _blocks_of(self, run_id: str | None) -> Iterator[fmt.SampleRow]:
        """The samples of one run (every run: None), decoded from their blocks."""
        for block in self._query(
            "SELECT first_seq, last_seq, count, runs, data, crc FROM samples ORDER BY first_seq"
        ):
            if run_id is not None and json.dumps(run_id) not in str(block[3]):
                continue
            for row in self._block(block):
                if run_id is None or row[1] == run_id:
                    yield row

    @staticmethod
    def _sample_dict(row: fmt.SampleRow) -> dict[str, Any]:
        return {
            "run_id": row[1], "t": row[2], "metrics": dict(row[3]), "client": row[4],
            "hist": {k: dict(v) for k, v in row[5].items()}, "at": row[6],
        }  # fmt: skip

    def events(self) -> Iterator[tuple[float, str, str | None, dict[str, Any]]]:
        if self.compact:
            for at, kind, run_id, p in self.records():
                yield at, kind, run_id, (self._sample_dict(p) if isinstance(p, tuple) else p)
            return
        try:
            for at, kind, run_id, payload in self._conn.execute(
                "SELECT at, kind, run_id, payload FROM events ORDER BY seq"
            ):
                yield self._event(at, kind, run_id, payload)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise UserError(f"session {self.path}: damaged ({exc}); it was left as it is") from None

    def samples(self, run_id: str) -> list[dict[str, Any]]:
        if self.compact:
            return [self._sample_dict(r) for r in self._blocks_of(run_id)]
        rows = self._query(
            "SELECT payload FROM events WHERE kind='Sample' AND run_id=? ORDER BY seq", (run_id,)
        )
        return [self._object(r[0], f"a sample of run {run_id!r}") for r in rows]

    def _events_of(self, run_id: str) -> Iterator[tuple[float, str, str | None, dict[str, Any]]]:
        if self.compact:
            for ev in self.events():
                if ev[2] == run_id:
                    yield ev
            return
        for at, kind, rid, payload in self._query(
            "SELECT at, kind, run_id, payload FROM events WHERE run_id=? ORDER BY seq", (run_id,)
        ):
            yield self._event(at, kind, rid, payload)

    def _event(
        self, at: Any, kind: Any, run_id: Any, payload: Any
    ) -> tuple[float, str, str | None, dict[str, Any]]:
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
            raise SessionDamaged(self.path, f"an event's time is not a number ({at!r:.40})")
        if not isinstance(kind, str) or not (run_id is None or isinstance(run_id, str)):
            raise SessionDamaged(self.path, "an event's kind or run is not text")
        return float(at), kind, run_id, self._object(payload, f"a {kind[:40]} event")

    def _kind(self, kind: str) -> list[tuple[float, str, str | None, dict[str, Any]]]:
        if self.compact:
            rows = self._query(
                "SELECT seq, at, kind, run_id, payload, crc FROM events WHERE kind=? ORDER BY seq", (kind,)
            )
            return [self._event_row(r) for r in rows]
        rows = self._query("SELECT at, kind, run_id, payload FROM events WHERE kind=? ORDER BY seq", (kind,))
        return [self._event(*r) for r in rows]

    # -- raw output ---------------------------------------------------------------------------------
    def raw(self, run_id: str, client: int = 0, stream: str = "stdout") -> bytes:
        if not self.compact:
            rows = self._query(
                "SELECT data FROM raw WHERE run_id=? AND client=? AND stream=? ORDER BY seq",
                (run_id, client, stream),
            )
            return b"".join(r[0] if isinstance(r[0], bytes) else str(r[0]).encode() for r in rows)
        rows = self._query(
            "SELECT run_id, client, stream, frame, size, text, nums, crc FROM raw_chunks"
            " WHERE run_id=? AND client=? AND stream=? ORDER BY seq",
            (run_id, client, stream),
        )
        where = f"the raw {str(stream)[:10]} of run {str(run_id)[:40]!r} (client {client})"
        frames: dict[Any, list[tuple[bytes, bytes]]] = {}
        expected: dict[Any, int] = {}
        for r in rows:
            if not (isinstance(r[5], bytes) and isinstance(r[6], bytes)) or not self._crc_ok(r[7], *r[:7]):
                raise SessionDamaged(self.path, f"{where} fails its checksum")
            frames.setdefault(r[3], []).append((r[5], r[6]))
            expected[r[3]] = expected.get(r[3], 0) + int(r[4])
        out = []
        for frame, chunks in sorted(frames.items()):
            try:
                data = fmt.decode_raw(chunks)
            except fmt.FormatError as exc:
                raise SessionDamaged(self.path, f"{where}: {exc}") from None
            if len(data) != expected[frame]:
                raise SessionDamaged(self.path, f"{where} is not the length recorded")
            out.append(data)
        return b"".join(out)

    def run_facts(self) -> dict[str, dict[str, Any]]:
        """run_id -> the conditions the run met (the fairness record), merged in arrival order."""
        out: dict[str, dict[str, Any]] = {}
        for _at, _kind, run_id, payload in self._kind("RunFacts"):
            facts = payload.get("facts", {})
            if not isinstance(facts, dict):
                raise SessionDamaged(self.path, f"the facts of run {run_id!r} are not a JSON object")
            out.setdefault(str(run_id), {}).update(facts)
        return out

    def histogram_totals(self) -> dict[tuple[str, str, str], dict[int, int]]:
        """(cell, scenario, histogram name) -> bucket -> count, summed over every sample and client
        of the scenario's runs in that cell. Ended runs have their totals stored by the writer; the
        samples of other runs (or of a session from before) are summed from the samples."""
        self.verify()
        try:
            stored = {r[0] for r in self._conn.execute("SELECT DISTINCT run_id FROM hist_totals").fetchall()}
        except sqlite3.OperationalError:  # a session written before the table existed
            stored = set()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise UserError(f"session {self.path}: damaged ({exc}); it was left as it is") from None
        runs = {r.spec.run_id: r for r in self.runs()}
        use_stored = {rid for rid, r in runs.items() if r.status in ENDED and rid in stored}
        rows: list[tuple[str, str, int, int]] = []
        try:
            if use_stored and self.compact:
                for rid, data in self._conn.execute("SELECT run_id, data FROM hist_totals"):
                    if rid in use_stored:
                        rows += [(rid, name, b, c) for name, bins in self._totals(rid, data).items()
                                 for b, c in bins.items()]  # fmt: skip
            elif use_stored:
                rows += [
                    r
                    for r in self._conn.execute("SELECT run_id, name, bucket, count FROM hist_totals")
                    if r[0] in use_stored
                ]
            rest = [rid for rid in runs if rid not in use_stored]
            if rest and self.compact:
                sums: dict[tuple[str, str, int], int] = {}
                for row in self._blocks_of(None):
                    if row[1] in rest:
                        for name, bins in row[5].items():
                            for b, c in bins.items():
                                sums[(row[1], name, b)] = sums.get((row[1], name, b), 0) + c
                rows += [(rid, name, b, c) for (rid, name, b), c in sums.items()]
            for rid in rest if not self.compact else ():
                rows += self._conn.execute(
                    "SELECT ?, h.key, b.key, sum(b.value) FROM events e,"
                    " json_each(e.payload, '$.hist') h, json_each(h.value) b"
                    " WHERE e.kind = 'Sample' AND e.run_id = ? GROUP BY h.key, b.key",
                    (rid, rid),
                ).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise UserError(f"session {self.path}: damaged ({exc}); it was left as it is") from None
        out: dict[tuple[str, str, str], dict[int, int]] = {}
        for run_id, name, bucket, count in rows:
            run = runs.get(run_id)
            if run is None:
                continue
            try:
                b, n = int(bucket), int(count)
            except (TypeError, ValueError, OverflowError):
                raise SessionDamaged(
                    self.path,
                    f"a latency histogram of run {run_id!r} holds {bucket!r:.40}: not a bucket and a count",
                ) from None
            target = out.setdefault((run.spec.cell, run.spec.scenario, str(name)), {})
            target[b] = target.get(b, 0) + n
        return out

    def _totals(self, run_id: str, data: Any) -> Mapping[str, Mapping[int, int]]:
        try:
            rows = list(fmt.decode_samples(data)) if isinstance(data, bytes) else []
        except fmt.FormatError as exc:
            raise SessionDamaged(self.path, f"the latency totals of run {run_id[:40]!r}: {exc}") from None
        if len(rows) != 1:
            raise SessionDamaged(self.path, f"the latency totals of run {run_id[:40]!r} are not one block")
        return rows[0][5]

    def raw_streams(self) -> list[tuple[str, int, str, int]]:
        """(run_id, client, stream, bytes) for every raw output the session holds."""
        table, size = ("raw_chunks", "sum(size)") if self.compact else ("raw", "sum(length(data))")
        rows = self._query(
            f"SELECT run_id, client, stream, {size} FROM {table} GROUP BY run_id, client, stream"
            " ORDER BY min(seq)"
        )
        if any(not isinstance(r[1], int) or not isinstance(r[3], int) for r in rows):
            raise SessionDamaged(self.path, "a raw output's client or length is not a number")
        return [(r[0], int(r[1]), str(r[2]), int(r[3])) for r in rows]

    def logs(self) -> list[LogMessage]:
        out = []
        for at, _kind, _, p in self._kind("LogMessage"):
            level, text = p.get("level"), p.get("text")
            if level not in ("info", "warning", "error") or not isinstance(text, str):
                raise SessionDamaged(self.path, "a log message has no level or text")
            out.append(LogMessage(level, text, p.get("run_id"), at))
        return out


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents readable by their owner only (0700); existing
    directories are left as they are."""
    missing = []
    for p in (path, *path.parents):
        if p.exists():
            break
        missing.append(p)
    for p in reversed(missing):
        with contextlib.suppress(FileExistsError):
            p.mkdir(mode=0o700)
            os.chmod(p, 0o700)  # whatever the umask


def check_session_path(path: Path) -> None:
    """A session given on the command line is a regular file (a symlink to one is fine): a missing
    path, a directory, a FIFO or a device is refused by what it is, before anything opens it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UserError(f"session {path}: no such file") from None
    except OSError as exc:
        raise UserError(f"session {path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISREG(st.st_mode):
        return
    what = (
        "a directory" if stat.S_ISDIR(st.st_mode)
        else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode)
        else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "a socket" if stat.S_ISSOCK(st.st_mode)
        else "not a regular file"
    )  # fmt: skip
    target = f" (it points to {os.path.realpath(path)})" if path.is_symlink() else ""
    raise UserError(f"session {path}: {what}{target}, not a session file (.katatui)")


def writer_alive(meta: Mapping[str, str]) -> bool:
    """Whether the katatui that wrote a session is still running (only knowable on its own host)."""
    pid, host = meta.get("writer_pid"), meta.get("writer_host")
    if meta.get("status", "running") != "running":
        return False
    if not pid or not pid.isdigit():
        return False  # a session from before writers were recorded: it is not being written now
    if host != socket.gethostname():
        return True  # another machine's katatui: assume it is still at work
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
