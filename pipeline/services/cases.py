"""Case search: the query builder of the web app (and anything else that wants it).

A :class:`CaseQuery` says which cases: product categories (a whole family or single
categories, by final category: the coding of the case's current version, unless it waits for a
coder), visit dates, age groups, sex, body part, injury nature, severity, outcome, hospitals, the
hospitals' cities and words of the narrative or product name (Chinese or English: every term
must occur, case-insensitive; "quoted phrases" stay whole). Test hospitals are left out, as in
every statistic.

:func:`search` answers with the total, the weekly counts (every week between the first and the
last, zeros included) and one page of de-identified rows; :func:`export` gives the same rows as a
formula-safe CSV or XLSX file. Everything reads the published snapshot only
(:func:`pipeline.storage.session.open_reader`); nothing here writes the warehouse. Saved queries
live in the application database (:func:`save_query` and friends), one set per user.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import cache

import duckdb
import pandas as pd

from pipeline import reference
from pipeline.appdb import workspace
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.errors import BadInput
from pipeline.escaping import safe_csv_bytes, safe_xlsx_bytes
from pipeline.isoweek import format_iso_week, week_range
from pipeline.reporting.context import FINAL_CATEGORY
from pipeline.storage import read_tables
from pipeline.storage.read_tables import AGE_YEARS
from pipeline.storage.session import Snapshots, open_reader, read_cached

# Age groups in years: [low, high); the unit of the case's age is respected (months, days).
AGE_GROUPS: dict[str, tuple[float, float | None]] = {
    "0": (0, 1),
    "1-4": (1, 5),
    "5-9": (5, 10),
    "10-14": (10, 15),
    "15-24": (15, 25),
    "25-44": (25, 45),
    "45-64": (45, 65),
    "65+": (65, None),
}
# Query fields holding codes of a code set (pipeline/reference/data/codesets.csv).
CODED = ("sex", "body_region", "injury_nature", "severity", "outcome")
MAX_TERMS, MAX_TERM_LENGTH, MAX_VALUES = 8, 100, 200
# The de-identified columns of a result row and of an export: no identifier pseudonyms, no
# visit time of day, no submission bookkeeping (narratives were scrubbed at intake).
EXPORT_COLUMNS = [
    "hospital_code",
    "case_id",
    "visit_date",
    "visit_week",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "cause",
    "place",
    "injury_nature",
    "body_region",
    "severity",
    "outcome",
    "product_name",
    "brand",
    "model",
    "category_code",
    "category_name",
    "product_relation",
    "narrative",
]
_TERM_RE = re.compile(r'"([^"]+)"|(\S+)')


def _problem(en: str, zh: str) -> BadInput:
    return BadInput(en, detail_zh=zh)


@dataclass(frozen=True)
class Facets:
    """What a query may name: the taxonomy tree, the code sets, production hospitals, cities."""

    families: list[dict]  # {code, name_en, name_zh, categories: [{code, name_en, name_zh}]}
    codesets: dict[str, list[dict]]  # codeset -> [{code, label_en, label_zh}]
    hospitals: list[dict]  # {code, name_en, name_zh, city_code}
    cities: list[dict]  # {code, name_en, name_zh, latitude, longitude}

    @property
    def category_codes(self) -> set[str]:
        return {c["code"] for f in self.families for c in f["categories"]}

    @property
    def family_codes(self) -> set[str]:
        return {f["code"] for f in self.families}

    def category_name(self, code: str | None, lang: str) -> str:
        for family in self.families:
            for category in family["categories"]:
                if category["code"] == code:
                    return category["name_zh" if lang == "zh" else "name_en"]
        return code or ""

    def label(self, codeset: str, code: object, lang: str) -> str:
        for item in self.codesets.get(codeset, []):
            if item["code"] == code:
                return item["label_zh" if lang == "zh" else "label_en"]
        return "" if code is None else str(code)


@cache
def _facets(registry: str | None) -> Facets:
    taxonomy = reference.load_taxonomy()
    families: list[dict] = []
    for code, rows in taxonomy.groupby("family_code", sort=False):
        families.append(
            {
                "code": code,
                "name_en": rows["family_en"].iloc[0],
                "name_zh": rows["family_zh"].iloc[0],
                "categories": [
                    {"code": r.category_code, "name_en": r.name_en, "name_zh": r.name_zh}
                    for r in rows.itertuples(index=False)
                ],
            }
        )
    sets = reference.load_codesets()
    codesets = {
        name: [
            {"code": r.code, "label_en": r.label_en, "label_zh": r.label_zh}
            for r in sets[sets["codeset"] == name].itertuples(index=False)
        ]
        for name in (*CODED, "age_unit", "cause", "place", "product_relation")
    }
    registry_frame = reference.load_hospitals(None if registry is None else registry)
    cities = reference.load_cities()
    production = registry_frame[~registry_frame["is_test"]]
    hospitals = [
        {
            "code": r.hospital_code,
            "name_en": r.name_en,
            "name_zh": r.name_zh,
            "city_code": reference.city_code(r.region_code),
        }
        for r in production.itertuples(index=False)
    ]
    used = {h["city_code"] for h in hospitals}
    city_rows = [
        {
            "code": r.city_code,
            "name_en": r.name_en,
            "name_zh": r.name_zh,
            "latitude": r.latitude,
            "longitude": r.longitude,
        }
        for r in cities.itertuples(index=False)
        if r.city_code in used
    ]
    return Facets(families, codesets, hospitals, city_rows)


def facets(registry: object = None) -> Facets:
    """The facets for the hospital registry at ``registry`` (None: the packaged one)."""
    return _facets(None if registry is None else str(registry))


@dataclass(frozen=True)
class CaseQuery:
    categories: tuple[str, ...] = ()  # category codes and family codes (a whole family)
    date_from: date | None = None
    date_to: date | None = None
    age_groups: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()
    body_region: tuple[str, ...] = ()
    injury_nature: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    hospitals: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, Sequence[str]], known: Facets) -> CaseQuery:
        """A query from form or URL parameters (each a list of values); every value is checked
        against the reference data (``BadInput`` in zh and en names the field)."""

        def values(name: str) -> tuple[str, ...]:
            items: list[str] = []
            for raw in params.get(name, ()):
                items.extend(v.strip() for v in str(raw).split(",") if v.strip())
            if len(items) > MAX_VALUES:
                raise _problem(f"too many values for {name}", f"{name} 的取值过多")
            return tuple(dict.fromkeys(items))

        def one_date(name: str) -> date | None:
            raw = (values(name) or ("",))[0]
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise _problem(
                    f"{name}: {raw[:20]!r} is not a date (YYYY-MM-DD)",
                    f"{name}：{raw[:20]!r} 不是日期（YYYY-MM-DD）",
                ) from None

        def check(name: str, given: tuple[str, ...], allowed: set[str]) -> tuple[str, ...]:
            unknown = [v for v in given if v not in allowed]
            if unknown:
                shown = ", ".join(v[:20] for v in unknown[:5])
                raise _problem(f"{name}: unknown value {shown}", f"{name}：未知的取值 {shown}")
            return given

        categories = tuple(v.upper() for v in values("category"))
        query = cls(
            categories=check("category", categories, known.category_codes | known.family_codes),
            date_from=one_date("date_from"),
            date_to=one_date("date_to"),
            age_groups=check("age_group", values("age_group"), set(AGE_GROUPS)),
            hospitals=check(
                "hospital",
                tuple(v.upper() for v in values("hospital")),
                {h["code"] for h in known.hospitals},
            ),
            cities=check("city", values("city"), {c["code"] for c in known.cities}),
            text=" ".join(" ".join(params.get("q", ())).split())[: MAX_TERMS * MAX_TERM_LENGTH],
            **{
                name: check(
                    name, values(name), {item["code"] for item in known.codesets.get(name, [])}
                )
                for name in CODED
            },
        )
        if query.date_from and query.date_to and query.date_from > query.date_to:
            raise _problem(
                f"the first visit date {query.date_from} is after the last {query.date_to}",
                f"起始就诊日期 {query.date_from} 晚于截止日期 {query.date_to}",
            )
        query.terms()  # refuse an unusable text now
        return query

    def terms(self) -> list[str]:
        """The words and "quoted phrases" of ``text`` (NFKC, lower case), each to be found."""
        found = [t.lower() for t in self.words()]
        if len(found) > MAX_TERMS:
            raise _problem(
                f"at most {MAX_TERMS} search terms", f"全文检索最多 {MAX_TERMS} 个检索词"
            )
        if any(len(t) > MAX_TERM_LENGTH for t in found):
            raise _problem(
                f"a search term is longer than {MAX_TERM_LENGTH} characters",
                f"检索词超过 {MAX_TERM_LENGTH} 个字符",
            )
        return found

    def words(self) -> list[str]:
        """The words and "quoted phrases" of ``text`` (NFKC, case kept)."""
        text = unicodedata.normalize("NFKC", self.text)
        found = [(a or b).strip() for a, b in _TERM_RE.findall(text)]
        return [t for t in found if t]

    def params(self) -> list[tuple[str, str]]:
        """URL parameters that :meth:`parse` reads back to this query."""
        out: list[tuple[str, str]] = []
        names = {"categories": "category", "age_groups": "age_group", "hospitals": "hospital"}
        names["cities"] = "city"
        for f in fields(self):
            value = getattr(self, f.name)
            key = names.get(f.name, f.name)
            if f.name == "text":
                if value:
                    out.append(("q", value))
            elif isinstance(value, tuple):
                out.extend((key, v) for v in value)
            elif value is not None:
                out.append((key, value.isoformat()))
        return out

    def to_json(self) -> str:
        data = asdict(self)
        for name in ("date_from", "date_to"):
            data[name] = data[name].isoformat() if data[name] else None
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, known: Facets) -> CaseQuery:
        data = json.loads(text)
        params = {k: list(v) if isinstance(v, list) else [v] for k, v in data.items() if v}
        return cls.parse(
            {
                {"categories": "category", "age_groups": "age_group", "hospitals": "hospital"}.get(
                    k, {"cities": "city", "text": "q"}.get(k, k)
                ): [str(x) for x in v]
                for k, v in params.items()
            },
            known,
        )

    @property
    def is_empty(self) -> bool:
        return self == CaseQuery()


def _where(
    query: CaseQuery, known: Facets, derived: bool = False
) -> tuple[list[str], list[object]]:
    """SQL conditions on ``c`` for ``query``. ``derived``: ``c`` is the snapshot's search table
    (``read_tables.SEARCH_TABLE``: active cases of production hospitals, final category, age in
    years and lower-cased text computed at publication); otherwise the ``cases`` table joined
    with its codings as ``k``."""
    clauses = (
        []
        if derived
        else [
            "c.status = 'active'",
            "c.hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')",
        ]
    )
    params: list[object] = []

    def among(expr: str, values: Sequence[object]) -> None:
        clauses.append(f"{expr} IN ({', '.join('?' for _ in values)})")
        params.extend(values)

    if query.categories:
        families = [c for c in query.categories if c in known.family_codes]
        singles = [c for c in query.categories if c not in known.family_codes]
        codes = singles + [
            cat["code"] for f in known.families if f["code"] in families for cat in f["categories"]
        ]
        if derived:
            among("c.category_code", sorted(set(codes)))
        else:
            # The final category (FINAL_CATEGORY), written so the filter reaches the codings'
            # scan.
            clauses.append("NOT k.needs_review")
            among("k.category_code", sorted(set(codes)))
    visit_date = "c.visit_date" if derived else "CAST(c.visit_datetime AS DATE)"
    if query.date_from:
        clauses.append(f"{visit_date} >= ?")
        params.append(query.date_from)
    if query.date_to:
        clauses.append(f"{visit_date} <= ?")
        params.append(query.date_to)
    if query.age_groups:
        years = "c.age_years" if derived else AGE_YEARS
        parts = []
        for group in query.age_groups:
            low, high = AGE_GROUPS[group]
            parts.append(f"({years} >= ?" + (f" AND {years} < ?)" if high is not None else ")"))
            params.extend([low] if high is None else [low, high])
        clauses.append("(" + " OR ".join(parts) + ")")
    for name in CODED:
        chosen = getattr(query, name)
        if chosen:
            among(f"c.{name}", chosen)
    if query.hospitals:
        among("c.hospital_code", query.hospitals)
    if query.cities:
        hospitals = [h["code"] for h in known.hospitals if h["city_code"] in query.cities]
        among("c.hospital_code", hospitals or ["-"])
    if derived:
        query.terms()  # the same limits as below
        for word in query.words():
            # Lower-cased by the function that lower-cased the stored text (one code point at
            # a time, so a word written as in the text is always found). A word never holds the
            # line break between narrative and product name (words are split on white space).
            clauses.append("contains(c.search_text, lower(?))")
            params.append(word)
    for term in [] if derived else query.terms():
        if _uncased(term):
            # No character of the term has another case (Chinese words, digits): a plain
            # substring test finds exactly what the case-insensitive pattern finds, faster.
            clauses.append(f"({_contains('c.narrative')} OR {_contains('c.product_name')})")
            params.extend([term] * 2)
        else:
            clauses.append(f"({_matches('c.narrative')} OR {_matches('c.product_name')})")
            params.extend([_pattern(term)] * 2)
    return clauses, params


# Characters with no other case under any case folding: CJK ideographs, CJK punctuation,
# kana, ASCII digits, spaces and punctuation (not letters: "k" also matches the Kelvin sign).
_UNCASED_RANGES = (
    (0x20, 0x40),
    (0x5B, 0x60),
    (0x7B, 0x7E),
    (0x3000, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF01, 0xFF20),
)


def _uncased(term: str) -> bool:
    return bool(term) and all(
        any(low <= ord(ch) <= high for low, high in _UNCASED_RANGES) for ch in term
    )


def _contains(column: str) -> str:
    return f"contains(coalesce({column}, ''), ?)"


_RE2_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _matches(column: str) -> str:
    return f"regexp_matches(coalesce({column}, ''), ?)"


def _pattern(term: str) -> str:
    """A case-insensitive RE2 pattern matching ``term`` literally (RE2's metacharacters
    escaped; anything else, Chinese included, stands for itself)."""
    return "(?i)" + "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in term)


_FROM_CASES = """
    FROM cases c"""
_FROM = """
    FROM cases c
    LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
         AND k.case_version = c.version"""


@dataclass
class SearchResult:
    query: CaseQuery
    total: int
    weeks: list[dict]  # {week, cases, severe, died}: every week from the first to the last
    rows: list[dict]
    page: int
    page_size: int
    snapshot: str | None = None  # file name of the snapshot read
    by_severity: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _rows(frame: pd.DataFrame, known: Facets, lang: str) -> list[dict]:
    out = []
    for record in frame.to_dict("records"):
        row = {k: (None if _missing(v) else v) for k, v in record.items()}
        if isinstance(row.get("visit_date"), pd.Timestamp):
            row["visit_date"] = row["visit_date"].date()
        row["category_name"] = (
            known.category_name(row.get("category_code"), lang) if row.get("category_code") else ""
        )
        out.append(row)
    return out


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# A result row's fields before its category, in order (``visit_date``: the visit's day).
_RESULT_FIELDS = (
    "hospital_code",
    "case_id",
    "visit_date",
    "visit_week",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "cause",
    "place",
    "injury_nature",
    "body_region",
    "severity",
    "outcome",
    "product_name",
    "brand",
    "model",
    "product_relation",
    "narrative",
)
# From the base tables (``cases`` has the visit's time, not its day) ...
_CASE_COLUMNS = ", ".join(
    "CAST(c.visit_datetime AS DATE) AS visit_date" if name == "visit_date" else f"c.{name}"
    for name in _RESULT_FIELDS
)
_COLUMNS = f"{_CASE_COLUMNS}, ({FINAL_CATEGORY}) AS category_code"
# ... and the same columns, in the same order, from the snapshot's search table.
_DERIVED_COLUMNS = [f"c.{name}" for name in (*_RESULT_FIELDS, "category_code")]


def _select(con: duckdb.DuckDBPyConnection, where: str, params: list[object], tail: str):  # type: ignore[no-untyped-def]
    return con.execute(
        f"""
        SELECT {_COLUMNS}
        {_FROM}
        WHERE {where}
        ORDER BY c.visit_datetime DESC, c.hospital_code, c.case_id
        {tail}""",
        params,
    ).df()


def search(
    settings,  # type: ignore[no-untyped-def]
    query: CaseQuery,
    *,
    page: int = 1,
    page_size: int = 50,
    lang: str = "en",
    snapshots: Snapshots | None = None,
) -> SearchResult:
    """The cases matching ``query``: total, weekly counts and page ``page`` of the rows
    (newest visit first). A long-lived reader (the web app) remembers the answer for the
    snapshot it was computed from."""
    page = max(1, page)
    key = ("cases.search", query.to_json(), page, page_size, lang, str(settings.hospital_registry))
    return read_cached(
        settings,
        snapshots,
        key,
        lambda con: _search(con, facets(settings.hospital_registry), query, page, page_size, lang),
    )


def _search(
    con: duckdb.DuckDBPyConnection,
    known: Facets,
    query: CaseQuery,
    page: int,
    page_size: int,
    lang: str,
) -> SearchResult:
    if read_tables.has_search_table(con):
        return _search_derived(con, known, query, page, page_size, lang)
    clauses, params = _where(query, known)
    where = " AND ".join(clauses)
    joined = bool(query.categories)  # the coding only when filtered on it
    category = f"({FINAL_CATEGORY}) AS category_code" if joined else "NULL AS category_code"
    selected = (
        f"SELECT {_CASE_COLUMNS}, c.visit_datetime, {category} "
        f"{_FROM if joined else _FROM_CASES} WHERE {where}"
    )
    temp = None
    if not query.is_empty:
        # Filtering (a narrative search, a join with the codings) is the expensive part: run
        # it once into a temporary table of this connection, then count and page from that.
        temp = f"_hits_{uuid.uuid4().hex[:12]}"
        con.execute(f"CREATE TEMP TABLE {temp} AS {selected}", params)
        relation, args = temp, []
    else:  # every case: scanning them again is cheaper than copying them all
        relation, args = f"({selected})", params
    try:
        weekly = con.execute(
            f"""
            SELECT visit_week AS week, count(*) AS cases,
                   count(*) FILTER (WHERE severity = 'severe') AS severe,
                   count(*) FILTER (WHERE outcome = 'died') AS died
            FROM {relation} GROUP BY 1 ORDER BY 1""",
            args,
        ).fetchall()
        total = sum(int(r[1]) for r in weekly)
        severity = dict(
            con.execute(
                f"SELECT coalesce(severity, 'unknown'), count(*) FROM {relation} GROUP BY 1",
                args,
            ).fetchall()
        )
        frame = _page(con, relation, args, page, page_size, joined) if total else pd.DataFrame()
    finally:
        if temp:
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    counts = {w: (int(n), int(s), int(d)) for w, n, s, d in weekly}
    weeks = []
    if counts:
        for week in week_range(min(counts), max(counts)):
            n, s, d = counts.get(week, (0, 0, 0))
            weeks.append({"week": week, "cases": n, "severe": s, "died": d})
    return SearchResult(
        query=query,
        total=total,
        weeks=weeks,
        rows=_rows(frame, known, lang) if total else [],
        page=page,
        page_size=page_size,
        snapshot=_snapshot_name(con),
        by_severity={str(k): int(v) for k, v in severity.items()},
    )


def _search_derived(
    con: duckdb.DuckDBPyConnection,
    known: Facets,
    query: CaseQuery,
    page: int,
    page_size: int,
    lang: str,
) -> SearchResult:
    """:func:`_search` on the snapshot's search table (built at publication): one pass for the
    weekly and severity counts, one for the page; no join, no case-insensitive pattern."""
    clauses, params = _where(query, known, derived=True)
    where = " AND ".join(clauses) or "TRUE"
    relation = f"{read_tables.SEARCH_TABLE} c WHERE {where}"
    groups = con.execute(
        f"""
        SELECT c.visit_week, c.severity, count(*), count(*) FILTER (WHERE c.outcome = 'died')
        FROM {relation} GROUP BY 1, 2""",
        params,
    ).fetchall()
    counts: dict[str, list[int]] = {}
    severity: dict[str, int] = {}
    for week, level, n, died in groups:
        tally = counts.setdefault(week, [0, 0, 0])
        tally[0] += int(n)
        tally[1] += int(n) if level == "severe" else 0
        tally[2] += int(died)
        key = "unknown" if level is None else str(level)
        severity[key] = severity.get(key, 0) + int(n)
    total = sum(n for n, _s, _d in counts.values())
    frame = pd.DataFrame()
    if total:
        frame = con.execute(
            f"""
            SELECT {", ".join(_DERIVED_COLUMNS)} FROM {relation}
            ORDER BY c.visit_datetime DESC, c.hospital_code, c.case_id
            LIMIT {int(page_size)} OFFSET {(page - 1) * int(page_size)}""",
            params,
        ).df()
    weeks = []
    if counts:
        for week in week_range(min(counts), max(counts)):
            n, s, d = counts.get(week, (0, 0, 0))
            weeks.append({"week": week, "cases": n, "severe": s, "died": d})
    return SearchResult(
        query=query,
        total=total,
        weeks=weeks,
        rows=_rows(frame, known, lang) if total else [],
        page=page,
        page_size=page_size,
        snapshot=_snapshot_name(con),
        by_severity=severity,
    )


def _page(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    args: list[object],
    page: int,
    page_size: int,
    categorised: bool,
) -> pd.DataFrame:
    """One page of the matching cases (newest first); their final categories looked up for
    just those cases when the filter did not already join the codings."""
    frame = con.execute(
        f"""
        SELECT * EXCLUDE (visit_datetime) FROM {relation}
        ORDER BY visit_datetime DESC, hospital_code, case_id
        LIMIT {int(page_size)} OFFSET {(page - 1) * int(page_size)}""",
        args,
    ).df()
    if categorised or frame.empty:
        return frame
    keys = list(zip(frame["hospital_code"], frame["case_id"], strict=True))
    codings = con.execute(
        f"""
        SELECT k.hospital_code, k.case_id, ({FINAL_CATEGORY}) AS category_code
        FROM case_coding k JOIN cases c ON c.hospital_code = k.hospital_code
             AND c.case_id = k.case_id AND c.version = k.case_version
        WHERE k.case_id IN ({", ".join("?" for _ in keys)})
          AND c.case_id IN ({", ".join("?" for _ in keys)})""",
        [c for _h, c in keys] * 2,
    ).fetchall()
    final = {(h, c): code for h, c, code in codings}
    frame["category_code"] = [final.get(key) for key in keys]
    return frame


def _snapshot_name(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT seq, published_at FROM publication LIMIT 1").fetchall()
    return f"#{rows[0][0]} ({rows[0][1]:%Y-%m-%d %H:%M} UTC)" if rows else None


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    content: bytes
    rows: int


def _export_frame(
    con: duckdb.DuckDBPyConnection, known: Facets, query: CaseQuery, max_rows: int
) -> pd.DataFrame:
    """The matching cases (newest first) for an export; more than ``max_rows``: refused."""
    if read_tables.has_search_table(con):
        clauses, params = _where(query, known, derived=True)
        where = " AND ".join(clauses) or "TRUE"
        source = f"FROM {read_tables.SEARCH_TABLE} c"
        frame = con.execute(
            f"""
            SELECT {", ".join(_DERIVED_COLUMNS)} {source} WHERE {where}
            ORDER BY c.visit_datetime DESC, c.hospital_code, c.case_id
            LIMIT {int(max_rows) + 1}""",
            params,
        ).df()
    else:
        clauses, params = _where(query, known)
        where = " AND ".join(clauses)
        source = _FROM
        # One pass: at most one row more than allowed; only a refused export counts them all.
        frame = _select(con, where, params, f"LIMIT {int(max_rows) + 1}")
    if len(frame) > max_rows:
        total = con.execute(f"SELECT count(*) {source} WHERE {where}", params).fetchall()[0][0]
        raise _problem(
            f"{total:,} cases match: an export holds at most {max_rows:,}; narrow the query",
            f"符合条件的病例有 {total:,} 例，一次最多导出 {max_rows:,} 例：请缩小检索范围",
        )
    return frame


def export(
    settings,  # type: ignore[no-untyped-def]
    query: CaseQuery,
    fmt: str,
    *,
    lang: str = "en",
    max_rows: int = 200_000,
    snapshots: Snapshots | None = None,
    today: date | None = None,
) -> Export:
    """Every matching case as a formula-safe CSV (UTF-8 with BOM) or XLSX file, de-identified
    (``EXPORT_COLUMNS``). More than ``max_rows`` cases: refused, narrow the query."""
    if fmt not in ("csv", "xlsx"):
        raise _problem("export format must be csv or xlsx", "导出格式必须是 csv 或 xlsx")
    known = facets(settings.hospital_registry)
    with open_reader(settings, snapshots) as con:
        frame = _export_frame(con, known, query, max_rows)
    codes = frame["category_code"].tolist()
    names = {c: known.category_name(c, lang) for c in set(codes) if isinstance(c, str)}
    frame["category_name"] = [names.get(c, "") if isinstance(c, str) else "" for c in codes]
    frame["visit_date"] = [
        d.date() if isinstance(d, pd.Timestamp) else d for d in frame["visit_date"]
    ]
    frame = frame.reindex(columns=EXPORT_COLUMNS)
    stamp = format_iso_week(today) if today else "cases"
    name = f"sentinel-cases-{stamp}.{fmt}"
    if fmt == "csv":
        return Export(name, "text/csv; charset=utf-8", safe_csv_bytes(frame), len(frame))
    return Export(
        name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        safe_xlsx_bytes(frame, "cases"),
        len(frame),
    )


# ---- saved queries (application database) --------------------------------------------------


def saved_queries(db: AppDB, actor: Actor) -> list[workspace.SavedQueryView]:
    with db.reading() as session:
        return workspace.list_saved_queries(session, actor)


def save_query(db: AppDB, actor: Actor, name: str, query: CaseQuery) -> workspace.SavedQueryView:
    """Save (or replace) the user's query under ``name`` (audited)."""
    with db.transaction() as session:
        return workspace.save_query(session, actor, name, query.to_json())


def load_query(db: AppDB, actor: Actor, query_id: int, known: Facets) -> tuple[str, CaseQuery]:
    """The name and query of one of the user's own saved queries (NotFound for anyone else's)."""
    with db.transaction() as session:
        saved = workspace.get_saved_query(session, actor, query_id)
    return saved.name, CaseQuery.from_json(saved.query_json, known)


def record_export(db: AppDB, actor: Actor, query: CaseQuery, fmt: str, rows: int) -> None:
    """Case data leaving the system is audited: who, which query, how many rows."""
    from pipeline.appdb import audit

    with db.transaction() as session:
        audit.append(
            session,
            actor,
            "cases.export",
            "case_query",
            None,
            {"format": fmt, "rows": rows, "query": json.loads(query.to_json())},
        )


def delete_query(db: AppDB, actor: Actor, query_id: int) -> None:
    with db.transaction() as session:
        workspace.delete_saved_query(session, actor, query_id)
