"""A plan too big to build is refused before it is built: exit 2, a message naming the limit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from katatui.core.errors import ProfileError, UserError
from katatui.core.plan import check_plan_size, expand, resolve_scenarios
from katatui.core.profile import load_profile, profile_from_dict
from tests.helpers import REPO

PROFILE = """
name = "t"
{top}
[targets.local]
host = "local"
scratch_base = "{scratch}"
[[scenarios]]
launcher = "bare"
[[workloads]]
type = "fio"
rw = "randread"
size = "1m"
runtime = 1
{workload}
"""


def write(tmp_path: Path, top: str = "", workload: str = 'bs = "4k"') -> Path:
    path = tmp_path / "p.toml"
    path.write_text(PROFILE.format(top=top, workload=workload, scratch=tmp_path / "scratch"))
    return path


# A small Python in between starts katatui and reports katatui's own peak memory from wait4: a child
# forked straight from this (large) test process would carry the test process's RSS in ru_maxrss,
# since Linux counts the memory a process had before exec.
MEASURE = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen([sys.executable, '-m', 'katatui', *sys.argv[1:]])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "sys.stderr.write(f'\\nkatatui-maxrss-kb={usage.ru_maxrss}\\n')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run katatui; (result, seconds, katatui's own peak RSS in kB)."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )  # fmt: skip
    seconds = time.monotonic() - start
    err, _, rss = done.stderr.rpartition("\nkatatui-maxrss-kb=")
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout, err), seconds, int(rss)


def refused(done: subprocess.CompletedProcess[str], seconds: float, rss_kb: int) -> str:
    text = " ".join(done.stderr.split())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert seconds < 2 * 5, seconds  # generous for a loaded CI machine; it takes ~0.4 s
    assert rss_kb < 300_000, rss_kb
    return text


def test_a_huge_repeat_flag_is_refused_at_once(tmp_path: Path) -> None:
    prof = write(tmp_path)
    text = refused(*cli("run", str(prof), "--headless", "--repeat", "99999999999999999999999",
                        "--out", str(tmp_path / "s.katatui")))  # fmt: skip
    assert "--repeat 99999999999999999999999" in text and "limit of 1000 repeats" in text, text
    assert "KATATUI_MAX_REPEATS" in text
    assert not (tmp_path / "s.katatui").exists()


def test_a_huge_repeats_in_the_profile_is_refused(tmp_path: Path) -> None:
    prof = write(tmp_path, top="repeats = 9223372036854775807")
    text = refused(*cli("run", str(prof), "--headless", "--out", str(tmp_path / "s.katatui")))
    assert "repeats = 9223372036854775807" in text and "KATATUI_MAX_REPEATS" in text, text
    with pytest.raises(ProfileError, match="limit of 1000 repeats"):
        load_profile(prof)


def test_a_million_clients_are_refused(tmp_path: Path) -> None:
    prof = write(tmp_path, workload="clients = 1000000")
    text = refused(*cli("run", str(prof), "--headless", "--out", str(tmp_path / "s.katatui")))
    assert "clients = 1000000" in text and "limit of 4096 clients" in text and "KATATUI_MAX_CLIENTS" in text


def test_a_long_axis_is_refused(tmp_path: Path) -> None:
    values = ", ".join(['"4k"'] * 5000)
    with pytest.raises(ProfileError, match=r"bs has 5000 values.*KATATUI_MAX_AXIS_VALUES"):
        load_profile(write(tmp_path, workload=f"bs = [{values}]"))


def test_a_matrix_too_big_is_refused_and_the_limit_can_be_raised(tmp_path: Path) -> None:
    axes = 'bs = ["4k", "8k", "16k", "32k", "64k", "128k", "256k", "512k", "1m", "2m"]\n'
    axes += "iodepth = [" + ", ".join(str(2**i) for i in range(10)) + "]\nclients = [1, 2, 3, 4, 5]"
    prof = write(tmp_path, top="repeats = 1000", workload=axes)
    text = refused(*cli("run", str(prof), "--headless", "--out", str(tmp_path / "s.katatui")))
    assert "the plan has 500000 runs" in text and "limit of 100000 runs" in text, text
    assert "KATATUI_MAX_RUNS" in text
    # --repeat is checked with the profile: 10 x 10 x 5 cells x 300 repeats
    write(tmp_path, workload=axes)
    text = refused(
        *cli("run", str(prof), "--headless", "--repeat", "300", "--out", str(tmp_path / "t.katatui"))
    )
    assert "the plan has 150000 runs" in text, text
    # an operator may raise it
    os.environ["KATATUI_MAX_RUNS"] = "200000"
    try:
        assert load_profile(prof, ["repeats=300"]).repeats == 300
    finally:
        del os.environ["KATATUI_MAX_RUNS"]


def test_expand_checks_the_resolved_plan_before_building_it() -> None:
    data = {
        "name": "p",
        "targets": {"local": {}},
        "scenarios": [{"launcher": "docker", "runtime": "*"}],
        "workloads": [{"type": "fio", "bs": ["4k"] * 100, "rw": ["read", "write"] * 50}],
    }
    prof = profile_from_dict(data, "p.toml")  # "*" counts once here: 10,000 runs
    scenarios, _ = resolve_scenarios(prof, {"local": [f"rt{i}" for i in range(20)]})
    with pytest.raises(UserError, match="the plan has 200000 runs"):
        check_plan_size(prof, scenarios)
    start = time.monotonic()
    with pytest.raises(UserError, match="KATATUI_MAX_RUNS"):
        expand(prof, scenarios)
    with pytest.raises(UserError, match="limit of 1000 repeats"):
        expand(prof, scenarios, repeats=10**30)
    assert time.monotonic() - start < 1
    assert len(expand(prof, scenarios[:5])) == 50_000
