"""Kata configuration, guest boot and doctor/canary verdicts on real outputs (tests/fixtures/kata/,
sources in its README). Inputs marked "Constructed" test a format's edge and are not samples."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from katatui.core import doctor
from katatui.core.canary import CanaryResult, judge
from katatui.core.guest import parse_kernel_release, vm_processes
from katatui.core.identity import verdict
from katatui.core.kata import KataConfig, parse_configuration, parse_env, parse_guest_dmesg
from katatui.core.workloads.boot.procedure import chain, parse_docker_time, phases_for, timeline

FIXTURES = Path(__file__).parent / "fixtures" / "kata"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- configuration --------------------------------------------------------------------------------


def test_configuration_file_firecracker() -> None:
    cfg = parse_configuration(
        text("configuration_fc_wenhuizhang.toml"), "/etc/kata-containers/configuration.toml"
    )
    assert cfg.hypervisor == "firecracker"
    assert cfg.hypervisor_path == "/root/opt/kata/bin/firecracker"
    assert cfg.shared_fs == "virtio-fs"
    assert (cfg.default_vcpus, cfg.default_memory_mib) == (1, 2048)
    assert cfg.virtio_fs_cache == "auto"
    assert cfg.dax_cache_mib == 0 and cfg.dax is False
    assert cfg.describe() == "firecracker, virtio-fs cache auto, DAX off, 1 vCPU, 2048 MiB"


def test_configuration_with_dax() -> None:
    # Constructed: the sample with a DAX window, as virtio_fs_cache_size > 0 turns DAX on.
    sample = text("configuration_fc_wenhuizhang.toml").replace(
        "virtio_fs_cache_size = 0", "virtio_fs_cache_size = 1024"
    )
    cfg = parse_configuration(sample)
    assert cfg.dax is True and cfg.dax_cache_mib == 1024
    assert "DAX 1024 MiB" in cfg.describe()


def test_configuration_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="TOML"):
        parse_configuration("[hypervisor.qemu\n")
    with pytest.raises(ValueError, match=r"\[hypervisor.NAME\]"):
        parse_configuration("[runtime]\nx = 1\n")


def test_kata_env_2_0_names_its_configuration_file() -> None:
    env = parse_env(text("kata_env_1323.toml"))
    assert env.hypervisor == "qemu"
    assert env.hypervisor_path == "/opt/kata/bin/qemu-system-x86_64"
    assert env.machine_type == "q35"
    assert env.shared_fs == "virtio-9p"
    assert env.runtime_version == "2.0.0"
    assert env.config_path == "/etc/kata-containers/configuration-qemu.toml"
    # kata-env does not say the VM's size; the configuration file does: merged, the env wins.
    merged = env.merged(parse_configuration(text("configuration_fc_wenhuizhang.toml")))
    assert merged.hypervisor == "qemu" and merged.shared_fs == "virtio-9p"
    assert (merged.default_vcpus, merged.default_memory_mib, merged.virtio_fs_cache) == (1, 2048, "auto")


@pytest.mark.parametrize(
    ("name", "shared_fs", "machine"),
    [("kata_env_4386.toml", "virtio-fs", "microvm"), ("kata_env_runtime2701.toml", "virtio-9p", "pc")],
)
def test_kata_env_samples(name: str, shared_fs: str, machine: str) -> None:
    env = parse_env(text(name))
    assert (env.hypervisor, env.shared_fs, env.machine_type) == ("qemu", shared_fs, machine)


def test_kata_env_json_has_the_same_shape() -> None:
    # Constructed: no public `kata-runtime env --json` sample was found; this is the 2.0.0 sample
    # above turned into JSON, the shape `--json` prints (the same keys as the TOML).
    as_json = json.dumps(tomllib.loads(text("kata_env_1323.toml")))
    assert parse_env(as_json) == parse_env(text("kata_env_1323.toml"))
    with pytest.raises(ValueError):
        parse_env("{not json")


# --- the guest's boot -----------------------------------------------------------------------------


def test_guest_dmesg_kernel_hands_over_to_init() -> None:
    boot = parse_guest_dmesg(text("guest_dmesg_tests2488.txt"))
    assert boot.kernel_s == pytest.approx(0.385283)
    assert boot.init == "/sbin/init"
    assert boot.userspace_s is None  # the sample ends before systemd reports
    assert boot.last_s == pytest.approx(0.409029)


def test_systemd_startup_line_gives_user_space() -> None:
    # Constructed: systemd's own "Startup finished" line (quoted in systemd/systemd#7738) with a
    # dmesg timestamp, as a guest whose init is systemd logs it to the kernel's ring buffer.
    line = (
        "[    6.000000] systemd[1]: Startup finished in 878ms (kernel) + 890ms (initrd) + "
        "5.827s (userspace) = 19.264s."
    )
    boot = parse_guest_dmesg(line)
    assert boot.kernel_s == pytest.approx(0.878)
    assert boot.userspace_s == pytest.approx(5.827)


def test_docker_times() -> None:
    assert parse_docker_time("2026-11-22T07:10:00.123456789Z") == pytest.approx(1795331400.123456789)
    assert parse_docker_time("2026-11-22T08:10:00.5+01:00") == pytest.approx(1795331400.5)
    assert parse_docker_time("0001-01-01T00:00:00Z") is None
    assert parse_docker_time("yesterday") is None


def test_chain_never_negative_and_sums_to_the_total() -> None:
    phases = chain(10.0, [("create", 10.2), ("start", 10.1), ("sandbox", None), ("run", 99.0)], 11.0)
    assert [p for p, _ in phases] == ["create", "start", "run", "exit"]
    assert all(v >= 0 for _, v in phases)
    assert sum(v for _, v in phases) == pytest.approx(1.0)


def test_vm_phases_from_uptime_and_dmesg() -> None:
    # The sample's dmesg as the command's output; the uptimes and Docker's times are constructed.
    output = (
        "katatui-boot-uptime-start 0.52\nkatatui-boot-dmesg\n" + text("guest_dmesg_tests2488.txt")
        + "katatui-boot-dmesg-end\nkatatui-boot-uptime-end 0.55\n"
    )  # fmt: skip
    attrs = {
        "Created": "2026-11-22T07:10:00.100000000Z",
        "State": {
            "StartedAt": "2026-11-22T07:10:00.900000000Z",
            "FinishedAt": "2026-11-22T07:10:01.000000000Z",
        },
    }
    t0 = parse_docker_time("2026-11-22T07:10:00.000000000Z")
    assert t0 is not None
    phases = dict(phases_for("kata-qemu", requested=t0, total=1.2, attrs=attrs, output=output))
    assert list(phases) == ["create", "sandbox", "guest_kernel", "guest_userspace", "run", "exit"]
    assert phases["create"] == pytest.approx(0.1)
    assert phases["sandbox"] == pytest.approx(0.35)  # the kernel started 0.55 s before the end
    assert phases["guest_kernel"] == pytest.approx(0.385283)
    assert phases["guest_userspace"] == pytest.approx(0.52 - 0.385283)
    assert phases["run"] == pytest.approx(0.03)
    assert sum(phases.values()) == pytest.approx(1.2)
    rows = [("kata", f"boot_{k}_s", v) for k, v in phases.items()] + [("kata", "boot_total_s", 1.2)]
    # Without a readable dmesg the guest's kernel and user space are one phase.
    blind = output.replace(text("guest_dmesg_tests2488.txt"), "dmesg: klogctl: Operation not permitted\n")
    phases = dict(phases_for("kata-qemu", requested=t0, total=1.2, attrs=attrs, output=blind))
    assert list(phases) == ["create", "sandbox", "guest_boot", "run", "exit"]
    assert phases["guest_boot"] == pytest.approx(0.52)
    assert timeline(rows)["kata"][-1] == ("total", 1.2)


# --- doctor and canary verdicts ---------------------------------------------------------------------


def test_kata_check_verdicts_become_checks() -> None:
    from katatui.core.guest import parse_kata_check

    assert parse_kata_check(text("check_capable_ssst0n3_35.txt")).capable is True
    assert parse_kata_check(text("check_not_capable_documentation496.txt")).capable is False


def test_no_kvm_fails_only_when_a_vm_runtime_needs_it() -> None:
    # Constructed probes: a VM host whose hypervisor passes no vmx/svm, without /dev/kvm.
    probe = {"flags": "fpu sse4_2 hypervisor", "kvm": "absent"}
    relaxed = {c.name: c.status for c in doctor.cpu_checks(probe, {}, [])}
    assert relaxed == {"cpu virtualisation": "warn", "/dev/kvm": "warn", "nested virtualisation": "warn"}
    strict = doctor.cpu_checks(probe, {}, ["kata-qemu"])
    assert {c.status for c in strict} == {"fail"}
    assert all("kata-qemu" in c.why for c in strict)
    assert all(c.todo for c in strict)


def test_vm_runtime_without_kvm_cannot_run() -> None:
    facts = {
        "docker_runtimes": ["kata", "runc"],
        "kvm_usable": False,
        "docker_runtime_programs": {"kata": "/usr/bin/containerd-shim-kata-v2"},
        "host_tools": {},
    }
    report = doctor.HostReport("h", "local", facts=facts)
    needs = doctor.ScenarioNeeds("kata", "h", "docker", "kata", "katatui/bench:0.1", True)
    checks = doctor.scenario_checks(needs, report, docker_error=None, image_present=True)
    assert [(c.name, c.status) for c in checks] == [("runtime", "pass"), ("kvm", "fail"), ("image", "pass")]


def test_runtime_programs() -> None:
    assert doctor.runtime_program({"path": "/usr/bin/runc"}, "runc-alt") == "/usr/bin/runc"
    assert (
        doctor.runtime_program({"runtimeType": "io.containerd.kata.v2"}, "kata") == "containerd-shim-kata-v2"
    )
    assert doctor.runtime_program({}, "crun") == "crun"


def test_canary_in_a_kata_vm_passes() -> None:
    # The guest kernel of study 004 under Kata, its runc kernel, and the qemu/virtiofsd lines of
    # kata-containers#1875 as the processes that appeared on the host.
    guest_kernel = parse_kernel_release(text("seed004_uname_kata.txt"))
    host_kernel = parse_kernel_release(text("seed004_uname_runc.txt"))
    result = CanaryResult("kata", "h", "kata-runtime", "fail", "", guest_kernel, host_kernel)
    result.new_vm_processes = [p.command for p in vm_processes(text("ps_aux_1875.txt"))]
    judge(result, verdict("kata-runtime", host_kernel, {"kernel": guest_kernel}))
    assert result.status == "pass", result.why
    assert "qemu-system-x86_64" in result.why and "virtiofsd" in result.why


def test_canary_on_the_host_kernel_under_kata_fails() -> None:
    host_kernel = parse_kernel_release(text("seed004_uname_runc.txt"))
    result = CanaryResult("kata", "h", "kata-runtime", "fail", "", host_kernel, host_kernel)
    judge(result, verdict("kata-runtime", host_kernel, {"kernel": host_kernel}))
    assert result.status == "fail" and "did not start" in result.why


def test_kata_config_dict_round_trip() -> None:
    cfg = KataConfig(hypervisor="clh", shared_fs="virtio-fs", dax_cache_mib=0)
    assert cfg.as_dict()["dax"] is False
    assert cfg.merged(KataConfig(default_vcpus=2)).default_vcpus == 2


def test_containerd_runtimes() -> None:
    # Constructed: the shape of `containerd config dump` (version 2) with a Kata runtime.
    dump = """
version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
"""
    assert doctor.parse_containerd_runtimes(dump) == {
        "runc": "io.containerd.runc.v2",
        "kata": "io.containerd.kata.v2",
    }
    assert doctor.parse_containerd_runtimes("not toml [") == {}
