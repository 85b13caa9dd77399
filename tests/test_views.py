"""The rendering floor: one rule colours every ratio, and the views never need a screen."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from katatui.core.stats import RatioCI
from katatui.views.ratio import ratio_class, ratio_style, ratio_verdict

SEPARATES = RatioCI(1.5, 1.2, 1.8, 10)
NOISY = RatioCI(1.5, 0.8, 2.2, 10)
TIGHT = RatioCI(1.01, 0.98, 1.03, 10)  # inside the ±5% noise band
EDGE = RatioCI(1.04, 1.01, 1.07, 10)  # excludes 1, but the ratio is inside the band
STYLES = {"better": "green", "worse": "red", "same": "dim", "undecided": "yellow"}  # Rich
CLASSES = {"better": "good", "worse": "bad", "same": "dim", "undecided": "noise"}  # the HTML report


@pytest.mark.parametrize(
    ("ratio", "unit", "ci", "verdict"),
    [
        (1.5, "IO/s", SEPARATES, "better"),  # more IOPS than the reference
        (1 / 1.5, "IO/s", RatioCI(1 / 1.5, 1 / 1.8, 1 / 1.2, 10), "worse"),
        (1 / 1.5, "us", RatioCI(1 / 1.5, 1 / 1.8, 1 / 1.2, 10), "better"),  # less latency
        (1.5, "us", SEPARATES, "worse"),
        (1.5, "IO/s", NOISY, "undecided"),  # the interval includes 1, whatever the ratio says
        (1.01, "IO/s", TIGHT, "same"),  # the whole interval inside the noise band
        (1.04, "IO/s", EDGE, "undecided"),  # differs, but not beyond the noise: more rounds
        (1.5, "IO/s", None, "undecided"),  # one round: no interval
        (1.5, "unknown unit", SEPARATES, "better"),  # bigger is better unless the unit says otherwise
    ],
)
def test_one_rule_for_every_ratio(ratio: float, unit: str, ci: RatioCI | None, verdict: str) -> None:
    assert ratio_verdict(ratio, unit, ci) == verdict
    assert ratio_style(ratio, unit, ci) == STYLES[verdict]
    assert ratio_class(ratio, unit, ci) == CLASSES[verdict]


def test_a_wider_noise_band_says_same() -> None:
    assert ratio_verdict(1.04, "IO/s", EDGE, band=0.10) == "same"
    assert ratio_verdict(1.5, "IO/s", SEPARATES, band=0.10) == "better"


def test_views_and_the_first_frame_import_nothing_heavy() -> None:
    """The views import no Textual; the dashboard's first screens load neither the Docker, Kubernetes
    or SSH clients nor the plotting library, which only later screens need."""
    code = (
        "import sys, importlib, pkgutil, katatui.views\n"
        "for m in pkgutil.walk_packages(katatui.views.__path__, 'katatui.views.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'views import textual'\n"
        "import katatui.cli, katatui.tui.launch, katatui.tui.app, katatui.tui.start\n"
        "heavy = ('docker', 'kubernetes', 'asyncssh', 'plotext', 'textual_plotext')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_isolation_heads_every_report_of_the_demo(tmp_path: Path) -> None:
    from katatui.commands.demo import demo_path
    from katatui.core import fairness
    from katatui.core.session import SessionReader
    from katatui.views import isolation
    from katatui.views.report import write

    reader = SessionReader(demo_path())
    try:
        rows = {r[0]: r for r in isolation.rows(fairness.record(reader))}
        assert rows["runsc"][1] == "user-space-kernel (gVisor)" and rows["runsc"][3] == "9p"
        assert rows["runc"][1] == "shared-kernel" and rows["bare"][1] == "none"
        heads = {"md": "#### What isolates", "table": "what isolates", "html": "<h2>Isolation</h2>"}
        for fmt, first in heads.items():
            out = io.StringIO()
            write(reader, fmt, out, partial=False, seed=None, to_file=True)
            text = out.getvalue()
            assert first in text and "user-space-kernel (gVisor)" in text, fmt
            assert text.index(first) < text.index("runsc", text.index(first) + 1) < len(text)
    finally:
        reader.close()
