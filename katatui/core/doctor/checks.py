"""What every part of the doctor shares: a finding (``Check``), what one target showed
(``HostReport``), what one scenario asks for (``ScenarioNeeds``), and how a check asks the host."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from katatui.core import guest
from katatui.core.errors import KatatuiError
from katatui.core.profile import Limits
from katatui.core.transport.base import Transport

Status = Literal["pass", "warn", "fail"]
RANK: dict[Status, int] = {"pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Check:
    """One finding. ``scope`` is "host", "scenario NAME" or "canary NAME"."""

    name: str
    status: Status
    why: str
    todo: str = ""
    scope: str = "host"

    def as_dict(self) -> dict[str, str]:
        return {
            "scope": self.scope,
            "name": self.name,
            "status": self.status,
            "why": self.why,
            "todo": self.todo,
        }


def worst(checks: Sequence[Check]) -> Status:
    return max((c.status for c in checks), key=RANK.__getitem__, default="pass")


WHICH = 'for p; do printf "%s=" "$p"; command -v -- "$p" || echo; done'


def parse_kv(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key:
            out.setdefault(key.strip(), value.strip())
    return out


@dataclass
class HostReport:
    """What doctor found on one target."""

    target: str
    address: str
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def kvm_usable(self) -> bool:
        return bool(self.facts.get("kvm_usable"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "address": self.address,
            "error": self.error,
            "facts": self.facts,
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class ScenarioNeeds:
    """What one (scenario, target) of a profile asks for."""

    scenario: str
    target: str
    launcher: str
    runtime: str | None
    image: str
    own_image: bool  # katatui's image (built when missing) rather than the user's
    host_tools: frozenset[str] = frozenset()
    limits: Limits | None = None  # what its runs get: the scenario's own, else the profile's [limits]
    own_limits: bool = False  # the scenario's own limits rather than the profile's [limits]


# -- asking the host: commands through the transport ----------------------------------------------


async def which(transport: Transport, names: Sequence[str]) -> dict[str, str]:
    """Where each program is on the host's PATH ("" when it is not)."""
    if not names:
        return {}
    done = await transport.run(["sh", "-c", WHICH, "sh", *names], timeout=30)
    return {k: v for k, v in parse_kv(done.text()).items()}


async def try_run(
    transport: Transport, argv: Sequence[str], timeout: float = 60
) -> tuple[int, str, str] | None:
    """(exit status, stdout, stderr) of ``argv`` on the host; None when it could not be run."""
    try:
        done = await transport.run(argv, timeout=timeout)
    except KatatuiError:
        return None
    return done.returncode, done.text(), done.stderr.decode(errors="replace")


def kvm_checks(needs: ScenarioNeeds, report: HostReport, scope: str) -> list[Check]:
    """A VM runtime's scenario fails on a target whose /dev/kvm is not usable."""
    assert needs.runtime is not None
    if guest.sandbox_kind(needs.runtime) == "vm" and not report.kvm_usable:
        return [
            Check(
                "kvm",
                "fail",
                f"{needs.runtime} starts a VM, and /dev/kvm is not usable on {needs.target}",
                "see the /dev/kvm check above",
                scope,
            )
        ]
    return []
