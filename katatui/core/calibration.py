"""Noise bands measured by ``katatui calibrate``: the baseline scenario run against itself (A/A) on
a target, per cell and metric, kept in the data directory (``calibration.json``) for later runs on
that target to use as their noise band when the session has no A/A pair of its own.

The file: ``{"targets": {ADDRESS: {"LAUNCHER:RUNTIME": {CELL: {METRIC: {"band": 0.021,
"calibrated_at": ISO-8601, "rounds": 5, "session": PATH}}}}}}``. A run records the bands it used in
the reference scenario's facts (``noise_bands``), so that a report reads them from the session
wherever it is made.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from katatui.core.errors import UserError
from katatui.core.export import atomic_text
from katatui.core.library import data_dir, private_data_dirs

FILE = "calibration.json"


def path() -> Path:
    return data_dir() / FILE


def runtime_key(launcher: str, runtime: str | None) -> str:
    """How a scenario's runtime is keyed: ``docker:runc``, ``bare:``."""
    return f"{launcher}:{runtime or ''}"


def load(file: Path | None = None) -> dict[str, Any]:
    """The whole file (empty when there is none); damage is a UserError naming it."""
    file = file or path()
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"targets": {}}
    except (OSError, ValueError) as exc:
        raise UserError(f"{file}: not a calibration file katatui can read ({exc}); move it away and "
                        "calibrate again") from None  # fmt: skip
    if not isinstance(doc, dict) or not isinstance(doc.get("targets"), dict):
        raise UserError(f'{file}: not a calibration file (no "targets"); move it away and calibrate again')
    return doc


def bands_for(address: str, launcher: str, runtime: str | None, file: Path | None = None) -> dict[str, Any]:
    """``{cell: {metric: {...}}}`` stored for that runtime on the target at ``address``; {} when none,
    or when the file cannot be read (a run then uses the default band, and says so)."""
    with contextlib.suppress(UserError):
        found = load(file)["targets"].get(address, {}).get(runtime_key(launcher, runtime), {})
        return found if isinstance(found, dict) else {}
    return {}


def store(address: str, launcher: str, runtime: str | None, bands: Mapping[str, Mapping[str, float]], *,
          rounds: int, session: str, file: Path | None = None) -> Path:  # fmt: skip
    """Keep ``bands`` (cell -> metric -> band) for that runtime on that target, replacing what was
    stored for the same cells; returns the file."""
    if file is None:
        private_data_dirs()
    file = file or path()
    doc = load(file)
    entry = doc["targets"].setdefault(address, {}).setdefault(runtime_key(launcher, runtime), {})
    when = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for cell, metrics in bands.items():
        entry[cell] = {m: {"band": round(b, 6), "calibrated_at": when, "rounds": rounds, "session": session}
                       for m, b in metrics.items()}  # fmt: skip
    with atomic_text(file) as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    return file
