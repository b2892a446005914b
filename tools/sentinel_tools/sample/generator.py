"""Deterministic generator of a sample sentinel network (see ``generate_network``).

Pipeline: pick the first H production hospitals of the registry, give each an export style,
draw daily case counts (weekday pattern x seasonality x growth x Poisson noise), draw
scenarios per week from the catalog (hospital-type age mix x scenario seasonality), build each
case (demographics, coded fields, product, identifiers, narrative), add the injected hazards,
route cases into monthly backfill files and daily extracts, inject the faults, write the files
(CSV in the hospital's encoding or a reproducible XLSX), a NEISS-format file for the first test
hospital, ``ground_truth.json``, ``ground_truth_cases.csv`` and ``README.md``.

Every random draw comes from a generator seeded by (seed, purpose, hospital), so the output is
byte-identical for the same arguments and independent of dict/set ordering and wall-clock time.
"""

from __future__ import annotations

import hashlib
import math
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from pipeline.isoweek import format_iso_week as iso_week
from sentinel_tools.sample import refdata
from sentinel_tools.sample.catalog import (
    AGE_GROUPS,
    CATALOG,
    NO_BACKGROUND,
    Scenario,
    matching,
    pick,
)
from sentinel_tools.sample.hazards import HAZARDS, HazardSpec, select_hospitals
from sentinel_tools.sample.neiss import neiss_file
from sentinel_tools.sample.people import birth_date, id_number, person_name, phone
from sentinel_tools.sample.refdata import Hospital
from sentinel_tools.sample.styles import Style, style_for
from sentinel_tools.sample.text import Facts, narrative_en, narrative_zh, wchoice
from sentinel_tools.sample.writers import csv_bytes, xlsx_bytes

GENERATOR_VERSION = "sentinel-sample-generator 1.0.0"

ENUM_FIELDS = (
    "report_type",
    "sex",
    "age_unit",
    "cause",
    "place",
    "activity",
    "intent",
    "injury_nature",
    "body_region",
    "severity",
    "outcome",
    "product_relation",
)
DATE_FIELDS = ("visit_datetime", "injury_datetime")

# Spring Festival (Chinese New Year) dates: fireworks peak, school holidays, fewer visits.
CNY = {
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}

# Age-group multipliers by hospital type (children's hospitals see no adults).
AGE_MULT = {
    "children": {"inf": 1.0, "tod": 1.0, "chi": 1.0, "teen": 0.55, "adu": 0.0, "eld": 0.0},
    "general_tertiary": {"inf": 0.25, "tod": 0.3, "chi": 0.35, "teen": 0.6, "adu": 1.0, "eld": 1.0},
    "community": {"inf": 0.2, "tod": 0.3, "chi": 0.45, "teen": 0.5, "adu": 1.0, "eld": 1.5},
}
CODE_FILL = {"children": 0.74, "general_tertiary": 0.72, "community": 0.42}
WEEKDAY = (1.0, 0.95, 0.94, 0.95, 1.0, 1.12, 1.1)
HOUR_W = (
    0.5,
    0.35,
    0.25,
    0.2,
    0.2,
    0.3,
    0.6,
    1.0,
    1.6,
    2.0,
    2.1,
    2.0,
    1.7,
    1.6,
    1.8,
    2.0,
    2.1,
    2.3,
    2.6,
    2.8,
    2.6,
    2.0,
    1.4,
    0.9,
)
BRANDS = (
    ("家悦", "JIAYUE"),
    ("美滋", "MEIZI"),
    ("优宜", "YOUYI"),
    ("佳禾", "JIAHE"),
    ("欣然", "XINRAN"),
    ("星宝", "XINGBAO"),
    ("暖阳", "NUANYANG"),
    ("晶彩", "JINGCAI"),
    ("锋刃", "FENGREN"),
    ("恒久", "HENGJIU"),
    ("安居", "ANJU"),
    ("风行者", "FENGXINGZHE"),
    ("快乐鸭", "KUAILEYA"),
    ("舒眠", "SHUMIAN"),
    ("乐童", "LETONG"),
    ("骏驰", "JUNCHI"),
    ("厨乐宝", "CHULEBAO"),
    ("宝贝星", "BAOBEIXING"),
    ("速骑", "SUQI"),
    ("金太阳", "JINTAIYANG"),
)


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _rnd(*parts: object) -> random.Random:
    return random.Random(_seed(*parts))


def season_factor(tag: str | None, d: date) -> float:
    if not tag:
        return 1.0
    doy = d.timetuple().tm_yday
    if tag == "summer":
        return 1 + 0.6 * math.cos(2 * math.pi * (doy - 205) / 365.25)
    if tag == "winter":
        return 1 + 0.7 * math.cos(2 * math.pi * (doy - 15) / 365.25)
    if tag == "outdoor":
        return 1 + 0.3 * math.cos(2 * math.pi * (doy - 190) / 365.25)
    cny = (
        min(CNY.values(), key=lambda c: abs((c - d).days)) if d.year in CNY else date(d.year, 2, 5)
    )
    gap = (d - cny).days
    if tag == "cny":
        return 0.15 + 6.0 * math.exp(-((gap / 7.0) ** 2))
    if tag == "school":
        summer = (d.month == 7 and d.day >= 15) or d.month == 8
        return 0.45 if summer or abs(gap) <= 12 else 1.1
    return 1.0


def volume_factor(d: date, start: date) -> float:
    doy = d.timetuple().tm_yday
    seasonal = 1 + 0.08 * math.cos(2 * math.pi * (doy - 200) / 365.25)
    growth = 1.03 ** ((d - start).days / 365.25)
    cny = (
        min(CNY.values(), key=lambda c: abs((c - d).days)) if d.year in CNY else date(d.year, 2, 5)
    )
    holiday = 0.85 if abs((d - cny).days) <= 3 else 1.0
    return WEEKDAY[d.weekday()] * seasonal * growth * holiday


# ----------------------------------------------------------------------------- data classes


@dataclass(eq=False)
class Row:
    case: dict
    values: dict[str, str]
    tag: str = "new"  # new | duplicate | correction | void
    faulted: bool = False


@dataclass(eq=False)
class OutFile:
    hosp: Hospital
    style: Style
    name: str
    kind: str  # backfill | daily | resend | fix | fault
    day: date | None
    rows: list[Row] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    raw: bytes | None = None  # fixed content (empty / garbage files)
    copy_of: OutFile | None = None  # byte-identical resend
    file_fault: str = ""  # whole-file fault type
    data: bytes = b""
    stamp: datetime | None = None

    @property
    def ext(self) -> str:
        return "xlsx" if self.style.fmt == "xlsx" else "csv"

    @property
    def relpath(self) -> str:
        return f"landing/{self.hosp.code}/{self.name}"


@dataclass
class Context:
    seed: int
    start: date
    end: date
    daily_start: date
    weeks: int
    scale: float
    selected: list[Hospital]
    styles: dict[str, Style]
    silent: dict[str, tuple[date, date]]
    labels: dict[str, dict[str, str]]
    active_cats: set[str]


def late_senders(selected: list[Hospital], silent: set[str]) -> set[str]:
    """Hospitals that upload their daily files once a week, on the Wednesday after the week
    (the arrival manifest, ``arrivals.csv``): the first community hospital that is not the
    silent one. Community hospitals without an automatic HIS export often send in batches;
    the network report must show them as late (about 2 cases in 7 arrive after more than
    7 days) and the others on time. Only arrival times differ: the files are the same."""
    for h in selected:
        if h.type == "community" and h.code not in silent:
            return {h.code}
    return set()


# ----------------------------------------------------------------------------- case building


def _age(rnd: random.Random, group: str, sc: Scenario) -> tuple[int, str]:
    if group in ("inf", "tod"):
        lo, hi = (0, 11) if group == "inf" else (12, 35)
        if sc.months:
            lo2, hi2 = max(lo, sc.months[0]), min(hi, sc.months[1])
            if lo2 <= hi2:
                lo, hi = lo2, hi2
        months = rnd.randint(lo, hi)
        if group == "inf":
            if months == 0:
                return rnd.randint(1, 28), "days"
            if months < 2 and rnd.random() < 0.4:
                return months * 30 + rnd.randint(0, 29), "days"
            return months, "months"
        if rnd.random() < 0.45:
            return months, "months"
        return months // 12, "years"
    if group == "chi":
        return rnd.randint(3, 12), "years"
    if group == "teen":
        return rnd.randint(13, 17), "years"
    if group == "adu":
        return int(rnd.triangular(18, 65, 32)), "years"
    return int(rnd.triangular(65, 97, 70)), "years"


def _years(age: int, unit: str) -> float:
    return age if unit == "years" else age / 12 if unit == "months" else age / 365


def _outcome(rnd: random.Random, severity: str) -> str:
    if severity == "mild":
        return rnd.choices(("treated_released", "observed", "other"), weights=(90, 8, 2))[0]
    if severity == "moderate":
        return rnd.choices(
            ("treated_released", "observed", "admitted", "transferred"), weights=(45, 25, 25, 5)
        )[0]
    return rnd.choices(("admitted", "transferred", "observed", "died"), weights=(70, 17, 9, 4))[0]


def _ean13(rnd: random.Random) -> str:
    first = "69" + "".join(str(rnd.randint(0, 9)) for _ in range(10))
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str((10 - total % 10) % 10)


def _residence(rnd: random.Random, h: Hospital) -> str:
    r = rnd.random()
    if r < 0.02:
        return ""
    if r < 0.74:
        return h.region
    if r < 0.97:
        return rnd.choice(refdata.city_districts(h.region))
    others = [
        d for k, ds in sorted(refdata.CITY_DISTRICTS.items()) if k != h.region[:4] for d in ds
    ]
    return rnd.choice(others) if others else h.region


def make_case(
    ctx: Context,
    h: Hospital,
    style: Style,
    sc: Scenario,
    group: str,
    day: date,
    rnd: random.Random,
    hazard: HazardSpec | None = None,
) -> dict:
    """One synthetic case. The helpers draw from ``rnd`` in a fixed order (circumstances,
    times, product, narrative, patient, relation): changing it changes every later case."""
    lang = style.narrative
    c = _circumstances(rnd, sc, group)
    visit, injury = _times(rnd, day)
    product = _product(rnd, h, sc, lang, day, hazard)
    narrative = _narrative(rnd, h, sc, lang, c, product["mention"], hazard)
    residence, name, idno, tel = _patient(rnd, h, c, day, hazard)
    return {
        "hospital_code": h.code,
        "case_id": "",
        "report_type": "new",
        "sex": c["sex"],
        "age": c["age"],
        "age_unit": c["unit"],
        "residence_region": residence,
        "cause": c["cause"],
        "place": c["place"],
        "activity": c["activity"],
        "intent": c["intent"],
        "injury_nature": c["nature"],
        "body_region": c["region"],
        "severity": c["severity"],
        "outcome": c["outcome"],
        "product_name": product["product_name"],
        "product_category": product["category_given"],
        "brand": product["brand"],
        "model": product["model"],
        "batch": product["batch"],
        "barcode": product["barcode"],
        "product_relation": c["relation"] if sc.cat or rnd.random() < 0.5 else "",
        "narrative": narrative,
        "patient_name": name,
        "patient_id_number": idno,
        "patient_phone": tel,
        "_visit": visit,
        "_injury": injury,
        "_scenario": sc.key,
        "_cat": sc.cat,
        "_hazard": hazard.id if hazard else "",
        "_lang": lang,
        "_deliver": None,
    }


def _circumstances(rnd: random.Random, sc: Scenario, group: str) -> dict:
    """Age, sex, injury, cause, place, activity, intent, severity, outcome and relation."""
    age, unit = _age(rnd, group, sc)
    yrs = _years(age, unit)
    sex = "male" if rnd.random() < sc.male else "female"
    if rnd.random() < 0.004:
        sex = "unknown"
    nature, region, _, fixed_cause = rnd.choices(sc.inj, weights=[x[2] for x in sc.inj])[0]
    cause = fixed_cause or wchoice(rnd, sc.cause)
    place = wchoice(rnd, sc.place)
    if yrs < 3 and place in ("school", "workplace", "farm", "sports_area"):
        place = "home"
    if rnd.random() < 0.02:
        place = "unknown"
    activity = wchoice(rnd, sc.act)
    if yrs < 16 and activity == "work":
        activity = "leisure"
    if yrs < 3 and activity in ("study", "sport", "travel"):
        activity = "leisure"
    if rnd.random() < 0.03:
        activity = "unknown"
    intent = wchoice(rnd, sc.intent)
    if intent == "self_harm" and yrs < 12:
        intent = "unintentional"
    severity = rnd.choices(("mild", "moderate", "severe"), weights=sc.sev)[0]
    outcome = _outcome(rnd, severity)
    relation = wchoice(rnd, sc.rel)
    return {
        "age": age,
        "unit": unit,
        "yrs": yrs,
        "sex": sex,
        "nature": nature,
        "region": region,
        "cause": cause,
        "place": place,
        "activity": activity,
        "intent": intent,
        "severity": severity,
        "outcome": outcome,
        "relation": relation,
    }


def _times(rnd: random.Random, day: date) -> tuple[datetime, datetime | None]:
    """Visit time on ``day`` and the injury time before it (unknown for about 1 case in 7)."""
    hour = rnd.choices(range(24), weights=HOUR_W)[0]
    visit = datetime.combine(day, time(hour, rnd.randrange(60)))
    injury = None
    if rnd.random() < 0.86:
        minutes = min(rnd.lognormvariate(4.2, 0.9), 2880)
        if rnd.random() < 0.04:
            minutes += 1440 * rnd.randint(1, 3)
        injury = visit - timedelta(minutes=int(minutes) + 5)
    return visit, injury


def _product(
    rnd: random.Random,
    h: Hospital,
    sc: Scenario,
    lang: str,
    day: date,
    hazard: HazardSpec | None,
) -> dict[str, str]:
    """Product name as written, its mention in the narrative, brand/model/batch/barcode and the
    category the hospital filled in (blank for cases without a product)."""
    product_name = mention = brand = model = batch = barcode = category_given = ""
    if sc.cat:
        names = sc.zp if lang == "zh" else sc.ep
        written = wchoice(rnd, names)
        mention = written if rnd.random() < 0.7 else wchoice(rnd, names)
        if lang == "en" and rnd.random() < 0.5:
            written = written.title()
        product_name = written if rnd.random() < 0.92 else ""
        fill = CODE_FILL.get(h.type, 0.7)
        if rnd.random() < fill:
            category_given = sc.cat
        if hazard and hazard.brand_zh and rnd.random() < 0.45:
            brand = hazard.brand_zh if lang == "zh" else hazard.brand_en
            model = hazard.model if hazard.model and rnd.random() < 0.6 else ""
        elif rnd.random() < 0.18:
            b_zh, b_en = rnd.choice(BRANDS)
            brand = b_zh if lang == "zh" else b_en
            if rnd.random() < 0.45:
                model = f"{b_en[:2]}-{rnd.randint(10, 990)}{rnd.choice('ABCDEFKMPSX')}"
        if rnd.random() < 0.04:
            batch = (
                f"{day.year - rnd.randint(0, 2)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
                f"{rnd.choice('ABC')}"
            )
        if rnd.random() < 0.06:
            barcode = _ean13(rnd)
    return {
        "product_name": product_name,
        "mention": mention,
        "brand": brand,
        "model": model,
        "batch": batch,
        "barcode": barcode,
        "category_given": category_given,
    }


def _narrative(
    rnd: random.Random,
    h: Hospital,
    sc: Scenario,
    lang: str,
    c: dict,
    mention: str,
    hazard: HazardSpec | None,
) -> str:
    nature, region, cause, yrs = c["nature"], c["region"], c["cause"], c["yrs"]
    event_tpl = pick(rnd, sc.ze if lang == "zh" else sc.ee, nature, region, cause, yrs)
    n_items = rnd.randint(2, 8)
    event = event_tpl.format(p=mention, n=n_items)
    hint = event_tpl.format(p="", n=n_items)
    facts = Facts(
        age=c["age"],
        age_unit=c["unit"],
        sex=c["sex"],
        place=c["place"],
        cause=cause,
        nature=nature,
        region=region,
        severity=c["severity"],
        outcome=c["outcome"],
        product=mention,
        event_zh=event,
        event_en=event,
        burn=sc.burn,
        other_zh=matching(sc.zo, nature, region, cause, yrs),
        other_en=matching(sc.eo, nature, region, cause, yrs),
        hint_zh=hint,
        hint_en=hint,
        parts=sc.parts,
    )
    if lang == "zh":
        terse = 0.35 if h.type == "community" else 0.0
        return narrative_zh(facts, rnd, require_event=bool(hazard), terse=terse)
    return narrative_en(facts, rnd, require_event=bool(hazard))


def _patient(
    rnd: random.Random, h: Hospital, c: dict, day: date, hazard: HazardSpec | None
) -> tuple[str, str, str, str]:
    """Residence code, name, ID-card number and phone of the patient (clear identifiers:
    intake must pseudonymise them)."""
    age, unit, sex, yrs = c["age"], c["unit"], c["sex"], c["yrs"]
    residence = _residence(rnd, h)
    if hazard and hazard.scope == "city" and residence[:4] != h.region[:4]:
        residence = rnd.choice(refdata.city_districts(h.region))
    if unit == "days" and rnd.random() < 0.8:
        mother = person_name(rnd, "female")
        name = f"{mother}之{'子' if sex == 'male' else '女'}"
        idno = ""
    else:
        name = person_name(rnd, sex) if rnd.random() < 0.96 else ""
        idno = ""
        if rnd.random() < (0.7 if yrs < 14 else 0.85):
            birth = birth_date(rnd, day, age, unit)
            idno = id_number(
                rnd, residence or h.region, birth, sex if sex != "unknown" else "female"
            )
    tel = phone(rnd) if rnd.random() < 0.88 else ""
    return residence, name, idno, tel


def format_values(case: dict, style: Style, labels: dict[str, dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in style.columns():
        if name == "visit_datetime":
            out[name] = case["_visit"].strftime(style.date_fmt)
        elif name == "injury_datetime":
            out[name] = case["_injury"].strftime(style.date_fmt) if case["_injury"] else ""
        elif name in ENUM_FIELDS:
            value = str(case.get(name, ""))
            if style.labels == "zh" and value:
                value = labels[name if name != "product_relation" else "product_relation"][value]
            out[name] = value
        else:
            out[name] = str(case.get(name, ""))
    if "report_type" in out and case.get("_blank_report_type"):
        out["report_type"] = ""
    return out


# ----------------------------------------------------------------------------- per hospital


def _scenario_table(ctx: Context, htype: str) -> tuple[list[tuple[Scenario, str]], np.ndarray]:
    """(scenario, age group) pairs and their base weights for one hospital type."""
    mult = AGE_MULT.get(htype, AGE_MULT["general_tertiary"])
    pairs, weights = [], []
    for sc in CATALOG:
        if sc.cat and (sc.cat in NO_BACKGROUND or sc.cat not in ctx.active_cats):
            continue
        total = sum(sc.ages.values())
        for g in AGE_GROUPS:
            w = sc.w * sc.ages.get(g, 0.0) / total * mult[g]
            if w > 0:
                pairs.append((sc, g))
                weights.append(w)
    for sc in generic_scenarios(ctx):
        total = sum(sc.ages.values())
        for g in AGE_GROUPS:
            w = sc.w * sc.ages.get(g, 0.0) / total * mult[g]
            if w > 0:
                pairs.append((sc, g))
                weights.append(w)
    return pairs, np.array(weights, dtype=float)


def generic_scenarios(ctx: Context) -> list[Scenario]:
    """Generic scenarios built from the taxonomy for categories the catalog does not cover."""
    from sentinel_tools.sample.catalog import S, by_category  # noqa: PLC0415

    covered = set(by_category())
    out = []
    for row in refdata.taxonomy():
        code = row["category_code"]
        if code in covered or code in NO_BACKGROUND or code not in ctx.active_cats:
            continue
        desc = row.get("description_en", "").lower()
        if any(k in desc for k in ("burn", "scald", "fire")):
            cause, inj = "burn_scald:1", "bu.ul:3 bu.fc:1"
        elif any(k in desc for k in ("suffocation", "strangulation", "overheating")):
            cause, inj = "suffocation_choking:1", "ot.wb:2 ot.nk:1"
        elif any(k in desc for k in ("ingestion", "choking", "swallow")):
            cause, inj = "other:1", "fb.tr:2 fb.nk:1"
        elif "poison" in desc or "skin" in desc:
            cause, inj = "poisoning:1", "po.wb:1 ot.tr:1"
        elif "laceration" in desc or "cut" in desc:
            cause, inj = "cut_pierce:1", "ct.ul:3 ct.fc:1"
        elif "fall" in desc:
            cause, inj = "fall:1", "br.hd:2 fx.ul:1 br.mu:1"
        else:
            cause, inj = "blunt_force:1", "br.ul:2 ct.ul:1 br.hd:1"
        kid = row.get("family_code") in ("TY", "CP") or "infant" in desc or "children" in desc
        zh, en = row["name_zh"], row["name_en"].upper()
        out.append(
            S(
                code,
                f"generic_{code}",
                0.12,
                "baby" if "infant" in desc else "kid" if kid else "all",
                cause,
                inj,
                f"{zh}:1",
                f"{en}:1",
                ["使用{p}时受伤", "被{p}所伤", "因{p}受伤"],
                ["INJURED BY {p}", "INJURY INVOLVING {p}"],
            )
        )
    return out


def _hospital_cases(
    ctx: Context, h: Hospital, idx: int, hazards: list[tuple[HazardSpec, list[Hospital]]]
) -> list[dict]:
    style = ctx.styles[h.code]
    first = max(ctx.start, h.active_from or ctx.start)
    last = min(ctx.end, h.active_to or ctx.end)
    if first > last:
        return []
    silent = ctx.silent.get(h.code)
    pairs, base = _scenario_table(ctx, h.type)
    seasons = sorted({sc.season or "" for sc, _ in pairs})
    season_idx = np.array([seasons.index(sc.season or "") for sc, _ in pairs])
    rng = np.random.default_rng(_seed(ctx.seed, "volume", h.code))
    rnd = _rnd(ctx.seed, "cases", h.code)
    cases: list[dict] = []
    n_weeks = ctx.weeks
    for w in range(n_weeks):
        wk_start = ctx.start + timedelta(days=7 * w)
        days = [wk_start + timedelta(days=i) for i in range(7)]
        mid = wk_start + timedelta(days=3)
        sf = np.array([season_factor(s or None, mid) for s in seasons])
        p = base * sf[season_idx]
        p = p / p.sum()
        lam = np.array(
            [
                h.daily_volume * ctx.scale * volume_factor(d, ctx.start)
                if first <= d <= last and not (silent and silent[0] <= d <= silent[1])
                else 0.0
                for d in days
            ]
        )
        counts = rng.poisson(lam)
        draws = rng.choice(len(pairs), size=int(counts.sum()), p=p)
        k = 0
        for d, n in zip(days, counts, strict=True):
            for _ in range(int(n)):
                sc, g = pairs[int(draws[k])]
                k += 1
                cases.append(make_case(ctx, h, style, sc, g, d, rnd))
    # injected hazards
    hrnd = _rnd(ctx.seed, "hazard-cases", h.code)
    hrng = np.random.default_rng(_seed(ctx.seed, "hazard-volume", h.code))
    for spec, hosps in hazards:
        if h not in hosps:
            continue
        share = math.sqrt(h.daily_volume) / sum(math.sqrt(x.daily_volume) for x in hosps)
        onset = _onset_monday(ctx, spec)
        for w in range(n_weeks):
            wk_start = ctx.start + timedelta(days=7 * w)
            since = (wk_start - onset).days // 7
            rate = spec.rate_at(since) * share
            if rate <= 0:
                continue
            for _ in range(int(hrng.poisson(rate))):
                d = wk_start + timedelta(days=hrnd.randrange(7))
                if not (first <= d <= last) or (silent and silent[0] <= d <= silent[1]):
                    continue
                sc = spec.scenario
                total = sum(sc.ages.values())
                groups = [
                    g
                    for g in AGE_GROUPS
                    if sc.ages.get(g, 0) > 0
                    and AGE_MULT.get(h.type, AGE_MULT["general_tertiary"])[g] > 0
                ]
                if not groups:
                    continue
                g = hrnd.choices(groups, weights=[sc.ages[g] / total for g in groups])[0]
                cases.append(make_case(ctx, h, style, sc, g, d, hrnd, hazard=spec))
    cases.sort(key=lambda c: (c["_visit"], c["_hazard"], c["narrative"]))
    _assign_ids(ctx, h, style, cases)
    _assign_delivery(ctx, h, cases)
    return cases


def _onset_monday(ctx: Context, spec: HazardSpec) -> date:
    back = max(1, min(spec.onset_back, ctx.weeks - 1)) if ctx.weeks > 1 else 0
    final_monday = ctx.end - timedelta(days=6)
    return final_monday - timedelta(days=7 * back)


def _assign_ids(ctx: Context, h: Hospital, style: Style, cases: list[dict]) -> None:
    rnd = _rnd(ctx.seed, "ids", h.code)
    per_day: dict[date, int] = {}
    per_year: dict[int, int] = {}
    running = rnd.randint(1000, 90000) + 10_000_000
    for c in cases:
        d = c["_visit"].date()
        per_day[d] = per_day.get(d, 0) + 1
        per_year[d.year] = per_year.get(d.year, 0) + 1
        running += 1
        if style.case_id == "dash":
            c["case_id"] = f"{h.code}-{d:%Y%m%d}-{per_day[d]:04d}"
        elif style.case_id == "num":
            c["case_id"] = f"{d:%y%m%d}{per_day[d]:04d}"
        elif style.case_id == "prefix":
            c["case_id"] = f"INJ{d:%Y}{per_year[d.year]:06d}"
        else:
            c["case_id"] = str(running)
        c["_blank_report_type"] = rnd.random() < 0.04


def _assign_delivery(ctx: Context, h: Hospital, cases: list[dict]) -> None:
    rnd = _rnd(ctx.seed, "delivery", h.code)
    silent = ctx.silent.get(h.code)
    last = min(ctx.end, h.active_to or ctx.end)
    for c in cases:
        d = c["_visit"].date()
        if d < ctx.daily_start:
            c["_deliver"] = None  # monthly backfill
            continue
        lag = rnd.choices((0, 1, 2, 3), weights=(90, 6, 3, 1))[0]
        deliver = min(d + timedelta(days=lag), last)
        if silent and silent[0] <= deliver <= silent[1]:
            deliver = min(silent[1] + timedelta(days=1), last)
        c["_deliver"] = deliver


def _hospital_files(ctx: Context, h: Hospital, cases: list[dict]) -> list[OutFile]:
    style = ctx.styles[h.code]
    ext = "xlsx" if style.fmt == "xlsx" else "csv"
    cols = style.columns()
    files: dict[str, OutFile] = {}
    for c in cases:
        if c["_deliver"] is None:
            name = f"{h.code}_backfill_{c['_visit']:%Y%m}.{ext}"
            kind, day = "backfill", None
        else:
            name = f"{h.code}_{c['_deliver']:%Y%m%d}.{ext}"
            kind, day = "daily", c["_deliver"]
        f = files.get(name)
        if f is None:
            f = files[name] = OutFile(h, style, name, kind, day, columns=list(cols))
        f.rows.append(Row(c, format_values(c, style, ctx.labels)))
    for f in files.values():  # on-time cases by visit time, then the late ones
        if f.kind == "daily":
            f.rows.sort(
                key=lambda r: (
                    r.case["_visit"].date() != f.day,
                    r.case["_visit"],
                    r.case["case_id"],
                )
            )
    return [files[k] for k in sorted(files)]


# ----------------------------------------------------------------------------- rendering


def _stamp(f: OutFile) -> datetime:
    if f.day is not None:
        return datetime.combine(f.day, time(23, 30))
    visits = [r.case["_visit"] for r in f.rows]
    last = max(visits) if visits else datetime(2000, 1, 1)
    return datetime.combine(last.date(), time(23, 59))


def render(f: OutFile) -> bytes:
    if f.copy_of is not None:
        return f.copy_of.data
    if f.raw is not None:
        return f.raw
    header = [f.style.header(c) for c in f.columns]
    if f.style.fmt == "xlsx":
        date_cols = [i for i, c in enumerate(f.columns) if c in DATE_FIELDS]
        rows = []
        for r in f.rows:
            out: list[object] = []
            for c in f.columns:
                v = r.values.get(c, "")
                if c in DATE_FIELDS and v:
                    try:
                        out.append(datetime.strptime(v, f.style.date_fmt))
                        continue
                    except ValueError:
                        pass
                if c == "age" and v.lstrip("-").isdigit():
                    out.append(int(v))
                    continue
                out.append(v if v != "" else None)
            rows.append(out)
        f.stamp = _stamp(f)
        return xlsx_bytes(header, rows, stamp=f.stamp, date_columns=date_cols)
    return csv_bytes(
        header,
        ([r.values.get(c, "") for c in f.columns] for r in f.rows),
        encoding=f.style.encoding,
        newline=f.style.newline,
    )


# ----------------------------------------------------------------------------- entry point


def _clean(out_dir: Path) -> None:
    for name in ("landing",):
        target = out_dir / name
        if target.exists():
            shutil.rmtree(target)
    for name in ("ground_truth.json", "ground_truth_cases.csv", "README.md", "arrivals.csv"):
        (out_dir / name).unlink(missing_ok=True)


def generate_network(
    out_dir: Path,
    *,
    seed: int,
    hospitals: int = 8,
    weeks: int = 104,
    end_date: date = date(2026, 11, 22),
    daily_weeks: int = 8,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write a sample sentinel network under ``out_dir`` and return a summary.

    ``out_dir/landing/<hospital>/`` receives the hospital extracts (monthly backfill files for
    the history, daily files for the last ``daily_weeks`` weeks), ``ground_truth.json`` describes
    hazards, faults, identifiers and per-hospital files, ``ground_truth_cases.csv`` the true
    category / scenario / hazard of every case, ``README.md`` a short summary. Same arguments,
    same bytes.
    """
    from sentinel_tools.sample.faults import inject_faults  # noqa: PLC0415
    from sentinel_tools.sample.report import write_outputs  # noqa: PLC0415

    say = progress or (lambda _msg: None)
    if end_date.weekday() != 6:
        raise ValueError(
            f"end_date must be a Sunday (end of an ISO week), got {end_date:%A %Y-%m-%d}"
        )
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    if not 0 <= daily_weeks <= weeks:
        raise ValueError(
            f"--daily-weeks ({daily_weeks}) must be between 0 and --weeks ({weeks}): "
            f"pass --daily-weeks {min(8, weeks)} or fewer"
        )
    if scale <= 0:
        raise ValueError("scale must be positive")
    production = [h for h in refdata.hospital_list() if not h.is_test]
    if hospitals < 1 or hospitals > len(production):
        raise ValueError(
            f"hospitals must be between 1 and {len(production)} "
            f"(production hospitals in the registry), got {hospitals}"
        )
    selected = production[:hospitals]
    start = end_date - timedelta(days=7 * weeks - 1)
    daily_start = end_date - timedelta(days=7 * daily_weeks - 1)
    styles = {h.code: style_for(i) for i, h in enumerate(selected)}
    labels = {cs: refdata.zh_labels(cs) for cs in ENUM_FIELDS}
    ctx = Context(
        seed=seed,
        start=start,
        end=end_date,
        daily_start=daily_start,
        weeks=weeks,
        scale=scale,
        selected=selected,
        styles=styles,
        silent={},
        labels=labels,
        active_cats=set(refdata.active_categories(start)),
    )
    # silent hospital: two full ISO weeks inside the daily period, before the final week
    silent_weeks: list[str] = []
    if daily_weeks >= 3:
        back = 5 if daily_weeks >= 6 else 3
        s0 = end_date - timedelta(days=7 * back - 1)
        silent_host = selected[-1] if len(selected) > 1 else selected[0]
        ctx.silent[silent_host.code] = (s0, s0 + timedelta(days=13))
        silent_weeks = [iso_week(s0), iso_week(s0 + timedelta(days=7))]

    narr = {h.code: styles[h.code].narrative for h in selected}
    hazard_plan = [(spec, select_hospitals(spec, selected, narr)) for spec in HAZARDS]

    files_by_hosp: dict[str, list[OutFile]] = {}
    cases_by_hosp: dict[str, list[dict]] = {}
    for i, h in enumerate(selected):
        cases = _hospital_cases(ctx, h, i, hazard_plan)
        cases_by_hosp[h.code] = cases
        files_by_hosp[h.code] = _hospital_files(ctx, h, cases)
        say(
            f"{h.code}: {len(cases):,} cases, {len(files_by_hosp[h.code])} files "
            f"({styles[h.code].key})"
        )

    faults = inject_faults(ctx, files_by_hosp, _rnd(seed, "faults"))
    say(f"injected {len(faults)} faults")

    # NEISS-format file for the first test hospital of the registry
    neiss_entries = []
    test_hosps = [h for h in refdata.hospital_list() if h.is_test]
    neiss_payload = None
    if test_hosps:
        th = test_hosps[0]
        data, n = neiss_file(_rnd(seed, "neiss"), end_date)
        rel = f"landing/{th.code}/neiss_{end_date:%Y%m%d}.tsv"
        neiss_payload = (rel, data)
        neiss_entries.append(
            {
                "hospital": th.code,
                "file": rel,
                "format": "neiss",
                "rows": n,
                "delimiter": "tab",
                "encoding": "utf-8",
                "is_test_hospital": True,
                "expected": "stored",
                "description": "public NEISS column set and codes (tab-separated); "
                "ages 201-223 = 1-23 months",
            }
        )

    _clean(out_dir)
    summary = write_outputs(
        out_dir,
        ctx=ctx,
        files_by_hosp=files_by_hosp,
        cases_by_hosp=cases_by_hosp,
        faults=faults,
        hazard_plan=hazard_plan,
        silent_weeks=silent_weeks,
        neiss=(neiss_entries, neiss_payload),
        args={
            "seed": seed,
            "hospitals": hospitals,
            "weeks": weeks,
            "end_date": end_date.isoformat(),
            "daily_weeks": daily_weeks,
            "scale": scale,
        },
        render=render,
        onset=lambda spec: _onset_monday(ctx, spec),
    )
    say(
        f"wrote {summary['files']:,} files, {summary['cases']:,} cases, "
        f"{summary['bytes'] / 1e6:.1f} MB"
    )
    return summary
