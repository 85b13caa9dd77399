"""The compact session format: every event type back as written, raw output byte for byte (on any
bytes, cut anywhere, and from a real fio run), older sessions still read, damage refused by run."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from katatui.cli import main
from katatui.core import replay
from katatui.core import sessionformat as fmt
from katatui.core.events import (
    HostFacts,
    LogMessage,
    Metric,
    RawOutput,
    RunFacts,
    RunFailed,
    RunFinished,
    RunSpec,
    RunStarted,
    Sample,
    ScenarioFacts,
    SessionFinished,
    SessionStarted,
)
from katatui.core.session import SessionReader, SessionWriter

HERE = Path(__file__).parent
OLD = HERE / "tui" / "fixtures" / "three_columns.katatui"  # schema 1, as katatui wrote it before
FIO = HERE.parent / "benchmarks" / "data" / "fio-randread-8x60.katatui"  # a real fio run, 8 clients

SPECS = tuple(
    RunSpec(f"r{i}", i, "fio[rw=randread,clients=2]", s, "bare", None, "local", "fio", "fio",
            {"rw": "randread", "bs": "4k"}, 2, 0, ("local", "other") if i else ())
    for i, s in enumerate(("bare", "runc", "crun"))
)  # fmt: skip


def every_kind() -> list[object]:
    """One of every event type (and samples with and without histograms, of several runs)."""
    t0 = 1_700_000_000.25
    return [
        SessionStarted("s1", "every", "concurrent", SPECS, at=t0),
        HostFacts("local", {"kernel": "6.1", "cpus": 2, "tools": {"fio": "3.33"}}, at=t0 + 0.1),
        ScenarioFacts("runc", "local", {"guest_kernel": None, "memory": 1 << 30}, at=t0 + 0.2),
        RunStarted("r0", (("fio", "--name=a"), ("fio", "--name=b")), at=t0 + 1),
        RunStarted("r1", (("fio", "--name=a"),), at=t0 + 1),
        Sample("r0", 1.0, {"read_iops": 1234.5, "read_bw_bytes_per_s": 5.0e6}, 0,
               {"read_clat_ns": {1000: 3, 2048: 7, 10**10: 1}}, at=t0 + 2),
        Sample("r1", 1.0, {"read_iops": 1.0 / 3}, 1, {"read_clat_ns": {1000: 1}, "write_clat_ns": {5: 2}},
               at=t0 + 2.5),
        Sample("r0", 1.0, {"sandbox_cpu_percent": 12.5}, 2000, {}, at=t0 + 2.6),
        RawOutput("r0", 0, "stdout", b'{"jobs": [1, 2]}\n', at=t0 + 2.7),
        RunFacts("r0", {"page_cache": {"dropped": True}}, at=t0 + 2.8),
        LogMessage("warning", "a warning \u00e9", "r0", at=t0 + 2.9),
        Sample("r0", 2.0, {"read_iops": float("1e300")}, 1, {"read_clat_ns": {7: 9}}, at=t0 + 3),
        RunFinished("r0", {"read_iops": Metric(1234.5, "IO/s")}, 2.0, at=t0 + 4),
        RunFailed("r1", "exit 1", {"read_iops": Metric(1.0, "IO/s")}, at=t0 + 4.5),
        LogMessage("info", "done", None, at=t0 + 5),
        SessionFinished("completed", at=t0 + 6),
    ]  # fmt: skip


def write(path: Path, events: list[object]) -> None:
    w = SessionWriter(path, session_id="s1", profile_text="", profile_json="{}")
    for ev in events:
        w(ev)  # type: ignore[arg-type]
    w.close()


def test_every_event_type_comes_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "every.katatui"
    sent = every_kind()
    write(path, sent)
    with SessionReader(path) as reader:
        assert reader.schema_version == 2
        assert list(replay.events(reader)) == [e for e in sent if not isinstance(e, RawOutput)]
        assert reader.raw("r0") == b'{"jobs": [1, 2]}\n'
        assert [(s["client"], s["t"]) for s in reader.samples("r0")] == [(0, 1.0), (2000, 1.0), (1, 2.0)]
        assert reader.histogram_totals()[(SPECS[0].cell, "bare", "read_clat_ns")] == {
            1000: 3, 2048: 7, 10**10: 1, 7: 9,
        }  # fmt: skip
        assert [m.text for m in reader.logs()] == ["a warning \u00e9", "done"]
        assert reader.run_facts() == {"r0": {"page_cache": {"dropped": True}}}
        results = {r.metric: r.value for r in reader.results() if r.run.spec.run_id == "r0"}
        assert results == {"read_iops": 1234.5}


def test_a_session_of_the_older_format_reads_as_before(tmp_path: Path) -> None:
    with SessionReader(OLD) as reader:
        assert reader.schema_version == 1
        before = list(replay.events(reader))
        totals = reader.histogram_totals()
        results = [(r.run.spec, r.metric, r.value) for r in reader.results()]
    assert len([e for e in before if isinstance(e, Sample)]) == 96
    copy = tmp_path / "rewritten.katatui"
    replay.rewrite(OLD, copy)  # the same session in the compact format: the same events and figures
    with SessionReader(copy) as reader:
        assert reader.schema_version == 2
        assert list(replay.events(reader)) == before
        assert reader.histogram_totals() == totals
        assert [(r.run.spec, r.metric, r.value) for r in reader.results()] == results


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from([b'"total_ios" : ', b"12", b"0", b"007", b" : ", b"\n{", b"\x00", b"\x01",
                             b'"1234" : 5,\n', b"99999999999999999999999", b'"x":-3', b"}\n{\n",
                             b"\xf6", b"\x10", b'"12" : 3', b"{", b"}\n"]),
        ),
        max_size=60,
    ),
    st.lists(st.integers(0, 59), max_size=6),
)  # fmt: skip
def test_raw_output_comes_back_byte_for_byte_from_any_bytes(pieces: list[bytes], flushes: list[int]) -> None:
    enc = fmt.RawEncoder()
    chunks = []
    written = b""
    for i, piece in enumerate(pieces):
        enc.write(piece)
        written += piece
        if i in flushes:
            chunks.append(enc.flush())
            # what was flushed so far decodes to what was written, but for a number still going on
            assert fmt.decode_raw(chunks) == written[: len(written) - len(enc.pending)]
    chunks.append(enc.close())
    assert fmt.decode_raw(chunks) == written


# What a number of one status object can turn into in the next: longer, shorter, leading zeros,
# too long for 64 bits, negative, text, bytes the skeleton uses for itself, quoted digits.
_VALUES = st.one_of(
    st.integers(0, 10**6).map(lambda v: b"%d" % v),
    st.sampled_from([b"0", b"007", b"-3", b"1.000000", b"99999999999999999999999", b'"12"', b"x1", b"",
                     b"\xff", b"\x10", b"\x00 \t\n 5", b"12345678901234567"]),
)  # fmt: skip


def _status_object(values: list[bytes]) -> bytes:
    a, b, c, d = values
    return (b'{\n  "time" : "Sun Dec  6 21:59:%s 2026",\n  "read" : {\n    "total_ios" : %s,\n'
            b'    "bins" : {\n      "6752" : %s,\n      "%s" : 4\n    }\n  }\n}\n'
            ) % (a, b, c, d)  # fmt: skip


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    st.lists(st.lists(_VALUES, min_size=4, max_size=4), min_size=1, max_size=6),
    st.lists(st.integers(0, 2000), max_size=8),
    st.lists(st.integers(0, 2000), max_size=4),
)
def test_raw_output_of_similar_objects_comes_back_byte_for_byte(
    objects: list[list[bytes]], cuts: list[int], flushes: list[int]
) -> None:
    """Status objects alike but for their numbers (the encoding writes only the numbers'
    differences), whatever the numbers turn into, written in pieces cut anywhere."""
    written = b"".join(_status_object(v) for v in objects)
    points = sorted({0, len(written), *(c % (len(written) + 1) for c in cuts)})
    enc = fmt.RawEncoder()
    chunks = []
    for i, (a, b) in enumerate(itertools.pairwise(points)):
        enc.write(written[a:b])
        if i in flushes:
            chunks.append(enc.flush())
            assert fmt.decode_raw(chunks) == written[:b]
    chunks.append(enc.close())
    assert fmt.decode_raw(chunks) == written


def test_raw_output_of_the_first_encoding_still_decodes() -> None:
    written = b"".join(_status_object([b"%d" % i, b"%d" % (i * 977), b"%d" % i, b"12"]) for i in range(30))
    enc = fmt.RawEncoderV1()
    chunks = []
    for i in range(0, len(written), 1000):
        enc.write(written[i : i + 1000])
        chunks.append(enc.flush())
    chunks.append(enc.close())
    assert not chunks[0][0].startswith(fmt.RAW_MAGIC)
    assert fmt.decode_raw(chunks) == written


def test_raw_output_of_similar_objects_takes_their_differences() -> None:
    """An object whose numbers moved a little costs a few bytes once the first one is written."""
    objs = [_status_object([b"%02d" % (i % 60), b"%d" % (1000 + 37 * i), b"%d" % (5 + i), b"8000"])
            for i in range(200)]  # fmt: skip
    enc = fmt.RawEncoder()
    enc.write(objs[0])
    first = sum(map(len, enc.flush()))
    rest = 0
    for o in objs[1:]:
        enc.write(o)
        rest += sum(map(len, enc.flush()))
    assert rest / (len(objs) - 1) < first / 4


def test_raw_output_of_a_real_fio_run_comes_back_byte_for_byte(tmp_path: Path) -> None:
    """Every client's json+ output of a recorded fio run, written again as a live run writes it
    (in pieces, committed between them), and exported with ``katatui export --raw``."""
    with SessionReader(FIO) as reader:
        run = reader.runs()[0]
        outputs = {c: reader.raw(run.spec.run_id, c) for c in range(run.spec.clients)}
    assert all(out.count(b'"jobs"') > 50 for out in outputs.values())
    path = tmp_path / "raw.katatui"
    w = SessionWriter(path, session_id="raw", profile_text="", profile_json="{}")
    w(SessionStarted("raw", "raw", "sequential", (SPECS[0],)))
    for c, out in outputs.items():
        for i in range(0, len(out), 4093):  # pieces that cut numbers and lines anywhere
            w(RawOutput("r0", c, "stdout", out[i : i + 4093]))
            if i % 3:
                w.checkpoint()
    w.close()
    assert path.stat().st_size < sum(map(len, outputs.values())) / 10
    target = tmp_path / "raw"
    assert main(["export", str(path), "--raw", str(target)]) == 0
    index = json.loads((target / "index.json").read_text())
    assert {e["client"]: (target / e["file"]).read_bytes() for e in index["files"]} == outputs


def test_sample_blocks_refuse_damage_by_what_they_are() -> None:
    rows = [(i, "r0", float(i), {"read_iops": 1.0}, 0, {"clat": {1: 2, 5: 3}}, 1.0 + i) for i in range(5)]
    blob = fmt.encode_samples(rows)
    assert [(r[0], r[3], dict(r[5])) for r in fmt.decode_samples(blob)] == [(r[0], r[3], r[5]) for r in rows]
    with pytest.raises(fmt.FormatError):
        list(fmt.decode_samples(blob[:-3]))


def damage(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, params)
    conn.close()


@pytest.mark.parametrize(
    ("what", "sql"),
    [
        ("a result", "UPDATE results SET value = value * 1.01 WHERE run_id = 'r0'"),
        ("a run's record", "UPDATE runs SET scenario = 'kata' WHERE run_id = 'r0'"),
        ("a histogram total", "UPDATE hist_totals SET data = (SELECT data FROM hist_totals WHERE run_id='r1')"
                              " WHERE run_id = 'r0'"),
    ],
)  # fmt: skip
def test_a_run_whose_figures_changed_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, sql: str
) -> None:
    path = tmp_path / "damaged.katatui"
    write(path, every_kind())
    damage(path, sql)
    before = path.read_bytes()
    assert main(["report", str(path)]) == 2, what
    err = capsys.readouterr().err
    assert f"session {path}: damaged" in err and "'r0'" in err and "checksum" in err, err
    assert "Traceback" not in err
    assert path.read_bytes() == before


def flip(data: bytes, needle: bytes) -> bytes:
    """``data`` with one bit of the first byte of ``needle`` in it flipped."""
    at = data.index(needle)
    return data[:at] + bytes([data[at] ^ 0x04]) + data[at + 1 :]


def test_a_bit_flipped_sample_or_raw_output_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.katatui"
    write(path, every_kind())
    conn = sqlite3.connect(path)
    block = conn.execute("SELECT data FROM samples").fetchone()[0]
    text = conn.execute("SELECT text FROM raw_chunks").fetchone()[0]
    conn.close()
    for table, column, blob in (("samples", "data", block), ("raw_chunks", "text", text)):
        bad = tmp_path / f"{table}.katatui"
        shutil.copyfile(path, bad)
        damage(bad, f"UPDATE {table} SET {column} = ?", flip(blob, blob[len(blob) // 2 : len(blob) // 2 + 1]))
        code = main(["replay", str(bad), "--speed", "0"]) if table == "samples" else main(
            ["export", str(bad), "--raw", str(tmp_path / f"raw-{table}")]
        )  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2, (table, err)
        assert f"session {bad}: damaged" in err and "checksum" in err and "r0" in err, err


@pytest.mark.integration
def test_raw_output_of_a_live_fio_run_is_exported_byte_for_byte(tmp_path: Path) -> None:
    """A real fio run (bare, 2 clients): ``katatui export --raw`` gives back exactly the bytes the
    engine received from each client, as the session's listeners saw them."""
    import asyncio

    from katatui.core.profile import load_profile
    from katatui.core.recording import Recording
    from tests.helpers import fio_profile, need

    need("fio")
    path = fio_profile(
        tmp_path, scenarios='[[scenarios]]\nlauncher = "bare"\n', runtime=3, extra="clients = 2"
    )
    received: dict[tuple[str, int, str], bytearray] = {}

    def listen(ev: object) -> None:
        if isinstance(ev, RawOutput):
            received.setdefault((ev.run_id, ev.client, ev.stream), bytearray()).extend(ev.data)

    out = tmp_path / "live.katatui"
    recording = Recording(load_profile(path), profile_text=path.read_text(), out=out)
    engine = recording.open([listen])
    try:
        asyncio.run(engine.run())
    finally:
        recording.close()
    assert sum(b.count(b'"jobs"') for b in received.values()) >= 4  # fio's json+ objects, 2 clients
    target = tmp_path / "raw"
    assert main(["export", str(out), "--raw", str(target)]) == 0
    index = json.loads((target / "index.json").read_text())
    exported = {
        (e["run_id"], e["client"], e["stream"]): (target / e["file"]).read_bytes() for e in index["files"]
    }
    assert exported == {k: bytes(v) for k, v in received.items() if v}
