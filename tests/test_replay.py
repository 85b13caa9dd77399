"""A session's events come back typed and equal to what was recorded."""

from __future__ import annotations

from pathlib import Path

from katatui.core import replay
from katatui.core.events import (
    HostFacts,
    LogMessage,
    Metric,
    RawOutput,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    SessionFinished,
    SessionStarted,
)
from katatui.core.session import SessionReader, SessionWriter


def test_round_trip(tmp_path: Path) -> None:
    spec = RunSpec(
        "r1", 0, "fio[rw=read]", "runc", "docker", "runc", "local", "fio", "fio", {"rw": "read"}, 1, 0
    )
    sent = [
        SessionStarted("s1", "p", "sequential", (spec,), at=1.0),
        HostFacts("local", {"kernel": "6.1"}, at=1.1),
        RunStarted("r1", (("fio", "--name=x"),), at=2.0),
        Sample("r1", 1.0, {"read_iops": 10.0}, 0, {"read_clat_ns": {1000: 3, 2000: 1}}, at=3.0),
        RunFinished("r1", {"read_iops": Metric(10.0, "IO/s")}, 2.5, at=4.0),
        LogMessage("warning", "careful", "r1", at=4.5),
        SessionFinished("completed", at=5.0),
    ]
    writer = SessionWriter(tmp_path / "s.katatui", session_id="s1", profile_text="", profile_json="{}")
    for ev in sent[:3]:
        writer(ev)
    writer(RawOutput("r1", 0, "stdout", b"{}"))
    for ev in sent[3:]:
        writer(ev)
    writer.close()
    reader = SessionReader(tmp_path / "s.katatui")
    assert list(replay.events(reader)) == sent
