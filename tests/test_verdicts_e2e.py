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


AUTO = """
name = "auto"
repeats = "auto"
min_repeats = 2
max_repeats = 4
[targets.local]
host = "local"
scratch_base = "{scratch}"
docker_socket = "{sock}"
[[scenarios]]
launcher = "docker"
runtime = "runc"
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


def test_auto_rounds_stop_and_say_why_and_a_calibration_gives_the_noise_band(
    tmp_path: Path, testenv: TestEnv
) -> None:
    need("fio")
    for runtime in ("runc", "runsc"):
        if runtime not in testenv.runtimes:
            pytest.skip(f"the test dockerd has no runtime {runtime}")
    env = {"KATATUI_DATA_DIR": str(tmp_path / "data")}
    profile = tmp_path / "auto.toml"
    profile.write_text(AUTO.format(scratch=tmp_path / "scratch", sock=testenv.docker_sock))
    out = tmp_path / "auto.katatui"
    done = katatui("run", str(profile), "--headless", "--out", str(out), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert "order within rounds alternates: runc runsc, then runsc runc" in text
    assert "round 1 " in text and "round 2 " in text and "runsc vs runc read IOPS" in text
    assert "settled after" in text or "stopped at max_repeats = 4" in text, text
    doc = json.loads(katatui("report", str(out), "--format", "json").stdout)
    (stopped,) = doc["rounds"]["stopped"].values()
    assert doc["rounds"]["order"] == "alternating" and stopped["looks"] == 3
    assert stopped["outcome"] in ("settled", "max_repeats") and 2 <= stopped["rounds"] <= 4
    assert len(doc["failed_runs"]) == 0 and len(doc["unfinished_runs"]) == 0
    iops = next(c for c in doc["comparisons"] if c["scenario"] == "runsc" and c["metric"] == "read_iops")
    assert iops["rounds"] == stopped["rounds"] and abs(iops["level"] - (1 - 0.05 / 3)) < 1e-9
    assert iops["noise_source"] == "default"
    if stopped["outcome"] == "settled":
        assert iops["verdict"] == "worse" and iops["high"] < 1  # gVisor's 4k random reads

    # The baseline against itself on this target: its bands, stored, are the next run's noise band.
    done = katatui("calibrate", str(profile), "--scenario", "runc", "--repeat", "3", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "noise bands stored" in done.stdout and "read IOPS" in done.stdout
    stored = json.loads((tmp_path / "data" / "calibration.json").read_text())
    (cell,) = stored["targets"]["local"]["docker:runc"].values()
    assert cell["read_iops"]["band"] >= 0.01 and cell["read_iops"]["rounds"] == 3
    again = tmp_path / "again.katatui"
    done = katatui("run", str(profile), "--headless", "--repeat", "2", "--out", str(again), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "noise bands of runc on local: calibrated" in done.stdout
    doc = json.loads(katatui("report", str(again), "--format", "json").stdout)
    iops = next(c for c in doc["comparisons"] if c["scenario"] == "runsc" and c["metric"] == "read_iops")
    assert (
        iops["noise_source"].startswith("calibrated 20") and iops["noise_band"] == cell["read_iops"]["band"]
    )
    assert iops["level"] == 0.95 and doc["rounds"]["stopped"] == {}
    table = " ".join(katatui("report", str(again)).stdout.split())  # the caption wraps
    assert "noise band calibrated 20" in table
