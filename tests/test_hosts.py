"""One way to reach a host: which targets need Docker, the scratch-mode rule, the one wording of
a missing program, and a probe that reports an unreachable target instead of raising."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from katatui.core import hosts
from katatui.core.errors import DaemonError, UserError
from katatui.core.launchers import setup
from katatui.core.launchers.docker import daemon_call
from katatui.core.profile import Profile, TargetConfig, profile_from_dict
from katatui.core.recording import check_repeats


def profile(workloads: list[dict[str, Any]] | None = None) -> Profile:
    return profile_from_dict(
        {
            "name": "p",
            "targets": {"a": {}, "b": {}},
            "scenarios": [{"launcher": "bare"}, {"launcher": "docker", "runtime": "runc", "targets": ["a"]}],
            "workloads": workloads or [{"type": "fio"}],
        },
        "p.toml",
    )


def test_uses_docker_only_where_a_docker_scenario_runs() -> None:
    p = profile()
    assert hosts.uses_docker(p, "a") and not hosts.uses_docker(p, "b")


def test_scratch_mode_is_the_workloads_common_one_else_a_volume() -> None:
    assert setup.scratch_mode(profile([{"type": "fio", "scratch": "container"}])) == "container"
    mixed = [{"type": "fio", "scratch": "container"}, {"type": "fio", "name": "f2", "scratch": "volume"}]
    assert setup.scratch_mode(profile(mixed)) == "volume"


def test_a_missing_program_is_worded_once() -> None:
    said = hosts.missing_tools(["iperf3", "fio"], {"iperf3": "/usr/bin/iperf3"}, "node")
    assert said == "fio not installed on node; install it (Debian: apt-get install fio)"
    assert hosts.missing_tools(["fio"], {"fio": "/usr/bin/fio"}, "node") is None


def test_an_unreachable_target_is_reported_not_raised() -> None:
    cfg = TargetConfig(host="ssh://nobody@127.0.0.1:1")
    host = asyncio.run(hosts.probe("down", cfg, docker=True, timeout=10))
    assert host.error and not host.connected and host.runtimes is None
    asyncio.run(host.close())


def test_daemon_failures_become_daemon_errors() -> None:
    import requests.exceptions

    async def late() -> None:
        raise requests.exceptions.ReadTimeout("Read timed out. (read timeout=120)")

    with pytest.raises(DaemonError, match="on node1: the Docker daemon did not answer in time"):
        asyncio.run(daemon_call("node1", late()))

    async def bug() -> None:
        raise KeyError("State")

    with pytest.raises(KeyError):  # katatui's own bug stays one
        asyncio.run(daemon_call("node1", bug()))


def test_repeat_is_checked_once() -> None:
    assert check_repeats(None) is None and check_repeats(3) == 3
    with pytest.raises(UserError, match="--repeat 0"):
        check_repeats(0)
