"""The dashboard's model, from recorded events: no Textual, no hosts."""

from __future__ import annotations

from katatui.core.events import Event, RunFinished, RunSpec, Sample, SessionStarted
from katatui.tui.model import Latency, SessionModel
from katatui.tui.outcomes import outcomes
from tests.tui.conftest import THREE, recorded


def fed(events: list[Event]) -> SessionModel:
    m = SessionModel()
    for e in events:
        m.apply(e)
    return m


def test_merged_interval_histograms_give_fios_own_percentiles() -> None:
    """Summing Sample.hist over intervals and clients reproduces each run's final p50/p99 exactly."""
    events = recorded(THREE)
    per_run: dict[str, Latency] = {}
    checked = 0
    for e in events:
        if isinstance(e, Sample):
            per_run.setdefault(e.run_id, Latency()).add(e.hist)
        elif isinstance(e, RunFinished):
            lat = per_run[e.run_id]
            (name,) = lat.bins
            d = name.split("_")[0]
            got = lat.percentiles(name)
            assert got["p50"] == e.results[f"{d}_clat_p50_us"].value
            assert got["p99"] == e.results[f"{d}_clat_p99_us"].value
            checked += 1
    assert checked == 12


def test_plan_columns_cells_and_status() -> None:
    m = fed(recorded(THREE))
    assert m.scenarios == ["bare", "runc", "runc-alt"]
    assert len(m.cells) == 2
    assert m.status == "completed"
    assert m.done_count() == 12 and outcomes(m).failed == 0
    assert m.remaining() == 0.0
    summary = m.summary()
    assert summary.reference == "bare"
    assert {r.metric for r in summary.rows} >= {"read_iops", "write_iops"}
    assert all(len(s.values) == 2 for r in summary.rows for s in r.by_scenario.values())


def test_clients_are_summed_second_by_second() -> None:
    spec = RunSpec("r", 0, "c", "bare", "bare", None, "local", "fio", "fio", {}, 2, 0)
    m = fed([SessionStarted("s", "p", "sequential", (spec,), at=0.0)])
    for t, client, v in ((0.8, 0, 10.0), (0.9, 1, 5.0), (1.8, 0, 20.0)):
        m.apply(Sample("r", t, {"read_iops": v, "read_clat_p50_us": 1.0}, client))
    run = m.runs["r"]
    assert run.values("read_iops") == [15.0]  # second 2 waits for client 1
    assert "read_clat_p50_us" not in run.series  # only rates get sparklines
    m.apply(Sample("r", 1.9, {"read_iops": 1.0}, 1))
    assert run.values("read_iops") == [15.0, 21.0]


def test_remaining_uses_the_mean_run_time() -> None:
    events = recorded(THREE)
    m = SessionModel()
    m.planned_run_seconds = 5.0
    first_finish = next(i for i, e in enumerate(events) if isinstance(e, RunFinished))
    for e in events[:first_finish]:
        m.apply(e)
    assert m.remaining() == 12 * 5.0  # nothing finished yet: the plan's own figure
    m.apply(events[first_finish])
    left = m.remaining()
    assert left is not None and 0 < left < 12 * 10
