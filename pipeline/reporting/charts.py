"""Deterministic inline SVG charts (same input -> same bytes).

matplotlib writes SVG with text kept as text (``svg.fonttype: none``, so the browser renders
Chinese with its own fonts), a fixed hash salt for element ids and no date in the metadata.
Element ids are then prefixed with a digest of the chart so that many charts can be inlined in
one HTML page without id clashes. Only the object-oriented API is used (no pyplot state), so
charts can be drawn from worker threads.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

RC = {
    "svg.hashsalt": "sentinel",
    "svg.fonttype": "none",
    "text.parse_math": False,  # "$" in a label is text, not TeX
    "font.family": "sans-serif",
    "font.sans-serif": [
        "DejaVu Sans",
        "Noto Sans CJK SC",
        "WenQuanYi Zen Hei",
        "Microsoft YaHei",
        "PingFang SC",
        "Arial",
    ],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
LABELS = {
    "en": {
        "observed": "observed",
        "expected": "expected",
        "upper": "alarm threshold",
        "alarm": "alarm",
        "cases": "cases per week",
    },
    "zh": {
        "observed": "实际病例数",
        "expected": "期望值",
        "upper": "报警阈值",
        "alarm": "报警",
        "cases": "每周病例数",
    },
}
_METADATA_RE = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_ID_RE = re.compile(r'(id="|url\(#|xlink:href="#|href="#)([A-Za-z_][\w.\-]*)')


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(RC), warnings.catch_warnings():
        # Missing CJK glyphs only matter for layout width; the browser draws the text.
        warnings.simplefilter("ignore", UserWarning)
        yield


def _render(fig) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "Sentinel"})
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # inline: no XML declaration / DOCTYPE
    text = _METADATA_RE.sub("", text)
    prefix = "c" + hashlib.sha256(text.encode()).hexdigest()[:8] + "-"
    return _ID_RE.sub(lambda m: m.group(1) + prefix + m.group(2), text).strip() + "\n"


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72)


def _week_label(week: str) -> str:
    return week[2:] if isinstance(week, str) and len(week) == 8 else str(week)


def trend_chart_svg(trend: pd.DataFrame, title: str, lang: str = "en") -> str:
    """Weekly observed counts with the expected value and the alarm threshold (upper bound);
    alarm weeks are marked. ``trend``: week, observed, expected, upper, alarm."""
    labels = LABELS.get(lang, LABELS["en"])
    with _style():
        fig = _figure(7.2, 2.6)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(trend)))
        observed = pd.to_numeric(trend["observed"], errors="coerce").astype(float)
        expected = pd.to_numeric(trend.get("expected"), errors="coerce").astype(float)
        upper = pd.to_numeric(trend.get("upper"), errors="coerce").astype(float)
        alarm = (
            trend["alarm"].fillna(False).astype(bool)
            if "alarm" in trend
            else pd.Series(False, index=trend.index)
        )
        if upper.notna().any():
            ax.fill_between(
                x,
                0,
                upper.to_numpy(),
                color="#d9e6f2",
                step="mid",
                label=labels["upper"],
                linewidth=0,
            )
            ax.step(x, upper.to_numpy(), where="mid", color="#5b8bb5", linewidth=0.8)
        if expected.notna().any():
            ax.plot(
                x,
                expected.to_numpy(),
                color="#555555",
                linestyle="--",
                linewidth=1,
                label=labels["expected"],
            )
        ax.plot(
            x,
            observed.to_numpy(),
            color="#1f3b57",
            marker="o",
            markersize=3,
            linewidth=1.4,
            label=labels["observed"],
        )
        hits = [i for i in x if alarm.iloc[i]]
        if hits:
            ax.plot(
                hits,
                observed.iloc[hits].to_numpy(),
                linestyle="none",
                marker="o",
                markersize=7,
                markerfacecolor="#c0392b",
                markeredgecolor="#7b1d13",
                label=labels["alarm"],
            )
        step = max(1, math.ceil(len(x) / 9))
        ticks = list(range(len(x) - 1, -1, -step))[::-1]  # anchored on the alert's week
        ax.set_xticks(ticks)
        ax.set_xticklabels([_week_label(trend["week"].iloc[i]) for i in ticks])
        ax.set_ylim(bottom=0)
        ax.set_ylabel(labels["cases"])
        ax.set_title(title, loc="left", fontsize=10)
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=4)
        ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
        fig.subplots_adjust(left=0.08, right=0.99, top=0.88, bottom=0.12)  # cheaper than tight
        return _render(fig)


def bar_chart_svg(labels: list[str], values: list[float], title: str) -> str:
    """Horizontal bars, largest first as given (the caller orders them)."""
    with _style():
        n = max(len(labels), 1)
        fig = _figure(7.2, 0.8 + 0.24 * n)
        ax = fig.add_subplot(1, 1, 1)
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, [float(v) for v in values], color="#3c6e91", height=0.7)
        ax.set_yticks(positions)
        ax.set_yticklabels([str(label) for label in labels])
        top = max([float(v) for v in values] + [0.0])
        for y, v in zip(positions, values, strict=True):
            ax.text(float(v) + top * 0.01, y, f"{float(v):g}", va="center", fontsize=7)
        ax.set_xlim(0, top * 1.12 if top > 0 else 1)
        fig.suptitle(title, x=0.01, ha="left", fontsize=10)  # long labels push the axes right
        fig.tight_layout()
        return _render(fig)
