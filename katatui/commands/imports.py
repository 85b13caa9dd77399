"""``katatui import fio FILE... --scenario NAME --out SESSION``: bring existing fio results in.

Each file becomes one finished run of the scenario, written through the same session store as a
live run, so it reports and compares like katatui's own measurements. The file is kept as the
run's raw output.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from katatui.commands.common import new_session_id
from katatui.core.errors import UserError
from katatui.core.events import (
    HostFacts,
    Metric,
    RawOutput,
    RunFinished,
    RunSpec,
    RunStarted,
    SessionFinished,
    SessionStarted,
)
from katatui.core.schema import NAME_RE
from katatui.core.session import SessionWriter
from katatui.core.workloads import fio


def add_parser(sub: Any) -> None:
    p = sub.add_parser("import", help="build a session from results you already have")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    f = kinds.add_parser(
        "fio", help="fio JSON or json+ output files (kubestr, Kata metrics scripts, your own)"
    )
    f.add_argument("files", nargs="+", type=Path)
    f.add_argument("--scenario", required=True, help="the scenario these results belong to, e.g. kata-9p")
    f.add_argument("--runtime", help="the runtime they were measured under, if any")
    f.add_argument("--host", default="imported", help="the host they were measured on")
    f.add_argument("--out", required=True, type=Path, help="the session file to write")
    f.set_defaults(func=run)


def _variant(snap: fio.FioSnapshot) -> dict[str, Any]:
    jobs = snap.raw.get("jobs") or [{}]
    opts = {**snap.raw.get("global options", {}), **(jobs[0].get("job options") or {})}
    keys = ("rw", "bs", "iodepth", "numjobs")
    return {k: opts[k] for k in keys if k in opts}


def run(args: argparse.Namespace) -> int:
    if not NAME_RE.match(args.scenario):
        raise UserError(f"--scenario {args.scenario!r}: expected letters, digits, '.', '_' or '-'")
    parsed = []
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{path}: cannot be read: {exc}") from None
        try:
            snap = fio.parse_fio_document(data)
        except fio.FioParseError as exc:
            raise UserError(f"{path}: {exc}") from None
        parsed.append((path, data, snap))
    session_id = new_session_id()
    runs: list[RunSpec] = []
    for i, (_, _, snap) in enumerate(parsed):
        variant = _variant(snap)
        cell = f"fio[{','.join(f'{k}={v}' for k, v in variant.items())},clients=1]"
        same = sum(1 for r in runs if r.cell == cell)
        runs.append(RunSpec(f"import{i:04d}", i, cell, args.scenario, "import", args.runtime, args.host,
                            "fio", "fio", variant, 1, same))  # fmt: skip
    name = f"import:{args.scenario}"
    files = [str(p) for p, _, _ in parsed]
    profile_json = json.dumps({"name": name, "files": files})
    writer = SessionWriter(args.out, session_id=session_id, profile_text="", profile_json=profile_json)
    try:
        writer(SessionStarted(session_id, name, "sequential", tuple(runs)))
        writer(HostFacts(args.host, {"imported_from": files}))
        for spec, (path, data, snap) in zip(runs, parsed, strict=True):
            writer(RunStarted(spec.run_id, (("fio-import", str(path)),)))
            writer(RawOutput(spec.run_id, 0, "stdout", data))
            results = {k: Metric(v, u) for k, (v, u) in fio.final_metrics(snap).items()}
            writer(RunFinished(spec.run_id, results, snap.t))
            print(f"{path}: {spec.cell}: {len(results)} metrics")
        writer(SessionFinished("completed"))
    finally:
        writer.close()
    print(f"session saved: {args.out}")
    return 0
