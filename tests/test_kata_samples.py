"""katatui.core.guest on real output recorded on Kata Containers hosts and guests.

Kata cannot run on the test machine, so every sample in tests/fixtures/kata/ was copied from a
public source (a seed study, the kata-containers docs, issues, pull requests); README.md there
names the source of each file. A few constructed inputs below test the formats' edge cases and
are marked as such.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.guest import (
    Mount,
    looks_like_vm_runtime,
    parse_free_total,
    parse_kata_check,
    parse_kata_env,
    parse_kernel_release,
    parse_meminfo_total_kb,
    parse_mounts,
    root_fs_kind,
    sandbox_kind,
    shows_kata_guest,
    vm_processes,
)
from katatui.core.isolation import Seen, identify

FIXTURES = Path(__file__).parent / "fixtures" / "kata"


def isolation_verdict(
    runtime: str, host: str | None, guest: str | None, *, guest_mounts: list[Mount] | None = None
) -> str | None:
    """The warning isolation by evidence gives for a runtime's name and the kernels (and mounts) seen."""
    mounts = "\n".join(
        f"{m.source} {m.target} {m.fstype} {','.join(m.options) or 'rw'} 0 0" for m in guest_mounts or []
    )
    return identify(Seen("docker", runtime, host_kernel=host, guest_kernel=guest, mounts=mounts)).warning


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- mounts ----------------------------------------------------------------------------------------


def test_seed004_kata_mounts_9p() -> None:
    mounts = parse_mounts(text("seed004_mount_kata_9p.txt"))
    assert len(mounts) == 28  # every line of the quoted `docker run busybox mount`
    assert mounts[0] == Mount(
        "kataShared",
        "/",
        "9p",
        ("rw", "dirsync", "nodev", "relatime", "mmap", "access=client", "trans=virtio"),
    )
    assert [m.target for m in mounts if m.source == "kataShared"] == [
        "/",
        "/etc/resolv.conf",
        "/etc/hostname",
        "/etc/hosts",
    ]
    assert root_fs_kind(mounts) == "9p"
    assert shows_kata_guest(mounts)


@pytest.mark.parametrize(
    ("name", "kind", "count"),
    [
        ("runtime279_mount_9p.txt", "9p", 4),
        ("runtime2618_mount_9p.txt", "9p", 11),
        ("docs_dind_mount_virtiofs.txt", "virtiofs", 1),
        ("runtime358_mount_block.txt", "block", 15),
    ],
)
def test_issue_and_docs_mounts(name: str, kind: str, count: int) -> None:
    mounts = parse_mounts(text(name))
    assert len(mounts) == count
    assert root_fs_kind(mounts) == kind


def test_block_rootfs_is_a_device() -> None:
    mounts = parse_mounts(text("runtime358_mount_block.txt"))
    assert mounts[0].source == "/dev/sda" and mounts[0].fstype == "xfs"
    assert not shows_kata_guest(mounts)  # this excerpt stops before /etc/hosts


def test_proc_mounts_and_mountinfo_formats() -> None:
    # Constructed: the seed's first mount as /proc/mounts and /proc/self/mountinfo would print it,
    # with a runc overlay root and an escaped space for the formats' edge cases.
    proc = (
        "kataShared / 9p rw,dirsync,nodev,relatime,mmap,access=client,trans=virtio 0 0\n"
        "overlay /with\\040space overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0\n"
    )
    mounts = parse_mounts(proc)
    assert [(m.source, m.target, m.fstype) for m in mounts] == [
        ("kataShared", "/", "9p"),
        ("overlay", "/with space", "overlay"),
    ]
    info = "583 475 0:52 / / rw,relatime master:212 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
    (mount,) = parse_mounts(info)
    assert (mount.source, mount.target, mount.fstype) == ("overlay", "/", "overlay")
    assert root_fs_kind([mount]) == "overlay"
    assert root_fs_kind([]) == "unknown"
    assert root_fs_kind([Mount("rootfs", "/", "rootfs")]) == "other"
    # the last mount on / wins
    assert (
        root_fs_kind([Mount("overlay", "/", "overlay"), Mount("kataShared", "/", "virtiofs")]) == "virtiofs"
    )


# --- memory ----------------------------------------------------------------------------------------


def test_guest_memory() -> None:
    assert parse_meminfo_total_kb(text("runtime483_meminfo.txt")) == 242348  # docker -m 256m under Kata
    assert parse_free_total(text("seed004_free_kata.txt")) == 1993  # the VM's 2 GB
    assert parse_free_total(text("runtime1240_free.txt")) == 3018  # 2 GB default + docker -m 1024m
    assert parse_free_total(text("runtime1822_busybox_free.txt")) == 6090  # BusyBox free, -m 4g
    assert parse_meminfo_total_kb("") is None and parse_free_total("") is None


# --- kernels and the isolation verdict ------------------------------------------------------------


def test_kernel_releases() -> None:
    assert parse_kernel_release(text("seed004_uname_runc.txt")) == "3.10.0-1062.12.1.el7.x86_64"
    assert parse_kernel_release(text("seed004_uname_kata.txt")) == "4.19.86-5.container"
    lines = text("kernel_comparison_ph1larmon1a_13.txt").splitlines()
    assert parse_kernel_release(lines[1].split(": ", 1)[1]) == "6.8.0-48-generic"  # uname -r
    assert parse_kernel_release(lines[2].split(": ", 1)[1]) == "6.12.47"  # /proc/version
    assert parse_kernel_release("[    0.000000] Linux version 6.12.47 (@4bcec8f4443d) #1 SMP") == "6.12.47"
    assert parse_kernel_release("") is None
    assert parse_kernel_release("sh: uname: not found") is None


def test_seed004_kata_guest_is_isolated() -> None:
    # Host kernel: what the same `docker run busybox uname -a` printed under runc before the switch.
    host, guest = text("seed004_uname_runc.txt"), text("seed004_uname_kata.txt")
    assert isolation_verdict("kata-runtime", host, guest) is None
    assert isolation_verdict("runc", host, host) is None


def test_vm_runtime_reporting_the_host_kernel_is_a_loud_warning() -> None:
    # The failure this guards against: the runtime named Kata, the container ran on the host kernel.
    host = text("seed004_uname_runc.txt")
    verdict = isolation_verdict("kata-runtime", host, host)
    assert verdict is not None and verdict.startswith("WARNING:")
    assert "the sandbox did not start" in verdict
    assert "Kata startup can fail silently" in verdict
    assert "3.10.0-1062.12.1.el7.x86_64" in verdict
    gvisor = isolation_verdict("runsc", "6.1.0-18-amd64", "6.1.0-18-amd64")
    assert gvisor is not None and "gVisor" in gvisor


@pytest.mark.parametrize(
    "name", ["kernel_comparison_ph1larmon1a_13.txt", "kernel_comparison_scruffyscarf_12.txt"]
)
def test_published_host_and_guest_kernels(name: str) -> None:
    lines = text(name).splitlines()
    host, guest = lines[1].split(": ", 1)[1], lines[2].split(": ", 1)[1]
    assert isolation_verdict("io.containerd.kata.v2", host, guest) is None
    mismatch = isolation_verdict("runc", host, guest)  # runc cannot show another kernel than the host's
    assert mismatch is not None and "not running on this host" in mismatch


def test_same_kernel_build_with_kata_mounts_is_not_flagged() -> None:
    # kata-containers/runtime#2701 booted its guest with a distribution kernel, so guest and host
    # kernels can match; the kataShared mounts still prove the VM.
    env = parse_kata_env(text("kata_env_runtime2701.toml"))
    assert env.kernel_path == "/usr/share/kata-containers/vmlinuz-3.10.0-1127.8.2.el7.x86_64"
    same = "3.10.0-1127.8.2.el7.x86_64"
    mounts = parse_mounts(text("seed004_mount_kata_9p.txt"))
    assert isolation_verdict("kata", same, same, guest_mounts=mounts) is None
    assert isolation_verdict("kata", same, same, guest_mounts=[Mount("overlay", "/", "overlay")]) is not None


def test_unknown_kernels_give_no_verdict() -> None:
    assert isolation_verdict("kata", None, "4.19.86-5.container") is None
    assert isolation_verdict("kata", "5.4.0", "") is None


# --- runtime names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("kata", "vm"),
        ("kata-runtime", "vm"),  # seed 004's daemon.json
        ("kata-qemu", "vm"),
        ("kata-clh", "vm"),
        ("kata-fc", "vm"),
        ("io.containerd.kata.v2", "vm"),  # seed 002's ctr run --runtime
        ("io.containerd.kata-qemu.v2", "vm"),
        ("io.containerd.kata-clh.v2", "vm"),
        ("/opt/kata/bin/containerd-shim-kata-v2", "vm"),  # kata docs' daemon.json runtimeType
        ("kata-mshv-vm-isolation", "vm"),  # an AKS RuntimeClass
        ("aws.firecracker", "vm"),
        ("runsc", "gvisor"),
        ("io.containerd.runsc.v1", "gvisor"),
        ("gvisor", "gvisor"),
        ("runc", "container"),
        ("io.containerd.runc.v2", "container"),
        ("runc-alt", "container"),
        ("crun", "container"),
        ("katatui", "container"),  # a substring is not enough
    ],
)
def test_sandbox_kind(name: str, kind: str) -> None:
    assert sandbox_kind(name) == kind
    assert looks_like_vm_runtime(name) == (kind == "vm")


# --- host-side evidence: kata-runtime check, kata-env, ps ------------------------------------------


def test_kata_check_capable() -> None:
    check = parse_kata_check(text("check_capable_ssst0n3_35.txt"))
    assert (check.capable, check.can_create, check.errors) == (True, True, ())


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("check_not_capable_ssst0n3_35.txt", ("CPU property not found (SSE4.1)",)),
        ("check_not_capable_1819.txt", ("CPU property not found (SSE4.1)",)),
        (
            "check_not_capable_documentation496.txt",
            (
                "kernel property not found (Host Support for Linux VM Sockets)",
                "kernel property not found (Intel KVM)",
                "kernel property not found (Host kernel accelerator for virtio)",
            ),
        ),
    ],
)
def test_kata_check_not_capable(name: str, errors: tuple[str, ...]) -> None:
    check = parse_kata_check(text(name))
    assert check.capable is False and check.can_create is None
    assert check.errors == errors


def test_kata_env() -> None:
    env = parse_kata_env(text("kata_env_4386.toml"))
    assert env.hypervisor_path == "/opt/kata/bin/qemu-system-x86_64"
    assert env.hypervisor_version == "QEMU emulator version 6.2.0 (kata-static)"
    assert (env.machine_type, env.shared_fs) == ("microvm", "virtio-fs")
    assert env.kernel_path == "/opt/kata/share/kata-containers/vmlinux-5.15.26-90"
    assert env.runtime_version is None  # the excerpt stops before [Runtime]
    old = parse_kata_env(text("kata_env_runtime2701.toml"))
    assert (old.shared_fs, old.runtime_version, old.machine_type) == ("virtio-9p", "1.11.0-rc0", "pc")
    assert old.hypervisor_path == "/usr/bin/qemu-vanilla-system-x86_64"
    assert old.image_path is None  # Path = ""
    with pytest.raises(ValueError):
        parse_kata_env("System is capable of running Kata Containers")


def test_host_processes_of_a_kata_sandbox() -> None:
    ef = vm_processes(text("ps_ef_1448.txt"))
    assert [(p.pid, p.kind) for p in ef] == [(381790, "kata-shim"), (381801, "virtiofsd"), (381807, "qemu")]
    assert ef[2].command.startswith("/data00/kata/bin/qemu-virtiofs-system-x86_64 -name sandbox-f696fbe1")
    aux = vm_processes(text("ps_aux_1875.txt"))
    assert [(p.pid, p.kind) for p in aux] == [(350701, "virtiofsd"), (350707, "qemu")]
    # Constructed: grep lines and other processes are not sandbox processes.
    assert vm_processes("root 1 0 0 10:00 ? 00:00:00 grep qemu-system-x86_64\nroot 2 0 0 ? runc init\n") == []
    (clh,) = vm_processes(
        "  812 root      0:03 /opt/kata/bin/cloud-hypervisor --api-socket /run/vc/vm/x/clh-api.sock"
    )
    assert (clh.pid, clh.kind) == (812, "cloud-hypervisor")
