"""Scratch directories: the only place fio may write.

katatui creates a fresh directory with ``mktemp -d`` under the target's ``scratch_base`` and
removes exactly that directory afterwards. A marker file records the owner (``host:pid``) so
that directories left by a crashed katatui can be found and removed on the next start.
"""

from __future__ import annotations

import os
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


async def check_base(transport: Transport, base: str) -> None:
    """Refuse a scratch base that exists and is not a directory (a device, a file)."""
    done = await transport.run(["stat", "-L", "-c", "%F", base], timeout=30)
    if done.ok:
        kind = done.text().strip()
        if kind != "directory":
            raise TargetError(
                f"on {transport.name}: scratch_base {base} is a {kind}, not a directory; fio writes only "
                "inside a directory katatui creates there. Choose a directory such as /var/tmp/katatui."
            )


async def create(transport: Transport, base: str, session_id: str) -> Scratch:
    await check_base(transport, base)
    await transport.run(["mkdir", "-p", "--", base], timeout=30, check=True)
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


async def remove_stale(transport: Transport, base: str, *, everything: bool = False) -> list[str]:
    """Remove scratch directories under ``base`` whose katatui is gone; return what was removed."""
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
