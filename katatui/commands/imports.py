"""``katatui import KIND FILE... --scenario NAME --out SESSION``: bring existing results in.

KIND is ``fio`` (JSON or json+ output), ``iperf3`` (``iperf3 -J`` output) or ``ab`` (the report ab
prints). Each file becomes one finished run of the scenario, written through the same session
store as a live run, so it reports and compares like katatui's own measurements: its cell is
matched by workload, variant (fio: rw, bs, iodepth, numjobs; iperf3: streams, reverse; ab:
concurrency, keepalive) and clients (1). The file is kept as the run's raw output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katatui.core.cell import Cell
from katatui.core.errors import UserError
from katatui.core.events import (
    HostFacts,
    LogMessage,
    Metric,
    RawOutput,
    RunFinished,
    RunSpec,
    RunStarted,
    SessionFinished,
    SessionStarted,
)
from katatui.core.library import new_session_id
from katatui.core.schema import NAME_RE
from katatui.core.session import SessionWriter
from katatui.core.workloads.ab import parser as ab
from katatui.core.workloads.fio import parser as fio
from katatui.core.workloads.iperf3 import parser as iperf3

HELP = {
    "fio": "fio JSON or json+ output files (kubestr, Kata metrics scripts, your own)",
    "iperf3": "iperf3 -J output files (one JSON object each)",
    "ab": "ab's report as it printed it on stdout",
}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("import", help="build a session from results you already have", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, text in HELP.items():
        f = kinds.add_parser(kind, help=text)
        f.add_argument("files", nargs="+", type=Path)
        f.add_argument("--scenario", required=True, help="the scenario these results belong to, e.g. kata-9p")
        f.add_argument("--runtime", help="the runtime they were measured under, if any")
        f.add_argument("--host", default="imported", help="the host they were measured on")
        f.add_argument("--out", required=True, type=Path, help="the session file to write")
        f.set_defaults(func=run)


@dataclass(frozen=True)
class Imported:
    path: Path
    data: bytes
    variant: dict[str, Any]
    results: dict[str, Metric]
    duration: float
    notes: tuple[str, ...] = ()  # what the user should know about a usable result


def _fio(path: Path, data: bytes) -> Imported:
    try:
        snap, failed = fio.read_fio_document(data)
    except fio.FioParseError as exc:
        raise UserError(f"{path}: {exc}") from None
    if failed is not None:  # as a live run's classification would have it: a failed run, not a result
        raise UserError(f"{path}: not a finished fio result: {failed}; nothing was imported")
    results = {k: Metric(v, u) for k, (v, u) in fio.final_metrics(snap).items()}
    return Imported(path, data, _variant(snap), results, snap.t)


def _iperf3(path: Path, data: bytes) -> Imported:
    try:
        result = iperf3.parse_iperf3_json(data)
    except iperf3.Iperf3ParseError as exc:
        raise UserError(f"{path}: {exc}") from None
    if result.error:
        raise UserError(f"{path}: iperf3 reported an error, not a result: {result.error}")
    results = {k: Metric(v, u) for k, (v, u) in iperf3.final_metrics(result).items()}
    if not results:
        raise UserError(f"{path}: the iperf3 -J output holds no throughput figures")
    variant = {"streams": result.streams or 1, "reverse": result.reverse}
    return Imported(path, data, variant, results, result.seconds or 0.0)


def _ab(path: Path, data: bytes) -> Imported:
    try:
        result = ab.parse_ab_output(data)
    except ab.AbParseError as exc:
        raise UserError(f"{path}: {exc}") from None
    failed = ab.classify_failure(result, 0, b"", data)
    if failed is not None:
        raise UserError(f"{path}: not a usable ab result: {failed}; nothing was imported")
    notes = ab.result_notes(result)
    if result.non_2xx_responses and result.non_2xx_responses >= result.complete_requests:
        notes.insert(
            0, "every response was an error page (not 2xx): these figures measure errors, not the page"
        )
    if ab.stopped_at_time_limit(result):
        notes.append(
            f"ab stopped after {result.time_taken_s:g} s, a whole number of seconds: it was cut short by "
            f"its time limit (-t) after {result.complete_requests} requests, fewer than -n if one was given"
        )
    results = {k: Metric(v, u) for k, (v, u) in ab.final_metrics(result).items()}
    variant = {"concurrency": result.concurrency or 1, "keepalive": result.keepalive_requests is not None}
    return Imported(path, data, variant, results, result.time_taken_s, tuple(notes))


PARSERS: dict[str, Callable[[Path, bytes], Imported]] = {"fio": _fio, "iperf3": _iperf3, "ab": _ab}


def _variant(snap: fio.FioSnapshot) -> dict[str, Any]:
    jobs = snap.raw.get("jobs") or [{}]
    opts = {**snap.raw.get("global options", {}), **(jobs[0].get("job options") or {})}
    out: dict[str, Any] = {k: opts[k] for k in ("rw", "bs") if k in opts}
    # fio's own defaults, so that a file matches katatui's cells, which always name them
    for key in ("iodepth", "numjobs"):
        value = str(opts.get(key, "1"))
        out[key] = int(value) if value.isdigit() else value
    return out


def run(args: argparse.Namespace) -> int:
    if not NAME_RE.match(args.scenario):
        raise UserError(f"--scenario {args.scenario!r}: expected letters, digits, '.', '_' or '-'")
    parse = PARSERS[args.kind]
    parsed: list[Imported] = []
    for path in args.files:
        if path.exists() and not path.is_file():  # a FIFO would block the read, a directory fail it
            raise UserError(f"{path}: not a regular file; give the file a tool's output was saved to")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        parsed.append(parse(path, data))
    session_id = new_session_id()
    runs: list[RunSpec] = []
    for i, item in enumerate(parsed):
        cell = Cell(args.kind, args.kind, item.variant, 1).key
        same = sum(1 for r in runs if r.cell == cell)
        runs.append(RunSpec(f"import{i:04d}", i, cell, args.scenario, "import", args.runtime, args.host,
                            args.kind, args.kind, item.variant, 1, same))  # fmt: skip
    name = f"import:{args.scenario}"
    files = [str(item.path) for item in parsed]
    profile_json = json.dumps({"name": name, "kind": args.kind, "files": files})
    writer = SessionWriter(args.out, session_id=session_id, profile_text="", profile_json=profile_json)
    try:
        writer(SessionStarted(session_id, name, "sequential", tuple(runs)))
        writer(HostFacts(args.host, {"imported_from": files}))
        for spec, item in zip(runs, parsed, strict=True):
            writer(RunStarted(spec.run_id, ((f"{args.kind}-import", str(item.path)),)))
            writer(RawOutput(spec.run_id, 0, "stdout", item.data))
            for note in item.notes:
                writer(LogMessage("warning", f"{item.path}: {note}", spec.run_id))
            writer(RunFinished(spec.run_id, item.results, item.duration))
            print(f"{item.path}: {spec.cell}: {len(item.results)} metrics")
            for note in item.notes:
                print(f"{item.path}: warning: {note}", file=sys.stderr)
        writer(SessionFinished("completed"))
    finally:
        writer.close()
    print(f"session saved: {args.out}")
    return 0
