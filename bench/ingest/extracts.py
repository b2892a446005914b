"""Deterministic extracts for the intake benchmark, built by code from the sample generator.

Every row is a case of the sample generator (``sentinel_tools.sample.generator.make_case``: scenario
catalogue, age mix by hospital type, Chinese or English narratives, product names, brands,
patient name / ID number / phone) written in one of the generator's export styles, so the rows
look like what hospitals send and pass validation. What differs from ``sentinel sample
generate``: no injected faults or hazards, any number of rows per file, and a generated hospital
registry (``registry.csv``, used through ``SENTINEL_HOSPITAL_REGISTRY``) so that hundreds of
hospitals can send.

Only UTF-8 CSV styles are used: the DuckDB baseline (``read_csv``) reads UTF-8 only, and the
benchmark compares the same bytes.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import json
import os
import random
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from sentinel_tools.sample import generator as gen
from sentinel_tools.sample import refdata
from sentinel_tools.sample.refdata import Hospital
from sentinel_tools.sample.styles import STYLES, Style

BENCH_VERSION = "bench-ingest-extracts 1"
END = date(2026, 11, 22)  # a Sunday, like the shipped sample
REGISTRY_COLUMNS = (
    "hospital_code",
    "name_zh",
    "name_en",
    "hospital_type",
    "city_zh",
    "city_en",
    "region_code",
    "active_from",
    "active_to",
    "is_test",
    "daily_volume",
)
_BY_KEY = {s.key: s for s in STYLES}
# The large extracts use the project's canonical layout: English field names, codes, UTF-8.
CANONICAL = _BY_KEY["en_utf8"]
# Small files rotate through the UTF-8 styles hospitals use, plus Chinese headers and labels.
SMALL_STYLES: tuple[Style, ...] = (
    CANONICAL,
    _BY_KEY["en_utf8_english"],
    _BY_KEY["zh_utf8_bom"],
    replace(_BY_KEY["zh_gb18030_labels"], key="zh_utf8_labels", encoding="utf-8"),
    _BY_KEY["en_utf8_english_slash"],
    _BY_KEY["en_utf8_community"],
    _BY_KEY["en_utf8_slash"],
)
TYPES = ("general_tertiary", "children", "community")
CITIES = (
    ("1101", "北京市", "Beijing"),
    ("3101", "上海市", "Shanghai"),
    ("4401", "广州市", "Guangzhou"),
    ("4403", "深圳市", "Shenzhen"),
    ("5101", "成都市", "Chengdu"),
    ("4201", "武汉市", "Wuhan"),
    ("3301", "杭州市", "Hangzhou"),
    ("6101", "西安市", "Xi'an"),
)


@dataclass(frozen=True)
class Extract:
    """One landing file: the sending hospital, its path and its row count."""

    hospital: str
    path: Path
    rows: int


def bench_hospitals(n: int, prefix: str = "BH") -> list[Hospital]:
    """``n`` registered hospitals ``<prefix>001..``, types and cities in rotation."""
    out = []
    for i in range(n):
        prefix_code, city_zh, city_en = CITIES[i % len(CITIES)]
        districts = refdata.CITY_DISTRICTS[prefix_code]
        kind = TYPES[i % len(TYPES)]
        out.append(
            Hospital(
                code=f"{prefix}{i + 1:03d}",
                name_zh=f"{city_zh}基准测试第{i + 1}医院",
                name_en=f"{city_en} Benchmark Hospital {i + 1}",
                type=kind,
                city_zh=city_zh,
                city_en=city_en,
                region=districts[i % len(districts)],
                active_from=date(2020, 1, 1),
                active_to=None,
                is_test=False,
                daily_volume=30.0,
            )
        )
    return out


def write_registry(path: Path, hospitals: list[Hospital]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(REGISTRY_COLUMNS)
        for h in hospitals:
            writer.writerow(
                [
                    h.code,
                    h.name_zh,
                    h.name_en,
                    h.type,
                    h.city_zh,
                    h.city_en,
                    h.region,
                    h.active_from.isoformat() if h.active_from else "",
                    "",
                    "0",
                    int(h.daily_volume),
                ]
            )


def _context(seed: int, hospitals: list[Hospital], styles: dict[str, Style], start: date):
    return gen.Context(
        seed=seed,
        start=start,
        end=END,
        daily_start=END,
        weeks=max(1, ((END - start).days + 1) // 7),
        scale=1.0,
        selected=hospitals,
        styles=styles,
        silent={},
        labels={cs: refdata.zh_labels(cs) for cs in gen.ENUM_FIELDS},
        active_cats=set(refdata.active_categories(start)),
    )


class _CaseSource:
    """Cases of one hospital, day by day, drawn like the sample generator's background cases."""

    def __init__(self, ctx, hospital: Hospital, seed: int) -> None:
        self.ctx, self.h = ctx, hospital
        self.style = ctx.styles[hospital.code]
        self.pairs, weights = gen._scenario_table(ctx, hospital.type)
        self.p = weights / weights.sum()
        self.rng = np.random.default_rng(gen._seed(seed, "bench-volume", hospital.code))
        self.rnd = random.Random(gen._seed(seed, "bench-cases", hospital.code))
        self.running = 10_000_000 + self.rnd.randint(1000, 90000)
        self.per_year: dict[int, int] = {}

    def day_rows(self, day: date, n: int) -> list[list[str]]:
        draws = self.rng.choice(len(self.pairs), size=n, p=self.p)
        cases = [
            gen.make_case(self.ctx, self.h, self.style, *self.pairs[int(k)], day, self.rnd)
            for k in draws
        ]
        cases.sort(key=lambda c: (c["_visit"], c["narrative"]))
        rows = []
        for seq, case in enumerate(cases, 1):
            case["case_id"] = self._case_id(day, seq)
            values = gen.format_values(case, self.style, self.ctx.labels)
            rows.append([values.get(c, "") for c in self.style.columns()])
        return rows

    def _case_id(self, day: date, seq: int) -> str:
        self.running += 1
        self.per_year[day.year] = self.per_year.get(day.year, 0) + 1
        kind = self.style.case_id
        if kind == "dash":
            return f"{self.h.code}-{day:%Y%m%d}-{seq:04d}"
        if kind == "num":
            return f"{day:%y%m%d}{seq:04d}"
        if kind == "prefix":
            return f"INJ{day:%Y}{self.per_year[day.year]:07d}"
        return str(self.running)

    def header(self) -> list[str]:
        return [self.style.header(c) for c in self.style.columns()]


def _received(day: date) -> float:
    """The file's mtime (= received_at, UTC): 01:30 UTC the next day, 09:30 in China."""
    return calendar.timegm(datetime.combine(day + timedelta(days=1), time(1, 30)).timetuple())


def _open_csv(path: Path, style: Style):
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "w", encoding=style.encoding, newline="")  # noqa: SIM115 - closed by caller
    return fh, csv.writer(fh, lineterminator=style.newline, quoting=csv.QUOTE_MINIMAL)


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def write_large_extract(
    path: Path, hospital: Hospital, rows: int, seed: int, days: int = 365
) -> Extract:
    """One extract of ``rows`` cases of ``hospital`` spread evenly over the ``days`` days ending
    on END (a backfill of a year), streamed to disk day by day."""
    start = END - timedelta(days=days - 1)
    ctx = _context(seed, [hospital], {hospital.code: CANONICAL}, start)
    source = _CaseSource(ctx, hospital, seed)
    fh, writer = _open_csv(path, CANONICAL)
    with fh:
        writer.writerow(source.header())
        for i, n in enumerate(_split(rows, days)):
            if n:
                writer.writerows(source.day_rows(start + timedelta(days=i), n))
    stamp = _received(END)
    os.utime(path, (stamp, stamp))
    return Extract(hospital.code, path, rows)


def write_daily_files(
    landing: Path, hospitals: list[Hospital], days: list[date], mean_rows: float, seed: int
) -> list[Extract]:
    """One file per hospital and day, ``<CODE>_YYYYMMDD.csv`` with Poisson(``mean_rows``) rows
    (at least one), each hospital in its own export style."""
    styles = {h.code: SMALL_STYLES[i % len(SMALL_STYLES)] for i, h in enumerate(hospitals)}
    ctx = _context(seed, hospitals, styles, min(days))
    counts = np.random.default_rng(gen._seed(seed, "bench-daily-counts"))
    out = []
    for h in hospitals:
        source = _CaseSource(ctx, h, seed)
        for day in days:
            n = max(1, int(counts.poisson(mean_rows)))
            path = landing / h.code / f"{h.code}_{day:%Y%m%d}.csv"
            fh, writer = _open_csv(path, styles[h.code])
            with fh:
                writer.writerow(source.header())
                writer.writerows(source.day_rows(day, n))
            stamp = _received(day)
            os.utime(path, (stamp, stamp))
            out.append(Extract(h.code, path, n))
    return out


@dataclass(frozen=True)
class Workloads:
    """Everything the benchmark ingests, under one cache directory."""

    root: Path
    registry: Path
    large: dict[int, Extract]  # rows -> extract (each alone in its own landing zone)
    many_hospitals: list[Extract]  # one daily file from each of many hospitals
    one_hospital: list[Extract]  # many daily files from one hospital

    @staticmethod
    def landing_of(extracts: list[Extract]) -> Path:
        return extracts[0].path.parent.parent


def _key(params: dict) -> str:
    text = json.dumps({"version": BENCH_VERSION, "generator": gen.GENERATOR_VERSION, **params})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_workloads(
    cache: Path,
    *,
    large_rows: tuple[int, ...],
    small_hospitals: int,
    small_days: int,
    small_rows: float,
    seed: int,
    progress=print,
) -> Workloads:
    """Build (or reuse from ``cache``) the registry, the large extracts and the small files.
    The same arguments give the same bytes."""
    params = {
        "large_rows": list(large_rows),
        "small_hospitals": small_hospitals,
        "small_days": small_days,
        "small_rows": small_rows,
        "seed": seed,
    }
    root = cache / _key(params)
    manifest = root / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        progress(f"extracts: reusing {root}")
        return _from_manifest(root, data)

    shutil.rmtree(root, ignore_errors=True)
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    big = bench_hospitals(1, prefix="BK")[0]
    small = bench_hospitals(small_hospitals, prefix="BH")
    registry = tmp / "registry.csv"
    write_registry(registry, [big, *small])
    large = {}
    for n in large_rows:
        progress(f"extracts: writing {n:,} rows of {big.code} ...")
        large[n] = write_large_extract(
            tmp / f"large_{n}" / big.code / f"{big.code}_backfill_{n}.csv", big, n, seed
        )
    progress(f"extracts: one daily file from each of {small_hospitals} hospitals ...")
    many = write_daily_files(tmp / "many_hospitals", small, [END], small_rows, seed)
    progress(f"extracts: {small_days} daily files from {small[0].code} ...")
    days = [END - timedelta(days=small_days - 1 - i) for i in range(small_days)]
    one = write_daily_files(tmp / "one_hospital", small[:1], days, small_rows, seed + 1)
    data = {
        "params": params,
        "large": {str(n): _rel(e, tmp) for n, e in large.items()},
        "many_hospitals": [_rel(e, tmp) for e in many],
        "one_hospital": [_rel(e, tmp) for e in one],
    }
    (tmp / "manifest.json").write_text(json.dumps(data, indent=1))
    tmp.rename(root)
    return _from_manifest(root, data)


def _rel(e: Extract, root: Path) -> dict:
    return {"hospital": e.hospital, "path": e.path.relative_to(root).as_posix(), "rows": e.rows}


def _from_manifest(root: Path, data: dict) -> Workloads:
    def ex(d: dict) -> Extract:
        return Extract(d["hospital"], root / d["path"], d["rows"])

    return Workloads(
        root=root,
        registry=root / "registry.csv",
        large={int(n): ex(d) for n, d in data["large"].items()},
        many_hospitals=[ex(d) for d in data["many_hospitals"]],
        one_hospital=[ex(d) for d in data["one_hospital"]],
    )
