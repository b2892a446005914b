"""Inline SVG charts: deterministic, text kept as escaped text, no external references."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from pipeline.reporting.charts import bar_chart_svg, trend_chart_svg


def _trend(expected: bool = True) -> pd.DataFrame:
    weeks = [f"2026-W{i:02d}" for i in range(1, 27)]
    return pd.DataFrame(
        {
            "week": weeks,
            "observed": [float(i % 5) for i in range(26)],
            "expected": np.full(26, 2.0) if expected else np.nan,
            "upper": np.full(26, 4.5) if expected else np.nan,
            "alarm": [False] * 25 + [True],
        }
    )


def test_trend_chart_is_deterministic_parseable_svg() -> None:
    first = trend_chart_svg(_trend(), "电饭煲 HA01", "zh")
    assert first == trend_chart_svg(_trend(), "电饭煲 HA01", "zh")
    root = ET.fromstring(first)
    assert root.tag.endswith("svg")
    texts = "".join(root.itertext())
    assert "电饭煲 HA01" in texts and "报警阈值" in texts and "26-W26" in texts
    assert "Date" not in first and "<?xml" not in first


def test_titles_are_escaped_and_ids_differ_between_charts() -> None:
    hostile = "<script>alert(1)</script>$x$"
    svg = trend_chart_svg(_trend(expected=False), hostile)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "$x$" in svg
    other = bar_chart_svg(["a", "b"], [3, 1], "t")
    ids = set(re.findall(r'id="([^"]+)"', svg))
    assert ids and not ids & set(re.findall(r'id="([^"]+)"', other))
    for chart in (svg, other):
        assert not re.search(r'(?:href|src)="(?!#)', chart)


def test_bar_chart_labels_and_values() -> None:
    svg = bar_chart_svg(["GZ001", "SH001"], [12, 3.5], "cases")
    texts = "".join(ET.fromstring(svg).itertext())
    assert "GZ001" in texts and "SH001" in texts and "12" in texts and "3.5" in texts
