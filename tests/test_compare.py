"""katatui compare on two real recorded sessions, threshold checks with their exit codes, imported
results joining a comparison, and published reference figures laid beside a session."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from pathlib import Path

import pytest

from katatui.core import reference
from katatui.core.compare import CellKey, compare
from katatui.core.errors import UserError
from katatui.core.export import EXPORT_SCHEMA
from katatui.core.plan import expand, resolve_scenarios
from katatui.core.profile import load_profile
from katatui.core.session import SessionReader
from katatui.core.stats import ratio_ci
from katatui.core.threshold import THRESHOLD_FAILED, load_bounds
from katatui.core.workloads.iperf3 import parser as iperf3
from tests.helpers import REPO, katatui

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parent / "fixtures"


def values(path: Path, scenario: str, metric: str) -> list[float]:
    with SessionReader(path) as reader:
        return [r.value for r in reader.results() if r.run.spec.scenario == scenario and r.metric == metric]


def test_compare_matches_cells_across_sessions(session_a: Path, session_b: Path) -> None:
    done = katatui("compare", str(session_a), str(session_b), "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema_version"] == EXPORT_SCHEMA
    assert doc["columns"] == ["A:bare", "A:runc", "B:bare", "B:runc-alt"]
    assert doc["baseline"] == "A:bare"
    iops = {r["column"]: r for r in doc["rows"] if r["metric"] == "read_iops"}
    assert set(iops) == {"A:bare", "A:runc", "B:bare", "B:runc-alt"}
    assert {r["variant"] for r in iops.values()} == {"rw=randread,bs=4k,iodepth=4,numjobs=1"}
    for column, path, scenario in (
        ("A:bare", session_a, "bare"), ("A:runc", session_a, "runc"),
        ("B:bare", session_b, "bare"), ("B:runc-alt", session_b, "runc-alt"),
    ):  # fmt: skip
        v = values(path, scenario, "read_iops")
        assert len(v) == 2
        assert iops[column]["median"] == pytest.approx(statistics.median(v))
    base = values(session_a, "bare", "read_iops")
    other = values(session_b, "runc-alt", "read_iops")
    row = iops["B:runc-alt"]
    assert row["ratio_of_medians"] == pytest.approx(statistics.median(other) / statistics.median(base))
    ci = ratio_ci(other, base)
    assert ci is not None
    assert (row["ratio_ci95_low"], row["ratio_ci95_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert doc["only_in"] == []

    table = katatui("compare", str(session_a), str(session_b))
    assert table.returncode == 0, table.stderr
    for text in ("A:bare", "A:runc", "B:runc-alt", "read IOPS", "×", "Welch"):
        assert text in table.stdout
    rows = list(
        csv.DictReader(
            io.StringIO(katatui("compare", str(session_a), str(session_b), "--format", "csv").stdout)
        )
    )
    assert rows and all(r["schema_version"] == str(EXPORT_SCHEMA) for r in rows)
    md = katatui("compare", str(session_a), str(session_b), "--format", "md", "--baseline", "B:bare").stdout
    assert "| cell | metric | A:bare | A:runc | B:bare | B:runc-alt |" in md
    assert "ratio to B:bare" in md
    bad = katatui("compare", str(session_a), str(session_b), "--baseline", "C:kata")
    assert bad.returncode == 2 and "A:bare" in bad.stderr and "Traceback" not in bad.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


PASSING = """
[[metric]]
name = "iops-floor"
type = "katatui"
workload = "fio"
variant = "rw=randread,bs=4k"
metric = "read_iops"
checktype = "median"
minval = 1.0

[[metric]]
name = "runc-vs-bare"
workload = "fio"
scenario = "runc"
relative_to = "bare"
metric = "read_iops"
checktype = "mean"
midval = 1.0
minpercent = 99.0
maxpercent = 10000.0
"""

FAILING = """
[[metric]]
name = "impossible-iops"
workload = "fio"
scenario = "bare"
metric = "read_iops"
checktype = "mean"
midval = 1.0
minpercent = 0.0
maxpercent = 10.0

[[metric]]
name = "no-iperf3-here"
workload = "iperf3"
metric = "sent_bits_per_second"
minval = 1.0
"""


def test_threshold_pass_and_fail_with_exit_codes(tmp_path: Path, session_a: Path) -> None:
    ok = katatui(
        "compare",
        str(session_a),
        "--threshold",
        str(write(tmp_path / "ok.toml", PASSING)),
        "--format",
        "json",
    )
    assert ok.returncode == 0, ok.stderr
    checks = json.loads(ok.stdout)["checks"]
    assert [(c["name"], c["scenario"], c["result"]) for c in checks] == [
        ("iops-floor", "bare", "pass"), ("iops-floor", "runc", "pass"), ("runc-vs-bare", "runc", "pass"),
    ]  # fmt: skip
    runc, bare = values(session_a, "runc", "read_iops"), values(session_a, "bare", "read_iops")
    assert checks[2]["value"] == pytest.approx(statistics.fmean(runc) / statistics.fmean(bare))
    assert checks[0]["value"] == pytest.approx(statistics.median(bare))
    assert "3 passed, 0 failed" in ok.stderr

    failing = write(tmp_path / "fail.toml", FAILING)
    bad = katatui("compare", str(session_a), "--threshold", str(failing))
    assert bad.returncode == THRESHOLD_FAILED == 3, bad.stderr
    assert "impossible-iops" in bad.stdout and "no-iperf3-here" in bad.stdout
    assert "above the maximum" in bad.stdout and "no matching results" in bad.stdout
    assert "0 passed, 2 failed" in bad.stderr

    example = katatui(
        "compare", str(session_a), "--threshold", str(REPO / "profiles" / "thresholds" / "example.toml")
    )
    assert example.returncode in (0, 3), example.stderr  # it parses; the bounds are the user's to set
    assert len(load_bounds(REPO / "profiles" / "thresholds" / "example.toml")) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[metric]\n", "not valid TOML"),
        ("[x]\n", "expected one or more [[metric]] entries"),
        ('[[metric]]\nname="a"\nworkload="fio"\nmetric="m"\n', "give minval and/or maxval"),
        ('[[metric]]\nname="a"\nworkload="fio"\nmetric="m"\nmidval=1.0\nminpercent=5.0\n', "midval needs"),
        ('[[metric]]\nname="a"\nworkload="fio"\nmetric="m"\nmaxval=1\nchecktype="avg"\n', "checktype"),
        ('[[metric]]\nname="a"\nworkload="fio"\nmetric="m"\nmaxval=1\nchekvar="x"\n', "unknown field"),
        ('[[metric]]\nname="a"\nworkload="fio"\nmetric="m"\nminval=5\nmaxval=1\n', "above the upper bound"),
    ],
)
def test_a_bad_threshold_file_is_a_usage_error(
    tmp_path: Path, session_a: Path, text: str, message: str
) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(UserError, match=re.escape(message)):
        load_bounds(path)
    done = katatui("compare", str(session_a), "--threshold", str(path))
    assert done.returncode == 2 and str(path) in done.stderr and "Traceback" not in done.stderr


def test_imported_iperf3_and_ab_results_join_a_comparison(tmp_path: Path) -> None:
    old, new = tmp_path / "old.katatui", tmp_path / "new.katatui"
    four, one = FIXTURES / "iperf3" / "json_4streams.stdout", FIXTURES / "iperf3" / "json_1stream.stdout"
    done = katatui("import", "iperf3", str(four), str(one), "--scenario", "last-week", "--out", str(old))
    assert done.returncode == 0, done.stderr
    done = katatui("import", "iperf3", str(FIXTURES / "iperf3" / "json_4streams.stdout"),
                   "--scenario", "today", "--out", str(new))  # fmt: skip
    assert done.returncode == 0, done.stderr
    cmp = compare([old, new])
    assert [c.label for c in cmp.columns] == ["A:last-week", "B:today"]
    sent = [r for r in cmp.rows if r.metric == "sent_bits_per_second"]
    assert [r.key for r in sent] == [CellKey("iperf3", "streams=4,reverse=False", 1)]
    expected = iperf3.parse_iperf3_json((FIXTURES / "iperf3" / "json_4streams.stdout").read_bytes())
    assert sent[0].by_column["B:today"].median == expected.sent_bits_per_second
    assert sent[0].ratio("B:today", "A:last-week") == 1.0
    assert cmp.only_in == [("A", "iperf3 streams=1 reverse=False clients=1")]

    # the cell an imported file lands in is the one a live run of the same variant has
    profile = tmp_path / "p.toml"
    profile.write_text(
        'name = "p"\n[targets.t]\nhost = "local"\n[[scenarios]]\nlauncher = "bare"\n'
        '[[workloads]]\ntype = "iperf3"\nname = "net"\nstreams = 4\n'
    )
    loaded = load_profile(profile)
    scenarios, _ = resolve_scenarios(loaded, {"t": None})
    live = {CellKey.of(r) for r in expand(loaded, scenarios)}
    assert CellKey("iperf3", "streams=4,reverse=False", 1) in live

    ab_session = tmp_path / "ab.katatui"
    done = katatui("import", "ab", str(FIXTURES / "ab" / "keepalive.stdout"), "--scenario", "nginx-old",
                   "--out", str(ab_session))  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(katatui("report", str(ab_session), "--format", "json").stdout)["results"]
    rps = [r for r in rows if r["metric"] == "requests_per_second"]
    assert rps and rps[0]["variant"] == "concurrency=10,keepalive=True"
    assert f"{rps[0]['value']:.2f}" in (FIXTURES / "ab" / "keepalive.stdout").read_text()

    bad = katatui("import", "iperf3", str(FIXTURES / "ab" / "keepalive.stdout"), "--scenario", "x",
                  "--out", str(tmp_path / "x.katatui"))  # fmt: skip
    assert bad.returncode == 2 and "keepalive.stdout" in bad.stderr and "iperf3 -J" in bad.stderr
    assert not (tmp_path / "x.katatui").exists()


def test_published_figures_are_laid_beside_matching_cells(session_a: Path) -> None:
    # seed 001 published random-read commit latency for 1 client; session_a ran randread with 1 client
    cmp = compare([session_a], seed="001")
    p50 = next(r for r in cmp.rows if r.metric == "read_clat_p50_us")
    published = {(m.figure.scenario, m.value) for m in p50.published}
    assert published == {("bare", 970.0), ("runc", 1155.0), ("kata", 5472.0)}
    done = katatui("compare", str(session_a), "--reference", "1")
    assert done.returncode == 0, done.stderr
    assert reference.PUBLISHED_LABEL in done.stdout and "5,472 µs" in done.stdout
    report = katatui("report", str(session_a), "--reference", "001", "--format", "md")
    assert report.returncode == 0, report.stderr
    assert "Published figures from other hardware" in report.stdout
    assert "kata randread (study 001)" in report.stdout and "5,472 µs" in report.stdout
    doc = json.loads(katatui("report", str(session_a), "--reference", "001", "--format", "json").stdout)
    assert doc["published"]["label"] == reference.PUBLISHED_LABEL
    assert {f["source"] for f in doc["published"]["figures"]} == {"001_50d635ff193e2fcf.txt"}
    unknown = katatui("report", str(session_a), "--reference", "042")
    assert unknown.returncode == 2 and "001" in unknown.stderr


def test_reference_figures_are_the_packaged_copy_of_the_studies() -> None:
    shared = REPO.parent / "shared" / "reference" / "seed-results.csv"
    if not shared.is_file():
        pytest.skip("the shared reference table is not beside this checkout")
    rows = list(csv.DictReader(io.StringIO(shared.read_text())))
    assert len(reference.figures()) == len(rows)
    assert reference.seed_ids() == ["001", "002", "003", "004"]
    assert reference.resolve_seed("seed002") == "002"
    sysbench = reference.lookup("004", "sysbench", {"test": "cpu", "threads": 1}, 1, "latency_avg_ms")
    assert {(m.figure.scenario, m.value) for m in sysbench} == {("runc", 3.67), ("kata", 3.66)}
    net = reference.lookup("002", "iperf3", {"streams": 4, "reverse": False}, 1, "sent_bits_per_second")
    assert {m.value for m in net} == {18.7e9, 18.1e9, 15.8e9, 17.9e9}
