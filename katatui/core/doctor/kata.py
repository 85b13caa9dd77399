"""Kata on a target: ``kata-runtime check``, and ``kata-runtime env`` (or ``kata-ctl env``) with
the configuration file they name: the hypervisor, shared filesystem and VM size."""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Mapping, Sequence

from katatui.core import guest, kata
from katatui.core.doctor.checks import Check, HostReport, try_run
from katatui.core.transport.base import Transport


async def kata_checks(
    transport: Transport, tools: Mapping[str, str], vm_runtimes: Sequence[str], report: HostReport
) -> list[Check]:
    if "kata-runtime" not in tools and "kata-ctl" not in tools:
        if vm_runtimes:
            return [
                Check(
                    "kata",
                    "warn",
                    f"Docker has {', '.join(vm_runtimes)} but neither kata-runtime nor kata-ctl is on the "
                    "PATH: its configuration (hypervisor, shared filesystem, VM size) cannot be read",
                    "put /opt/kata/bin on the PATH of the user katatui connects as",
                )
            ]
        return [Check("kata", "pass", "not installed, and no Docker runtime here needs it")]
    checks: list[Check] = []
    config = kata.KataConfig()
    if "kata-runtime" in tools:
        got = await try_run(transport, ["kata-runtime", "check"], timeout=120)
        if got is not None:
            verdict = guest.parse_kata_check(got[1] + "\n" + got[2])
            report.facts["kata_check"] = {
                "capable": verdict.capable,
                "can_create": verdict.can_create,
                "errors": list(verdict.errors),
            }
            if verdict.capable is False or (got[0] != 0 and verdict.errors):
                checks.append(
                    Check(
                        "kata-runtime check",
                        "fail",
                        "; ".join(verdict.errors) or "the system is not capable of running Kata",
                        "fix what kata-runtime check reports (run it as root for the details)",
                    )
                )
            elif verdict.capable:
                checks.append(
                    Check(
                        "kata-runtime check",
                        "pass",
                        "the system is capable of running Kata"
                        + (" and can create Kata containers now" if verdict.can_create else ""),
                    )
                )
            else:
                checks.append(
                    Check(
                        "kata-runtime check",
                        "warn",
                        f"no verdict (exit status {got[0]})",
                        "run `kata-runtime check` as root to see why",
                    )
                )
        for argv in (["kata-runtime", "env"], ["kata-runtime", "kata-env"]):
            got = await try_run(transport, argv, timeout=60)
            if got is not None and got[0] == 0:
                with contextlib.suppress(ValueError, tomllib.TOMLDecodeError):
                    config = kata.parse_env(got[1])
                    break
    if config.hypervisor_path is None and "kata-ctl" in tools:
        got = await try_run(transport, ["kata-ctl", "env"], timeout=60)
        if got is not None and got[0] == 0:
            with contextlib.suppress(ValueError, tomllib.TOMLDecodeError):
                config = kata.parse_env(got[1])
    if config.config_path:
        got = await try_run(transport, ["cat", "--", config.config_path], timeout=30)
        if got is not None and got[0] == 0:
            with contextlib.suppress(ValueError):
                config = config.merged(kata.parse_configuration(got[1], config.config_path))
    report.facts["kata_config"] = config.as_dict()
    if config.hypervisor_path is None and config.shared_fs is None:
        checks.append(
            Check(
                "kata configuration",
                "warn",
                "kata-runtime env / kata-ctl env gave nothing readable",
                "run `kata-runtime env` on the host to see what is wrong",
            )
        )
    else:
        notes = []
        if config.shared_fs == "virtio-9p":
            notes.append("virtio-9p is slow for file I/O (seeds 001-003)")
        if config.virtio_fs_cache in ("never", "none"):
            notes.append("virtio-fs cache is off: metadata goes to the host every time")
        checks.append(
            Check(
                "kata configuration",
                "pass",
                config.describe()
                + (f" (from {config.config_path})" if config.config_path else "")
                + ("; " + "; ".join(notes) if notes else ""),
            )
        )
    return checks
