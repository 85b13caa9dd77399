"""Each class of bad profile gets one clear message naming file, field and expectation; exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from katatui.core.errors import ProfileError, UserError
from katatui.core.profile import load_profile, override_targets, parse_size

GOOD = """
name = "t"
[targets.local]
host = "local"
[[scenarios]]
launcher = "bare"
[[scenarios]]
launcher = "docker"
runtime = "runc"
[[workloads]]
type = "fio"
rw = ["read", "randwrite"]
bs = ["4k", "64k"]
clients = [1, 8]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(text)
    return p


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, text))
    return info.value.problems


def test_good_profile_loads(tmp_path: Path) -> None:
    prof = load_profile(write(tmp_path, GOOD))
    assert [s.label for s in prof.scenarios] == ["bare", "runc"]
    assert prof.workloads[0].axes() == {
        "rw": ["read", "randwrite"],
        "bs": ["4k", "64k"],
        "iodepth": [1],
        "numjobs": [1],
    }


def test_shipped_profiles_are_valid() -> None:
    for path in Path(__file__).parent.parent.joinpath("profiles").glob("*.toml"):
        load_profile(path)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("[[workloads]]", "[[workloads]]\nbogus = 1"), "workloads[0].bogus", "unknown key"),
        (('name = "t"', 'name = "t"\nrepeats = "three"'), "repeats", "valid integer"),
        (('name = "t"', 'name = "t"\nrepeats = 0'), "repeats", "greater than 0"),
        (("clients = [1, 8]", "clients = [1, -8]"), "workloads[0].clients[1]", "greater than 0"),
        (('type = "fio"', 'type = "fiio"'), "workloads[0]", "unknown workload type 'fiio'"),
        (('bs = ["4k", "64k"]', 'bs = ["4k", "lots"]'), "workloads[0].bs", "not a size"),
        (('runtime = "runc"', 'runtime = "runc; rm -rf /"'), "scenarios[1].runtime", "not a runtime name"),
        (('launcher = "bare"', 'launcher = "lxc"'), "scenarios[0].launcher", "'containerd' or 'kubernetes'"),
        (('host = "local"', 'host = "ftp://x"'), "targets.local.host", "expected 'local' or 'ssh://"),
        (
            ('host = "local"', 'host = "local"\nscratch_base = "/dev/sdb"'),
            "targets.local.scratch_base",
            "/dev",
        ),
        (
            ('host = "local"', 'host = "local"\nscratch_base = "relative/dir"'),
            "targets.local.scratch_base",
            "absolute",
        ),
        (
            ('host = "local"', 'host = "local"\nscratch_base = "/"'),
            "targets.local.scratch_base",
            "cannot be /",
        ),
        (('host = "local"', 'host = "local"\nscratch_base = "//etc"'), "targets.local.scratch_base", "/etc"),
        (
            ('host = "local"', 'host = "local"\nscratch_base = "/tmp/a:b"'),
            "targets.local.scratch_base",
            "':'",
        ),
        (("clients = [1, 8]", 'filename = "/dev/sda"'), "workloads[0]", "allow_existing_file = true"),
        (('runtime = "runc"', ""), "scenarios[1]", "needs 'runtime'"),
        (('launcher = "bare"', 'launcher = "bare"\nruntime = "runc"'), "scenarios[0]", "takes no runtime"),
    ],
)
def test_bad_profiles(tmp_path: Path, change: tuple[str, str], field: str, words: str) -> None:
    found = problems(tmp_path, GOOD.replace(*change, 1))
    assert any(f"p.toml: {field}:" in p and words in p for p in found), found


def test_missing_sections(tmp_path: Path) -> None:
    found = problems(tmp_path, 'name = "t"\n')
    assert {p.split(": ")[1] for p in found} == {"targets", "scenarios", "workloads"}


def test_not_toml(tmp_path: Path) -> None:
    found = problems(tmp_path, "name = \n")
    assert "not valid TOML" in found[0] and "line 1" in found[0]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_profile(tmp_path / "nope.toml")


def test_unknown_scenario_target(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('launcher = "bare"', 'launcher = "bare"\ntargets = ["nowhere"]'))
    assert any("'nowhere'" in p and "known: local" in p for p in found)


def test_target_override(tmp_path: Path) -> None:
    prof = load_profile(write(tmp_path, GOOD))
    new = override_targets(prof, ["local=ssh://root@127.0.0.1:2222?docker_socket=/run/d.sock"])
    assert new.targets["local"].host.startswith("ssh://root@127.0.0.1:2222")
    assert new.targets["local"].docker_socket == "/run/d.sock"
    with pytest.raises(UserError, match="no target 'other'"):
        override_targets(prof, ["other=local"])
    with pytest.raises(UserError, match="expected NAME="):
        override_targets(prof, ["local"])


def test_sizes() -> None:
    assert parse_size("4k") == 4096
    assert parse_size("2Gi") == 2 * 2**30
    assert parse_size("512MiB") == 512 * 2**20
    with pytest.raises(ValueError):
        parse_size("4 kb please")


def test_cli_exit_status_2_without_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, GOOD.replace("clients = [1, 8]", "clients = 0"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "katatui",
            "run",
            str(bad),
            "--headless",
            "--out",
            str(tmp_path / "s.katatui"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "workloads[0].clients" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s.katatui").exists()


def test_set_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    prof = load_profile(path, ["scenario.runc.runtime=kata-qemu", "workload.fio.runtime=7", "repeats=3",
                               "limits.cpus=4", "target.local.scratch_base=/srv/k"])  # fmt: skip
    assert prof.scenarios[1].runtime == "kata-qemu" and prof.scenarios[1].label == "kata-qemu"
    assert prof.workloads[0].runtime == 7  # type: ignore[union-attr]
    assert prof.repeats == 3 and prof.limits.cpus == 4 and prof.targets["local"].scratch_base == "/srv/k"
    with pytest.raises(UserError, match="no scenario named 'kata'"):
        load_profile(path, ["scenario.kata.runtime=x"])
    with pytest.raises(UserError, match="expected KEY=VALUE"):
        load_profile(path, ["repeats"])
    with pytest.raises(ProfileError, match="repeats"):
        load_profile(path, ["repeats=0"])


def test_every_workload_type_validates(tmp_path: Path) -> None:
    text = (
        GOOD
        + """
[[workloads]]
type = "iperf3"
streams = [1, 4]
reverse = [false, true]
[[workloads]]
type = "ab"
concurrency = 100
[[workloads]]
type = "sysbench"
test = ["cpu", "memory"]
[[workloads]]
type = "launch"
[[workloads]]
type = "footprint"
[[workloads]]
type = "dd"
mode = ["write", "read"]
"""
    )
    prof = load_profile(write(tmp_path, text))
    types = ["fio", "iperf3", "ab", "sysbench", "launch", "footprint", "dd"]
    assert [w.type for w in prof.workloads] == types
    found = problems(tmp_path, text.replace("concurrency = 100", "concurrency = 0"))
    assert any("workloads[2].concurrency: Input should be greater than 0" in p for p in found), found
    found = problems(tmp_path, text.replace('test = ["cpu", "memory"]', 'test = "gpu"'))
    assert any("workloads[3].test" in p and "'cpu' or 'memory'" in p for p in found), found
