"""Exports of a real recorded session: HTML (parsed, and rendered in headless Chromium), seed-shaped
Markdown, JSON and CSV with a schema version, raw tool outputs as files (and imported back), and
files that are never left half-written."""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from katatui.core.export import EXPORT_SCHEMA, atomic_text, export_raw
from katatui.core.session import SCHEMA_VERSION, SessionReader
from katatui.core.workloads.fio import parser as fio
from katatui.views.html_report import render
from tests.helpers import katatui

pytestmark = pytest.mark.integration


class Page(HTMLParser):
    """Tables (rows of cell texts), SVG plots and anything that would reach outside the file."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.svgs: list[dict[str, list[dict[str, str]]]] = []
        self.external: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("src", "href", "xlink:href", "action"):
            if key in a:
                self.external.append(f"{tag} {key}={a[key]}")
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            self.scripts += 1
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "svg":
            self.svgs.append({"class": [a], "rect": [], "polyline": [], "path": []})
        elif self.svgs and tag in ("rect", "polyline", "path"):
            self.svgs[-1][tag].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def test_html_report_is_one_self_contained_file_with_tables_and_plots(
    tmp_path: Path, session_a: Path
) -> None:
    out = tmp_path / "report.html"
    done = katatui("report", str(session_a), "--out", str(out))  # the format follows the suffix
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    page = parse(text)
    assert page.scripts == 0 and page.external == []
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    summary = next(t for t in page.tables if t and t[0][:2] == ["cell", "metric"])
    assert summary[0][2:] == ["bare", "runc (vs bare)"]
    metrics = [row[1] for row in summary[1:]]
    assert {"read_iops", "read_bw_bytes_per_s", "read_clat_p50_us", "read_clat_p99_us"} <= set(metrics)
    seed_shaped = [t for t in page.tables if t and t[0][0] == "clients >"]
    assert seed_shaped and any(t[1][2:] == ["p50", "p99"] for t in seed_shaped)

    bars = [s for s in page.svgs if s["class"][0].get("class") == "bars"]
    cdfs = [s for s in page.svgs if s["class"][0].get("class") == "cdf"]
    assert len(bars) == len(metrics)
    with SessionReader(session_a) as reader:
        iops = {
            s: [r.value for r in reader.results() if r.metric == "read_iops" and r.run.spec.scenario == s]
            for s in ("bare", "runc")
        }
    iops_bars = bars[metrics.index("read_iops")]["rect"]
    drawn = {r["data-scenario"]: float(r["data-mean"]) for r in iops_bars if "data-scenario" in r}
    assert drawn == {s: pytest.approx(statistics.fmean(v), rel=1e-5) for s, v in iops.items()}
    # A CI whisker per scenario with two different repeats: IOPS always differ; a percentile can
    # repeat the same histogram bucket exactly, and then its interval has no width to draw.
    assert len(bars[metrics.index("read_iops")]["path"]) == 2
    assert all(len(b["path"]) <= 2 for b in bars)
    assert len(cdfs) == 1  # read completion latency, from the samples' histograms
    assert {p["data-scenario"] for p in cdfs[0]["polyline"]} == {"bare", "runc"}

    with SessionReader(session_a) as reader:
        published = parse(render(reader, seed="001"))
        summed: dict[tuple[str, str, str], dict[int, int]] = {}  # every sample's histogram, added up
        for run in reader.runs():
            for sample in reader.samples(run.spec.run_id):
                for name, bins in sample["hist"].items():
                    into = summed.setdefault((run.spec.cell, run.spec.scenario, name), {})
                    for bucket, count in bins.items():
                        into[int(bucket)] = into.get(int(bucket), 0) + count
        assert reader.histogram_totals() == summed  # the totals the writer stored as each run ended
        assert reader._conn.execute("SELECT count(*) FROM hist_totals").fetchone()[0] > 0
    beside = next(
        t for t in published.tables if t and t[0][:3] == ["cell", "metric", "published (scenario, study)"]
    )
    assert ["read_clat_p50_us", "kata randread (study 001)", "5,472 µs"] in [r[1:4] for r in beside[1:]]


def test_html_report_renders_in_headless_chromium(tmp_path: Path, session_a: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/system-packages installs it)")
    page = tmp_path / "report.html"
    with SessionReader(session_a) as reader:
        page.write_text(render(reader))
    shot = tmp_path / "report.png"
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1280,2000",
    ]
    done = subprocess.run(
        [*args, f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    dom = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    rendered = parse(dom.stdout)  # what the browser built from the file
    assert len(rendered.svgs) == len(parse(page.read_text()).svgs) > 0
    assert any(t and t[0][:2] == ["cell", "metric"] for t in rendered.tables)


def test_markdown_tables_are_shaped_like_the_studies(session_a: Path) -> None:
    done = katatui("report", str(session_a), "--format", "md")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    i = lines.index("#### fio read completion latency (µs), medians")
    assert lines[i + 2] == "| clients > |  | 1 |  |"
    assert lines[i + 4] == "| **variant** | **scenario** | **p50** | **p99** |"
    bare, runc = lines[i + 5].split(" | "), lines[i + 6].split(" | ")
    assert bare[1] == "bare" and runc[1] == "runc"
    with SessionReader(session_a) as reader:
        p99 = [
            r.value
            for r in reader.results()
            if r.metric == "read_clat_p99_us" and r.run.spec.scenario == "bare"
        ]
    assert bare[3].rstrip(" |") == f"{statistics.median(p99):,.0f}"
    assert "| cell |" in done.stdout  # and the ratio table below


def test_json_and_csv_carry_a_schema_version(tmp_path: Path, session_a: Path) -> None:
    doc = json.loads(katatui("report", str(session_a), "--format", "json").stdout)
    assert doc["schema_version"] == EXPORT_SCHEMA and doc["session_schema_version"] == SCHEMA_VERSION
    out = tmp_path / "r.csv"
    assert katatui("report", str(session_a), "--format", "csv", "--out", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and {r["schema_version"] for r in rows} == {str(EXPORT_SCHEMA)}
    assert len(rows) == len(doc["results"])


def test_raw_export_writes_every_tool_output_and_imports_back(tmp_path: Path, session_a: Path) -> None:
    raw = tmp_path / "raw"
    done = katatui("export", str(session_a), "--raw", str(raw))
    assert done.returncode == 0, done.stderr
    index = json.loads((raw / "index.json").read_text())
    assert index["schema_version"] == EXPORT_SCHEMA
    with SessionReader(session_a) as reader:
        streams = reader.raw_streams()
        assert len(index["files"]) == len(streams) > 0
        for entry in index["files"]:
            assert (raw / entry["file"]).read_bytes() == reader.raw(
                entry["run_id"], entry["client"], entry["stream"]
            )
        finished = {r.run.spec.run_id: r.value for r in reader.results() if r.metric == "read_iops"}
    stdouts = [e for e in index["files"] if e["stream"] == "stdout" and e["scenario"] == "bare"]
    assert len(stdouts) == 2 and all(e["command"][0] == "fio" or "fio" in e["command"] for e in stdouts)
    # what fio printed is what katatui measured: parsed again, and imported as a session of its own
    for e in stdouts:
        snap = fio.parse_fio_document((raw / e["file"]).read_bytes())
        assert fio.final_metrics(snap)["read_iops"][0] == pytest.approx(finished[e["run_id"]])
    imported = tmp_path / "imported.katatui"
    files = [str(raw / e["file"]) for e in stdouts]
    done = katatui("import", "fio", *files, "--scenario", "bare-again", "--out", str(imported))
    assert done.returncode == 0, done.stderr
    cmp = json.loads(katatui("compare", str(session_a), str(imported), "--format", "json").stdout)
    again = next(r for r in cmp["rows"] if r["column"] == "B:bare-again" and r["metric"] == "read_iops")
    original = next(r for r in cmp["rows"] if r["column"] == "A:bare" and r["metric"] == "read_iops")
    assert again["median"] == pytest.approx(original["median"])
    assert again["ratio_of_medians"] == pytest.approx(1.0)

    again_dir = katatui("export", str(session_a), "--raw", str(raw))
    assert again_dir.returncode == 2 and "not an empty directory" in again_dir.stderr


def test_a_failed_export_leaves_no_half_written_file(tmp_path: Path, session_a: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("the previous report")
    with pytest.raises(RuntimeError), atomic_text(target) as f:
        f.write("<html>half")
        raise RuntimeError("disk full, say")
    assert target.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left

    missing = tmp_path / "no-such-dir" / "r.html"
    done = katatui("report", str(session_a), "--out", str(missing))
    assert done.returncode == 2 and "does not exist" in done.stderr and not missing.parent.exists()

    class Boom(Exception):
        pass

    with SessionReader(session_a) as reader:
        real = reader.raw
        calls: list[str] = []

        def failing(run_id: str, client: int = 0, stream: str = "stdout") -> bytes:
            calls.append(run_id)
            if len(calls) == 3:  # two outputs are written, then the session cannot be read
                raise Boom
            return real(run_id, client, stream)

        reader.raw = failing  # type: ignore[method-assign]
        with pytest.raises(Boom):
            export_raw(reader, tmp_path / "raw")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no directory, no temporary one
