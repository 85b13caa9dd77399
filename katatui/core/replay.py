"""Typed events back from a session file: what a replay feeds listeners, the same way a live run does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from katatui.core.errors import SessionDamaged, describe
from katatui.core.events import (
    Comparison,
    Event,
    HostFacts,
    LogMessage,
    Metric,
    RawOutput,
    RoundFinished,
    RunFacts,
    RunFailed,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    ScenarioFacts,
    SessionFinished,
    SessionStarted,
)
from katatui.core.session import SessionReader, SessionWriter
from katatui.core.sessionformat import SampleRow


def _metrics(d: dict[str, Any]) -> dict[str, Metric]:
    return {k: Metric(float(v["value"]), str(v["unit"])) for k, v in d.items()}


def _hist(d: dict[str, Any]) -> dict[str, dict[int, int]]:
    return {name: {int(k): int(v) for k, v in bins.items()} for name, bins in d.items()}


def events(reader: SessionReader) -> Iterator[Event]:
    """Every recorded event in order (raw tool output is left out: it is in ``reader.raw``). An
    event that is not what the writer stores is ``SessionDamaged``, naming the file."""
    runs = {r.spec.run_id: r.spec for r in reader.runs()}
    for at, kind, _run_id, p in reader.records():
        if isinstance(p, tuple):  # a sample of a compact session: already typed
            yield _sample(p)
            continue
        try:
            ev = _event(runs, at, kind, p)
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
            what = f"a {kind[:40]} event holds {describe(exc)}"
            raise SessionDamaged(reader.path, what) from None
        if ev is not None:
            yield ev


def _sample(row: SampleRow) -> Sample:
    _seq, run_id, t, metrics, client, hist, at = row
    return Sample(run_id, t, metrics, client, hist, at)


def _event(runs: dict[str, RunSpec], at: float, kind: str, p: dict[str, Any]) -> Event | None:
    ev: Event | None = None
    if kind == "SessionStarted":
        ev = SessionStarted(
            p["session_id"], p["profile_name"], p["pairing"],
            tuple(runs[r] for r in p["runs"] if r in runs), at=at,
        )  # fmt: skip
    elif kind == "HostFacts":
        ev = HostFacts(p["target"], p["facts"], at=at)
    elif kind == "ScenarioFacts":
        ev = ScenarioFacts(p["scenario"], p["target"], p["facts"], at=at)
    elif kind == "RunStarted":
        ev = RunStarted(p["run_id"], tuple(tuple(c) for c in p["commands"]), at=at)
    elif kind == "Sample":
        ev = Sample(p["run_id"], p["t"], p["metrics"], p.get("client", 0), _hist(p.get("hist", {})), at=at)
    elif kind == "RunFacts":
        ev = RunFacts(p["run_id"], p["facts"], at=at)
    elif kind == "RunFinished":
        ev = RunFinished(p["run_id"], _metrics(p["results"]), p["duration"], at=at)
    elif kind == "RunFailed":
        ev = RunFailed(p["run_id"], p["reason"], _metrics(p.get("partial", {})), at=at)
    elif kind == "LogMessage":
        ev = LogMessage(p["level"], p["text"], p.get("run_id"), at=at)
    elif kind == "RoundFinished":
        ev = RoundFinished(
            p["cell"], p["round"], tuple(Comparison(**c) for c in p["comparisons"]), p.get("outcome", ""),
            p.get("note", ""), tuple(p.get("dropped", ())), int(p.get("looks", 1)), at=at,
        )  # fmt: skip
    elif kind == "SessionFinished":
        ev = SessionFinished(p["status"], at=at)
    return ev


def rewrite(source: str | Path, target: str | Path) -> None:
    """A copy of session ``source`` at ``target`` in the current format (its events, results and
    every raw output, byte for byte; each run's raw output before its end)."""
    with SessionReader(source) as reader:
        meta = reader.meta
        raw: dict[str, list[tuple[int, str]]] = {}
        for run_id, client, stream, _size in reader.raw_streams():
            raw.setdefault(run_id, []).append((client, stream))
        writer = SessionWriter(
            target, session_id=meta.get("session_id", ""), profile_text=meta.get("profile_toml", ""),
            profile_json=meta.get("profile_json", "{}"),
        )  # fmt: skip
        try:
            for ev in events(reader):
                if isinstance(ev, RunFinished | RunFailed):
                    for client, stream in raw.pop(ev.run_id, []):
                        data = reader.raw(ev.run_id, client, stream)
                        writer(RawOutput(ev.run_id, client, stream, data, at=ev.at))  # type: ignore[arg-type]
                writer(ev)
            for run_id, streams in raw.items():
                for client, stream in streams:
                    data = reader.raw(run_id, client, stream)
                    writer(RawOutput(run_id, client, stream, data))  # type: ignore[arg-type]
        finally:
            writer.close()
        keep = {k: v for k, v in meta.items() if k not in ("writer_pid", "writer_host", "schema_version",
                                                            "katatui_version")}  # fmt: skip
    conn = sqlite3.connect(target)
    try:
        with conn:
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", keep.items())
    finally:
        conn.close()
