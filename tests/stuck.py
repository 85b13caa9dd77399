"""What to say about a test dockerd that stopped answering, and how to get it back.

A daemon whose container calls hang usually has one container stuck (a lock held while a kill, a
start or a log reader waits), and every list of containers waits behind it. What is printed here
is what finds the cause: the daemon's goroutines that wait for minutes, the processes stuck in the
kernel, frozen cgroups and the daemon's inotify instances.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.conftest import TestEnv

REPO = Path(__file__).resolve().parent.parent
MAX_GOROUTINES = 8
FRAMES = 8


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _goroutines(dir: Path) -> list[str]:
    """SIGUSR1 makes dockerd write its goroutines to a file it names in its log."""
    log = dir / "dockerd.log"
    pid = _read(dir / "dockerd.pid").strip()
    if not pid.isdigit():
        return ["dockerd: no pid file"]
    before = len(_read(log))
    try:
        os.kill(int(pid), signal.SIGUSR1)
    except OSError as exc:
        return [f"dockerd {pid}: {exc}"]
    found = None
    for _ in range(50):
        m = re.search(r'goroutine stacks written to (\S+?)"?\s', _read(log)[before:])
        if m:
            found = Path(m.group(1))
            break
        time.sleep(0.1)
    if found is None:
        return [f"dockerd {pid}: wrote no goroutine dump within 5 s"]
    blocks = _read(found).split("\n\n")
    waiting = [b for b in blocks if re.match(r"goroutine \d+ \[[^\]]*minutes?", b)]
    out = [f"dockerd {pid}: {len(blocks)} goroutines, {len(waiting)} waiting for minutes ({found})"]
    for block in waiting[:MAX_GOROUTINES]:
        lines = block.splitlines()
        calls = [ln.split("(")[0] for ln in lines[1:] if not ln.startswith("\t")]
        out.append("  " + lines[0] + " " + " < ".join(calls[:FRAMES]))
    return out


def _processes(dir: Path) -> list[str]:
    """Processes in uninterruptible sleep, runc's, and the runtime calls a containerd shim still
    waits for (a runtime's ``create``, ``start``, ``kill`` or ``delete`` that never ends holds its
    container, and every call that inspects that container waits behind it)."""
    table: dict[str, tuple[str, str, str]] = {}  # pid -> (comm, state, ppid)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            m = re.match(r"\d+ \((.*)\) (\S) (\d+)", _read(proc / "stat"))
            if m:
                table[proc.name] = (m.group(1), m.group(2), m.group(3))
    out = []
    for pid, (comm, state, ppid) in table.items():
        cmd = _read(Path("/proc") / pid / "cmdline").replace("\0", " ")
        runtime_call = table.get(ppid, ("",))[0].startswith("containerd-shim") and any(
            f" {verb} " in f" {cmd} " for verb in ("create", "start", "kill", "delete", "exec")
        )
        if state == "D" or comm.startswith("runc") or runtime_call:
            wchan = _read(Path("/proc") / pid / "wchan")
            out.append(f"  {pid} {state} {comm} wchan={wchan} {cmd[:120]}")
    return [f"processes in D state, runc's, and runtime calls a shim waits for: {len(out)}", *out[:20]]


def _cgroups(dir: Path) -> list[str]:
    out = []
    for cdir in (dir / "docker-root" / "containers").glob("*"):
        state = _read(Path("/sys/fs/cgroup/freezer/docker") / cdir.name / "freezer.state").strip()
        if state and state != "THAWED":
            out.append(f"  container {cdir.name[:12]}: freezer {state}")
    return [f"frozen containers: {len(out)}", *out[:10]]


def inotify_instances(pid: int) -> int:
    """How many inotify instances process ``pid`` holds."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed while we looked
            count += "inotify" in os.readlink(fd)
    return count


def _inotify(dir: Path) -> list[str]:
    pid = _read(dir / "dockerd.pid").strip()
    try:
        held = inotify_instances(int(pid))
    except (OSError, ValueError):
        return []
    limit = _read(Path("/proc/sys/fs/inotify/max_user_instances")).strip()
    return [f"dockerd inotify instances: {held} (limit per user {limit})"]


def describe(dir: Path, exc: BaseException) -> str:
    lines = [f"listing containers failed: {exc}", f"kernel {platform.release()}, load {os.getloadavg()}"]
    for part in (_goroutines, _processes, _cgroups, _inotify):
        try:
            lines += part(dir)
        except Exception as err:  # a diagnosis must not hide the failure it describes
            lines.append(f"{part.__name__}: {err}")
    return "\n".join(lines)


def runs_a_container(env: TestEnv) -> str | None:
    """None when the test dockerd runs a container under runc to its end within 60 s, else why not.

    Restarting the daemons clears a stuck runtime call; a container that still cannot run points
    below them (a process stuck in the kernel), and every container test after it would wait for
    its own timeout: better to stop there and say so."""
    argv = ["docker", "-H", env.docker_url, "run", "--rm", "--pull", "never", "--runtime", "runc",
            "--network", "host", "--label", "io.katatui.test=probe", env.image, "true"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "after the restart, a container under runc did not run to its end within 60 s"
    if done.returncode != 0:
        return f"after the restart, `docker run ... true` failed: {done.stderr.strip()[-500:]}"
    return None


def restart(dir: Path) -> str | None:
    """``scripts/testenv restart-docker``; None when the daemon answers again, else why not."""
    env = {**os.environ, "KATATUI_TESTENV_DIR": str(dir)}
    try:
        done = subprocess.run([str(REPO / "scripts" / "testenv"), "restart-docker"], env=env,
                              capture_output=True, text=True, timeout=180)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "scripts/testenv restart-docker took more than 180 s"
    if done.returncode != 0:
        return done.stderr[-2000:]
    return None
