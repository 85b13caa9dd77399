"""Golden output of the renderers on committed sessions: the shipped demo (bare, runc, crun, gVisor)
and the two recorded TUI fixtures. No test environment is needed. When a renderer changes on
purpose, regenerate with ``KATATUI_GOLDEN=write python -m pytest tests/test_golden.py`` and read the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO, katatui

GOLDEN = Path(__file__).parent / "golden"
DEMO = "katatui/data/demo.katatui"
A = "tests/tui/fixtures/three_columns.katatui"
B = "tests/tui/fixtures/three_columns_later.katatui"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("demo.md", ("report", DEMO, "--format", "md")),
        ("demo.csv", ("report", DEMO, "--format", "csv")),
        ("compare.md", ("compare", A, B, "--format", "md")),
    ],
)
def test_renderers_match_their_golden_output(name: str, args: tuple[str, ...]) -> None:
    done = katatui(*args)
    assert done.returncode == 0, done.stderr
    path = GOLDEN / name
    if os.environ.get("KATATUI_GOLDEN") == "write":
        path.write_text(done.stdout)
    assert done.stdout == path.read_text(), f"{name} differs from its golden output; see the module docstring"
    assert str(REPO) not in done.stdout
