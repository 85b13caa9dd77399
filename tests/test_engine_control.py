"""Stopping one run and skipping a cell while a session runs (the dashboard's keys)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from katatui.core.engine import Engine
from katatui.core.events import Event, RunFailed, RunFinished, Sample, SessionStarted
from katatui.core.profile import load_profile
from tests.helpers import fio_profile, need

BARE = '[[scenarios]]\nlauncher = "bare"\n'


async def _until(events: list[Event], pred: object, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(pred(e) for e in events):  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_stop_run_keeps_partial_and_goes_on(tmp_path: Path) -> None:
    need("fio")
    text = fio_profile(tmp_path, scenarios=BARE, runtime=30).read_text()
    path = tmp_path / "p.toml"
    path.write_text(text.replace('rw = "randread"', 'rw = ["randread", "randwrite"]').replace("= 30", "= 2"))
    prof = load_profile(path)
    prof = prof.model_copy(update={"workloads": [prof.workloads[0].model_copy(update={"runtime": 5})]})
    events: list[Event] = []
    engine = Engine(prof, session_id="ctl1", listeners=[events.append])
    task = asyncio.create_task(engine.run())
    await _until(events, lambda e: isinstance(e, Sample))
    first = next(e for e in events if isinstance(e, SessionStarted)).runs[0]
    assert engine.stop_run(first.run_id)
    outcome = await asyncio.wait_for(task, 90)
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert [f.reason for f in failed] == ["stopped by the user"]
    assert failed[0].run_id == first.run_id and failed[0].partial  # what fio measured is kept
    assert any(isinstance(e, RunFinished) for e in events)  # the next run ran
    assert outcome.status == "failed" and outcome.finished == 1 and outcome.failed == 1
    assert list((tmp_path / "scratch").iterdir()) == []


async def test_skip_cell_skips_the_rest_of_it(tmp_path: Path) -> None:
    need("fio")
    text = fio_profile(tmp_path, scenarios=BARE, runtime=30).read_text()
    path = tmp_path / "p.toml"
    path.write_text(
        text.replace('name = "test"', 'name = "test"\nrepeats = 3', 1).replace("repeats = 1\n", "")
    )
    prof = load_profile(path)
    extra = prof.workloads[0].model_copy(update={"name": "quick", "runtime": 1})
    prof = prof.model_copy(update={"workloads": [prof.workloads[0], extra]})
    events: list[Event] = []
    engine = Engine(prof, session_id="ctl2", listeners=[events.append])
    task = asyncio.create_task(engine.run())
    await _until(events, lambda e: isinstance(e, Sample))
    skipped = engine.skip_cell()
    assert skipped is not None and skipped.startswith("fio[")
    outcome = await asyncio.wait_for(task, 120)
    reasons = [e.reason for e in events if isinstance(e, RunFailed)]
    assert reasons == ["skipped by the user"] * 3  # the running one and the two repeats after it
    assert sum(isinstance(e, RunFinished) for e in events) == 3  # the other cell's three repeats
    assert outcome.failed == 3 and outcome.finished == 3
