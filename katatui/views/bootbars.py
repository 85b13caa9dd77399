"""The boot timeline as text: one bar per scenario, one colour per phase, on a common scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text

from katatui.core.workloads.boot import LABELS

COLOURS = {
    "create": "bright_blue", "start": "cyan", "sandbox": "magenta", "guest_boot": "dark_orange",
    "guest_kernel": "red",
    "guest_userspace": "yellow", "container_start": "bright_green", "run": "green", "exit": "bright_black",
}  # fmt: skip


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def boot_bars(timeline: Mapping[str, Sequence[tuple[str, float]]], width: int = 60) -> Text:
    """One line per scenario: its name, a bar whose length is its launch time on a scale common to
    all scenarios (the phases in colour), and the total; then each scenario's phases in figures."""
    out = Text()
    if not timeline:
        return out
    sums = {s: sum(v for p, v in phases if p != "total") for s, phases in timeline.items()}
    longest = max(sums.values()) or 1.0
    name_width = max(len(s) for s in timeline)
    for scenario, phases in timeline.items():
        out.append(f"{scenario:<{name_width}} ", style="bold")
        used = 0
        parts = [(p, v) for p, v in phases if p != "total"]
        for i, (phase, seconds) in enumerate(parts):
            cells = round(seconds / longest * width) if i < len(parts) - 1 else 0
            if i == len(parts) - 1:
                cells = max(round(sums[scenario] / longest * width) - used, 0)
            used += cells
            out.append("█" * cells, style=COLOURS.get(phase, "white"))
        total = dict(phases).get("total", sums[scenario])
        out.append(" " * (width - used + 1) + _ms(total) + "\n")
    for scenario, phases in timeline.items():
        out.append(f"{scenario:<{name_width}} ", style="dim")
        first = True
        for phase, seconds in phases:
            if phase == "total":
                continue
            if not first:
                out.append(" · ", style="dim")
            first = False
            out.append("■ ", style=COLOURS.get(phase, "white"))
            out.append(f"{LABELS.get(phase, phase)} {_ms(seconds)}")
        out.append("\n")
    return out
