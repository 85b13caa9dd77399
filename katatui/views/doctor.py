"""Doctor's findings as Rich tables, for ``katatui doctor`` and the dashboard's doctor screen."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from katatui.core.doctor import Check, ClusterReport, Diagnosis, describe_overhead

STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
MARK = {"pass": "✓ pass", "warn": "! warn", "fail": "✗ FAIL"}


def checks_table(title: str, checks: list[Check], *, scope: bool = False) -> Table:
    table = Table(title=Text(title), title_justify="left", show_lines=False, expand=False)
    if scope:
        table.add_column("scenario")
    table.add_column("check")
    table.add_column("status")
    table.add_column("why")
    table.add_column("what to do", style="dim")
    for c in checks:
        # Text, not markup: what a check says can hold brackets ("fix [kubernetes] context").
        cells: list[Text] = [Text(c.scope.split(" ", 1)[-1])] if scope else []
        cells += [Text(c.name), Text(MARK[c.status], style=STYLE[c.status]), Text(c.why), Text(c.todo)]
        table.add_row(*cells)
    return table


def cluster_view(cluster: ClusterReport) -> list[Table | Text]:
    """A Kubernetes cluster's checks and its RuntimeClasses (name, handler, pod overhead)."""
    where = f" ({cluster.server})" if cluster.server else ""
    parts: list[Table | Text] = [checks_table(f"kubernetes cluster {cluster.name}{where}", cluster.checks)]
    if cluster.runtime_classes:
        table = Table(title=Text(f"RuntimeClasses of {cluster.name}"), title_justify="left", expand=False)
        table.add_column("RuntimeClass")
        table.add_column("handler")
        table.add_column("pod overhead")
        for rc in cluster.runtime_classes.values():
            table.add_row(Text(rc.name), Text(rc.handler), Text(describe_overhead(rc.overhead)))
        parts.append(table)
    return parts


def diagnosis_view(diagnosis: Diagnosis) -> Group:
    parts: list[Table | Text] = []
    for host in diagnosis.hosts:
        title = f"host {host.target} ({host.address})"
        parts.append(checks_table(title, host.checks))
        kata = host.facts.get("kata_config")
        if kata:
            shown = ", ".join(f"{k}={v}" for k, v in kata.items() if v is not None)
            parts.append(Text(f"Kata configuration: {shown}", style="dim"))
    for cluster in diagnosis.clusters:
        parts += cluster_view(cluster)
    if diagnosis.scenarios:
        parts.append(checks_table("scenarios of the profile", diagnosis.scenarios, scope=True))
    if diagnosis.canaries:
        parts.append(checks_table("canaries", diagnosis.canaries, scope=True))
    for note in diagnosis.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    code = diagnosis.exit_code
    if diagnosis.with_profile:
        verdict = "every scenario can run" if code == 0 else "a scenario cannot run (see FAIL above)"
    else:
        verdict = "no check failed" if code == 0 else "a check failed (see FAIL above)"
    parts.append(Text(f"doctor: {verdict}", style="green" if code == 0 else "bold red"))
    return Group(*parts)


def compact(diagnosis: Diagnosis) -> Text:
    """One line per target: counts of pass/warn/fail and the names of what is not a pass."""
    out = Text()
    for host in diagnosis.hosts:
        out.append(f"{host.target}: ", style="bold")
        scoped = [c for c in diagnosis.scenarios + diagnosis.canaries if c.scope.endswith(f"@{host.target}")]
        checks = host.checks + scoped
        for status in ("pass", "warn", "fail"):
            n = sum(1 for c in checks if c.status == status)
            out.append(f"{n} {status} ", style=STYLE[status] if n else "dim")
        bad = [c.name for c in checks if c.status != "pass"]
        if bad:
            out.append("(" + ", ".join(dict.fromkeys(bad)) + ")", style="yellow")
        out.append("\n")
    for cluster in diagnosis.clusters:
        out.append(f"cluster {cluster.name}: ", style="bold")
        if cluster.error:
            out.append("unreachable or misconfigured", style=STYLE["fail"])
        else:
            names = ", ".join(cluster.runtime_classes) or "none"
            out.append(f"RuntimeClasses {names}", style="green" if cluster.runtime_classes else "yellow")
        out.append("\n")
    return out
