"""``katatui doctor [TARGET...] [--profile P] [--json]``: what a host can run, checked before a run."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from rich.console import Console

from katatui.core.address import parse_address
from katatui.core.doctor import diagnose
from katatui.core.errors import UserError
from katatui.core.profile import TargetConfig, load_profile, override_targets
from katatui.core.schema import SecretValueError
from katatui.views.doctor import diagnosis_view


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="check hosts: virtualisation, /dev/kvm, kernel modules, runtimes, Kata's configuration",
        description="Check what each host can run. With --profile, check every scenario of the profile "
        "and start a canary container under each runtime to see that isolation really happens; "
        "exit status 1 when a scenario cannot run.",
    )
    p.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="NAME=ADDRESS (as katatui run --target) or ADDRESS: local, or ssh://user@host:port"
        "[?docker_socket=/path]; default: this machine (or the profile's targets)",
    )
    p.add_argument("--profile", help="a profile whose scenarios must be able to run")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change the profile")
    p.add_argument("--no-canary", action="store_true", help="with --profile: skip the canary containers")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=run)


def parse_targets(items: list[str]) -> dict[str, TargetConfig]:
    """``NAME=ADDRESS`` or a bare ``ADDRESS`` (named after its host) -> target configurations."""
    out: dict[str, TargetConfig] = {}
    for item in items:
        name, sep, address = item.partition("=")
        if not sep or "://" in name:
            name, address = "", item
        try:
            addr = parse_address(address)
        except SecretValueError as exc:
            raise UserError(f"target {name or 'address'}: {exc}") from None
        except ValueError as exc:
            raise UserError(f"target {item!r}: {exc}") from None
        if not name:
            name = "local" if addr.kind == "local" else addr.host
        if name in out:
            raise UserError(f"target {item!r}: the name {name!r} is given twice; name them NAME=ADDRESS")
        out[name] = TargetConfig(host=address, docker_socket=addr.docker_socket)
    return out


def run(args: argparse.Namespace) -> int:
    profile = None
    if args.profile:
        profile = load_profile(args.profile, args.set)
        overrides = [t for t in args.targets if "=" in t.split("://")[0]]
        if len(overrides) != len(args.targets):
            raise UserError("with --profile, targets are NAME=ADDRESS overrides of the profile's targets")
        profile = override_targets(profile, overrides)
        targets = dict(profile.targets)
    else:
        targets = parse_targets(args.targets) or {"local": TargetConfig()}
    console = Console(stderr=True, highlight=False)
    diagnosis = asyncio.run(
        diagnose(targets, profile, canary=not args.no_canary, log=lambda m: console.print(f"[yellow]{m}[/]"))
    )
    if args.json:
        json.dump(diagnosis.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        Console(highlight=False).print(diagnosis_view(diagnosis))
    return diagnosis.exit_code
