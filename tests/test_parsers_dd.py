"""Tests of the dd argv builder and parser against real output of coreutils dd 9.1 and BusyBox 1.35
dd (Debian bookworm; tests/fixtures/dd), plus one BusyBox dd built with its third status line,
quoted from a public mailing-list post (see the fixture README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from katatui.core.workloads.dd.parser import (
    DdParams,
    DdParseError,
    DdStream,
    block_size_bytes,
    build_argv,
    classify_failure,
    final_metrics,
    parse_dd,
    scratch_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "dd"
MIB16 = 16 * 1024 * 1024


def exit_status(name: str) -> int:
    for line in (FIXTURES / "commands.txt").read_text().splitlines():
        if line.startswith(f"{name}: exit "):
            return int(line.split("exit ")[1].split()[0].rstrip(":"))
    raise KeyError(name)


def stream_of(name: str, bs_bytes: int | None = 4096, chunk: int = 0) -> DdStream:
    raw = (FIXTURES / f"{name}.stderr").read_bytes()
    stream = DdStream(bs_bytes)
    step = chunk or len(raw) or 1
    for i in range(0, len(raw), step):
        assert stream.feed(raw[i : i + step]) == []  # dd prints nothing while it runs
    stream.close()
    return stream


# --- argv ----------------------------------------------------------------------------------------


def test_coreutils_argv() -> None:
    assert build_argv(DdParams("write", count=4096), "/scratch/run1") == [
        "dd", "if=/dev/zero", "of=/scratch/run1/katatui-dd", "bs=4k", "count=4096", "oflag=direct",
    ]  # fmt: skip
    assert build_argv(DdParams("read"), "/scratch/run1/") == [
        "dd", "if=/scratch/run1/katatui-dd", "of=/dev/null", "bs=4k", "iflag=direct",
    ]  # fmt: skip


def test_busybox_argv_runs_under_busybox_time() -> None:
    argv = build_argv(DdParams("write", count=16384), "/tmp/s", flavour="busybox", busybox="/bin/busybox")
    assert argv == [
        "/bin/busybox", "time", "/bin/busybox", "dd",
        "if=/dev/zero", "of=/tmp/s/katatui-dd", "bs=4k", "count=16384", "oflag=direct",
    ]  # fmt: skip
    assert build_argv(DdParams("read", direct=False), "/tmp/s", flavour="busybox")[-1] == "bs=4k"


@pytest.mark.parametrize(
    ("params", "directory"),
    [
        (DdParams("write", count=0), "/tmp/s"),
        (DdParams("write", bs="4x"), "/tmp/s"),
        (DdParams("write", bs="0"), "/tmp/s"),
        (DdParams("write"), "relative/dir"),
        (DdParams("write"), "-/x"),
        (DdParams("write"), "/tmp/s\nof=/etc/passwd"),
        (DdParams("erase"), "/tmp/s"),  # type: ignore[arg-type]
    ],
)
def test_argv_refusals(params: DdParams, directory: str) -> None:
    with pytest.raises(ValueError):
        build_argv(params, directory)


def test_argv_refuses_unknown_flavour_and_option_like_binary() -> None:
    with pytest.raises(ValueError):
        build_argv(DdParams("read"), "/tmp/s", flavour="toybox")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        build_argv(DdParams("read"), "/tmp/s", dd="--help")


def test_block_size_and_scratch_file() -> None:
    assert [block_size_bytes(b) for b in ("4k", "4K", "512", "1M", "1G")] == [
        4096,
        4096,
        512,
        1 << 20,
        1 << 30,
    ]
    assert DdParams("write").bs_bytes == 4096
    assert scratch_file("/tmp/x/") == "/tmp/x/katatui-dd"


# --- coreutils -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["coreutils_write", "coreutils_read"])
def test_coreutils_summary(name: str) -> None:
    stream = stream_of(name, bs_bytes=None)  # its own summary line needs no block size
    result = stream.result
    assert result is not None
    assert (result.bytes, result.records_in, result.records_out) == (MIB16, (4096, 0), (4096, 0))
    assert (result.timing, result.flavour) == ("dd", "coreutils")
    last = (FIXTURES / f"{name}.stderr").read_text().splitlines()[-1]
    seconds = float(last.split("copied, ")[1].split(" s,")[0])
    assert result.seconds == seconds
    assert final_metrics(result) == {
        "bytes": (float(MIB16), "B"),
        "seconds": (seconds, "s"),
        "bytes_per_s": (MIB16 / seconds, "B/s"),
    }
    # dd's own rate is rounded to three digits; ours is bytes / seconds
    printed = float(last.rsplit(", ", 1)[1].removesuffix(" MB/s")) * 1e6
    assert result.bytes_per_s == pytest.approx(printed, rel=0.01)
    assert (
        classify_failure(stream, exit_status(name), expected_bytes=MIB16 if "write" in name else None) is None
    )


def test_coreutils_enospc_keeps_the_partial_summary_but_fails() -> None:
    stream = stream_of("coreutils_enospc")
    assert stream.result is not None and stream.result.bytes == 8 * 1024 * 1024
    assert stream.result.records_in == (2049, 0) and stream.result.records_out == (2048, 0)
    assert classify_failure(stream, exit_status("coreutils_enospc")) == (
        "dd failed: error writing '/tmp/SCRATCH/katatui-dd': No space left on device (exit status 1)"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("coreutils_no_dir", "failed to open '/nonexistent-dir/katatui-dd': No such file or directory"),
        ("coreutils_missing_input", "failed to open '/tmp/SCRATCH/missing': No such file or directory"),
        ("coreutils_bad_flag", "invalid output flag: ‘bogus’"),
        ("busybox_no_dir", "can't open '/nonexistent-dir/katatui-dd': No such file or directory"),
        ("busybox_missing_input", "can't open '/tmp/SCRATCH/missing': No such file or directory"),
        ("busybox_bad_flag", "invalid argument 'bogus' to 'oflag'"),
    ],
)
def test_errors(name: str, message: str) -> None:
    stream = stream_of(name)
    assert stream.result is None
    assert classify_failure(stream, exit_status(name)) == f"dd failed: {message} (exit status 1)"


# --- busybox -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["busybox_write", "busybox_read"])
def test_debian_busybox_dd_prints_no_bytes_or_time(name: str) -> None:
    assert (FIXTURES / f"{name}.stderr").read_text() == "4096+0 records in\n4096+0 records out\n"
    stream = stream_of(name)
    assert stream.result is None
    assert classify_failure(stream, 0) == (
        "dd printed no transfer summary (run busybox dd under `busybox time`, and give the block size)"
    )
    with pytest.raises(DdParseError):
        parse_dd((FIXTURES / f"{name}.stderr").read_bytes(), bs_bytes=4096)


@pytest.mark.parametrize(("name", "seconds"), [("busybox_time_write", 0.19), ("busybox_time_read", 0.17)])
def test_busybox_under_time(name: str, seconds: float) -> None:
    stream = stream_of(name, chunk=1)
    result = stream.result
    assert result is not None
    assert (result.bytes, result.seconds, result.timing, result.flavour) == (
        MIB16,
        seconds,
        "time",
        "busybox",
    )
    assert final_metrics(result)["bytes_per_s"] == (MIB16 / seconds, "B/s")
    assert classify_failure(stream, 0, expected_bytes=MIB16 if "write" in name else None) is None
    # records alone cannot give bytes without the block size
    assert stream_of(name, bs_bytes=None).result is None


def test_busybox_enospc_under_time() -> None:
    stream = stream_of("busybox_time_enospc")
    assert "Command exited with non-zero status 1" in stream.lines
    assert classify_failure(stream, exit_status("busybox_time_enospc")) == (
        "dd failed: error writing '/tmp/SCRATCH/katatui-dd': No space left on device (exit status 1)"
    )


def test_busybox_with_its_third_status_line() -> None:
    """Upstream BusyBox dd (FEATURE_DD_THIRD_STATUS_LINE), quoted from a linux-arch post, 2020."""
    result = parse_dd((FIXTURES / "busybox_upstream_third_line.txt").read_text())
    assert (result.bytes, result.seconds, result.timing, result.flavour) == (
        536870912,
        5.585880,
        "dd",
        "busybox",
    )
    assert result.records_out == (1048576, 0)
    assert result.bytes_per_s == pytest.approx(96.1e6, rel=0.001)  # dd printed 91.7MB/s: MiB-based, rounded


# --- other failures ------------------------------------------------------------------------------


def test_short_runs_and_short_transfers() -> None:
    stream = DdStream(4096)
    stream.feed(b"4096+0 records in\n4096+0 records out\nreal\t0m 0.00s\nuser\t0m 0.00s\nsys\t0m 0.00s\n")
    stream.close()
    assert classify_failure(stream, 0) == "dd's run was too short to time (0 s): use a larger count"
    stream = stream_of("coreutils_read")
    assert classify_failure(stream, 0, expected_bytes=2 * MIB16) == (
        f"dd copied {MIB16} bytes, not the {2 * MIB16} asked for"
    )
    stream = DdStream()
    stream.feed(b"0+0 records in\n0+0 records out\n0 bytes copied, 0.000123 s, 0.0 kB/s\n")
    stream.close()
    assert (
        classify_failure(stream, 0)
        == "dd copied nothing (is the scratch file there? the read follows the write)"
    )
    assert classify_failure(stream_of("coreutils_read"), -9) == "dd was killed by signal 9"


def test_hints_for_direct_io_problems() -> None:
    # Constructed lines (not recordings), in the formats of coreutils' "failed to open" error and
    # of BusyBox's usage text: O_DIRECT refused by a filesystem, and a BusyBox dd without iflag/oflag.
    stream = DdStream()
    stream.feed(b"dd: failed to open '/mnt/katatui-dd': Invalid argument\n")
    stream.close()
    assert classify_failure(stream, 1) == (
        "dd failed: failed to open '/mnt/katatui-dd': Invalid argument "
        "(the filesystem may not support O_DIRECT: iflag/oflag=direct) (exit status 1)"
    )
    stream = DdStream()
    stream.feed(
        b"BusyBox v1.22.1 (2014-01-23 12:00:00 UTC) multi-call binary.\n\nUsage: dd [if=FILE] [of=FILE]\n"
    )
    stream.close()
    assert classify_failure(stream, 1) == (
        "dd rejected its arguments and printed its usage; an old BusyBox dd lacks iflag/oflag (exit status 1)"
    )
