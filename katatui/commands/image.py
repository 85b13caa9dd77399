"""``katatui image``: build the benchmark image, or copy it to a target's Docker daemon.

``build --from-host`` needs no registry: it packs the target host's own fio, iperf3, ab, nginx,
sysbench and busybox into an image. Plain ``build`` runs the Dockerfile at the top of the
repository, which pulls ``debian:bookworm-slim`` and so needs a registry.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from katatui.core import interrupts
from katatui.core.errors import TargetError, UserError
from katatui.core.image import IMAGE_TAG
from katatui.core.profile import IMAGE_RE
from katatui.core.schema import shown

if TYPE_CHECKING:
    import docker

    from katatui.core.transport.base import Transport

TARGET_HELP = "NAME=local or NAME=ssh://user@host[:port] (default: local)"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "image",
        help="build the benchmark image or copy it to a target",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="image_command", metavar="ACTION", required=True)

    build = actions.add_parser(
        "build",
        help="build the image on a target's Docker daemon",
        description="Build the benchmark image on the target's Docker daemon.",
    )
    build.add_argument(
        "--from-host",
        action="store_true",
        help="pack the target host's own tool binaries (no registry needed)",
    )
    build.add_argument(
        "--context",
        metavar="DIR",
        help="without --from-host: the directory holding the Dockerfile (default: the repository top)",
    )
    _common(build)
    build.set_defaults(func=run)

    load = actions.add_parser(
        "load",
        help="copy the image from the local Docker daemon to a target's",
        description="Copy the benchmark image from the local Docker daemon (DOCKER_HOST) to the target's.",
    )
    _common(load, target_required=True)
    load.set_defaults(func=run)


def _common(parser: argparse.ArgumentParser, *, target_required: bool = False) -> None:
    parser.add_argument("--tag", default=IMAGE_TAG, help=f"image name (default: {IMAGE_TAG})")
    parser.add_argument(
        "--target",
        default=None if target_required else "local",
        required=target_required,
        metavar="NAME=URL",
        help=TARGET_HELP,
    )
    parser.add_argument(
        "--docker-socket",
        metavar="PATH",
        help="the Docker socket on the target (default: DOCKER_HOST locally, /var/run/docker.sock remotely)",
    )


def parse_target(spec: str) -> tuple[str, str]:
    """``NAME=local`` / ``NAME=ssh://...`` (or a bare ``local`` / ``ssh://...``) → (name, url)."""
    name, sep, url = spec.partition("=")
    if not sep:
        name, url = "", spec
    url = url.strip()
    name = name.strip()
    if url == "local":
        return name or "local", url
    if url.startswith("ssh://") and len(url) > len("ssh://"):
        host = url[len("ssh://") :].rsplit("@", 1)[-1].split(":", 1)[0]
        return name or host, url
    raise UserError(f"--target {spec!r}: expected {TARGET_HELP}")


def make_transport(spec: str) -> Transport:
    name, url = parse_target(spec)
    if url == "local":
        from katatui.core.transport.local import LocalTransport

        return LocalTransport(name)
    try:
        module = importlib.import_module("katatui.core.transport.ssh")
    except ImportError as exc:
        raise UserError(
            f"--target {spec}: this katatui cannot reach SSH targets yet (no katatui.core.transport.ssh); "
            "use a local target"
        ) from exc
    transport: Transport = module.SSHTransport(name, url)
    return transport


def _log(message: str) -> None:
    print(f"katatui: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    with interrupts.raising():
        return asyncio.run(_interruptible(args))


async def _interruptible(args: argparse.Namespace) -> int:
    """The command, stopped by SIGINT, SIGTERM or SIGHUP: what it runs on the host is stopped, a
    build the daemon runs is cancelled, and the exit status says which signal (130, 143, 129)."""
    task = asyncio.ensure_future(_run(args))
    with interrupts.LoopInterrupts(task.cancel, what="stopping") as caught:
        try:
            return await task
        except asyncio.CancelledError:
            if caught.signum is None:
                raise
    _log(f"image {args.image_command} interrupted; what it started was stopped")
    return interrupts.exit_status(caught.signum)


def check_tag(tag: str) -> str:
    """``--tag``: an image reference Docker takes, refused before anything is built."""
    if len(tag) > 512 or not IMAGE_RE.fullmatch(tag) or "@" in tag:
        raise UserError(
            f"--tag {shown(tag)}: not an image name such as {IMAGE_TAG} or registry:5000/name:tag "
            "(lowercase name, optional tag, no digest)"
        )
    return tag


async def _run(args: argparse.Namespace) -> int:
    check_tag(args.tag)
    transport = make_transport(args.target)
    await transport.connect()
    try:
        client = await transport.docker_client(args.docker_socket)
        try:
            if args.image_command == "load":
                await _load(transport, client, args.tag)
            elif args.from_host:
                from katatui.core.image import build_from_host

                image_id = await build_from_host(transport, client, args.tag, log=_log)
                print(f"{args.tag} {image_id}")
            else:
                await _build_dockerfile(transport, client, args.tag, args.context)
        finally:
            client.close()
    finally:
        await transport.close()
    return 0


async def _load(transport: Transport, client: docker.DockerClient, tag: str) -> None:
    from katatui.core.image import same_daemon, transfer_image
    from katatui.core.transport.local import LocalTransport

    local = await LocalTransport().docker_client(None)
    try:
        if await same_daemon(local, client):
            _log(f"{transport.name} uses the local Docker daemon itself: nothing to copy")
            return
        _log(f"copying {tag} from the local Docker daemon to {transport.name}")
        await transfer_image(local, client, tag)
        _log(f"{tag} is on {transport.name}")
    finally:
        local.close()


def _dockerfile_context(context: str | None) -> Path:
    top = Path(context) if context else Path(__file__).resolve().parents[2]
    if not (top / "Dockerfile").is_file():
        raise UserError(
            f"no Dockerfile in {top}; pass --context DIR, or use --from-host to build without one"
        )
    return top


async def _build_dockerfile(
    transport: Transport, client: docker.DockerClient, tag: str, context: str | None
) -> None:
    top = _dockerfile_context(context)
    _log(
        f"building {tag} from {top / 'Dockerfile'} on {transport.name}; this pulls debian:bookworm-slim "
        "and installs packages, so the daemon needs a registry and Debian's mirrors "
        "(without them: katatui image build --from-host)"
    )

    streams: list[Any] = []  # the build's response, to cut if the command is interrupted

    def build() -> None:
        def keep(response: Any, *_args: Any, **_kwargs: Any) -> Any:
            streams.append(response)
            return response

        api: Any = client.api
        api.hooks["response"].append(keep)
        try:
            # forcerm: the daemon removes its intermediate containers even when the build fails.
            for message in api.build(path=str(top), tag=tag, rm=True, forcerm=True, decode=True):
                if message.get("error"):
                    raise TargetError(
                        f"on {transport.name}: docker build failed: {str(message['error']).strip()}; "
                        "without a registry use: katatui image build --from-host"
                    )
                line = str(message.get("stream", "")).rstrip()
                if line:
                    _log(line)
        finally:
            api.hooks["response"].remove(keep)

    pending = asyncio.ensure_future(asyncio.to_thread(build))
    try:
        await asyncio.shield(pending)
    except asyncio.CancelledError:
        # Interrupted: cutting the build's stream makes the daemon cancel the build and remove
        # its intermediate container; the thread reading it ends.
        for response in streams:
            cut_stream(response)
        with contextlib.suppress(Exception):
            await pending
        raise
    except TargetError:
        raise
    except Exception as exc:
        raise TargetError(
            f"on {transport.name}: docker build failed: {exc}; without a registry use: "
            "katatui image build --from-host"
        ) from exc
    _log(f"built {tag}")


def cut_stream(response: Any) -> None:
    """Shut down the socket under a streamed Docker API response (requests over urllib3), which
    wakes a thread blocked reading it; the daemon sees the client go."""
    raw = getattr(response, "raw", None)
    candidates = [getattr(getattr(raw, "_connection", None), "sock", None)]
    with contextlib.suppress(AttributeError):
        candidates.append(raw._fp.fp.raw._sock)  # type: ignore[union-attr]
    for sock in candidates:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
