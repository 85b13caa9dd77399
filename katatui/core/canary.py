"""The canary: the smallest container under a scenario's runtime, to see that isolation happened.

It prints the kernel it sees and its mounts, then waits while the host's process list is read.
For a VM runtime (Kata, Firecracker...) the guest's kernel must differ from the host's (or the
container's files come from Kata's ``kataShared``) and a hypervisor or virtiofsd process must have
appeared on the host since just before it started; for gVisor the kernel must differ; for runc
and the like it passes when the container ran on the host's kernel. The container carries
katatui's labels and is removed whatever happens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from katatui.core import guest, identity, isolation
from katatui.core.aio import within
from katatui.core.errors import KatatuiError
from katatui.core.events import RunSpec
from katatui.core.launchers.docker import DockerLauncher
from katatui.core.profile import Limits
from katatui.core.transport.base import Transport

if TYPE_CHECKING:
    import docker

READY = "katatui-canary-ready"
# A fixed script: it takes no values from a profile. The sleep keeps the sandbox up while the
# host is looked at; the container is removed by force as soon as that is done.
SCRIPT = identity.PROBE + f'echo "{READY}"\nexec sleep 120\n'
PS = ["ps", "-e", "-ww", "-o", "pid=,args="]


@dataclass
class CanaryResult:
    scenario: str
    target: str
    runtime: str
    status: Literal["pass", "warn", "fail"]
    why: str
    guest_kernel: str | None = None
    host_kernel: str | None = None
    root_fs: str | None = None
    new_vm_processes: list[str] = field(default_factory=list)
    isolation: str | None = None  # as katatui.core.isolation identified it (None: not known)
    sandbox: str | None = None
    evidence: list[str] = field(default_factory=list)


async def run_canary(
    transport: Transport,
    client: docker.DockerClient,
    *,
    scenario: str,
    runtime: str,
    image: str,
    host_kernel: str | None,
    timeout: float = 180.0,
    limits: Limits | None = None,
    program: str | None = None,
) -> CanaryResult:
    """Start the canary under ``runtime`` (with ``limits``, as the scenario's runs get them) and
    judge what it and the host show."""
    result = CanaryResult(scenario, transport.name, runtime, "fail", "", host_kernel=host_kernel)
    before = guest.vm_processes((await transport.run(PS, timeout=30)).text())
    known = {p.pid for p in before}
    session = f"doctor{os.getpid()}"
    launcher = DockerLauncher(
        transport, client, runtime=runtime, image=image, session_id=session, limits=limits or Limits()
    )
    spec = RunSpec(
        f"canary-{_safe(scenario)}",
        -1,
        "canary",
        scenario,
        "docker",
        runtime,
        transport.name,
        "canary",
        "canary",
        {},
        1,
        0,
    )
    out = bytearray()
    err = bytearray()
    during = ""
    try:
        proc = await launcher.start(spec, 0, ["sh", "-c", SCRIPT], None)

        async def until_ready() -> None:
            while (chunk := await proc.read()) is not None:
                (out if chunk[0] == "stdout" else err).extend(chunk[1])
                if READY.encode() in out:
                    return

        try:
            await within(until_ready(), timeout)
        except TimeoutError:
            result.why = f"the canary under {runtime!r} printed nothing within {timeout:.0f} s"
            return result
        if READY.encode() not in out:
            said = err.decode(errors="replace").strip().splitlines()[-1:] or ["no error output"]
            result.why = f"the canary under {runtime!r} exited before it was ready: {said[0]}"
            return result
        during = (await transport.run(PS, timeout=30)).text()
    except KatatuiError as exc:
        result.why = str(exc)
        return result
    finally:
        await launcher.release(spec, 0)
    facts = identity.parse_probe(out.decode(errors="replace").split(READY)[0])
    result.guest_kernel = str(facts.get("kernel")) if facts.get("kernel") else None
    result.root_fs = str(facts.get("root_fs"))
    new_vm = [p for p in guest.vm_processes(during) if p.pid not in known]
    result.new_vm_processes = [p.command[:160] for p in new_vm]
    found = isolation.identify(
        identity.seen("docker", runtime, host_kernel, facts, program=program,
                      host_roles=("hypervisor",) if any(p.kind != "kata-shim" for p in new_vm) else ())
    )  # fmt: skip
    result.isolation, result.sandbox, result.evidence = found.isolation, found.sandbox, list(found.evidence)
    judge(result, found.warning)
    return result


def judge(result: CanaryResult, warning: str | None) -> None:
    """Pass, warn or fail from the kernels, the verdict and the new host processes."""
    by_name = guest.sandbox_kind(result.runtime)
    kind = {"vm": "vm", "user-space-kernel": "gvisor"}.get(result.isolation or "", by_name)
    if result.isolation == "shared-kernel":
        kind = "container"
    kernels = f"guest kernel {result.guest_kernel}, host kernel {result.host_kernel}"
    if warning is not None:
        result.status, result.why = "fail", warning
    elif kind == "vm":
        if result.new_vm_processes:
            names = sorted({c.split()[0].rsplit("/", 1)[-1] for c in result.new_vm_processes})
            result.status = "pass"
            result.why = f"ran in a VM: {kernels}; new on the host: {', '.join(names)}"
        else:
            result.status = "warn"
            result.why = (
                f"{kernels}, but no hypervisor or virtiofsd process appeared on the host "
                "(is the host's process list visible to this user?)"
            )
    elif kind == "gvisor":
        result.status, result.why = "pass", f"ran on gVisor's kernel: {kernels}"
    elif result.isolation == "unknown":
        result.status = "warn"
        result.why = (
            f"{kernels}: its own kernel, but nothing says which sandbox ({'; '.join(result.evidence)})"
        )
    else:
        result.status = "pass"
        result.why = f"the container ran on the host's kernel ({result.guest_kernel}), / is {result.root_fs}"
        if result.new_vm_processes:
            result.status = "warn"
            result.why += f"; yet a VM process appeared on the host: {result.new_vm_processes[0][:60]}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in name)[:40]
