"""A session as one self-contained HTML file: tables and plots (inline SVG), readable offline.

No script, no stylesheet or font from elsewhere: the file is the report. Plots are drawn here:
per cell and metric, a bar per scenario (the mean) with the 95% confidence interval of the mean
as a whisker; per cell, latency CDFs (log axis) from the interval histograms the session's
samples carry, summed over every sample and client of the scenario's runs.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from html import escape

from katatui import __version__
from katatui.core import fairness
from katatui.core import reference as ref
from katatui.core.export import cells_of
from katatui.core.report import Summary, SummaryRow, summarize
from katatui.core.session import SessionReader
from katatui.core.stats import t975
from katatui.views import isolation, rounds
from katatui.views.labels import format_value
from katatui.views.ratio import interval_text, summary_footer, verdict_class
from katatui.views.seed import seed_tables

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:72em;color:#222;
padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.dim{color:#777}.good{color:#1a7f37}.bad{color:#c0392b}.noise{color:#9a6700}
.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.85em;color:#555}
.published{background:#fff8e5}.note{font-size:.9em;color:#555}
"""


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    mean = float(statistics.fmean(values))
    if len(values) < 2:
        return mean, mean, mean
    half = float(t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def _nice_max(x: float) -> float:
    if x <= 0:
        return 1.0
    exp = 10.0 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if x <= m * exp:
            return m * exp
    return 10 * exp


def bar_chart(row: SummaryRow, scenarios: Sequence[str], title: str) -> str:
    """Bars of the scenarios' means with 95% CI whiskers."""
    width, height, left, bottom, top = 360, 220, 70, 40, 28
    present = [s for s in scenarios if s in row.by_scenario]
    stats = {s: _mean_ci(row.by_scenario[s].values) for s in present}
    top_value = _nice_max(max(max(hi, m) for m, _, hi in stats.values()))
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(len(present), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="bars"><title>{_t(title)}</title>',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="12">{_t(title)}</text>',
    ]
    for i in range(5):
        v = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
            f"{_t(format_value(v, row.unit))}</text>"
        )
    for i, s in enumerate(present):
        mean, lo, hi = stats[s]
        x = left + i * slot + slot * 0.2
        w = slot * 0.6
        y = top + plot_h - plot_h * mean / top_value
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{top + plot_h - y:.1f}" '
            f'fill="{PALETTE[scenarios.index(s) % len(PALETTE)]}" data-scenario="{_t(s)}" '
            f'data-mean="{mean:.6g}">'
            f"<title>{_t(s)}: mean {_t(format_value(mean, row.unit))}, 95% CI "
            f"{_t(format_value(lo, row.unit))} – {_t(format_value(hi, row.unit))}, "
            f"n={len(row.by_scenario[s].values)}"
            "</title></rect>"
        )
        if hi > lo:
            cx = x + w / 2
            y_lo = top + plot_h - plot_h * max(lo, 0) / top_value
            y_hi = top + plot_h - plot_h * hi / top_value
            parts.append(
                f'<path d="M{cx:.1f} {y_lo:.1f}V{y_hi:.1f}M{cx - 6:.1f} {y_lo:.1f}h12'
                f'M{cx - 6:.1f} {y_hi:.1f}h12" '
                'stroke="#000" fill="none" class="whisker"/>'
            )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10">'
            f"{_t(s)}</text>"
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#000"/>'
        f'<line x1="{left}" x2="{width - 10}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#000"/></svg>'
    )
    return "".join(parts)


def histograms(reader: SessionReader) -> dict[str, dict[str, dict[str, dict[int, int]]]]:
    """cell -> histogram name -> scenario -> bucket (ns) -> count, summed over samples and clients."""
    out: dict[str, dict[str, dict[str, dict[int, int]]]] = {}
    for (cell, scenario, name), bins in reader.histogram_totals().items():
        out.setdefault(cell, {}).setdefault(name, {})[scenario] = bins
    return out


def cdf_chart(curves: Mapping[str, Mapping[int, int]], scenarios: Sequence[str], title: str) -> str:
    """Latency CDFs on a log time axis (buckets in ns, shown in µs)."""
    width, height, left, bottom, top, right = 420, 260, 50, 40, 28, 110
    points = {s: sorted(b.items()) for s, b in curves.items() if b}
    lows = [p[0][0] for p in points.values()]
    highs = [p[-1][0] for p in points.values()]
    if not points or max(highs) <= 0:
        return ""
    lo_exp = math.floor(math.log10(max(min(lows), 1) / 1000))
    hi_exp = math.ceil(math.log10(max(highs) / 1000))
    if hi_exp <= lo_exp:
        hi_exp = lo_exp + 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(ns: float) -> float:
        return left + plot_w * (math.log10(max(ns, 1) / 1000) - lo_exp) / (hi_exp - lo_exp)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="cdf"><title>{_t(title)}</title>',
        f'<text x="{left + plot_w / 2}" y="16" text-anchor="middle" font-size="12">{_t(title)}</text>',
    ]
    for e in range(lo_exp, hi_exp + 1):
        x = x_of(10**e * 1000)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>')
        label = f"{10**e:g} µs" if e < 3 else f"{10 ** (e - 3):g} ms"
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">{label}</text>'
        )
    for q in (0, 0.25, 0.5, 0.75, 0.9, 1):
        y = top + plot_h * (1 - q)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{q:g}</text>')
    for i, s in enumerate(x for x in scenarios if x in points):
        total = sum(c for _, c in points[s])
        acc = 0
        coords = []
        for bucket, count in points[s]:
            acc += count
            coords.append(f"{x_of(bucket):.1f},{top + plot_h * (1 - acc / total):.1f}")
        color = PALETTE[scenarios.index(s) % len(PALETTE)]
        parts.append(
            f'<polyline points="{" ".join(coords)}" fill="none" stroke="{color}" stroke-width="1.6" '
            f'data-scenario="{_t(s)}"><title>{_t(s)}: {total} I/Os</title></polyline>'
        )
        ly = top + 12 + i * 16
        parts.append(
            f'<line x1="{left + plot_w + 10}" x2="{left + plot_w + 28}" y1="{ly}" y2="{ly}" stroke="{color}" '
            f'stroke-width="3"/><text x="{left + plot_w + 32}" y="{ly + 4}" font-size="10">{_t(s)}</text>'
        )
    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#000"/></svg>'
    )
    return "".join(parts)


def _facts(facts: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(facts.items()) if not isinstance(v, dict | list))


def _summary_table(summary: Summary) -> str:
    ref_s = summary.reference
    head = "".join(f"<th>{_t(s)}{'' if s == ref_s else f' <span class=dim>(vs {_t(ref_s)})</span>'}</th>"
                   for s in summary.scenarios)  # fmt: skip
    rows = []
    last = None
    for row in summary.rows:
        cells = [
            f'<td class="l">{_t(row.cell) if row.cell != last else ""}</td>',
            f'<td class="l">{_t(row.metric)}</td>',
        ]
        last = row.cell
        for s in summary.scenarios:
            stat = row.by_scenario.get(s)
            if stat is None:
                cells.append('<td class="dim">-</td>')
                continue
            text = _t(format_value(stat.median, row.unit))
            if stat.cv is not None:
                text += f' <span class="dim">±{stat.cv * 100:.0f}%</span>'
            v = summary.versus(row, s)
            if v is not None:
                cls = verdict_class(v.verdict)
                text += f'<br><span class="{cls}">×{v.ratio:.2f} {v.verdict}</span>'
                text += f' <span class="dim">{_t(interval_text(v))}</span>'
            cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table class="summary"><thead><tr><th class="l">cell</th><th class="l">metric</th>'
        + head + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        f"<p class=note>{_t(summary_footer(summary))}</p>"
    )  # fmt: skip


def _markdown_to_html(md: str) -> str:
    """The seed-shaped Markdown tables (our own simple output) as HTML tables."""
    out: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            body = "".join(
                "<tr>" + "".join(f"<{'th' if i < 2 else 'td'}{' class=l' if j < 2 else ''}>"
                                 f"{_t(c.strip('* '))}"
                                 f"</{'th' if i < 2 else 'td'}>" for j, c in enumerate(r)) + "</tr>"
                for i, r in enumerate(rows)
            )  # fmt: skip
            out.append(f'<table class="seed">{body}</table>')
            rows.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            if set(line) <= set("|-"):
                continue
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        else:
            flush()
            if line.startswith("#### "):
                out.append(f"<h3>{_t(line[5:])}</h3>")
    flush()
    return "".join(out)


def _published(reader: SessionReader, summary: Summary, seed: str) -> str:
    kinds = cells_of(reader)
    rows = []
    for row in summary.rows:
        if row.cell not in kinds:
            continue
        cell = kinds[row.cell]
        for m in ref.lookup(seed, cell.kind, cell.variant, cell.clients, row.metric):
            mine = " / ".join(f"{s} {format_value(st.median, row.unit)}" for s, st in row.by_scenario.items())
            rows.append(
                f'<tr class="published"><td class=l>{_t(row.cell)}</td><td class=l>{_t(row.metric)}</td>'
                f"<td class=l>{_t(m.label)}</td><td>{_t(format_value(m.value, m.unit))}</td>"
                f"<td class=l>{_t(mine)}</td><td class=l>{_t(m.figure.note)}</td></tr>"
            )
    title = ref.SEED_TITLES.get(seed, seed)
    if not rows:
        return (f"<h2>Published figures from other hardware</h2><p>{_t(title)}: no figure matches this "
                "session's cells.</p>")  # fmt: skip
    return (
        f"<h2>Published figures from other hardware</h2><p>{_t(title)} ({_t(ref.PUBLISHED_LABEL)}; "
        "not measured here, shown for orientation only).</p>"
        '<table class="published-figures"><thead><tr><th class=l>cell</th><th class=l>metric</th>'
        "<th class=l>published (scenario, study)</th><th>value</th><th class=l>this session (medians)</th>"
        "<th class=l>study's note</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def render(reader: SessionReader, *, seed: str | None = None, include_cdfs: bool = True,
           baseline: str | None = None) -> str:  # fmt: skip
    summary = summarize(reader, baseline=baseline)
    name = reader.meta.get("profile_name", "session")
    created = reader.meta.get("created_at")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(created))) if created else "?"
    hosts = reader.hosts()
    host_rows = "".join(
        f"<tr><td class=l>{_t(t)}</td><td class=l>{_t(_facts(f))}</td></tr>"
        for t, f in hosts.items()
    )  # fmt: skip
    runs = reader.runs()
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>katatui report: {_t(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_t(name)}</h1>",
        f"<p>session {_t(reader.meta.get('session_id', '?'))}, recorded {_t(when)}, status "
        f"<b>{_t(reader.status)}</b>, runs: {_t(', '.join(f'{v} {k}' for k, v in counts.items()))}. "
        f"Made by katatui {_t(__version__)} from {_t(reader.path.name)}.</p>",
    ]
    parts.append(isolation.html_table(fairness.record(reader)))
    if host_rows:
        parts.append(f"<h2>Hosts</h2><table class=hosts>{host_rows}</table>")
    parts.append("<h2>Results</h2>")
    if summary.rows:
        parts.append(_summary_table(summary))
    else:
        parts.append("<p>No finished run has results.</p>")
    if summary.failed:
        parts.append("<h3>Failed runs</h3><ul>" + "".join(
            f"<li>{_t(s)} {_t(c)}: {_t(r)}</li>" for s, c, r in summary.failed) + "</ul>")  # fmt: skip
    notes = summary.warnings()
    if notes:
        parts.append("<h3>Notes</h3><ul class=note>" + "".join(f"<li>{_t(n)}</li>" for n in notes) + "</ul>")
    by_round = rounds.round_rows(summary)
    if by_round:
        parts.append(f"<h3>Ratio by round (to {_t(summary.reference)})</h3><p class=note>each round's ratio, "
                     "log scale; shaded: the noise band; dashed: ×1</p><div class=plots>")  # fmt: skip
        for rr in by_round:
            title = f"{rr.scenario} {rr.metric}, {rr.cell}"
            parts.append(f"<figure>{rounds.svg(rr.ratios, rr.versus.noise_band, title)}</figure>")
        parts.append("</div>")
    seed_md = seed_tables(summary, cells_of(reader))
    if seed_md:
        parts.append("<h2>Tables by client count</h2>" + _markdown_to_html(seed_md))
    parts.append("<h2>Plots</h2><p class=note>bars: mean of the runs, whiskers: 95% confidence "
                 "interval of the mean (Student's t)</p>")  # fmt: skip
    cells: list[str] = []
    for row in summary.rows:
        if row.cell not in cells:
            cells.append(row.cell)
    hists = histograms(reader) if include_cdfs else {}
    for cell in cells:
        parts.append(f"<h3>{_t(cell)}</h3><div class=plots>")
        for row in (r for r in summary.rows if r.cell == cell):
            parts.append(f"<figure>{bar_chart(row, summary.scenarios, row.metric)}</figure>")
        for hname, curves in sorted(hists.get(cell, {}).items()):
            svg = cdf_chart(curves, summary.scenarios, f"{hname.removesuffix('_ns')} CDF")
            if svg:
                parts.append(f"<figure>{svg}<figcaption>latency CDF from every sample's histogram"
                             "</figcaption></figure>")  # fmt: skip
        parts.append("</div>")
    if seed is not None:
        parts.append(_published(reader, summary, seed))
    parts.append("</body></html>\n")
    return "".join(parts)
