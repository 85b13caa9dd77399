"""Bounds per metric for CI, in the style of the Kata metrics ``checkmetrics`` tool.

A TOML file of ``[[metric]]`` entries, as checkmetrics reads (name, type, description,
checktype, minval/maxval, or midval with minpercent/maxpercent), with katatui's own fields to
say which figures an entry checks::

    [[metric]]
    name = "randread-iops-runc"
    type = "katatui"                 # optional; checkmetrics' json/csv do not apply here
    description = "4k random read IOPS under runc"
    workload = "fio"                 # the workload kind
    variant = "rw=randread,bs=4k"    # optional: these key=value pairs must be in the cell's variant
    clients = 1                      # optional
    scenario = "runc"                # optional: without it every scenario is checked
    metric = "read_iops"
    relative_to = "bare"             # optional: check the ratio to this scenario instead
    checktype = "mean"               # mean | median | min | max | sd | cov
    midval = 20000.0
    minpercent = 50.0                # the range is midval * (1 - minpercent/100) ..
    maxpercent = 100.0               #               midval * (1 + maxpercent/100), inclusive

``checktype = "verdict"`` checks the verdict of a scenario against ``relative_to`` (default: the
session's baseline) by the report's own rule (paired rounds, noise band), with the verdicts that pass
(``allowed``) or those that fail (``refused``)::

    [[metric]]
    name = "gvisor-randread-not-worse"
    workload = "fio"
    variant = "rw=randread"
    scenario = "runsc"
    relative_to = "runc"
    metric = "read_iops"
    checktype = "verdict"
    refused = ["worse"]              # or allowed = ["better", "same"]

An entry that matches no figures fails, as checkmetrics fails an entry without a results file.
Any failure makes ``katatui compare --threshold`` exit with ``THRESHOLD_FAILED`` (3).
"""

from __future__ import annotations

import math
import statistics
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katatui.core.errors import UserError
from katatui.core.report import summarize
from katatui.core.session import SessionReader
from katatui.core.stats import VERDICTS

THRESHOLD_FAILED = 3  # exit status when a bound is not met (2 is a usage error, 1 a failed run)
CHECKTYPES = ("mean", "median", "min", "max", "sd", "cov", "verdict")
FIELDS = {
    "name", "type", "description", "checkvar", "workload", "variant", "clients", "scenario", "metric",
    "relative_to", "checktype", "minval", "maxval", "midval", "minpercent", "maxpercent", "allowed",
    "refused",
}  # fmt: skip


@dataclass(frozen=True)
class Bound:
    name: str
    workload: str
    metric: str
    checktype: str
    low: float
    high: float
    description: str = ""
    variant: tuple[tuple[str, str], ...] = ()
    clients: int | None = None
    scenario: str | None = None
    relative_to: str | None = None
    allowed: tuple[str, ...] = ()  # checktype "verdict": the verdicts that pass

    def fits(self, kind: str, variant: dict[str, Any], clients: int) -> bool:
        if kind != self.workload or (self.clients is not None and clients != self.clients):
            return False
        return all(str(variant.get(k)) == v for k, v in self.variant)


@dataclass(frozen=True)
class Check:
    bound: Bound
    session: str  # the session file
    scenario: str
    cell: str
    value: float | None
    n: int
    sd: float | None
    cov: float | None
    passed: bool
    reason: str = ""
    verdict: str | None = None  # checktype "verdict": the scenario's verdict (value: its ratio)

    def to_json(self) -> dict[str, object]:
        b = self.bound
        doc: dict[str, object] = {
            "result": "pass" if self.passed else "fail", "name": b.name, "session": self.session,
            "scenario": self.scenario, "cell": self.cell, "metric": b.metric, "checktype": b.checktype,
            "relative_to": b.relative_to, "min": b.low, "max": b.high, "value": self.value,
            "iterations": self.n, "sd": self.sd, "cov": self.cov, "reason": self.reason,
        }  # fmt: skip
        if b.checktype == "verdict":
            doc.update(min=None, max=None, allowed=list(b.allowed), verdict=self.verdict)
        return doc


def _number(where: str, entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{where}: {key}: expected a number, got {value!r}")
    return float(value)


def _parse_variant(where: str, value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), str(v).lower() if isinstance(v, bool) else str(v)) for k, v in value.items())
    if isinstance(value, str):
        pairs = []
        for part in filter(None, (p.strip() for p in value.split(","))):
            k, sep, v = part.partition("=")
            if not sep or not k:
                raise UserError(
                    f"{where}: variant: expected key=value pairs like 'rw=randread,bs=4k', got {part!r}"
                )
            pairs.append((k.strip(), v.strip()))
        return tuple(pairs)
    raise UserError(f"{where}: variant: expected a string 'rw=randread,bs=4k' or a table")


def load_bounds(path: str | Path) -> list[Bound]:
    """The ``[[metric]]`` entries of a threshold file; a UserError names the file, entry and field."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"threshold file {path}: cannot be read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"threshold file {path}: not valid TOML: {exc}") from None
    entries = doc.get("metric")
    if not isinstance(entries, list) or not entries:
        raise UserError(f"threshold file {path}: expected one or more [[metric]] entries")
    bounds = []
    for i, entry in enumerate(entries, 1):
        where = f"{path}: [[metric]] #{i}" + (
            f" ({entry.get('name')})" if isinstance(entry, dict) and "name" in entry else ""
        )
        if not isinstance(entry, dict):
            raise UserError(f"{where}: expected a table")
        unknown = sorted(set(entry) - FIELDS)
        if unknown:
            raise UserError(
                f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}"
            )
        for key in ("name", "workload", "metric"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise UserError(f"{where}: {key}: required (text)")
        kind = entry.get("type", "katatui")
        if kind not in ("katatui", "json"):
            raise UserError(
                f'{where}: type: expected "katatui" (checkmetrics\' csv files do not apply), got {kind!r}'
            )
        checktype = entry.get("checktype", "mean")
        if checktype not in CHECKTYPES:
            raise UserError(f"{where}: checktype: expected one of {', '.join(CHECKTYPES)}, got {checktype!r}")
        for key in ("scenario", "relative_to", "description"):
            if key in entry and not isinstance(entry[key], str):
                raise UserError(f"{where}: {key}: expected text")
        if checktype == "verdict" or "allowed" in entry or "refused" in entry:
            bounds.append(_verdict_bound(where, entry, checktype))
            continue
        minval, maxval = _number(where, entry, "minval"), _number(where, entry, "maxval")
        midval = _number(where, entry, "midval")
        minpct, maxpct = _number(where, entry, "minpercent"), _number(where, entry, "maxpercent")
        if midval is not None:
            if minval is not None or maxval is not None:
                raise UserError(f"{where}: give either midval with minpercent/maxpercent, or minval/maxval")
            if minpct is None or maxpct is None or minpct < 0 or maxpct < 0:
                raise UserError(f"{where}: midval needs minpercent and maxpercent (percentages, 0 or more)")
            low, high = midval * (1 - minpct / 100), midval * (1 + maxpct / 100)
        else:
            if minval is None and maxval is None:
                raise UserError(
                    f"{where}: give minval and/or maxval, or midval with minpercent and maxpercent"
                )
            low = minval if minval is not None else -math.inf
            high = maxval if maxval is not None else math.inf
        if low > high:
            raise UserError(f"{where}: the lower bound {low} is above the upper bound {high}")
        bounds.append(
            Bound(entry["name"], entry["workload"], entry["metric"], checktype, low, high,
                  entry.get("description", ""), _parse_variant(where, entry.get("variant")),
                  _clients(where, entry), entry.get("scenario"), entry.get("relative_to"))
        )  # fmt: skip
    return bounds


def _clients(where: str, entry: dict[str, Any]) -> int | None:
    clients = entry.get("clients")
    if clients is not None and (isinstance(clients, bool) or not isinstance(clients, int) or clients < 1):
        raise UserError(f"{where}: clients: expected a whole number of at least 1, got {clients!r}")
    return clients


def _verdict_bound(where: str, entry: dict[str, Any], checktype: str) -> Bound:
    """A ``checktype = "verdict"`` entry: ``allowed`` or ``refused`` verdicts, no numeric range."""
    if checktype != "verdict":
        raise UserError(f'{where}: allowed and refused go with checktype = "verdict", not {checktype!r}')
    given = [k for k in ("allowed", "refused") if k in entry]
    numeric = sorted(k for k in ("minval", "maxval", "midval", "minpercent", "maxpercent") if k in entry)
    if len(given) != 1 or numeric:
        extra = f", not {', '.join(numeric)}" if numeric else ""
        raise UserError(f'{where}: checktype = "verdict" takes one of allowed or refused (a list of '
                        f"{', '.join(VERDICTS)}){extra}")  # fmt: skip
    listed = entry[given[0]]
    if not isinstance(listed, list) or not listed or any(v not in VERDICTS for v in listed):
        raise UserError(f"{where}: {given[0]}: expected a list of verdicts among {', '.join(VERDICTS)}, "
                        f"got {listed!r:.80}")  # fmt: skip
    allowed = tuple(v for v in VERDICTS if (v in listed) == (given[0] == "allowed"))
    variant = _parse_variant(where, entry.get("variant"))
    return Bound(entry["name"], entry["workload"], entry["metric"], "verdict", -math.inf, math.inf,
                 entry.get("description", ""), variant, _clients(where, entry), entry.get("scenario"),
                 entry.get("relative_to"), allowed)  # fmt: skip


def _stat(checktype: str, values: Sequence[float]) -> float:
    if checktype == "mean":
        return statistics.fmean(values)
    if checktype == "median":
        return statistics.median(values)
    if checktype == "min":
        return min(values)
    if checktype == "max":
        return max(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    if checktype == "sd":
        return sd
    mean = statistics.fmean(values)
    return sd / mean * 100 if mean else math.inf  # cov in percent, as checkmetrics prints it


def check(bounds: Sequence[Bound], paths: Sequence[str | Path]) -> list[Check]:
    """Every bound against every session given: one check per (bound, session, scenario, cell)."""
    out: list[Check] = []
    for path in paths:
        with SessionReader(path) as reader:
            results = [r for r in reader.results() if not r.partial]
            out += [c for b in bounds if b.checktype == "verdict" for c in _verdicts(b, reader)]
        for bound in bounds:
            if bound.checktype == "verdict":
                continue
            groups: dict[tuple[str, str], list[float]] = {}
            refs: dict[str, list[float]] = {}
            for r in results:
                s = r.run.spec
                if r.metric != bound.metric or not bound.fits(s.kind, dict(s.variant), s.clients):
                    continue
                cell = f"{s.kind} {s.variant_label} clients={s.clients}"
                if bound.relative_to is not None and s.scenario == bound.relative_to:
                    refs.setdefault(cell, []).append(r.value)
                if (
                    bound.scenario is None or s.scenario == bound.scenario
                ) and s.scenario != bound.relative_to:
                    groups.setdefault((s.scenario, cell), []).append(r.value)
            if not groups:
                out.append(Check(bound, str(path), bound.scenario or "", "", None, 0, None, None, False,
                                 "no matching results in the session"))  # fmt: skip
                continue
            for (scenario, cell), values in groups.items():
                sd = statistics.stdev(values) if len(values) > 1 else None
                mean = statistics.fmean(values)
                cov = sd / mean * 100 if sd is not None and mean else None
                value = _stat(bound.checktype, values)
                reason = ""
                if bound.relative_to is not None:
                    base = refs.get(cell)
                    if not base or _stat(bound.checktype, base) == 0:
                        out.append(Check(bound, str(path), scenario, cell, None, len(values), sd, cov, False,
                                         f"no results of {bound.relative_to} for this cell"))  # fmt: skip
                        continue
                    value = value / _stat(bound.checktype, base)
                passed = bound.low <= value <= bound.high
                if not passed:
                    reason = "below the minimum" if value < bound.low else "above the maximum"
                out.append(
                    Check(bound, str(path), scenario, cell, value, len(values), sd, cov, passed, reason)
                )
    return out


def _verdicts(bound: Bound, reader: SessionReader) -> list[Check]:
    """A verdict bound against one session: the report's verdict of each matching scenario and cell."""
    path = str(reader.path)
    try:
        summary = summarize(reader, headline_only=False, baseline=bound.relative_to)
    except UserError:
        return [Check(bound, path, bound.scenario or "", "", None, 0, None, None, False,
                      f"no scenario {bound.relative_to} in the session")]  # fmt: skip
    out = []
    for row in summary.rows:
        cell = summary.cells.get(row.cell)
        if (
            row.metric != bound.metric
            or cell is None
            or not bound.fits(cell.kind, dict(cell.variant), cell.clients)
        ):
            continue
        for s in summary.scenarios:
            if s == summary.reference or (bound.scenario is not None and s != bound.scenario):
                continue
            v = summary.versus(row, s)
            if v is None:
                continue
            stat = row.by_scenario[s]
            passed = v.verdict in bound.allowed
            why = "" if passed else f"verdict {v.verdict} against {v.reference}"
            cov = stat.cv * 100 if stat.cv is not None else None
            out.append(Check(bound, path, s, cell.label, v.ratio, stat.n, stat.d.stdev, cov, passed, why,
                             v.verdict))  # fmt: skip
    if not out:
        out.append(Check(bound, path, bound.scenario or "", "", None, 0, None, None, False,
                         "no matching results in the session"))  # fmt: skip
    return out
