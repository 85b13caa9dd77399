"""Fan-out: how long katatui takes to have 8 and 64 clients started over SSH, and how far apart they start.

Several sshd's on loopback stand in for hosts: the test environment's sshd plus ``--hosts - 1``
more that this script starts on free ports (same host key and authorized key, its own pidfiles;
it stops them by PID at the end). Clients are spread round robin over the hosts and every host's
share is started at the same moment, through the launcher interface:

* ``bare``: ``sh -c 'date +%s%N; sleep 2'`` under BareLauncher, one SSH channel per client
  (``start`` for each, all at once) and batched (``start_many``: one channel and a starter per host);
* ``containerd``: ``ctr run`` of the benchmark image under io.containerd.runc.v2, per client and
  batched, and the same started from the local machine with no SSH (the containers' own start);
* ``docker``: DockerLauncher (runc) through the SSH connection's forwarded Docker socket, and the
  same through the local socket (the containers' own start).

Reported per case: ``ready`` = from the first start call until katatui has the first output of
every client (bare, containerd) or every container is running (docker); ``spread`` = last minus
first client start, by the host's clock as the client saw it (bare: the child's ``date``; docker:
the container's StartedAt) or, for containerd, by when its first output reached katatui. The
difference between an SSH case and its local baseline is what SSH and katatui add beyond the
containers' own start.

Needs the test environment (scripts/testenv up) and root. Run by hand:
    python benchmarks/fanout.py [--hosts 4] [--clients 8 64] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from katatui.core.events import RunSpec
from katatui.core.launchers.bare import BareLauncher
from katatui.core.launchers.base import Launcher
from katatui.core.launchers.containerd import ContainerdLauncher
from katatui.core.launchers.docker import DockerLauncher
from katatui.core.profile import Limits
from katatui.core.transport.base import Process, Transport
from katatui.core.transport.local import LocalTransport
from katatui.core.transport.ssh import SSHTransport

Env = dict[str, str]


def read_env(path: Path) -> Env:
    out = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 1 and "=" in words[0]:
            k, _, v = words[0].partition("=")
            out[k] = v
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Hosts:
    """The test sshd plus extra ones on loopback; a HOME whose known_hosts and key reach them all."""

    def __init__(self, env: Env, count: int) -> None:
        self.env = env
        self.dir = Path(tempfile.mkdtemp(prefix="katatui-fanout-"))
        self.ports = [int(env["KATATUI_TEST_SSH_PORT"])]
        self.pids: list[int] = []
        base = Path(env["KATATUI_TEST_DIR"])
        config = (base / "sshd_config").read_text()
        for i in range(1, count):
            port = free_port()
            pidfile = self.dir / f"sshd{i}.pid"
            text = "\n".join(
                f"Port {port}" if line.startswith("Port ") else
                f"PidFile {pidfile}" if line.startswith("PidFile ") else line
                for line in config.splitlines()
            )  # fmt: skip
            (self.dir / f"sshd{i}.conf").write_text(text + "\n")
            subprocess.run(["/usr/sbin/sshd", "-f", str(self.dir / f"sshd{i}.conf"), "-E",
                            str(self.dir / f"sshd{i}.log")], check=True)  # fmt: skip
            for _ in range(100):
                if pidfile.exists() and pidfile.read_text().strip() and _port_open(port):
                    break
                time.sleep(0.1)
            self.pids.append(int(pidfile.read_text().strip()))
            self.ports.append(port)
        home = self.dir / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        shutil.copy(env["KATATUI_TEST_SSH_KEY"], home / ".ssh" / "id_ed25519")
        os.chmod(home / ".ssh" / "id_ed25519", 0o600)
        key = " ".join((base / "ssh_host_ed25519_key.pub").read_text().split()[:2])
        (home / ".ssh" / "known_hosts").write_text("".join(f"[127.0.0.1]:{p} {key}\n" for p in self.ports))
        os.environ["HOME"] = str(home)

    def close(self) -> None:
        for pid in self.pids:  # only the sshd's this script started, by their PIDs
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)
        shutil.rmtree(self.dir, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def spec(clients: int) -> RunSpec:
    return RunSpec(
        os.urandom(6).hex(), 0, "fanout", "s", "bare", None, "h", "fanout", "launch", {}, clients, 0
    )


async def first_output(proc: Process) -> tuple[float, bytes]:
    """When the first stdout chunk arrived, and it; then drain the rest and wait. A client that
    printed nothing is an error (with what it said on stderr), not a time."""
    arrived, data, errors = 0.0, b"", b""
    while (chunk := await proc.read()) is not None:
        if chunk[0] == "stdout" and not arrived:
            arrived, data = time.monotonic(), chunk[1]
        elif chunk[0] == "stderr":
            errors += chunk[1]
    status = await proc.wait()
    if not arrived:
        said = errors.decode(errors="replace").strip()[-300:] or "nothing on stderr either"
        raise RuntimeError(f"a client printed nothing (exit status {status}): {said}")
    return arrived, data


Starter = Callable[[Launcher, RunSpec, list[int]], Awaitable[list[Process]]]


async def per_client(
    launcher: Launcher, run: RunSpec, clients: list[int], argv: Sequence[str]
) -> list[Process]:
    return list(await asyncio.gather(*(launcher.start(run, c, argv, None) for c in clients)))


async def batched(launcher: Launcher, run: RunSpec, clients: list[int], argv: Sequence[str]) -> list[Process]:
    return await launcher.start_many(run, [(c, argv, None) for c in clients])


async def measure_streams(
    launchers: list[Launcher], n: int, argv: Sequence[str], batch: bool, child_clock: bool
) -> dict[str, float]:
    run = spec(n)
    shares = [[c for c in range(n) if c % len(launchers) == h] for h in range(len(launchers))]
    t0 = time.monotonic()
    starter = batched if batch else per_client
    groups = await asyncio.gather(
        *(starter(la, run, share, argv) for la, share in zip(launchers, shares, strict=True))
    )
    procs = [p for g in groups for p in g]
    firsts = await asyncio.gather(*(first_output(p) for p in procs))
    for la, share in zip(launchers, shares, strict=True):
        for c in share:
            await la.release(run, c)
    arrivals = [a for a, _ in firsts]
    stamps = [int(d.split()[0]) / 1e9 for _, d in firsts] if child_clock else arrivals
    return {"ready_s": max(arrivals) - t0, "spread_s": max(stamps) - min(stamps)}


async def measure_docker(launchers: list[DockerLauncher], n: int) -> dict[str, float]:
    run = spec(n)
    shares = [[c for c in range(n) if c % len(launchers) == h] for h in range(len(launchers))]
    t0 = time.monotonic()
    groups = await asyncio.gather(
        *(per_client(la, run, share, ["sleep", "2"]) for la, share in zip(launchers, shares, strict=True))
    )
    ready = time.monotonic() - t0
    starts = []
    for la, share in zip(launchers, shares, strict=True):
        for c in share:
            container = la._containers[(run.run_id, c)]
            await asyncio.to_thread(container.reload)
            starts.append(_ns(container.attrs["State"]["StartedAt"]))
    await asyncio.gather(*(p.wait() for g in groups for p in g))
    for la, share in zip(launchers, shares, strict=True):
        for c in share:
            await la.release(run, c)
    return {"ready_s": ready, "spread_s": max(starts) - min(starts)}


def _ns(stamp: str) -> float:
    """Docker's RFC 3339 time with nanoseconds, as seconds."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float("0." + (frac or "0"))


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    env = read_env(Path(os.environ.get("KATATUI_TESTENV_DIR", "/tmp/katatui-testenv")) / "env")
    hosts = Hosts(env, args.hosts)
    sock = env.get("KATATUI_TEST_CONTAINERD") or f"{env['KATATUI_TEST_DIR']}/containerd/containerd.sock"
    docker_sock = env["KATATUI_TEST_DOCKER_SOCK"]
    image = env["KATATUI_TEST_IMAGE"]
    transports: list[Transport] = [
        SSHTransport(f"h{i}", f"ssh://root@127.0.0.1:{p}") for i, p in enumerate(hosts.ports)
    ]
    local = LocalTransport("local")
    rows: list[dict[str, Any]] = []
    try:
        for t in transports:
            await t.connect()
        dockers = [await t.docker_client(docker_sock) for t in transports]
        local_docker = await local.docker_client(docker_sock)
        limits = Limits()

        def ctr_launchers(ts: Sequence[Transport]) -> list[Launcher]:
            return [ContainerdLauncher(t, runtime="io.containerd.runc.v2", image=image, session_id="fanout",
                                       limits=limits, socket=sock) for t in ts]  # fmt: skip

        def docker_launchers(ts: Sequence[Transport], clients: Sequence[Any]) -> list[DockerLauncher]:
            return [DockerLauncher(t, c, runtime="runc", image=image, session_id="fanout", limits=limits)
                    for t, c in zip(ts, clients, strict=True)]  # fmt: skip

        bare_argv = ["sh", "-c", "date +%s%N; sleep 2"]
        ctr_argv = ["sh", "-c", "echo up; sleep 2"]
        cases: list[tuple[str, Callable[[int], Awaitable[dict[str, float]]]]] = [
            ("bare over SSH, a channel per client",
             lambda n: measure_streams([BareLauncher(t) for t in transports], n, bare_argv, False, True)),
            ("bare over SSH, batched (start_many)",
             lambda n: measure_streams([BareLauncher(t) for t in transports], n, bare_argv, True, True)),
            ("containerd, local (no SSH): containers' own start",
             lambda n: measure_streams(ctr_launchers([local]), n, ctr_argv, False, False)),
            ("containerd over SSH, a channel per client",
             lambda n: measure_streams(ctr_launchers(transports), n, ctr_argv, False, False)),
            ("containerd over SSH, batched (start_many)",
             lambda n: measure_streams(ctr_launchers(transports), n, ctr_argv, True, False)),
            ("docker, local socket: containers' own start",
             lambda n: measure_docker(docker_launchers([local], [local_docker]), n)),
            ("docker over SSH (forwarded socket)",
             lambda n: measure_docker(docker_launchers(transports, dockers), n)),
        ]  # fmt: skip
        for n in args.clients:
            for name, fn in cases:
                try:
                    got = [await fn(n) for _ in range(args.rounds)]
                except RuntimeError as exc:
                    rows.append({"case": name, "clients": n, "hosts": len(transports), "failed": str(exc)})
                    print(f"{n:>3} clients  {name:<52} failed: {exc}", flush=True)
                    continue
                row = {"case": name, "clients": n, "hosts": len(transports), "rounds": got,
                       "ready_s": statistics.median(g["ready_s"] for g in got),
                       "spread_s": statistics.median(g["spread_s"] for g in got)}  # fmt: skip
                rows.append(row)
                said = f"ready {row['ready_s']:7.3f} s   spread {row['spread_s']:7.3f} s"
                print(f"{n:>3} clients  {name:<52} {said}", flush=True)
        for c in [*dockers, local_docker]:
            c.close()
    finally:
        for t in transports:
            await t.close()
        hosts.close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hosts", type=int, default=4, help="sshd's standing in for hosts (default 4)")
    p.add_argument("--clients", type=int, nargs="+", default=[8, 64])
    p.add_argument("--rounds", type=int, default=3, help="repeats per case; medians are reported")
    p.add_argument("--json", type=Path, help="also write every round as JSON here")
    args = p.parse_args()
    rows = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
