"""The fairness record: what each side of a comparison really got, kept with every result.

Seeds 002 and 003 found results decided by things other than the runtime: the filesystem under
fio's directory (overlay, 9p, virtio-fs, a block device), the VM's CPU and memory sizing, the
page cache. katatui records, per scenario, what isolates it (from the scenario's identity: its
isolation kind, sandbox, kernel, root filesystem and the evidence), the CPUs and memory the
workload saw (``nproc``, ``MemTotal``, its cgroup's CPU quota and memory limit), the filesystem
type under its scratch directory (from ``/proc/mounts`` inside: busybox's ``stat -f`` cannot name
9p or overlay) and whether ``O_DIRECT`` was honoured there. A write with ``O_DIRECT`` that
succeeds is not yet honoured: gVisor's gofer writes it through the host's page cache, so the
probe's file is looked up in the host's page cache (``fincore``) before it counts. Per run: the
host's load, CPU frequency governor, KSM state and page cache before it (dropped first when the
profile asks and katatui may) and the host's CPU use during it. ``check`` says where two sides
differ in a way that can decide the result."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from katatui.core.errors import KatatuiError
from katatui.core.isolation import summary as isolation_summary
from katatui.core.session import SessionReader
from katatui.core.transport.base import Transport

# The filesystem type of the mount that holds the directory in ENVIRON["D"]: the mount whose mount
# point is the longest prefix of it (the last such line when mounts are stacked). /proc/mounts
# writes a space in a mount point as \040; busybox's ``stat -f`` says UNKNOWN for 9p and overlay.
MOUNT_FS_AWK = r"""
function unesc(s,   out, i, c) {
    out = ""
    while ((i = index(s, "\\")) > 0) {
        c = substr(s, i + 1, 1) * 64 + substr(s, i + 2, 1) * 8 + substr(s, i + 3, 1)
        out = out substr(s, 1, i - 1) sprintf("%c", c)
        s = substr(s, i + 4)
    }
    return out s
}
BEGIN { d = ENVIRON["D"]; best = -1 }
{
    mp = unesc($2)
    if (mp == "/" || d == mp || substr(d, 1, length(mp) + 1) == mp "/") {
        if (length(mp) >= best) { best = length(mp); fs = $3 }
    }
}
END { if (best >= 0) print fs }
"""

PROBE_FILE = ".katatui-direct-probe"

# Fixed scripts: they take no values from a profile; the directory comes as "$1". A second argument
# keeps the O_DIRECT probe file, for the host to see whether its data sits in the host's page cache.
SCENARIO_PROBE = r"""
d=$1
keep=$2
echo "nproc=$(nproc 2>/dev/null)"
sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/mem_total_kb=\1/p' /proc/meminfo
c=/sys/fs/cgroup
[ -r $c/cpu.max ] && echo "cpu_max=$(cat $c/cpu.max)"
[ -r $c/cpu/cpu.cfs_quota_us ] && echo "cfs_quota_us=$(cat $c/cpu/cpu.cfs_quota_us)"
[ -r $c/cpu/cpu.cfs_period_us ] && echo "cfs_period_us=$(cat $c/cpu/cpu.cfs_period_us)"
[ -r $c/memory.max ] && echo "memory_max=$(cat $c/memory.max)"
[ -r $c/memory/memory.limit_in_bytes ] && echo "memory_max=$(cat $c/memory/memory.limit_in_bytes)"
real=$(cd "$d" 2>/dev/null && pwd -P) || real=$d
fs=$(D=$real awk '@MOUNT_FS_AWK@' /proc/mounts 2>/dev/null)
[ -n "$fs" ] || fs=$(stat -f -c %T "$d" 2>/dev/null) || fs=unknown
echo "scratch_fs=${fs:-unknown}"
echo "scratch_device=$(df -P "$d" 2>/dev/null | awk 'NR==2 {print $1}')"
probe="$d/@PROBE_FILE@"
if err=$(dd if=/dev/zero of="$probe" bs=4096 count=1 oflag=direct 2>&1 >/dev/null); then
    echo "direct_io=accepted"
    [ -n "$keep" ] || rm -f "$probe"
else
    echo "direct_io=refused: $(printf '%s' "$err" | tail -n 1)"
    rm -f "$probe"
fi
exit 0
""".replace("@MOUNT_FS_AWK@", MOUNT_FS_AWK).replace("@PROBE_FILE@", PROBE_FILE)

# How much of a host file is in the host's page cache, and its size: "RES SIZE" in bytes.
# fincore (util-linux) is the tool; exit status 127 says it is not installed.
HOST_CACHED = r"""
command -v fincore >/dev/null 2>&1 || exit 127
exec fincore --bytes --noheadings --output RES,SIZE -- "$1"
"""

HOST_STATE = r"""
echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "host_nproc=$(nproc 2>/dev/null)"
g=$(cat /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor 2>/dev/null | sort | uniq -c)
echo "governor=$(printf '%s\n' "$g" | awk 'NF {printf "%s%s x%s", sep, $2, $1; sep=", "}')"
echo "ksm_run=$(cat /sys/kernel/mm/ksm/run 2>/dev/null)"
echo "ksm_pages_sharing=$(cat /sys/kernel/mm/ksm/pages_sharing 2>/dev/null)"
sed -n 's/^\(MemAvailable\|Cached\):[[:space:]]*\([0-9]*\) kB/\1_kb=\2/p' /proc/meminfo
exit 0
"""

DROP_CACHES = "sync && echo 3 > /proc/sys/vm/drop_caches"
MEMORY_RAM = ("tmpfs", "ramfs")
KSM_STATES = {"0": "off", "1": "on", "2": "off (unmerging)"}


def parse_kv(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            value = value.strip()
            out[key.strip()] = int(value) if value.isdigit() else value
    return out


def effective_cpus(facts: Mapping[str, Any]) -> float | None:
    """CPUs a workload can use: what ``nproc`` shows, capped by its cgroup's CPU quota."""
    nproc = facts.get("nproc")
    cpus = float(nproc) if isinstance(nproc, int) and nproc > 0 else None
    quota: float | None = None
    cpu_max = str(facts.get("cpu_max", ""))
    if cpu_max:
        q, _, period = cpu_max.partition(" ")
        if q.isdigit() and period.isdigit() and int(period) > 0:
            quota = int(q) / int(period)
    else:
        q2, p2 = facts.get("cfs_quota_us"), facts.get("cfs_period_us")
        if isinstance(q2, int) and isinstance(p2, int) and q2 > 0 and p2 > 0:
            quota = q2 / p2
    if quota is not None:
        return min(cpus, quota) if cpus is not None else quota
    return cpus


def effective_memory(facts: Mapping[str, Any]) -> int | None:
    """Bytes a workload can use: ``MemTotal`` inside, capped by its cgroup's memory limit."""
    total = facts.get("mem_total_kb")
    mem = int(total) * 1024 if isinstance(total, int) and total > 0 else None
    limit = facts.get("memory_max")
    if isinstance(limit, int) and limit > 0 and limit < 2**60:  # cgroup v1 says "no limit" with 2^63
        return min(mem, limit) if mem is not None else limit
    return mem


def summarize_scenario(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The probe's facts plus the derived figures a fairness check compares."""
    out = dict(facts)
    cpus = effective_cpus(facts)
    mem = effective_memory(facts)
    if cpus is not None:
        out["effective_cpus"] = round(cpus, 3)
    if mem is not None:
        out["effective_memory_bytes"] = mem
    return out


async def host_cached(transport: Transport, path: str) -> tuple[int, int] | str:
    """How many bytes of the host file ``path`` are in the host's page cache, and its size; or why
    that could not be read."""
    try:
        done = await transport.run(["sh", "-c", HOST_CACHED, "sh", path], timeout=30)
    except KatatuiError as exc:
        return f"fincore could not run: {exc}"
    if done.returncode == 127:
        return f"fincore (util-linux) is not installed on {transport.name}"
    words = done.text().split()
    if done.ok and len(words) == 2 and all(w.isdigit() for w in words):
        return int(words[0]), int(words[1])
    said = done.stderr.decode(errors="replace").strip().splitlines()
    return "fincore said: " + (said[-1] if said else f"exit status {done.returncode}")


def direct_io_verdict(accepted: str, cached: tuple[int, int] | str) -> str:
    """What O_DIRECT under a scenario really did: ``honoured`` only when the probe's data is not in
    the host's page cache (gVisor's gofer, for one, writes through it)."""
    if not accepted.startswith("accepted"):
        return accepted
    if isinstance(cached, str):
        return f"accepted (host page cache not checked: {cached})"
    res, size = cached
    if res == 0:
        return "honoured"
    return f"accepted but cached by the host ({res} of {size} bytes in the host's page cache)"


async def settle_direct_io(
    transport: Transport, facts: dict[str, Any], host_dir: str | None, why: str
) -> None:
    """Turn the probe's ``direct_io=accepted`` into what the host's page cache says of the probe file
    it left in ``host_dir`` (the scratch directory on the host), and remove that file. Without a
    host directory the value says why the host was not checked."""
    if host_dir is None:
        facts["direct_io"] = direct_io_verdict(str(facts.get("direct_io", "")), why)
        return
    path = f"{host_dir.rstrip('/')}/{PROBE_FILE}"
    try:
        if str(facts.get("direct_io", "")).startswith("accepted"):
            facts["direct_io"] = direct_io_verdict(
                str(facts["direct_io"]), await host_cached(transport, path)
            )
    finally:
        with contextlib.suppress(KatatuiError):
            await transport.run(["rm", "-f", "--", path], timeout=30)


async def probe_host_dir(transport: Transport, directory: str) -> dict[str, Any]:
    """The fairness probe run on the host itself (a bare scenario), in ``directory``; O_DIRECT is
    checked against the host's page cache as for a container."""
    done = await transport.run(["sh", "-c", SCENARIO_PROBE, "sh", directory, "keep"], timeout=60)
    facts = summarize_scenario(parse_kv(done.text()))
    await settle_direct_io(transport, facts, directory, "")
    return facts


async def host_state(transport: Transport) -> dict[str, Any]:
    """Load, governor, KSM and page cache of the host right now (never fails: a fact it cannot
    read is left out)."""
    with contextlib.suppress(KatatuiError):
        done = await transport.run(["sh", "-c", HOST_STATE], timeout=30)
        facts = parse_kv(done.text())
        ksm = str(facts.get("ksm_run", ""))
        facts["ksm"] = KSM_STATES.get(ksm, "not available") if ksm else "not available"
        facts.pop("ksm_run", None)
        if not facts.get("governor"):
            facts["governor"] = "not reported (no cpufreq)"
        return facts
    return {}


async def drop_caches(transport: Transport) -> str:
    """Drop the host's page cache; returns what happened, in words for the record."""
    try:
        done = await transport.run(["sh", "-c", DROP_CACHES], timeout=120)
    except KatatuiError as exc:
        return f"not dropped: {exc}"
    if done.ok:
        return "dropped before the run"
    said = done.stderr.decode(errors="replace").strip().splitlines()
    return "not dropped: " + (said[-1] if said else f"exit status {done.returncode}")


@dataclass(frozen=True)
class Side:
    """One scenario on one target, as the fairness check sees it."""

    scenario: str
    target: str
    runtime: str | None
    facts: Mapping[str, Any]
    isolation: str | None = None  # none | shared-kernel | user-space-kernel | vm | unknown

    @property
    def kind(self) -> str | None:
        return self.isolation or (str(self.facts["isolation"]) if self.facts.get("isolation") else None)


def _fmt_mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _group(
    values: Mapping[str, float], alike: Callable[[float, float], bool]
) -> list[tuple[list[str], list[float]]]:
    """The sides grouped by value, in the order they come: a side joins the first group whose first
    value is ``alike`` its own."""
    groups: list[tuple[list[str], list[float]]] = []
    for name, v in values.items():
        for names, vals in groups:
            if alike(vals[0], v):
                names.append(name)
                vals.append(v)
                break
        else:
            groups.append(([name], [v]))
    return groups


def _say_groups(
    groups: Sequence[tuple[list[str], list[float]]], one: str, many: str, fmt: Callable[[float], str]
) -> str:
    """``bare sees 24,105 MiB while runc, crun, runsc see 1,024 MiB``."""
    parts = []
    for names, vals in groups:
        lo, hi = fmt(min(vals)), fmt(max(vals))
        value = lo if lo == hi else f"{lo} to {hi}"
        parts.append(f"{', '.join(names)} {one if len(names) == 1 else many} {value}")
    return " while ".join(parts) if len(parts) == 2 else "; ".join(parts)


def _in_vm(sides: Sequence[Side]) -> list[str]:
    return [s.scenario for s in sides if s.kind == "vm"]


def _plural(names: Sequence[str], one: str, many: str) -> str:
    return one if len(names) == 1 else many


def check(sides: Sequence[Side]) -> list[str]:
    """Differences between the sides of a comparison that can decide its result, and O_DIRECT that
    lands in the host's page cache (which makes a side's direct=1 figures page-cache figures)."""
    out: list[str] = []
    direct = {s.scenario: str(s.facts.get("direct_io", "")) for s in sides if s.facts.get("direct_io")}
    cached = [k for k, v in direct.items() if v.startswith("accepted but cached")]
    if cached:
        its = _plural(cached, "its", "their")
        out.append(
            f"O_DIRECT is accepted under {', '.join(cached)} but {its} data lands in the host's page cache: "
            f"{its} direct=1 fio and dd figures are page-cache figures, not device figures"
        )
    if len(sides) < 2:
        return out
    vm = _in_vm(sides)
    cpus = {s.scenario: s.facts.get("effective_cpus") for s in sides}
    known = {k: float(v) for k, v in cpus.items() if isinstance(v, int | float)}
    if len(known) >= 2 and max(known.values()) - min(known.values()) > 0.01:
        seen = _say_groups(
            _group(known, lambda a, b: abs(a - b) <= 0.01), "can use", "can use", lambda v: f"{v:g}"
        )
        why = (
            f"; {', '.join(vm)} {_plural(vm, 'runs', 'run')} in a VM, whose default size may not match the "
            "container limit"
            if vm
            else ""
        )
        out.append(
            f"the scenarios can use different numbers of CPUs ({seen}){why}: a CPU-bound result may show "
            "the limit rather than the runtime; give every side the same CPUs (the profile's [limits])"
        )
    mems = {s.scenario: s.facts.get("effective_memory_bytes") for s in sides}
    mknown = {k: float(v) for k, v in mems.items() if isinstance(v, int) and v > 0}
    if len(mknown) >= 2 and max(mknown.values()) > 1.25 * min(mknown.values()):
        seen = _say_groups(
            _group(mknown, lambda a, b: max(a, b) <= 1.05 * min(a, b)),
            "sees",
            "see",
            lambda v: _fmt_mib(int(v)),
        )
        if vm:
            advice = (
                f"{', '.join(vm)} {_plural(vm, 'runs', 'run')} in a VM, whose default size may be below the "
                "container limit; size the VM (or the limits) alike"
            )
        else:
            advice = (
                "a memory-bound result may show the limit rather than the runtime; give every side the same "
                "memory (the profile's [limits])"
            )
        out.append(f"the scenarios see different memory ({seen}): {advice}")
    fs = {s.scenario: str(s.facts.get("scratch_fs", "")) for s in sides if s.facts.get("scratch_fs")}
    in_ram = sorted(k for k, v in fs.items() if v in MEMORY_RAM)
    on_disk = sorted(k for k, v in fs.items() if v not in MEMORY_RAM and v != "unknown")
    if in_ram and on_disk:
        out.append(
            f"{', '.join(in_ram)} write{'s' if len(in_ram) == 1 else ''} to memory ({fs[in_ram[0]]}) while "
            f"{', '.join(on_disk)} write{'s' if len(on_disk) == 1 else ''} to {fs[on_disk[0]]}: the I/O "
            "figures compare memory with a filesystem"
        )
    refused = sorted(k for k, v in direct.items() if v.startswith("refused"))
    if refused and len(refused) < len(direct):
        out.append(
            f"O_DIRECT was refused under {', '.join(refused)}'s scratch directory but accepted elsewhere: "
            "direct=1 runs cannot run alike there (fio fails, or buffered I/O goes through the page cache)"
        )
    return out


def busy_host(records: Iterable[Mapping[str, Any]], shown: int = 5) -> str | None:
    """One line for all the runs that started on a busy host (load above 3/4 of its CPUs)."""
    busy: list[tuple[str, str, float, int]] = []
    total = 0
    for r in records:
        load = str(r.get("loadavg", "")).split()
        nproc = r.get("host_nproc")
        if not load or not isinstance(nproc, int) or nproc <= 0:
            continue
        try:
            first = float(load[0])
        except ValueError:
            continue
        total += 1
        if first > 0.75 * nproc:
            busy.append((str(r.get("run_id")), load[0], first, nproc))
    if not busy:
        return None
    _, top, _, top_nproc = max(busy, key=lambda b: b[2] / b[3])
    ids = [b[0] for b in busy]
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return (
        f"{len(busy)} of {total} runs started on a busy host (load up to {top} on {top_nproc} CPUs): "
        f"their figures may be low; runs: {', '.join(ids[:shown])}{more}"
    )


def run_checks(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Differences between the runs of one cell: the page cache treated differently, a busy host."""
    out: list[str] = []
    recs = list(records)
    caches = {str(r.get("scenario")): str(r.get("page_cache", "")) for r in recs if r.get("page_cache")}
    if len(set(caches.values())) > 1:
        seen = "; ".join(f"{k}: {v}" for k, v in caches.items())
        out.append(f"the page cache was not treated alike before the runs ({seen})")
    busy = busy_host(recs)
    if busy:
        out.append(busy)
    return out


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def record(reader: SessionReader) -> dict[str, Any]:
    """A session's fairness record: one row per scenario and target (what isolates it, what it saw
    and got, and the conditions of its runs), and the warnings that follow from comparing them."""
    facts = reader.scenario_facts()
    hosts = reader.hosts()
    run_facts = reader.run_facts()
    runs = reader.runs()
    busy: dict[str, float] = {}
    for res in reader.results():
        if res.metric == "host_cpu_busy_percent_mean":
            busy[res.run.spec.run_id] = res.value
    rows: list[dict[str, Any]] = []
    sides: dict[str, list[Side]] = {}
    keys = list(dict.fromkeys((r.spec.scenario, r.spec.target) for r in runs))
    for scenario, target in keys:
        f = facts.get((scenario, target), {})
        fair = f.get("fairness", {})
        mine = [r for r in runs if (r.spec.scenario, r.spec.target) == (scenario, target)]
        runtime = mine[0].spec.runtime if mine else None
        bare = bool(mine) and mine[0].spec.launcher == "bare"
        host_kernel = f.get("host_kernel") or (hosts.get(target, {}).get("kernel") if bare else None)
        isolation = f.get("isolation") or ("none" if bare else None)
        ids = [r.spec.run_id for r in mine]
        conds = [run_facts.get(i, {}) for i in ids]
        loads = []
        for c in conds:
            with contextlib.suppress(ValueError, IndexError):
                loads.append(float(str(c.get("loadavg", "")).split()[0]))
        mem = fair.get("effective_memory_bytes")
        rows.append({
            "scenario": scenario,
            "target": target,
            "runtime": runtime,
            "isolation": isolation,
            "sandbox": f.get("sandbox"),
            "evidence": f.get("evidence"),
            "kernel": f.get("kernel") or (host_kernel if bare else None),
            "host_kernel": host_kernel,
            "root_fs": f.get("root_fs"),
            "cpus": fair.get("effective_cpus"),
            "nproc": fair.get("nproc"),
            "memory_mib": round(mem / 2**20) if isinstance(mem, int) else None,
            "limits": fair.get("limits"),
            "scratch_fs": fair.get("scratch_fs"),
            "direct_io": fair.get("direct_io"),
            "page_cache": sorted({str(c["page_cache"]) for c in conds if c.get("page_cache")}),
            "load_before_median": _median(loads),
            "host_cpu_busy_percent_median": _median([busy[i] for i in ids if i in busy]),
            "governor": sorted({str(c["governor"]) for c in conds if c.get("governor")}),
            "ksm": sorted({str(c["ksm"]) for c in conds if c.get("ksm")}),
            "error": fair.get("error"),
        })  # fmt: skip
        if fair:
            sides.setdefault(target, []).append(Side(scenario, target, runtime, fair, isolation))
    warnings = [f"on {t}: {w}" for t, ss in sides.items() for w in check(ss)]
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if r.spec.run_id in run_facts:
            by_cell.setdefault(r.spec.cell, []).append({**run_facts[r.spec.run_id], "run_id": r.spec.run_id})
    for recs in by_cell.values():
        # One record per scenario is enough to see the page cache treated differently.
        firsts = list({str(x.get("scenario")): x for x in recs}.values())
        warnings += [w for w in run_checks(firsts) if "page cache" in w]
    busy_line = busy_host(x for recs in by_cell.values() for x in recs)  # one line for the session
    if busy_line:
        warnings.append(busy_line)
    return {"scenarios": rows, "runs": run_facts, "warnings": list(dict.fromkeys(warnings))}


def _kernel_label(r: Mapping[str, Any]) -> str:
    kernel = r.get("kernel")
    if not kernel:
        return "?"
    return f"{kernel} (host's)" if kernel == r.get("host_kernel") else str(kernel)


def _root_fs_label(r: Mapping[str, Any]) -> str:
    return str(r.get("root_fs") or ("the host's" if r.get("isolation") == "none" else "?"))


def _evidence_label(r: Mapping[str, Any], width: int = 60) -> str:
    ev = [str(e) for e in (r.get("evidence") or []) if e]
    if not ev:
        return "-" if r.get("isolation") == "none" else "?"
    first = ev[0] if len(ev[0]) <= width else ev[0][: width - 3] + "..."
    return first + (f" (+{len(ev) - 1} more)" if len(ev) > 1 else "")


def record_rows(rec: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The record as a table: one column per scenario, one row per fact."""

    def num(v: object, fmt: str) -> str:
        return format(v, fmt) if isinstance(v, int | float) else "?"

    scenarios = list(rec.get("scenarios", []))
    if not scenarios:
        return [], []
    facts: list[tuple[str, Any]] = [
        ("isolation", isolation_summary),
        ("kernel", _kernel_label),
        ("root fs", _root_fs_label),
        ("evidence", _evidence_label),
        ("CPUs usable", lambda r: num(r.get("cpus"), "g")),
        ("memory visible", lambda r: f"{num(r.get('memory_mib'), ',')} MiB"),
        ("limits asked", lambda r: ", ".join(f"{k} {v}" for k, v in (r.get("limits") or {}).items()
                                             if v is not None) or "none"),
        ("fs under scratch", lambda r: str(r.get("scratch_fs") or "?")),
        ("O_DIRECT", lambda r: str(r.get("direct_io") or "?")),
        ("page cache", lambda r: "; ".join(r.get("page_cache") or []) or "?"),
        ("load before (median)", lambda r: num(r.get("load_before_median"), ".2f")),
        ("host CPU busy during", lambda r: num(r.get("host_cpu_busy_percent_median"), ".0f") + "%"),
        ("CPU governor", lambda r: "; ".join(r.get("governor") or []) or "?"),
        ("KSM", lambda r: "; ".join(r.get("ksm") or []) or "?"),
    ]  # fmt: skip
    single_target = len({r["target"] for r in scenarios}) == 1
    head = ["", *(r["scenario"] if single_target else f"{r['scenario']}@{r['target']}" for r in scenarios)]
    return head, [[name, *(get(r) for r in scenarios)] for name, get in facts]
