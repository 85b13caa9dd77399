"""Docker output path: katatui's attach made before the start against followed logs, in the same run.

Both read the output of N containers (runc, the benchmark image) started at once on the test
dockerd through its local socket, each running ``sh -c 'echo first; sleep 6; echo last >&2'``
(long enough for all of them to run at once, as a run's clients do at its start barrier):

* ``attach``: DockerLauncher.start as katatui does it (create, attach, start; one socket per
  container carries both streams);
* ``follow``: create and start, then at once ``docker logs -f`` for stdout and for stderr (two
  followers per container, a thread each), as katatui did before.

Rounds alternate between the two. Reported per mode (medians over the rounds): ``first`` = from the
first start call until the first line of every container arrived, ``done`` = until every
container's output ended with both lines, and the peak number of inotify instances the daemon held
(sampled every 50 ms), against root's ``fs.inotify.max_user_instances``.

Needs the test environment (scripts/testenv up) and root. Run by hand:
    python benchmarks/docker_output.py [--clients 64] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker

from katatui.core.events import RunSpec
from katatui.core.launchers.docker import LABEL_SESSION, DockerLauncher
from katatui.core.profile import Limits
from katatui.core.transport.local import LocalTransport

ARGV = ["sh", "-c", "echo first; sleep 6; echo last >&2"]
SESSION = "bench-docker-output"


def read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        out[key] = value.strip("'")
    return out


class Inotify:
    """The daemon's inotify instances, sampled in a thread; ``peak`` since the last reset."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def count(self) -> int:
        n = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{self.pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    n += "inotify" in os.readlink(fd)
        return n

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.count())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


async def attach_mode(client: docker.DockerClient, image: str, n: int) -> tuple[float, float]:
    launcher = DockerLauncher(LocalTransport(), client, runtime="runc", image=image, session_id=SESSION,
                              limits=Limits())  # fmt: skip
    run = RunSpec("benchattach01", 0, "c", "runc", "docker", "runc", "local", "w", "w", {}, n, 0)
    t0 = time.monotonic()
    first: list[float] = []
    try:
        procs = await asyncio.gather(*(launcher.start(run, c, ARGV, None) for c in range(n)))

        async def drain(p: Any) -> bytes:
            got = b""
            while (item := await p.read()) is not None:
                if not got:
                    first.append(time.monotonic())
                got += item[1]
            return got

        outs = await asyncio.gather(*(drain(p) for p in procs))
        done = time.monotonic()
        assert all(o == b"first\nlast\n" for o in outs), outs[:3]
        return max(first) - t0, done - t0
    finally:
        await launcher.close()


async def follow_mode(client: docker.DockerClient, image: str, n: int) -> tuple[float, float]:
    t0 = time.monotonic()
    containers: list[Any] = []
    first: list[float] = []
    pool = ThreadPoolExecutor(max_workers=2 * n)  # a thread per follower, as katatui had

    def follow(container: Any, stream: str) -> bytes:
        got = b""
        which = {"stdout": stream == "stdout", "stderr": stream == "stderr"}
        for data in client.api.logs(container.id, stream=True, follow=True, **which):
            if not got and stream == "stdout":
                first.append(time.monotonic())
            got += data
        return got

    def start(c: int) -> list[Any]:
        container = client.containers.create(image=image, command=ARGV, runtime="runc", network_mode="host",
                                             labels={LABEL_SESSION: SESSION}, detach=True)  # fmt: skip
        containers.append(container)
        container.start()
        return [pool.submit(follow, container, s) for s in ("stdout", "stderr")]

    try:
        futures = await asyncio.gather(*(asyncio.to_thread(start, c) for c in range(n)))
        outs = await asyncio.gather(*(asyncio.wrap_future(f) for pair in futures for f in pair))
        done = time.monotonic()
        assert all(o in (b"first\n", b"last\n") for o in outs), outs[:3]
        return max(first) - t0, done - t0
    finally:
        await asyncio.gather(*(asyncio.to_thread(c.remove, force=True) for c in containers))
        pool.shutdown()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5, help="rounds per mode, alternating (default 5)")
    p.add_argument("--json", type=Path, help="also write every round as JSON here")
    args = p.parse_args()
    testenv = Path(os.environ.get("KATATUI_TESTENV_DIR", "/tmp/katatui-testenv"))
    env = read_env(testenv / "env")
    client = docker.DockerClient(base_url="unix://" + env["KATATUI_TEST_DOCKER_SOCK"], timeout=120)
    watch = Inotify(int((testenv / "dockerd.pid").read_text()))
    limit = Path("/proc/sys/fs/inotify/max_user_instances").read_text().strip()
    rounds: list[dict[str, Any]] = []
    try:
        for i in range(args.rounds * 2):
            mode = ("attach", "follow")[i % 2]
            watch.peak = watch.count()
            first, done = asyncio.run(
                (attach_mode if mode == "attach" else follow_mode)(
                    client, env["KATATUI_TEST_IMAGE"], args.clients
                )
            )
            rounds.append({"mode": mode, "first_s": first, "done_s": done, "inotify_peak": watch.peak})
            print(
                f"{mode:<7} first {first:6.2f} s  done {done:6.2f} s  daemon inotify peak {watch.peak}",
                flush=True,
            )
    finally:
        watch.close()
        client.close()
    print(
        f"\n{args.clients} containers, medians of {args.rounds} rounds each (root's inotify limit: {limit})"
    )
    med: dict[str, dict[str, float]] = {}
    for mode in ("attach", "follow"):
        mine = [r for r in rounds if r["mode"] == mode]
        med[mode] = {k: statistics.median(r[k] for r in mine) for k in ("first_s", "done_s", "inotify_peak")}
        m = med[mode]
        print(
            f"{mode:<7} first {m['first_s']:6.2f} s  done {m['done_s']:6.2f} s  "
            f"inotify peak {m['inotify_peak']:.0f}"
        )
    for k in ("first_s", "done_s"):
        print(f"attach / follow, {k[:-2]}: {med['attach'][k] / med['follow'][k]:.2f}")
    if args.json:
        args.json.write_text(
            json.dumps({"clients": args.clients, "rounds": rounds, "medians": med}, indent=1)
        )


if __name__ == "__main__":
    main()
