"""``katatui cleanup``: remove containers and scratch directories a katatui left behind."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from katatui.core import scratch
from katatui.core.address import parse_address
from katatui.core.errors import DaemonError, KatatuiError
from katatui.core.hosts import make_transport
from katatui.core.launchers.docker import daemon_call, remove_leftovers
from katatui.core.profile import TargetConfig, check_scratch_base


def add_parser(sub: Any) -> None:
    p = sub.add_parser("cleanup", help="remove katatui's leftover containers and scratch directories")
    p.add_argument(
        "--target", default="local", metavar="ADDRESS", help="local (default) or ssh://user@host:port"
    )
    p.add_argument(
        "--docker-socket", help="the Docker socket on that host (default: DOCKER_HOST or the usual one)"
    )
    p.add_argument(
        "--containerd-socket",
        help="also remove katatui's containers in containerd (namespace katatui) behind this socket",
    )
    p.add_argument(
        "--kubernetes",
        action="store_true",
        help="also remove katatui's pods and services in its Kubernetes namespace (--kubeconfig, --context)",
    )
    p.add_argument(
        "--kubeconfig", help="with --kubernetes: the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )
    p.add_argument("--context", help="with --kubernetes: the kubeconfig context (default: its current one)")
    p.add_argument("--namespace", default="katatui", help="with --kubernetes: katatui's namespace")
    p.add_argument("--scratch-base", default="/var/tmp/katatui", help="where scratch directories are made")
    p.add_argument(
        "--all", action="store_true", help="also remove what a katatui that is still running holds"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from katatui.core.errors import UserError

    try:
        parse_address(args.target)
        base = check_scratch_base(args.scratch_base)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for flag, value in (
        ("--docker-socket", args.docker_socket),
        ("--containerd-socket", args.containerd_socket),
    ):
        if value and not value.startswith("/"):
            raise UserError(f"{flag} {value!r}: expected an absolute path")
    cfg = TargetConfig(host=args.target, docker_socket=args.docker_socket, scratch_base=base)
    transport = make_transport("cleanup", cfg, print)
    status = 0
    try:
        await transport.connect()
        try:
            client = await transport.docker_client(args.docker_socket)
            removed = await daemon_call(args.target, remove_leftovers(client, everything=args.all))
            print(f"containers removed: {len(removed)}" + (f" ({', '.join(removed)})" if removed else ""))
            client.close()
        except DaemonError as exc:
            print(f"containers: not cleaned up: {exc}")
            status = 1
        except KatatuiError as exc:
            print(f"containers: skipped: {exc}")
        if args.containerd_socket:
            from katatui.core.launchers import containerd

            try:
                ctr = containerd.Ctr(transport, args.containerd_socket)
                await ctr.check()
                gone = await containerd.remove_leftovers(ctr, everything=args.all)
                print(
                    f"containerd containers removed: {len(gone)}" + (f" ({', '.join(gone)})" if gone else "")
                )
            except KatatuiError as exc:
                print(f"containerd containers: skipped: {exc}")
        if args.kubernetes:
            await _kubernetes(args)
        dirs = await scratch.remove_stale(transport, base, everything=args.all)
        print(f"scratch directories removed: {len(dirs)}" + (f" ({', '.join(dirs)})" if dirs else ""))
    finally:
        await transport.close()
    return status


async def _kubernetes(args: argparse.Namespace) -> None:
    from pydantic import ValidationError

    from katatui.core.errors import UserError
    from katatui.core.launchers.kubernetes import KubeCluster
    from katatui.core.profile import KubernetesConfig
    from katatui.core.scratch import owner_alive

    try:
        cfg = KubernetesConfig(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
    except ValidationError as exc:
        raise UserError(f"--namespace {args.namespace!r}: {exc.errors()[0]['msg']}") from None
    try:
        cluster = await KubeCluster.connect(cfg)
    except UserError:
        raise
    except KatatuiError as exc:
        print(f"Kubernetes: skipped: {exc}")
        return
    try:
        gone = await cluster.remove(lambda meta: args.all or not owner_alive(_owner(meta)))
        print(f"Kubernetes objects removed: {len(gone)}" + (f" ({', '.join(gone)})" if gone else ""))
    except KatatuiError as exc:
        print(f"Kubernetes: skipped: {exc}")
    finally:
        cluster.close()


def _owner(meta: dict[str, Any]) -> str:
    from katatui.core.launchers.kubernetes import ANNOTATION_OWNER

    return str((meta.get("annotations") or {}).get(ANNOTATION_OWNER, ""))
