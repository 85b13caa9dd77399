"""Isolation identified by evidence, on real probe output.

tests/fixtures/isolation/probe_*.txt: what katatui's identity probe (katatui.core.identity.PROBE)
printed in a container of the test image under gVisor (runsc 0.0~20221219.0, Debian bookworm's
package), crun 1.8.1 and runc 1.1.5 on this project's test machine (Debian bookworm, kernel
6.18.44, whose `uname -r` is host_kernel.txt); overlay paths were shortened. Kata samples come
from tests/fixtures/kata (sources in its README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.events import Metric, RunFailed, RunFinished, RunSpec, SessionStarted
from katatui.core.failures import Outcomes, known_limit, known_shape
from katatui.core.identity import parse_probe, seen
from katatui.core.isolation import Seen, identify, name_kind, program_kind

FIXTURES = Path(__file__).parent / "fixtures"
HOST = (FIXTURES / "isolation" / "host_kernel.txt").read_text().strip()


def probe(runtime: str) -> dict[str, object]:
    return parse_probe((FIXTURES / "isolation" / f"probe_{runtime}.txt").read_text())


def test_gvisor_is_a_user_space_kernel() -> None:
    found = identify(seen("docker", "runsc", HOST, probe("runsc"), program="/usr/bin/runsc"))
    assert (found.isolation, found.sandbox, found.warning) == ("user-space-kernel", "gVisor", None)
    assert "runtime program /usr/bin/runsc" in found.evidence
    assert f"kernel 4.4.0 inside, {HOST} on the host" in found.evidence
    assert 'its kernel log says "Starting gVisor..."' in found.evidence
    assert "/ is 9p" in found.evidence


@pytest.mark.parametrize("name", ["sandbox", "secure", "fast"])
def test_gvisor_under_a_name_that_says_nothing(name: str) -> None:
    # No daemon configuration either: the inside alone identifies it, and nobody is warned that it
    # "shares the host's kernel".
    found = identify(seen("docker", name, HOST, probe("runsc")))
    assert (found.isolation, found.sandbox, found.warning) == ("user-space-kernel", "gVisor", None)
    assert name_kind(name) is None


@pytest.mark.parametrize("runtime", ["runc", "crun"])
def test_runc_and_crun_share_the_host_kernel(runtime: str) -> None:
    found = identify(seen("docker", runtime, HOST, probe(runtime), program=f"/usr/bin/{runtime}"))
    assert (found.isolation, found.sandbox, found.warning) == ("shared-kernel", None, None)
    assert f"the host's kernel {HOST}" in found.evidence
    assert "/ is overlay" in found.evidence


def test_a_sandbox_name_on_the_host_kernel_is_a_loud_warning() -> None:
    for name in ("kata-qemu", "runsc"):
        found = identify(seen("docker", name, HOST, probe("runc")))
        assert found.isolation == "shared-kernel"
        assert found.warning is not None and "the sandbox did not start" in found.warning


def test_gvisor_registered_as_runc_is_called_out() -> None:
    found = identify(seen("docker", "runc-fast", HOST, probe("runsc")))
    assert found.isolation == "user-space-kernel"
    assert found.warning is not None and "looks like gVisor" in found.warning


def test_a_program_behind_a_name_identifies_without_the_inside() -> None:
    found = identify(Seen("docker", runtime="secure", program="/usr/bin/runsc"))
    assert (found.isolation, found.sandbox) == ("user-space-kernel", "gVisor")
    assert any("program only" in e for e in found.evidence)
    assert identify(Seen("docker", runtime="x", program="/opt/x/bin/mystery")).isolation == "unknown"
    assert program_kind("/usr/bin/containerd-shim-kata-v2") == ("vm", "Kata Containers")


def test_bare_is_no_isolation() -> None:
    assert identify(Seen("bare")).isolation == "none"


def test_kata_guest_from_published_samples() -> None:
    lines = (FIXTURES / "kata" / "kernel_comparison_scruffyscarf_12.txt").read_text().splitlines()
    host, guest_kernel = lines[1].split(": ", 1)[1], lines[2].split(": ", 1)[1]
    mounts = (FIXTURES / "kata" / "docs_dind_mount_virtiofs.txt").read_text()
    found = identify(Seen("docker", "kata", host_kernel=host, guest_kernel=guest_kernel, mounts=mounts))
    assert (found.isolation, found.sandbox, found.warning) == ("vm", "Kata Containers", None)
    # kata-containers/runtime#2701: a guest booted with the host's own kernel build; kataShared vouches.
    same = "3.10.0-1127.8.2.el7.x86_64"
    kata9p = (FIXTURES / "kata" / "seed004_mount_kata_9p.txt").read_text()
    found = identify(Seen("docker", "kata", host_kernel=same, guest_kernel=same, mounts=kata9p))
    assert (found.isolation, found.warning) == ("vm", None)


def test_an_unknown_other_kernel_is_unknown() -> None:
    found = identify(Seen("docker", "mystery", host_kernel="6.1.0", guest_kernel="5.10.0", mounts=""))
    assert found.isolation == "unknown" and found.warning is None


# --- failures: where they happen, and a sandbox's known limits ---------------------------------


def spec(run_id: str, scenario: str, kind: str = "fio", variant: dict[str, object] | None = None) -> RunSpec:
    return RunSpec(run_id, 0, f"{kind}[x]", scenario, "docker", scenario, "node", kind, kind,
                   variant or {}, 1, 1)  # fmt: skip


def test_a_failure_says_where_else_the_cell_ran() -> None:
    runs = (spec("r1", "bare"), spec("r2", "runc"), spec("r3", "runsc"))
    sandboxes = {("runsc", "node"): "gVisor"}
    outcomes = Outcomes(lambda s, t: sandboxes.get((s, t)), {"fio": {"ioengine": "io_uring"}})
    outcomes.observe(SessionStarted("s", "p", "sequential", runs))
    outcomes.observe(RunFinished("r1", {}, 1.0))
    outcomes.observe(RunFinished("r2", {}, 1.0))
    failed = outcomes.observe(RunFailed("r3", "fio failed (exit status 134): pid=3, got signal=11"))
    assert isinstance(failed, RunFailed)
    assert "fails under runsc; the same cell ran bare and under runc" in failed.reason
    assert "a limit of gVisor, not of katatui" in failed.reason and "io_uring" in failed.reason
    assert outcomes.summary() == ["fio[x] on node fails only under runsc; it ran bare and under runc"]


def test_a_failure_everywhere_is_not_blamed_on_a_runtime() -> None:
    runs = (spec("r1", "bare"), spec("r2", "runc"))
    outcomes = Outcomes(lambda s, t: None)
    outcomes.observe(SessionStarted("s", "p", "sequential", runs))
    for r in ("r1", "r2"):
        failed = outcomes.observe(RunFailed(r, "fio failed (exit status 1)"))
        assert isinstance(failed, RunFailed) and "fails under" not in failed.reason
    assert outcomes.summary() == []


def test_known_limits_need_the_sandbox_and_the_shape() -> None:
    iperf = spec("r", "runsc", "iperf3")
    reason = "iperf3 failed: unable to receive results: Resource temporarily unavailable"
    assert known_limit("gVisor", iperf, reason) is not None
    assert known_limit(None, iperf, reason) is None  # runc failing so is not gVisor's limit
    assert known_limit("gVisor", spec("r", "runsc"), "signal=11", {"ioengine": "libaio"}) is None
    ab = spec("r", "runsc", "ab", {"keepalive": True})
    assert known_shape("gVisor", ab, {"latency_p50_ms": Metric(44.0, "ms")}) is not None
    assert known_shape("gVisor", ab, {"latency_p50_ms": Metric(0.4, "ms")}) is None
    assert known_shape("gVisor", spec("r", "runsc", "ab", {"keepalive": False}),
                       {"latency_p50_ms": Metric(44.0, "ms")}) is None  # fmt: skip
