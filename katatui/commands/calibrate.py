"""``katatui calibrate PROFILE``: measure the noise of the baseline scenario against itself (A/A) on a
target, and keep its noise bands per cell and metric for later runs there.

The profile's baseline scenario (``--scenario`` names another) runs twice in every round, as itself
and as ``NAME-aa``, for ``--repeat`` rounds (default 5), on one target. Each cell's and metric's
band is the largest single-round departure of the A/A ratio from 1 (at least 1%), as an A/A pair in
a session measures it. The bands go to ``calibration.json`` in the data directory, keyed by the
target's address and the scenario's launcher and runtime; a run on that target whose reference
scenario is that runtime then uses them (its footer says "calibrated DATE") when it has no A/A pair of
its own. The calibration's session is kept in the library like any other.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from katatui.commands.run import _run, _unfailing
from katatui.core import calibration, interrupts
from katatui.core.errors import UserError
from katatui.core.profile import Profile, load_profile, override_targets, profile_from_dict
from katatui.core.recording import Recording
from katatui.core.report import HEADLINE, interval, summarize
from katatui.core.session import SessionReader
from katatui.core.stats import noise_band
from katatui.views.labels import metric_label
from katatui.views.summary import HeadlessPrinter

DEFAULT_ROUNDS = 5


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate",
        help="measure a target's noise (the baseline against itself) for later runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("profile", help="a profile TOML file whose workloads are measured")
    p.add_argument("--scenario", metavar="NAME", help="the scenario to calibrate (default: the baseline)")
    p.add_argument("--on", metavar="TARGET", help="the target to calibrate (default: the scenario's one)")
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME=ADDRESS",
        help="reach the profile's target NAME at ADDRESS, as with run",
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="change the profile, as with run"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_ROUNDS,
        metavar="N",
        help=f"rounds (default {DEFAULT_ROUNDS}; at least 2)",
    )
    p.add_argument("--out", type=Path, help="session file to write (default: in the data directory)")
    p.set_defaults(func=run)


def aa_profile(
    profile: Profile, scenario: str | None, on: str | None, rounds: int
) -> tuple[Profile, str, str]:
    """The profile that runs ``scenario`` (default: the baseline, else the first) against itself on the
    target ``on`` for ``rounds`` rounds; returns it, the scenario's name and the target."""
    if rounds < 2:
        raise UserError(f"--repeat {rounds}: a calibration needs at least 2 rounds")
    names = [s.label for s in profile.scenarios]
    wanted = scenario or profile.baseline or names[0]
    sc = next((s for s in profile.scenarios if s.label == wanted), None)
    if sc is None:
        raise UserError(f"--scenario {wanted!r}: expected one of {', '.join(names)}")
    if sc.runtime == "*":
        raise UserError(f'scenario {wanted!r} has runtime "*": name the runtime to calibrate with --scenario '
                        "or the profile's baseline")  # fmt: skip
    targets = sc.targets or list(profile.targets)
    target = on or (targets[0] if len(targets) == 1 else None)
    if target is None or target not in targets:
        raise UserError(f"scenario {wanted!r} runs on {', '.join(targets)}: name one with --on TARGET")
    data = profile.model_dump(exclude_none=True)
    one = {k: v for k, v in sc.model_dump(exclude_none=True).items() if k not in ("name", "spread")}
    one["targets"] = [target]
    data.update(
        name=f"{profile.name}-calibrate", repeats=rounds, baseline=wanted,
        scenarios=[{**one, "name": wanted}, {**one, "name": f"{wanted}-aa"}],
    )  # fmt: skip
    return profile_from_dict(data, f"the calibration of {wanted}"), wanted, target


def run(args: argparse.Namespace) -> int:
    source = override_targets(load_profile(args.profile, args.set), args.target)
    profile, scenario, target = aa_profile(source, args.scenario, args.on, args.repeat)
    recording = Recording(profile, profile_text=Path(args.profile).read_text(encoding="utf-8"), out=args.out)
    console = Console(highlight=False)
    try:
        engine = recording.open([_unfailing(HeadlessPrinter(console))])
        outcome, signum = asyncio.run(_run(engine))
    finally:
        recording.close()
    reader = SessionReader(recording.path)
    try:
        summary = summarize(reader, headline_only=False)
        address = str((reader.hosts().get(target) or {}).get("address") or "")
        runs = {r.spec.scenario: r.spec for r in reader.runs()}
    finally:
        reader.close()
    bands: dict[str, dict[str, float]] = {}
    table = Table(title=f"noise of {scenario} against itself on {target}", header_style="bold")
    for col in ("cell", "metric", "band", "rounds"):
        table.add_column(col, justify="right" if col in ("band", "rounds") else "left")
    for row in summary.rows:
        a, b = row.by_scenario.get(f"{scenario}-aa"), row.by_scenario.get(scenario)
        ci = interval(a, b) if a is not None and b is not None else None
        if ci is None or ci.method != "paired":
            continue
        band = noise_band(ci.round_ratios)
        bands.setdefault(row.cell, {})[row.metric] = band
        if row.metric not in HEADLINE:
            continue  # stored, not shown: the tables show the headline metrics
        label = summary.cells[row.cell].label if row.cell in summary.cells else row.cell
        table.add_row(label, metric_label(row.metric), f"±{band * 100:.1f}%", str(ci.rounds))
    console.print(f"session saved: {recording.path}")
    if outcome.status == "interrupted":
        console.print("[yellow]interrupted: nothing stored[/]")
        return interrupts.exit_status(signum or signal.SIGINT)
    spec = runs.get(scenario)
    if not bands or spec is None or not address:
        console.print("[red]no noise band could be measured[/] (no cell has 2 rounds of both sides); "
                      "nothing stored")  # fmt: skip
        return 1
    console.print(table)
    path = calibration.store(address, spec.launcher, spec.runtime, bands, rounds=args.repeat,
                             session=str(recording.path))  # fmt: skip
    key = calibration.runtime_key(spec.launcher, spec.runtime)
    console.print(f"noise bands stored: {path} (target {address}, {key}); runs there whose reference is "
                  f"{scenario} use them when they have no A/A pair of their own")  # fmt: skip
    if outcome.failed:
        console.print(f"[red]{outcome.failed} run(s) failed[/]: their cells have no band")
        return 1
    return 0
