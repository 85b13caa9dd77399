"""``katatui serve [--host H] [--port P] [-- KATATUI ARGS]``: the dashboard in a web browser.

Each browser tab that opens the page gets its own katatui process (textual-serve's web driver),
started as an argument list with the arguments after ``--``: ``katatui serve -- demo``,
``katatui serve -- replay SESSION``, ``katatui serve -- run PROFILE``. It listens on 127.0.0.1
unless told otherwise; whoever reaches the page drives the app (starts runs on your hosts), so
another address needs ``--allow-network`` and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import shlex
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from katatui.core.errors import UserError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# What can run in a browser: the dashboard commands (report, import, ... print text and exit).
DASHBOARD_COMMANDS = ("run", "replay", "demo")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the dashboard in a web browser (textual-serve), e.g. katatui serve -- demo",
        description="Serve the dashboard over HTTP. Arguments after -- are katatui's own: "
        "`katatui serve -- replay SESSION --speed 4`, `katatui serve -- run PROFILE`; "
        "none opens the dashboard on this machine.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument(
        "--allow-network",
        action="store_true",
        help="allow an address other than loopback: anyone who can reach it can drive katatui",
    )
    p.add_argument(
        "--public-url", help="the address browsers use, when it differs (a proxy, a wildcard --host)"
    )
    p.add_argument("katatui_args", nargs=argparse.REMAINDER, help="-- then katatui's arguments")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_argv(
    args: Sequence[str],
    normalise: Callable[[Sequence[str]], list[str]],
    parser: argparse.ArgumentParser,
) -> list[str]:
    """The katatui command each browser gets, checked now rather than in a browser tab with
    katatui's own ``normalise`` and ``parser`` (:mod:`katatui.cli` gives them to this command)."""
    rest = list(args)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    check = normalise(rest)  # `katatui PROFILE` is `katatui run PROFILE`
    if check:
        if check[0] not in DASHBOARD_COMMANDS:
            raise UserError(
                f"serve: `katatui {shlex.join(rest)}` is not a dashboard; serve one of: "
                f"{', '.join(DASHBOARD_COMMANDS)} (e.g. katatui serve -- demo)"
            )
        if "--headless" in check:
            raise UserError("serve: --headless prints text instead of the dashboard; leave it out")
        try:
            parser.parse_args(check)
        except SystemExit as exc:  # argparse has printed what is wrong with them
            bad = shlex.join(rest)
            raise UserError(f"serve: the katatui arguments after -- are not valid: {bad}") from exc
    return [sys.executable, "-m", "katatui", *rest]


def public_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise UserError(f"--port {args.port}: expected a TCP port from 1 to 65535")
    if not is_loopback(args.host):
        if not args.allow_network:
            raise UserError(
                f"--host {args.host} is not a loopback address: anyone who can reach it could drive "
                "katatui (start and stop runs on your hosts). Add --allow-network if that is meant."
            )
        print(
            f"katatui: WARNING: serving on {args.host}: anyone who can reach {args.host}:{args.port} on "
            "this network can drive katatui, including starting runs on your hosts",
            file=sys.stderr,
        )
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise UserError(f"--public-url {args.public_url}: expected http://host:port or https://host")
    argv = app_argv(args.katatui_args, args.normalise, args.parser)
    server = make_server(argv, args.host, args.port, args.public_url or public_url(args.host, args.port))
    try:
        server.serve()
    except OSError as exc:
        why = exc.strerror or exc
        raise UserError(f"serve: cannot listen on {args.host} port {args.port}: {why}") from None
    return 0


def make_server(argv: list[str], host: str, port: int, url: str) -> Any:
    """A textual-serve server that starts ``argv`` (an argument list, no shell) per browser."""
    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    class ExecAppService(AppService):
        """Starts the app from an argument list instead of textual-serve's shell command."""

        async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
            env = self._build_environment(width=width, height=height)
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
            self._process = process
            self._stdin = process.stdin
            return process

    class KatatuiServer(Server):
        async def on_startup(self, app: web.Application) -> None:
            print(f"katatui: serving `{shlex.join(argv[2:])}` on {url}  (Ctrl+C stops)", flush=True)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """As textual-serve's, with the app started from ``argv``."""
            websocket = web.WebSocketResponse(heartbeat=15)
            width = _int(request.query.get("width", "80"), 80)
            height = _int(request.query.get("height", "24"), 24)
            service: ExecAppService | None = None

            async def close() -> None:
                await websocket.close()

            try:
                await websocket.prepare(request)
                service = ExecAppService(
                    shlex.join(argv),
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await service.start(width, height)
                try:
                    await self._process_messages(websocket, service)
                finally:
                    await service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception:  # one browser's failure is logged; the server and other tabs go on
                logging.getLogger("textual-serve").exception("katatui: the app for a browser failed")
            finally:
                if service is not None:
                    await service.stop()
            return websocket

    return KatatuiServer(shlex.join(argv), host=host, port=port, title="katatui", public_url=url)


def _int(text: str, default: int) -> int:
    try:
        return max(10, min(1000, int(text)))
    except ValueError:
        return default
