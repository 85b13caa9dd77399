from __future__ import annotations

import math

import pytest

from katatui.core.stats import describe, outliers, ratio_ci, t975


def test_describe() -> None:
    d = describe([1.0, 2.0, 3.0, 10.0])
    assert d.median == 2.5 and d.mean == 4.0 and d.low == 1.0 and d.high == 10.0
    assert d.stdev == pytest.approx(4.0825, rel=1e-4)
    assert d.cv == pytest.approx(4.0825 / 4.0, rel=1e-4)
    assert describe([5.0]).stdev is None


def test_outliers_modified_z() -> None:
    assert outliers([10.0, 10.2, 9.9, 10.1, 30.0]) == [4]
    assert outliers([10.0, 10.0, 10.0]) == []  # MAD of zero: no verdict
    assert outliers([1.0, 100.0]) == []


def test_ratio_ci_separates_and_not() -> None:
    clear = ratio_ci([100.0, 101.0, 99.0, 100.5], [50.0, 51.0, 49.0, 50.5])
    assert clear is not None and clear.separates and clear.low < 2.0 < clear.high
    noisy = ratio_ci([100.0, 60.0, 140.0], [95.0, 130.0, 70.0])
    assert noisy is not None and not noisy.separates
    assert ratio_ci([1.0], [1.0, 2.0]) is None


def test_ratio_ci_matches_welch_by_hand() -> None:
    a, b = [10.0, 12.0, 11.0], [20.0, 22.0, 21.0]
    ci = ratio_ci(a, b)
    assert ci is not None
    va, vb = 1.0 / (3 * 11.0**2), 1.0 / (3 * 21.0**2)
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)
    half = t975(df) * math.sqrt(va + vb)
    assert ci.low == pytest.approx(11 / 21 * math.exp(-half))
    assert ci.df == pytest.approx(df)
    assert t975(2.5) == 4.303 and t975(5000) == 1.96
