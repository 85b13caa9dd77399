"""What isolates each scenario, at the head of every report: the isolation and sandbox identified
by evidence (katatui.core.isolation), the kernel inside against the host's, how ``/`` is provided,
and the evidence in words."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from katatui.core import isolation

HEAD = ("scenario", "isolation", "kernel", "/", "evidence")


def rows(record: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """One row per scenario (and target, when there are several) of a fairness record."""
    scenarios: Sequence[Mapping[str, Any]] = list(record.get("scenarios", []))
    several = len({r.get("target") for r in scenarios}) > 1
    out = []
    for r in scenarios:
        name = f"{r['scenario']}@{r['target']}" if several else str(r["scenario"])
        said = isolation.summary(r) if r.get("isolation") else "not identified"
        kernel = str(r.get("kernel") or "?")
        if r.get("kernel") and r.get("kernel") == r.get("host_kernel"):
            kernel += " (the host's)"
        elif r.get("host_kernel") and r.get("kernel"):
            kernel += f" (host {r['host_kernel']})"
        evidence = "; ".join(str(e) for e in r.get("evidence") or []) or "-"
        root = r.get("root_fs") or ("the host's" if r.get("isolation") == "none" else "?")
        out.append((name, said, kernel, str(root), evidence))
    return out


def table(record: Mapping[str, Any]) -> Table | None:
    found = rows(record)
    if not found:
        return None
    t = Table(title="what isolates each scenario (identified by evidence)", title_style="bold")
    for h in HEAD:
        t.add_column(h, overflow="fold")
    for row in found:
        t.add_row(*row)
    return t


def markdown(record: Mapping[str, Any]) -> str:
    found = rows(record)
    if not found:
        return ""
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in found]
    return "#### What isolates each scenario\n\n" + "\n".join(lines) + "\n\n"


def html_table(record: Mapping[str, Any]) -> str:
    found = rows(record)
    if not found:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEAD)
    body = "".join(
        "<tr>" + "".join(f"<td class=l>{html.escape(c)}</td>" for c in row) + "</tr>" for row in found
    )
    return f"<h2>Isolation</h2><table class=hosts><tr>{head}</tr>{body}</table>"
