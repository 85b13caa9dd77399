"""dd with 4 KiB direct I/O (seed study 003): the argument lists, and the transfer summary dd prints.

Write: ``dd if=/dev/zero of=DIR/katatui-dd bs=4k count=N oflag=direct``; read it back:
``dd if=DIR/katatui-dd of=/dev/null bs=4k iflag=direct``. ``DIR`` is a katatui scratch directory;
the file name inside it is fixed, so a run never writes anywhere else.

Two flavours, because container images often have only BusyBox:

- coreutils dd ends its stderr with ``268435456 bytes (268 MB, 256 MiB) copied, 1.2 s, 224 MB/s``
  (older coreutils: ``4194304 bytes (4.2 MB) copied, 1.54395 s, 2.7 MB/s``).
- BusyBox dd prints that third line (``83886080 bytes (80.0MB) copied, 3.084522 seconds,
  25.9MB/s``) only when built with FEATURE_DD_THIRD_STATUS_LINE. Debian's busybox (1.35) is
  built without it and prints only "N+M records in/out", with no bytes or time at all. So the
  busybox argv runs dd under BusyBox's own ``time`` applet (``busybox time busybox dd ...``),
  whose "real 0m 0.19s" gives the elapsed time (10 ms resolution) when the third line is
  missing; bytes then come from the records count times the block size. BusyBox dd has had
  ``iflag=direct``/``oflag=direct`` since 1.33 (1.35 has them); an older one rejects them.

The rate is always recomputed as bytes / seconds (dd's own rate is rounded to 3 digits).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

from katatui.core.errors import WorkloadError

Flavour = Literal["coreutils", "busybox"]
Op = Literal["write", "read"]
FILE_NAME = "katatui-dd"
_BS = re.compile(r"(\d+)([kKMG]?)")
_BS_FACTOR = {"": 1, "k": 1024, "K": 1024, "M": 1 << 20, "G": 1 << 30}


class DdParseError(WorkloadError, ValueError):
    """Input that is not dd's transfer summary; the message says what was expected."""


@dataclass(frozen=True)
class DdParams:
    """One dd run: write ``count`` blocks of ``bs`` to the scratch file, or read the file back."""

    op: Op
    count: int = 16384  # 64 MiB of 4 KiB blocks, as in seed 003 (count=16k)
    bs: str = "4k"
    direct: bool = True

    @property
    def bs_bytes(self) -> int:
        return block_size_bytes(self.bs)


def block_size_bytes(bs: str) -> int:
    """dd's block size in bytes: "4k" -> 4096 (k/K = 1024, M, G)."""
    match = _BS.fullmatch(bs)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"dd bs: refusing value {bs!r} (expected e.g. 4k, 512, 1M)")
    return int(match.group(1)) * _BS_FACTOR[match.group(2)]


def scratch_file(directory: str) -> str:
    """The one file dd writes and reads inside the scratch directory."""
    if not directory.startswith("/") or any(c in directory for c in "\n\r\0"):
        raise ValueError(f"dd: refusing scratch directory {directory!r} (expected an absolute path)")
    return directory.rstrip("/") + "/" + FILE_NAME


def build_argv(
    params: DdParams,
    directory: str,
    *,
    flavour: Flavour = "coreutils",
    dd: str = "dd",
    busybox: str = "busybox",
) -> list[str]:
    """dd's argv for ``params.op`` in ``directory``; busybox runs under ``busybox time``."""
    block_size_bytes(params.bs)
    path = scratch_file(directory)
    if params.op == "write":
        if params.count < 1:
            raise ValueError(f"dd count: {params.count} is out of range")
        operands = ["if=/dev/zero", f"of={path}", f"bs={params.bs}", f"count={params.count}"]
        if params.direct:
            operands.append("oflag=direct")
    elif params.op == "read":
        operands = [f"if={path}", "of=/dev/null", f"bs={params.bs}"]
        if params.direct:
            operands.append("iflag=direct")
    else:
        raise ValueError(f"dd: op {params.op!r} is not write or read")
    for binary in (dd, busybox):
        if not binary or binary.startswith("-") or any(c in binary for c in "\n\r\0"):
            raise ValueError(f"dd: refusing binary {binary!r}")
    if flavour == "coreutils":
        return [dd, *operands]
    if flavour == "busybox":
        return [busybox, "time", busybox, "dd", *operands]
    raise ValueError(f"dd: flavour {flavour!r} is not coreutils or busybox")


@dataclass(frozen=True)
class DdResult:
    """What one dd run moved, and how long it took.

    ``timing`` says where ``seconds`` came from: "dd" (its own summary line, microseconds) or
    "time" (BusyBox ``time``'s real time, 10 ms resolution, including dd's start-up).
    """

    bytes: int
    seconds: float
    records_in: tuple[int, int]
    records_out: tuple[int, int]
    timing: Literal["dd", "time"]
    flavour: Literal["coreutils", "busybox", "unknown"]

    @property
    def bytes_per_s(self) -> float:
        return self.bytes / self.seconds if self.seconds > 0 else 0.0


_RECORDS = re.compile(r"^(\d+)\+(\d+) records (in|out)$")
_COREUTILS = re.compile(r"^(\d+) bytes?(?: \(([^)]*)\))? copied, (\d+(?:\.\d+)?(?:e[-+]?\d+)?) s, ")
_BUSYBOX = re.compile(r"^(\d+) bytes \(([^)]*)\) copied, (\d+(?:\.\d+)?) seconds, ")
_REAL = re.compile(r"^real\s+(?:(\d+)m\s*)?(\d+(?:\.\d+)?)s?$")


class DdStream:
    """Reader of dd's stderr (and ``busybox time``'s, which shares it).

    dd prints nothing while it runs (we do not pass ``status=progress``), so ``feed`` returns no
    samples; ``close`` parses the summary into ``result``. ``errors`` are dd's own "dd: ..." lines.
    """

    def __init__(self, bs_bytes: int | None = None) -> None:
        self.bs_bytes = bs_bytes
        self.errors: list[str] = []
        self.lines: list[str] = []
        self.result: DdResult | None = None
        self.usage = False  # dd printed its usage text (an argument it does not know)
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> list[DdResult]:
        text = self._pending + self._utf8.decode(data)
        *lines, self._pending = re.split(r"[\r\n]", text)
        for line in lines:
            self._line(line)
        return []

    def close(self) -> DdResult | None:
        self._line(self._pending + self._utf8.decode(b"", final=True))
        self._pending = ""
        self.result = self._result()
        return self.result

    def _line(self, raw: str) -> None:
        line = raw.strip()
        if not line:
            return
        if len(self.lines) < 200:
            self.lines.append(line)
        if line.startswith("dd: "):
            self.errors.append(line.removeprefix("dd: "))
        elif line.startswith("Usage: dd") or line.startswith("BusyBox v"):
            self.usage = True

    def _result(self) -> DdResult | None:
        records = {"in": (0, 0), "out": (0, 0)}
        seen_records = False
        summary: tuple[int, float, Literal["coreutils", "busybox"]] | None = None
        real: float | None = None
        for line in self.lines:
            if (m := _RECORDS.match(line)) is not None:
                records[m.group(3)] = (int(m.group(1)), int(m.group(2)))
                seen_records = True
            elif (m := _COREUTILS.match(line)) is not None:
                summary = (int(m.group(1)), float(m.group(3)), "coreutils")
            elif (m := _BUSYBOX.match(line)) is not None:
                summary = (int(m.group(1)), float(m.group(3)), "busybox")
            elif (m := _REAL.match(line)) is not None:
                real = 60 * int(m.group(1) or 0) + float(m.group(2))
        if summary is not None:
            return DdResult(summary[0], summary[1], records["in"], records["out"], "dd", summary[2])
        if not seen_records or real is None:
            return None
        full, partial = records["out"]
        if self.bs_bytes is None or partial:
            return None  # the size of a partial record is unknown
        return DdResult(full * self.bs_bytes, real, records["in"], records["out"], "time", "busybox")


def parse_dd(stderr: bytes | str, *, bs_bytes: int | None = None) -> DdResult:
    """The summary in dd's stderr (``bs_bytes`` is needed when only records and time are there)."""
    stream = DdStream(bs_bytes)
    stream.feed(stderr.encode() if isinstance(stderr, str) else stderr)
    result = stream.close()
    if result is None:
        raise DdParseError(
            'expected dd\'s summary ("N bytes (...) copied, S s, R" or "N+M records out" '
            'with busybox time\'s "real")'
            + ("" if bs_bytes is not None else "; without the block size only a full summary line will do")
        )
    return result


def final_metrics(result: DdResult) -> dict[str, tuple[float, str]]:
    """Result metrics (name -> (value, unit))."""
    out: dict[str, tuple[float, str]] = {
        "bytes": (float(result.bytes), "B"),
        "seconds": (result.seconds, "s"),
    }
    if result.seconds > 0:
        out["bytes_per_s"] = (result.bytes_per_s, "B/s")
    return out


def classify_failure(stream: DdStream, returncode: int, *, expected_bytes: int | None = None) -> str | None:
    """One line saying why a dd run failed, or None when its result is usable.

    ``expected_bytes`` (count x bs for a write) catches a short transfer that still exited 0.
    """
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    result = stream.result
    if stream.errors:
        message = stream.errors[0]
        hint = ""
        if "Invalid argument" in message and "open" in message:
            hint = " (the filesystem may not support O_DIRECT: iflag/oflag=direct)"
        elif "'direct'" in message or "‘direct’" in message:
            hint = " (this dd has no direct I/O flag; BusyBox dd has it since 1.33)"
        return f"dd failed: {message}{hint} ({how})"
    if stream.usage:
        return f"dd rejected its arguments and printed its usage; an old BusyBox dd lacks iflag/oflag ({how})"
    if returncode < 0:
        return f"dd was {how}"
    if returncode != 0:
        return f"dd failed ({how})"
    if result is None:
        return "dd printed no transfer summary (run busybox dd under `busybox time`, and give the block size)"
    if result.bytes == 0:
        return "dd copied nothing (is the scratch file there? the read follows the write)"
    if result.seconds <= 0:
        return f"dd's run was too short to time ({result.seconds:g} s): use a larger count"
    if expected_bytes is not None and result.bytes != expected_bytes:
        return f"dd copied {result.bytes} bytes, not the {expected_bytes} asked for"
    return None
