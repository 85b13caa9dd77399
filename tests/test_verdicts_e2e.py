"""End to end: a profile with ``baseline = "runc"`` and runc, runc-alt (runc under a second name) and
runsc (gVisor), 3 rounds of fio randread 4k; the report's verdicts in json, csv, md and the table."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import TestEnv
from tests.helpers import katatui, need

pytestmark = pytest.mark.integration

PROFILE = """
name = "verdicts"
repeats = 3
pairing = "sequential"
baseline = "runc"
[targets.local]
host = "local"
scratch_base = "{scratch}"
docker_socket = "{sock}"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[scenarios]]
launcher = "docker"
runtime = "runc-alt"
[[scenarios]]
launcher = "docker"
runtime = "runsc"
[[workloads]]
type = "fio"
rw = "randread"
bs = "4k"
iodepth = 4
size = "8m"
runtime = 1
clients = 1
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, testenv: TestEnv) -> Path:
    need("fio")
    for runtime in ("runc", "runc-alt", "runsc"):
        if runtime not in testenv.runtimes:
            pytest.skip(f"the test dockerd has no runtime {runtime}")
    base = tmp_path_factory.mktemp("verdicts")
    profile = base / "verdicts.toml"
    profile.write_text(PROFILE.format(scratch=base / "scratch", sock=testenv.docker_sock))
    out = base / "verdicts.katatui"
    done = katatui("run", str(profile), "--headless", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_gvisor_is_worse_than_runc_and_the_aa_pair_is_not_called(session: Path) -> None:
    done = katatui("report", str(session), "--format", "json")
    assert done.returncode == 0, done.stderr
    found = {(c["scenario"], c["metric"]): c for c in json.loads(done.stdout)["comparisons"]}
    runsc = found[("runsc", "read_iops")]
    assert runsc["reference"] == "runc" and runsc["verdict"] == "worse", runsc
    assert runsc["high"] < 1 and runsc["rounds"] == 3 and runsc["method"] == "paired"
    assert runsc["low"] <= runsc["ratio"] <= runsc["high"] and 0 < runsc["p_value"] <= 1
    assert runsc["noise_source"] == "A/A runc-alt vs runc"  # the A/A pair measured the band
    for key in ("cell", "metric", "scenario", "reference", "ratio", "low", "high", "rounds", "method",
                "verdict", "p_value", "noise_band"):  # fmt: skip
        assert key in runsc
    for metric in ("read_iops", "read_bw_bytes_per_s", "read_clat_p50_us", "read_clat_p99_us"):
        assert found[("runc-alt", metric)]["verdict"] in ("same", "undecided"), found[("runc-alt", metric)]

    rows = list(csv.DictReader(io.StringIO(katatui("report", str(session), "--format", "csv").stdout)))
    assert {r["verdict"] for r in rows if r["scenario"] == "runsc" and r["metric"] == "read_iops"} == {
        "worse"
    }
    assert {r["verdict"] for r in rows if r["scenario"] == "runc"} == {"reference"}
    md = katatui("report", str(session), "--format", "md").stdout
    assert "**worse**" in md and "paired by round" in md
    table = katatui("report", str(session), env={"COLUMNS": "80"}).stdout
    summary = table[table.index("medians, ratio to runc") : table.index("fairness record")]
    assert "worse" in summary and "…" not in summary
    other = katatui("report", str(session), "--format", "json", "--baseline", "runsc")
    flipped = {(c["scenario"], c["metric"]): c for c in json.loads(other.stdout)["comparisons"]}
    assert flipped[("runc", "read_iops")]["verdict"] == "better"
    bad = katatui("report", str(session), "--baseline", "kata")
    assert bad.returncode == 2 and "runc-alt" in bad.stderr and "Traceback" not in bad.stderr
