"""Scratch directories: the only place fio may write.

katatui creates a fresh directory with ``mktemp -d`` under the target's ``scratch_base`` and
removes exactly that directory afterwards. A marker file records the owner (``host:pid``) so
that directories left by a crashed katatui can be found and removed on the next start.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

from katatui.core.errors import TargetError
from katatui.core.transport.base import Transport

PREFIX = "katatui."
MARKER = ".katatui-owner"


def _machine() -> str:
    """This machine: its host name and, where there is one, its machine id (host names repeat)."""
    try:
        with open("/etc/machine-id") as fh:
            return f"{socket.gethostname()}/{fh.read().strip()[:12]}"
    except OSError:
        return socket.gethostname()


def owner_tag() -> str:
    return f"{_machine()}:{os.getpid()}"


def owner_alive(tag: str) -> bool:
    """Whether the katatui that wrote ``tag`` may still be running (only known for this machine)."""
    host, _, pid = tag.rpartition(":")
    if host != _machine() or not pid.isdigit():
        return True  # another machine's katatui: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Scratch:
    path: str


# The path comes in as an argument; the script is fixed. GNU realpath -m resolves every link,
# whether or not the end of the path exists yet; readlink -f where there is no realpath.
RESOLVE = 'id -u; realpath -m -- "$1" 2>/dev/null || readlink -f -- "$1"'
FIX = (
    "Point scratch_base at a directory of its own that only root (or the user katatui logs in as) "
    "can write to, such as /var/tmp/katatui; katatui creates it (mode 0755) when it is missing."
)


def _prefixes(path: str) -> list[str]:
    """``/a/b/c`` -> ``/``, ``/a``, ``/a/b``, ``/a/b/c``."""
    parts = [p for p in path.split("/") if p]
    return ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


async def check_base(transport: Transport, base: str) -> None:
    """Refuse a scratch base that fio must not write under, judged on the target itself.

    The profile checks the text of the path; here its real path is resolved (a symlink at the
    default /var/tmp/katatui to /etc must not send root's fio into /etc) and checked against the
    system directories, and the base and the directories above it must be owned by root or by
    the user katatui runs as and not writable by others (a directory above may be sticky, as
    /tmp is), so that nobody else can swap them for a link. An existing base must be a directory.
    """
    from katatui.core.profile import check_scratch_base

    where = f"on {transport.name}: scratch_base {base}"
    done = await transport.run(["sh", "-c", RESOLVE, "sh", base], timeout=30)
    lines = done.text().split("\n") if done.ok else []
    if len(lines) < 2 or not lines[0].strip().isdigit() or not lines[1].startswith("/"):
        raise TargetError(
            f"{where}: cannot resolve its real path ({done.stderr.decode(errors='replace').strip()})"
        )
    me, real = int(lines[0].strip()), lines[1].rstrip("\r")
    resolves = f" resolves to {real}" if real != base.rstrip("/") else ""
    try:
        check_scratch_base(real)
    except ValueError as exc:
        raise TargetError(f"{where}{resolves}: {exc}. {FIX}") from None
    # lstat each step of the path as written (links included) and of the path it resolves to.
    paths = list(dict.fromkeys(_prefixes(base) + _prefixes(real)))
    listing = await transport.run(["stat", "-c", "%u|%a|%F|%n", "--", *paths], timeout=30)
    found: dict[str, tuple[int, int, str]] = {}
    for line in listing.text().splitlines():
        fields = [*line.split("|", 3), "", "", ""][:4]
        if fields[0].isdigit() and fields[1]:
            found[fields[3]] = (int(fields[0]), int(fields[1], 8), fields[2])
    for path in paths:
        if path not in found:
            continue  # not there yet: katatui creates it
        uid, mode, kind = found[path]
        what = "it" if path in (base.rstrip("/"), real) else f"{path}, on its way,"
        if uid not in (0, me):
            raise TargetError(
                f"{where}{resolves}: {what} belongs to another user (uid {uid}), who could replace "
                f"what fio writes into with a link. {FIX}"
            )
        if kind != "directory":
            continue
        sticky = bool(mode & 0o1000) and path != real
        if mode & 0o022 and not sticky:
            raise TargetError(
                f"{where}{resolves}: {what} can be written by other users (mode {mode & 0o7777:04o}); "
                f"one of them could plant a link there that root's fio would follow. {FIX}"
            )
    if real in found and found[real][2] != "directory":
        kind = found[real][2]
        raise TargetError(
            f"{where}{resolves} is a {kind}, not a directory; fio writes only inside a directory katatui "
            "creates there. Choose a directory such as /var/tmp/katatui."
        )


async def create(transport: Transport, base: str, session_id: str) -> Scratch:
    await check_base(transport, base)
    await transport.run(["mkdir", "-p", "-m", "0755", "--", base], timeout=30, check=True)
    await check_base(transport, base)  # what is there now, whoever made it
    done = await transport.run(
        ["mktemp", "-d", "-p", base, f"{PREFIX}{session_id}.XXXXXXXX"], timeout=30, check=True
    )
    path = done.text().strip()
    if not path.startswith(base.rstrip("/") + "/" + PREFIX):
        raise TargetError(f"on {transport.name}: mktemp returned an unexpected path {path!r}")
    # 0755, never world-writable: another user must not plant links that root's tools would follow.
    await transport.run(["chmod", "0755", "--", path], timeout=30)
    await transport.run(
        ["sh", "-c", 'printf "%s\\n" "$1" > "$2"', "sh", owner_tag(), f"{path}/{MARKER}"], timeout=30
    )
    return Scratch(path)


async def remove(transport: Transport, scratch: Scratch, base: str) -> None:
    path = scratch.path
    if not path.startswith(base.rstrip("/") + "/" + PREFIX) or "/../" in path:
        raise TargetError(f"refusing to remove {path!r}: not a katatui scratch directory")
    await transport.run(["rm", "-rf", "--one-file-system", "--", path], timeout=120, check=True)


async def remove_session(transport: Transport, base: str, session_id: str) -> list[str]:
    """Remove every scratch directory of session ``session_id`` under ``base``: at the end of a
    session, those a cancelled ``create`` made on the target without katatui learning their path."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", session_id):
        return []
    listing = await transport.run(
        ["find", base, "-mindepth", "1", "-maxdepth", "1", "-type", "d", "-name", f"{PREFIX}{session_id}.*"],
        timeout=60,
    )
    if not listing.ok:
        return []
    removed = []
    for path in listing.text().split():
        await remove(transport, Scratch(path), base)
        removed.append(path)
    return removed


async def remove_stale(transport: Transport, base: str, *, everything: bool = False) -> list[str]:
    """Remove scratch directories under ``base`` whose katatui is gone; return what was removed."""
    await check_base(transport, base)
    listing = await transport.run(
        ["find", base, "-mindepth", "1", "-maxdepth", "1", "-type", "d", "-name", PREFIX + "*"], timeout=60
    )
    if not listing.ok:
        return []
    removed = []
    for path in listing.text().split():
        marker = await transport.run(["cat", "--", f"{path}/{MARKER}"], timeout=30)
        tag = marker.text().strip() if marker.ok else ""
        if everything or (tag and not owner_alive(tag)):
            await remove(transport, Scratch(path), base)
            removed.append(path)
    return removed
