"""Property-based fuzzing of what a user gives katatui: profiles (TOML text mutated), ``--set``
values and damaged sessions (bytes flipped or cut in a copy of a small recorded session).

Each case runs the command line in-process and must end in exit status 0 or 2; a 2 says what is
wrong on stderr (``katatui: error: ...``); no case prints a traceback or changes a byte of its
input. Bounded in time: about 100 cases per property, each well under a second.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from katatui.cli import main

HERE = Path(__file__).parent
SESSION = HERE / "tui" / "fixtures" / "missing_runtime.katatui"
PROFILE = """\
name = "fuzz"
repeats = 2
[targets.local]
host = "local"
scratch_base = "/var/tmp/katatui"
[limits]
cpus = 2
memory = "1g"
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[scenarios]]
launcher = "containerd"
runtime = "io.containerd.runc.v2"
[[workloads]]
type = "fio"
rw = ["randread", "write"]
bs = ["4k", "64k"]
size = "64m"
iodepth = 8
runtime = 5
[[workloads]]
type = "sysbench"
test = "memory"
memory_total_size = "1G"
[[workloads]]
type = "ab"
concurrency = [1, 8]
requests = 1000
"""
SETTINGS = settings(
    max_examples=int(os.environ.get("KATATUI_FUZZ_EXAMPLES", "100")),  # more for a longer hunt
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same cases every run: a failure is reproduced by running it again
    database=None,
)
SLOW = 5.0  # seconds: a case slower than this counts as a hang


@pytest.fixture
def no_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoApp:
        def __init__(self, **kwargs: object) -> None:
            pass

        def run(self) -> int:
            return 0

    monkeypatch.setattr("katatui.tui.app.KatatuiApp", NoApp)


@pytest.fixture
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="katatui-fuzz-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_case(
    figures: Counter[str], capsys: pytest.CaptureFixture[str], argv: list[str], inputs: list[Path]
) -> None:
    """Run ``argv``; check its exit status, its message and that its inputs are unchanged."""
    before = [digest(p) for p in inputs]
    started = time.monotonic()
    code = main(argv)
    took = time.monotonic() - started
    err = capsys.readouterr().err
    figures["cases"] += 1
    figures[f"exit {code}"] += 1
    figures["tracebacks"] += "Traceback" in err
    figures["hangs"] += took > SLOW
    figures["slowest ms"] = max(figures["slowest ms"], int(took * 1000))
    assert "Traceback" not in err, err[-2000:]
    assert code in (0, 2), (code, err[-2000:])
    if code == 2:
        assert err.startswith("katatui: error:") and len(err) < 20_000, err[:2000]
    assert took < SLOW, (argv[:3], took)
    assert [digest(p) for p in inputs] == before, "an input changed"


def report(capsys: pytest.CaptureFixture[str], name: str, figures: Counter[str]) -> None:
    with capsys.disabled():
        print(f"\nfuzz {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(figures.items())))


def run_property(prop: Callable[[], None]) -> None:
    prop()


# --- profiles: the TOML text mutated -------------------------------------------------------------

MUTATION = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, len(PROFILE)), st.text(max_size=12)),
    st.tuples(st.just("delete"), st.integers(0, len(PROFILE)), st.integers(1, 40)),
    st.tuples(st.just("replace"), st.integers(0, len(PROFILE)), st.sampled_from(list('[]{}"=,.\n#0-9 x\\'))),
    st.tuples(st.just("value"), st.integers(0, len(PROFILE)), st.sampled_from([
        '"' + "9" * 400 + '"', "9" * 400, '"0"', '"0k"', "inf", "nan", "-1", "1e308", "1e-300",
        '"' + "x" * 5000 + '"', "[" * 600 + "]" * 600, '"ssh://root:pw@h"', '"--rm"', "[]", "{}", '""',
    ])),
)  # fmt: skip


def mutate(text: str, mutations: list[tuple[str, int, object]]) -> str:
    for kind, at, what in mutations:
        at = min(at, len(text))
        if kind == "insert":
            text = text[:at] + str(what) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + int(str(what)) :]
        elif kind == "replace":
            text = text[:at] + str(what) + text[at + 1 :]
        else:  # a hostile value after the next '=' from there
            eq = text.find("= ", at)
            if eq >= 0:
                end = text.find("\n", eq)
                text = text[: eq + 2] + str(what) + (text[end:] if end >= 0 else "")
    return text


def test_fuzz_mutated_profiles(capsys: pytest.CaptureFixture[str], no_run: None, workdir: Path) -> None:
    figures: Counter[str] = Counter()
    path = workdir / "profile.toml"

    @SETTINGS
    @given(st.lists(MUTATION, min_size=1, max_size=4))
    def prop(mutations: list[tuple[str, int, object]]) -> None:
        path.write_text(mutate(PROFILE, mutations), encoding="utf-8")
        one_case(
            figures, capsys, ["run", str(path), "--headless", "--out", str(workdir / "s.katatui")], [path]
        )

    run_property(prop)
    report(capsys, "profiles", figures)
    assert figures["exit 2"] > 0 and figures["exit 0"] > 0  # both kinds were met


# --- --set values --------------------------------------------------------------------------------

KEYS = [
    "repeats", "pairing", "drop_caches", "limits.cpus", "limits.memory", "kubernetes.namespace",
    "workload.fio.size", "workload.fio.bs", "workload.fio.rw", "workload.fio.iodepth", "workload.fio.runtime",
    "workload.sysbench.memory_total_size", "workload.ab.concurrency", "workload.ab.requests",
    "scenario.runc.image", "scenario.runc.runtime", "scenario.bare.targets", "target.local.host",
    "target.local.scratch_base", "scenario.nope.image", "a.b.c.d", "",
]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "9" * 400, '"' + "9" * 400 + '"', '"' + "9" * 400 + 'k"', '"0"', '"0k"', "inf", "-inf", "nan",
        "1e308", "1e-300", "[" * 5000 + "]" * 5000, "{a = " * 100 + "1" + "}" * 100,
        '"' + "x" * 100_000 + '"',
        "ssh://root:secret@host", '"ssh://u:p@h:22"', '"--rm"', "[]", '["4k", "0"]', "true", "0", "-1",
        "99999999999999999999999", "9223372036854775807", '"/etc"', '"/var/tmp/../etc"', "'\\x00'",
    ]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats().map(repr),
)  # fmt: skip


def test_fuzz_set_values(capsys: pytest.CaptureFixture[str], no_run: None, workdir: Path) -> None:
    figures: Counter[str] = Counter()
    path = workdir / "profile.toml"
    path.write_text(PROFILE, encoding="utf-8")

    @SETTINGS
    @given(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3))
    def prop(items: list[tuple[str, str]]) -> None:
        argv = ["run", str(path), "--headless", "--out", str(workdir / "s.katatui")]
        for key, value in items:
            argv += ["--set", f"{key}={value}"]
        one_case(figures, capsys, argv, [path])

    run_property(prop)
    report(capsys, "--set", figures)
    assert figures["exit 2"] > 0


# --- damaged sessions ----------------------------------------------------------------------------

ORIGINAL = SESSION.read_bytes()
# Anywhere in the file, or on the bytes of its JSON and numbers, where damage is read as values.
JSONISH = [i for i, b in enumerate(ORIGINAL) if b in b'{}[]":,.0123456789']
FLIP = st.tuples(st.one_of(st.integers(0, len(ORIGINAL) - 1), st.sampled_from(JSONISH)), st.integers(0, 255))
COMMANDS = [
    lambda p: ["report", str(p)],
    lambda p: ["report", str(p), "--format", "json", "--partial"],
    lambda p: ["report", str(p), "--format", "csv"],
    lambda p: ["compare", str(p), str(SESSION), "--format", "json"],
    lambda p: ["replay", str(p), "--speed", "0"],
    lambda p: ["sessions", "--dir", str(p.parent)],
]


def test_fuzz_damaged_sessions(capsys: pytest.CaptureFixture[str], no_screen: None, workdir: Path) -> None:
    figures: Counter[str] = Counter()
    path = workdir / "damaged.katatui"

    @SETTINGS
    @given(
        st.lists(FLIP, min_size=1, max_size=8),
        st.one_of(st.none(), st.integers(0, len(ORIGINAL))),
        st.sampled_from(range(len(COMMANDS))),
    )
    def prop(flips: list[tuple[int, int]], cut: int | None, command: int) -> None:
        data = bytearray(ORIGINAL)
        for at, byte in flips:
            data[at] = byte
        if cut is not None:
            del data[cut:]
        path.write_bytes(bytes(data))
        one_case(figures, capsys, COMMANDS[command](path), [path, SESSION])

    run_property(prop)
    report(capsys, "damaged sessions", figures)


# --- damaged sessions of the compact format: never wrong figures ------------------------------------

RECORDED = HERE / "tui" / "fixtures" / "three_columns.katatui"


@pytest.fixture(scope="module")
def compact(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    """A recorded session (12 runs, 96 samples) in the compact format, and its report's figures."""
    from katatui.core import replay

    path = tmp_path_factory.mktemp("compact") / "compact.katatui"
    replay.rewrite(RECORDED, path)
    return path.read_bytes(), figures_of(path)


def figures_of(path: Path) -> str:
    """What ``katatui report --format json`` says about the measurements (results, summaries,
    comparisons), as text; the command fails if the report does."""
    import contextlib
    import io
    import json

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["report", str(path), "--format", "json", "--partial"])
    if code != 0:
        return f"exit {code}"
    doc = json.loads(out.getvalue())
    return json.dumps({k: doc[k] for k in ("results", "summary", "comparisons")}, sort_keys=True)


def test_fuzz_damaged_compact_sessions_never_report_wrong_figures(
    capsys: pytest.CaptureFixture[str], workdir: Path, compact: tuple[bytes, str]
) -> None:
    """Bits flipped anywhere in a compact session: its checksums refuse it (exit 2, naming the
    file) unless the damage left every figure as it was (a flip in free space, in an index)."""
    original, clean = compact
    path = workdir / "damaged.katatui"
    figures: Counter[str] = Counter()

    @SETTINGS
    @given(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 7)), min_size=1, max_size=8))
    def prop(flips: list[tuple[int, int]]) -> None:
        data = bytearray(original)
        for at, bit in flips:
            data[at] ^= 1 << bit
        path.write_bytes(bytes(data))
        started = time.monotonic()
        got = figures_of(path)
        err = capsys.readouterr().err
        figures["cases"] += 1
        figures["hangs"] += time.monotonic() - started > SLOW
        assert "Traceback" not in err, err[-2000:]
        if got.startswith("exit "):
            figures[got] += 1
            assert got == "exit 2" and err.startswith("katatui: error:") and str(path) in err, (got, err)
        else:
            figures["same figures, exit 0"] += 1
            assert got == clean, "damage changed a figure and was not refused"

    run_property(prop)
    report(capsys, "damaged compact sessions", figures)
    assert figures["exit 2"] > 0
