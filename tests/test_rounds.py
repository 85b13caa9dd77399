"""Rounds as the engine schedules them: verdicts after each round, ``repeats = "auto"`` (when a
cell stops, and an A/A pair under that optional stopping), the profile keys and ``--repeat auto``,
the stored calibration, and a session's record of why each cell stopped."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from katatui.core import calibration, rounds
from katatui.core.errors import ProfileError, UserError
from katatui.core.events import (
    Comparison,
    Metric,
    RoundFinished,
    RunFinished,
    RunSpec,
    RunStarted,
    SessionFinished,
    SessionStarted,
)
from katatui.core.profile import profile_from_dict
from katatui.core.replay import events
from katatui.core.report import bands_of, summarize
from katatui.core.session import SessionReader, SessionWriter
from tests.helpers import katatui

CELL = "fio[rw=randread]"


def spec(scenario: str, rep: int, index: int) -> RunSpec:
    return RunSpec(f"{scenario}-{rep}", index, CELL, scenario, "docker", scenario, "local", "fio", "fio",
                   {"rw": "randread"}, 1, rep)  # fmt: skip


def simulate(rng: random.Random, n: int, truth: float, noise: float, drift: float = 0.2,
             ) -> tuple[list[RunSpec], dict[str, dict[str, Metric]]]:  # fmt: skip
    """``n`` rounds of runc (A) and x (B = truth × A) on read IOPS, alternating their order."""
    specs, results = [], {}
    for rep in range(n):
        host = 1000.0 * math.exp(rng.gauss(0, drift))
        values = {
            "runc": host * math.exp(rng.gauss(0, noise)),
            "x": host * truth * math.exp(rng.gauss(0, noise)),
        }
        for name in ("runc", "x") if rep % 2 == 0 else ("x", "runc"):
            s = spec(name, rep, len(specs))
            specs.append(s)
            results[s.run_id] = {"read_iops": Metric(values[name], "IO/s")}
    return specs, results


def auto(rng: random.Random, truth: float, noise: float, *, low: int = 2, high: int = 10,
         ) -> tuple[int, str, tuple[Comparison, ...]]:  # fmt: skip
    """Rounds until the cell stops as the engine stops it: (rounds, outcome, verdicts)."""
    specs, results = simulate(rng, high, truth, noise)
    for n in range(1, high + 1):
        found = rounds.comparisons([s for s in specs if s.repeat < n], results, baseline="runc",
                                   looks=high - low + 1)  # fmt: skip
        what, _ = rounds.outcome(found, n, min_rounds=low, max_rounds=high, elapsed=n, budget=None)
        if what:
            return n, what, found
    raise AssertionError("never stopped")


def test_a_7x_slowdown_with_2_percent_noise_settles_worse_after_3_rounds() -> None:
    """Worse from 2 rounds at 95% (test_verdicts); under "auto" its intervals are at 1 − 5%/9 (2 to 10
    rounds), which a third round reaches when the first two do not."""
    for seed in range(200):
        n, what, found = auto(random.Random(seed), 1 / 7, 0.02)
        assert n <= 3 and what == "settled"
        (c,) = found
        assert (c.scenario, c.reference, c.metric, c.verdict) == ("x", "runc", "read_iops", "worse")
        assert c.high is not None and c.high < 1


def test_an_aa_pair_under_auto_is_rarely_called_better_or_worse() -> None:
    """Stopping as soon as every verdict is decided looks at the data after each round; the noise band
    keeps an A/A pair from being called better or worse more than 5% of the time all the same."""
    for noise in (0.01, 0.03, 0.1):
        called = 0
        for seed in range(1000):
            _, _, (c,) = auto(random.Random(seed), 1.0, noise)
            called += c.verdict in ("better", "worse")
        assert called / 1000 <= 0.05, (noise, called / 1000)


def test_a_cell_stops_at_max_repeats_or_its_time_budget_and_says_so() -> None:
    undecided = (Comparison("read_iops", "x", "runc", 0.98, 0.7, 1.3, "undecided", 0.05),)
    decided = (Comparison("read_iops", "x", "runc", 0.5, 0.4, 0.6, "worse", 0.05),)
    assert rounds.outcome(decided, 1, min_rounds=2, max_rounds=5, elapsed=1, budget=None) == ("", "")
    assert rounds.outcome(decided, 2, min_rounds=2, max_rounds=5, elapsed=1, budget=None)[0] == "settled"
    assert rounds.outcome(undecided, 4, min_rounds=2, max_rounds=5, elapsed=40, budget=None) == ("", "")
    what, note = rounds.outcome(undecided, 5, min_rounds=2, max_rounds=5, elapsed=50, budget=None)
    assert what == "max_repeats" and "max_repeats = 5" in note and "1 verdict(s) undecided" in note
    # 3 rounds took 90 s: a fourth would end near 120 s, beyond a budget of 100 s
    what, note = rounds.outcome(undecided, 3, min_rounds=2, max_rounds=9, elapsed=90, budget=100)
    assert what == "time_budget" and "after 3 rounds" in note
    assert rounds.outcome(undecided, 3, min_rounds=2, max_rounds=9, elapsed=60, budget=100) == ("", "")
    # min_repeats first, whatever the budget says
    assert rounds.outcome(undecided, 1, min_rounds=2, max_rounds=9, elapsed=500, budget=100) == ("", "")
    assert rounds.outcome((), 2, min_rounds=2, max_rounds=9, elapsed=1, budget=None)[1].endswith(
        "(nothing to compare)"
    )


BASE = {
    "name": "t",
    "targets": {"local": {"host": "local"}},
    "scenarios": [{"launcher": "docker", "runtime": "runc"}, {"launcher": "docker", "runtime": "runsc"}],
    "workloads": [{"type": "fio", "rw": "randread", "size": "8m", "runtime": 1}],
}


def test_auto_profile_keys_are_checked_and_bound_the_plan_by_max_repeats(monkeypatch: pytest.MonkeyPatch,
                                                                          ) -> None:  # fmt: skip
    p = profile_from_dict({**BASE, "repeats": "auto", "min_repeats": 3, "max_repeats": 7,
                           "time_budget": "10m"}, "t")  # fmt: skip
    assert p.auto and p.planned_repeats == 7 and p.budget_seconds == 600
    assert profile_from_dict({**BASE, "repeats": 4}, "t").planned_repeats == 4
    for bad, words in (({"min_repeats": 5, "max_repeats": 3}, "more than max_repeats"),
                       ({"min_repeats": 1}, "min_repeats"), ({"time_budget": "soon"}, "not a duration"),
                       ({"repeats": "often"}, "repeats")):  # fmt: skip
        with pytest.raises(ProfileError, match=words):
            profile_from_dict({**BASE, "repeats": "auto", **bad}, "t")
    monkeypatch.setenv("KATATUI_MAX_REPEATS", "20")
    with pytest.raises(ProfileError, match="max_repeats = 50: more than the limit"):
        profile_from_dict({**BASE, "repeats": "auto", "max_repeats": 50}, "t")


def test_repeat_auto_on_the_command_line(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('name = "p"\nmax_repeats = 0\n[targets.local]\nhost = "local"\n[[scenarios]]\n'
                       'launcher = "bare"\n[[workloads]]\ntype = "fio"\n')  # fmt: skip
    done = katatui("run", str(profile), "--headless", "--repeat", "auto")
    assert done.returncode == 2 and "max_repeats" in done.stderr and "Traceback" not in done.stderr
    done = katatui("run", str(profile), "--headless", "--repeat", "often")
    assert done.returncode == 2 and "auto" in done.stderr and "Traceback" not in done.stderr


def test_calibration_is_kept_per_target_and_runtime(tmp_path: Path) -> None:
    file = tmp_path / "calibration.json"
    calibration.store(
        "local", "docker", "runc", {CELL: {"read_iops": 0.021}}, rounds=5, session="s", file=file
    )
    calibration.store("ssh://root@h:22", "docker", "runc", {CELL: {"read_iops": 0.3}}, rounds=5, session="t",
                      file=file)  # fmt: skip
    found = calibration.bands_for("local", "docker", "runc", file)
    assert found[CELL]["read_iops"]["band"] == 0.021 and found[CELL]["read_iops"]["rounds"] == 5
    assert calibration.bands_for("local", "docker", "runsc", file) == {}
    ((band, source),) = bands_of(found).values()
    assert band == 0.021 and source.startswith("calibrated 20")
    assert bands_of({"c": {"m": {"band": "x"}}, "d": 3}) == {}
    file.write_text("{not json")
    with pytest.raises(UserError, match="calibrate again"):
        calibration.load(file)
    assert calibration.bands_for("local", "docker", "runc", file) == {}


def test_a_session_records_why_a_cell_stopped_and_drops_the_rounds_it_did_not_need(tmp_path: Path) -> None:
    planned = [spec(name, rep, 2 * rep + i) for rep in range(4) for i, name in enumerate(("runc", "x"))]
    path = tmp_path / "s.katatui"
    w = SessionWriter(path, session_id="s", profile_text="", profile_json="{}")
    w(SessionStarted("s", "t", "sequential", tuple(planned)))
    for s in planned[:4]:
        w(RunStarted(s.run_id, ()))
        value = 100.0 if s.scenario == "runc" else 50.0 + s.repeat
        w(RunFinished(s.run_id, {"read_iops": Metric(value, "IO/s")}, 1.0))
    c = Comparison("read_iops", "x", "runc", 0.5, 0.4, 0.6, "worse", 0.05)
    w(
        RoundFinished(
            CELL, 1, (c,), "settled", "settled after 2 rounds", tuple(s.run_id for s in planned[4:]), 9
        )
    )
    w(SessionFinished("completed"))
    w.close()
    with SessionReader(path) as reader:
        assert [r.spec.run_id for r in reader.runs()] == [s.run_id for s in planned[:4]]
        summary = summarize(reader)
        replayed = [e for e in events(reader) if isinstance(e, RoundFinished)]
    assert summary.stopped[CELL]["outcome"] == "settled" and summary.rounds_notes() == [
        f"{summary.cells[CELL].label}: settled after 2 rounds"
    ]
    assert replayed[0].comparisons == (c,) and replayed[0].outcome == "settled" and replayed[0].looks == 9
    assert json.loads(json.dumps(summary.stopped))  # as the json report has it
    # the cell's intervals are at 1 − 5%/9, in the report and in compare alike
    (row,) = summary.rows
    v = summary.versus(row, "x")
    assert summary.alpha(CELL) == pytest.approx(0.05 / 9) and v is not None and v.ci is not None
    assert v.ci.level == pytest.approx(1 - 0.05 / 9)
    from katatui.core.compare import compare

    ci = compare([path]).rows[0].ratio_ci("A:x", "A:runc")
    assert ci is not None and (ci.low, ci.high, ci.level) == pytest.approx((v.ci.low, v.ci.high, v.ci.level))


def test_the_order_of_rounds_is_read_back_from_the_session() -> None:
    from katatui.core.report import round_order
    from katatui.core.session import RunRow

    def rows(order: list[list[str]]) -> list[RunRow]:
        out = []
        for rep, names in enumerate(order):
            for name in names:
                out.append(RunRow(spec(name, rep, len(out)), "finished", None, None, None, [], None))
        return out

    assert round_order(rows([["a", "b", "c"], ["c", "b", "a"]])) == "alternating"
    assert round_order(rows([["a", "b"], ["a", "b"]])) == "fixed"
    assert round_order(rows([["a", "b"]])) == ""


def test_each_rounds_ratio_is_drawn_in_text_and_svg() -> None:
    from katatui.core.report import Stat, Summary, SummaryRow
    from katatui.views import rounds as drawn

    text = drawn.strip([0.5, 0.9, 1.2], 0.05, width=21)
    assert len(text) == 21 and text.index("1") < text.index("2") < text.index("│") < text.index("3")
    assert text.index("1") <= 1 and text.index("3") >= 19 and "░" in text  # the span is the rounds'
    assert drawn.strip([1.0, 1.0], 0.05, width=21).count("2") == 1  # a later round drawn over
    a = Stat((100.0, 100.0, 100.0), ("a1", "a2", "a3"), (0, 1, 2))
    b = Stat((50.0, 90.0, 91.0), ("b1", "b2", "b3"), (0, 1, 2))
    summary = Summary(["x", "y"], [SummaryRow("c", "read_iops", "IO/s", {"x": a, "y": b})], [])
    (row,) = drawn.round_rows(summary)
    assert row.scenario == "y" and row.ratios == pytest.approx((0.5, 0.9, 0.91))
    md = drawn.markdown(summary)
    assert "Ratio by round (to x)" in md and "×0.50 ×0.90 ×0.91" in md
    svg = drawn.svg(row.ratios, 0.05, "y read IOPS <c>")
    assert svg.count("<circle") == 3 and 'data-round="1"' in svg and "&lt;c&gt;" in svg
    assert any("round 1 differs" in n for n in summary.warnings())


VERDICT_BOUNDS = """
[[metric]]
name = "gvisor-not-worse"
workload = "fio"
variant = "rw=randread"
scenario = "x"
metric = "read_iops"
checktype = "verdict"
refused = ["worse"]

[[metric]]
name = "gvisor-known-worse"
workload = "fio"
scenario = "x"
relative_to = "runc"
metric = "read_iops"
checktype = "verdict"
allowed = ["worse"]
"""


def test_thresholds_test_verdicts(tmp_path: Path) -> None:
    from katatui.core.threshold import THRESHOLD_FAILED, check, load_bounds

    path = tmp_path / "s.katatui"
    w = SessionWriter(path, session_id="s", profile_text="", profile_json="{}")
    planned = [spec(name, rep, 2 * rep + i) for rep in range(3) for i, name in enumerate(("runc", "x"))]
    w(SessionStarted("s", "t", "sequential", tuple(planned)))
    for s in planned:
        w(RunStarted(s.run_id, ()))
        value = 1000.0 + 10 * s.repeat if s.scenario == "runc" else 300.0 + 3 * s.repeat
        w(RunFinished(s.run_id, {"read_iops": Metric(value, "IO/s")}, 1.0))
    w(SessionFinished("completed"))
    w.close()
    (tmp_path / "b.toml").write_text(VERDICT_BOUNDS)
    bounds = load_bounds(tmp_path / "b.toml")
    assert bounds[0].allowed == ("better", "same", "undecided") and bounds[1].allowed == ("worse",)
    refused, allowed = check(bounds, [path])
    assert (refused.passed, refused.verdict, refused.reason) == (False, "worse", "verdict worse against runc")
    assert allowed.passed and allowed.value == pytest.approx(0.3) and allowed.to_json()["verdict"] == "worse"
    done = katatui("compare", str(path), "--threshold", str(tmp_path / "b.toml"))
    assert done.returncode == THRESHOLD_FAILED, done.stdout + done.stderr
    assert "×0.30 worse" in done.stdout and "better/same/undecided" in done.stdout
    for bad, words in (('refused = ["worse"]\nallowed = ["same"]', "one of allowed or refused"),
                       ('refused = ["awful"]', "expected a list of verdicts"),
                       ('refused = ["worse"]\nmaxval = 3.0', "not maxval")):  # fmt: skip
        (tmp_path / "bad.toml").write_text(
            f'[[metric]]\nname = "a"\nworkload = "fio"\nmetric = "read_iops"\nchecktype = "verdict"\n{bad}\n'
        )
        with pytest.raises(UserError, match=words):
            load_bounds(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text(
        '[[metric]]\nname = "a"\nworkload = "fio"\nmetric = "m"\nrefused = []\n'
    )
    with pytest.raises(UserError, match='go with checktype = "verdict"'):
        load_bounds(tmp_path / "bad.toml")


def test_a_line_per_round_says_each_verdict_and_why_the_cell_stops() -> None:
    from katatui.views.summary import round_line

    first = RoundFinished(
        CELL, 0, (Comparison("read_iops", "x", "runc", 0.31, None, None, "undecided", 0.05),)
    )
    assert round_line(first, "fio randread").plain == (
        "round 1 fio randread: x vs runc read IOPS ×0.31 (one round: no interval yet)"
    )
    c = Comparison("read_iops", "x", "runc", 0.3, 0.25, 0.36, "worse", 0.05, 1 - 0.05 / 9)
    last = RoundFinished(CELL, 2, (c,), "settled", "settled after 3 rounds (every headline metric decided)")
    assert round_line(last, "fio randread").plain == (
        "round 3 fio randread: x vs runc read IOPS ×0.30 worse [0.25–0.36] 99.4% — settled after 3 rounds "
        "(every headline metric decided)"
    )


async def test_the_engine_drops_the_rounds_a_settled_or_skipped_cell_no_longer_needs(tmp_path: Path) -> None:
    """Bare alone, two cells under "auto" (2 to 4 rounds): nothing to compare, so each cell settles
    after min_repeats and its last 2 rounds leave the plan; a cell skipped by the user drops the rounds
    it has not started."""
    import asyncio

    from katatui.core.engine import Engine
    from katatui.core.events import Event, RunFailed, Sample
    from katatui.core.profile import load_profile
    from tests.helpers import fio_profile, need

    need("fio")
    scenarios = '[[scenarios]]\nlauncher = "bare"\n'
    path = fio_profile(tmp_path, scenarios=scenarios, runtime=1)
    path.write_text(
        path.read_text().replace("repeats = 1", 'repeats = "auto"\nmin_repeats = 2\nmax_repeats = 4')
    )
    prof = load_profile(path)
    second = prof.workloads[0].model_copy(update={"name": "second", "runtime": 1})
    prof = prof.model_copy(update={"workloads": [prof.workloads[0], second]})
    events: list[Event] = []
    engine = Engine(prof, session_id="auto1", listeners=[events.append])
    task = asyncio.create_task(engine.run())
    deadline = asyncio.get_running_loop().time() + 60
    while not any(isinstance(e, Sample) for e in events):
        assert asyncio.get_running_loop().time() < deadline, "no sample"
        await asyncio.sleep(0.1)
    outcome = await asyncio.wait_for(task, 120)
    ends = [e for e in events if isinstance(e, RoundFinished) and e.outcome]
    assert [(e.round + 1, e.outcome) for e in ends] == [(2, "settled"), (2, "settled")]
    assert all(len(e.dropped) == 2 and e.looks == 3 for e in ends)
    assert outcome.finished == 4 and outcome.failed == 0 and outcome.status == "completed"

    events.clear()
    engine = Engine(prof, session_id="auto2", listeners=[events.append])
    task = asyncio.create_task(engine.run())
    while not any(isinstance(e, Sample) for e in events):
        assert asyncio.get_running_loop().time() < deadline + 60, "no sample"
        await asyncio.sleep(0.1)
    assert engine.skip_cell() is not None
    outcome = await asyncio.wait_for(task, 120)
    skipped = next(e for e in events if isinstance(e, RoundFinished) and e.outcome == "skipped")
    assert skipped.note == "skipped by the user" and len(skipped.dropped) == 3
    assert [e.reason for e in events if isinstance(e, RunFailed)] == [
        "skipped by the user"
    ]  # the running one
    assert outcome.finished == 2 and outcome.failed == 1


def test_the_headless_start_line_says_up_to_for_an_auto_plan() -> None:
    """Under "auto" the plan is the most runs a session may take; the count of each run line drops
    the runs a settled cell no longer needs."""
    import io

    from rich.console import Console

    from katatui.views.summary import HeadlessPrinter

    specs = [spec(name, rep, 2 * rep + i) for rep in range(4) for i, name in enumerate(("runc", "x"))]
    out = io.StringIO()
    printer = HeadlessPrinter(Console(file=out, width=200), auto=True)
    printer(SessionStarted("s", "p", "sequential", tuple(specs)))
    results = {}
    for s in specs[:4]:
        results[s.run_id] = {"read_iops": Metric(1000.0 if s.scenario == "runc" else 500.0, "IO/s")}
        printer(RunFinished(s.run_id, results[s.run_id], 1.0))
    found = rounds.comparisons(specs[:4], results, baseline="runc", looks=3)
    printer(
        RoundFinished(
            CELL, 1, found, "settled", "settled after 2 rounds", tuple(s.run_id for s in specs[4:]), 3
        )
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("p: up to 8 runs, scenarios runc, x")
    assert lines[1].startswith("[1/8] runc") and lines[4].startswith("[4/8] x")
    assert printer.total == 4 and "settled after 2 rounds" in lines[-1]  # 4 runs in all
    printer = HeadlessPrinter(Console(file=io.StringIO(), width=200))
    printer(SessionStarted("s", "p", "sequential", tuple(specs)))
    assert printer.console.file.getvalue().startswith("p: 8 runs")  # type: ignore[attr-defined]
