"""Chart geometry for the pages: numbers only. The SVG itself is written by the templates
(``_charts.html``), so every label goes through Jinja's autoescaping and the charts need no
script, no inline style (colours come from ``app.css`` classes) and nothing from elsewhere.

* :func:`weekly_bars`: a count per ISO week (case search);
* :func:`trend`: observed counts with the detector's expected value and upper bound (signal);
* :func:`hbars`: horizontal bars for a mix (age, sex, severity);
* :func:`city_map`: the monitored cities placed by longitude and latitude on a graticule.
  No borders are drawn: an administrative boundary map of China must be an approved standard
  map, which Sentinel does not ship; the points and the graticule carry the geography.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def _nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^k at least ``value`` (axis top)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exponent
        if top >= value:
            return float(top)
    return float(10 ** (exponent + 1))


def _ticks(top: float, count: int = 4) -> list[float]:
    return [top * i / count for i in range(count + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    text: str
    highlight: bool = False


@dataclass
class Tick:
    at: float  # x or y in the chart's coordinates
    text: str


@dataclass
class Chart:
    width: int
    height: int
    title: str
    left: float
    top: float
    plot_width: float
    plot_height: float
    bars: list[Bar] = field(default_factory=list)
    lines: dict[str, str] = field(default_factory=dict)  # class -> SVG points
    markers: list[tuple[float, float, str]] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (class, text)

    @property
    def bottom(self) -> float:
        return self.top + self.plot_height

    @property
    def right(self) -> float:
        return self.left + self.plot_width


def _frame(title: str, width: int, height: int, left: float = 46, top: float = 14) -> Chart:
    return Chart(
        width=width,
        height=height,
        title=title,
        left=left,
        top=top,
        plot_width=width - left - 12,
        plot_height=height - top - 34,
    )


def _week_ticks(chart: Chart, weeks: Sequence[str], slot: float) -> None:
    every = max(1, math.ceil(len(weeks) / 10))
    for i, week in enumerate(weeks):
        if i % every == 0 or i == len(weeks) - 1 and len(weeks) < 10:
            chart.x_ticks.append(Tick(chart.left + (i + 0.5) * slot, week[2:]))


def weekly_bars(
    weeks: Sequence[dict], title: str, key: str = "cases", width: int = 760, height: int = 220
) -> Chart:
    """One bar per week of ``weeks`` (dicts with ``week`` and ``key``)."""
    chart = _frame(title, width, height)
    values = [float(w.get(key) or 0) for w in weeks]
    top = _nice_max(max(values, default=0))
    chart.y_ticks = [Tick(chart.bottom - chart.plot_height * v / top, _fmt(v)) for v in _ticks(top)]
    slot = chart.plot_width / max(1, len(weeks))
    for i, (week, value) in enumerate(zip(weeks, values, strict=True)):
        h = chart.plot_height * value / top
        chart.bars.append(
            Bar(
                x=chart.left + i * slot + slot * 0.1,
                y=chart.bottom - h,
                width=max(slot * 0.8, 0.5),
                height=h,
                label=str(week["week"]),
                value=value,
                text=f"{week['week']}: {_fmt(value)}",
            )
        )
    _week_ticks(chart, [str(w["week"]) for w in weeks], slot)
    return chart


def trend(rows: Sequence[dict], title: str, labels: dict[str, str], width: int = 760) -> Chart:
    """Observed counts as bars (alarm weeks highlighted), expected and upper bound as lines.
    ``rows``: dicts with week, observed, expected, upper, alarm (None where not computed)."""
    chart = _frame(title, width, 240)
    numbers = [
        float(r[k]) for r in rows for k in ("observed", "expected", "upper") if r.get(k) is not None
    ]
    top = _nice_max(max(numbers, default=0))
    chart.y_ticks = [Tick(chart.bottom - chart.plot_height * v / top, _fmt(v)) for v in _ticks(top)]
    slot = chart.plot_width / max(1, len(rows))

    def y(value: float) -> float:
        return chart.bottom - chart.plot_height * value / top

    for i, row in enumerate(rows):
        observed = float(row.get("observed") or 0)
        chart.bars.append(
            Bar(
                x=chart.left + i * slot + slot * 0.15,
                y=y(observed),
                width=max(slot * 0.7, 0.5),
                height=chart.bottom - y(observed),
                label=str(row["week"]),
                value=observed,
                text=f"{row['week']}: {_fmt(observed)}",
                highlight=bool(row.get("alarm")),
            )
        )
    for key in ("expected", "upper"):
        points = [
            f"{chart.left + (i + 0.5) * slot:.1f},{y(float(r[key])):.1f}"
            for i, r in enumerate(rows)
            if r.get(key) is not None
        ]
        if points:
            chart.lines[key] = " ".join(points)
    chart.legend = [("observed", labels["observed"]), ("alarm", labels["alarm"])]
    chart.legend += [(k, labels[k]) for k in ("expected", "upper") if k in chart.lines]
    _week_ticks(chart, [str(r["week"]) for r in rows], slot)
    return chart


@dataclass
class HBar:
    label: str
    value: float
    share: float  # of the largest value, 0..1
    text: str


def hbars(items: Sequence[tuple[str, float]]) -> list[HBar]:
    """Bars for a mix (label, count), widths relative to the largest count."""
    total = sum(v for _, v in items) or 1
    largest = max((v for _, v in items), default=0) or 1
    return [
        HBar(label, value, value / largest, f"{value:,.0f} ({100 * value / total:.0f}%)")
        for label, value in items
    ]


@dataclass
class MapPoint:
    code: str
    name: str
    x: float
    y: float
    r: float
    label_x: float
    value: float
    text: str
    highlight: bool
    label_y: float = 0.0
    label_anchor: str = "start"


@dataclass
class Map:
    width: int
    height: int
    title: str
    points: list[MapPoint]
    meridians: list[tuple[float, str]]  # x, label
    parallels: list[tuple[float, str]]  # y, label


# Extent of the drawing: mainland China's longitudes and latitudes (degrees).
LON_RANGE, LAT_RANGE = (73.0, 135.0), (18.0, 54.0)


def city_map(cities: Sequence[dict], title: str, width: int = 560, height: int = 400) -> Map:
    """``cities``: dicts with code, name, latitude, longitude, value (e.g. cases), highlight.
    Equirectangular projection scaled by cos(36 degrees) so distances look right mid-country."""
    scale_x = math.cos(math.radians(36.0))
    span_x = (LON_RANGE[1] - LON_RANGE[0]) * scale_x
    span_y = LAT_RANGE[1] - LAT_RANGE[0]
    pad = 24.0
    unit = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (
            pad + (lon - LON_RANGE[0]) * scale_x * unit,
            pad + (LAT_RANGE[1] - lat) * unit,
        )

    largest = max((float(c.get("value") or 0) for c in cities), default=0) or 1.0
    points = []
    for city in cities:
        x, y = project(float(city["latitude"]), float(city["longitude"]))
        value = float(city.get("value") or 0)
        r = 4 + 14 * math.sqrt(value / largest)
        points.append(
            MapPoint(
                code=str(city["code"]),
                name=str(city["name"]),
                x=round(x, 1),
                y=round(y, 1),
                r=round(r, 1),
                label_x=round(x + r + 3, 1),
                value=value,
                text=str(city.get("text") or f"{city['name']}: {_fmt(value)}"),
                highlight=bool(city.get("highlight")),
            )
        )
    _place_labels(points)
    meridians = [
        (round(project(LAT_RANGE[0], lon)[0], 1), f"{lon:.0f}°E") for lon in range(80, 135, 10)
    ]
    parallels = [
        (round(project(lat, LON_RANGE[0])[1], 1), f"{lat:.0f}°N") for lat in range(20, 55, 10)
    ]
    return Map(width, height, title, points, meridians, parallels)


def _label_box(p: MapPoint, side: str, dy: float) -> tuple[float, float, float, float]:
    width = 7.0 * sum(2 if ord(ch) > 0x2E80 else 1 for ch in p.name)  # CJK is wider
    y = p.y + 4 + dy
    if side == "start":
        x0 = p.x + p.r + 3
        return x0, y - 10, x0 + width, y + 2
    x1 = p.x - p.r - 3
    return x1 - width, y - 10, x1, y + 2


def _place_labels(points: list[MapPoint]) -> None:
    """Put each city's name where it overlaps no name placed before it (right, left, then a
    line lower or higher): nearby cities (Guangzhou and Shenzhen) stay readable."""
    placed: list[tuple[float, float, float, float]] = []
    for p in sorted(points, key=lambda q: (-q.value, q.code)):
        chosen = None
        for side, dy in (
            ("start", 0),
            ("end", 0),
            ("start", 12),
            ("end", 12),
            ("start", -12),
            ("end", -12),
            ("start", 24),
            ("end", -24),
        ):
            box = _label_box(p, side, dy)
            if not any(
                box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed
            ):
                chosen = (side, dy, box)
                break
        side, dy, box = chosen or ("start", 0, _label_box(p, "start", 0))
        placed.append(box)
        p.label_anchor = side
        p.label_x = round(p.x + p.r + 3 if side == "start" else p.x - p.r - 3, 1)
        p.label_y = round(p.y + 4 + dy, 1)
