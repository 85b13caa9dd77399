"""Copies of the model taken during a replay give back exactly the state of a fresh replay."""

from __future__ import annotations

from katatui.commands.demo import demo_path
from katatui.tui.checkpoints import MIN_EVERY, Checkpoints, interval
from katatui.tui.model import SessionModel
from tests.tui.conftest import recorded
from tests.tui.test_replay_app import state


def fresh(n: int) -> SessionModel:
    model = SessionModel()
    for ev in recorded(demo_path())[:n]:
        model.apply(ev)
    return model


def test_restore_gives_the_state_after_exactly_that_many_events() -> None:
    events = recorded(demo_path())
    model = SessionModel()
    keep = Checkpoints(model)
    for n, ev in enumerate(events, 1):
        model.apply(ev)
        if n % 25 == 0:
            keep.save(n)
    assert len(keep) == len(events) // 25
    generation, version = model.generation, model.version
    assert keep.restore(90) == 75
    assert state(model) == state(fresh(75))
    assert model.generation == generation + 1 and model.version > version  # screens repaint
    for ev in events[75:90]:
        model.apply(ev)
    assert state(model) == state(fresh(90))
    # the copies are not disturbed by what happens to the model after a restore
    assert keep.restore(80) == 75 and state(model) == state(fresh(75))
    assert keep.restore(10) == 0 and state(model) == state(SessionModel())


def test_at_most_about_a_hundred_copies() -> None:
    assert interval(100) == MIN_EVERY
    assert interval(460_800) == 4608  # 128 streams × 1 hour: 100 copies
