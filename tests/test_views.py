"""The rendering floor: one rule colours every ratio, and the views never need a screen."""

from __future__ import annotations

import subprocess
import sys

import pytest

from katatui.core.stats import RatioCI
from katatui.views.ratio import ratio_class, ratio_style, ratio_verdict

SEPARATES = RatioCI(1.5, 1.2, 1.8, 10)
NOISY = RatioCI(1.5, 0.8, 2.2, 10)
STYLES = {"better": "green", "worse": "red", "even": "dim", "noise": "yellow"}  # Rich
CLASSES = {"better": "good", "worse": "bad", "even": "dim", "noise": "noise"}  # the HTML report


@pytest.mark.parametrize(
    ("ratio", "unit", "ci", "verdict"),
    [
        (1.5, "IO/s", None, "better"),  # more IOPS than the reference
        (0.5, "IO/s", None, "worse"),
        (0.5, "us", None, "better"),  # less latency
        (1.5, "us", None, "worse"),
        (1.01, "us", None, "even"),  # within 2% either way
        (0.99, "IO/s", None, "even"),
        (1.5, "IO/s", SEPARATES, "better"),
        (1.5, "IO/s", NOISY, "noise"),  # the interval includes 1, whatever the ratio says
        (1.01, "IO/s", NOISY, "noise"),
        (1.5, "unknown unit", None, "better"),  # bigger is better unless the unit says otherwise
    ],
)
def test_one_rule_for_every_ratio(ratio: float, unit: str, ci: RatioCI | None, verdict: str) -> None:
    assert ratio_verdict(ratio, unit, ci) == verdict
    assert ratio_style(ratio, unit, ci) == STYLES[verdict]
    assert ratio_class(ratio, unit, ci) == CLASSES[verdict]


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
