"""What katatui records about each host before it runs anything there."""

from __future__ import annotations

from typing import Any

from katatui.core.transport.base import Transport
from katatui.core.workloads import registry

# The programs the workloads may need on a host, as their catalogues say.
TOOLS = tuple(registry.host_tools())
# A fixed script: it takes no values from a profile (the tool names are katatui's own).
PROBE = r"""
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
echo "nproc=$(nproc 2>/dev/null)"
sed -n 's/^model name[[:space:]]*: */cpu_model=/p' /proc/cpuinfo | head -n 1
sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/mem_total_kb=\1/p' /proc/meminfo
for t in @TOOLS@; do p=$(command -v "$t") && echo "tool_$t=$p"; done
echo "fio_version=$(fio --version 2>/dev/null)"
echo "iperf3_version=$(iperf3 --version 2>/dev/null | head -n 1)"
if [ -e /dev/kvm ]; then echo kvm=present; else echo kvm=absent; fi
echo "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
""".replace("@TOOLS@", " ".join(TOOLS))


async def probe(transport: Transport) -> dict[str, Any]:
    done = await transport.run(["sh", "-c", PROBE], timeout=60)
    facts: dict[str, Any] = {"address": transport.address}
    tools: dict[str, str] = {}
    for line in done.text().splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key.startswith("tool_"):
            tools[key[5:]] = value
        elif key in ("nproc", "mem_total_kb") and value.isdigit():
            facts[key] = int(value)
        else:
            facts[key] = value
    facts["tools"] = tools
    return facts
