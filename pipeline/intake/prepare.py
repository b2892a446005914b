"""Turn a RawExtract into a canonical frame ready for validation and storage.

Headers are mapped to canonical fields (Chinese or English aliases, or the NEISS layout),
values are normalised (code-set labels to codes, dates to one format, numbers parsed),
identifiers are pseudonymised and narratives scrubbed *here*, so nothing downstream ever holds
them in clear. Values that cannot be normalised are kept as written, with a ``<field>__ok``
flag, so validation can quarantine the row and tell the sender exactly what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from pipeline import reference
from pipeline.config import IntakeLimits
from pipeline.contract import (
    FIELDS,
    IDENTIFIER_FIELDS,
    REQUIRED_FIELDS,
    canonical_field,
    header_language,
)
from pipeline.intake import messages
from pipeline.intake.neiss import neiss_to_canonical
from pipeline.intake.reader import FileRejected, RawExtract
from pipeline.privacy import pseudonymise_many, scrub_columns

DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
    "%m/%d/%Y",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)
CANONICAL_DATETIME = "%Y-%m-%d %H:%M:%S"
DATETIME_FIELDS = tuple(f.name for f in FIELDS if f.type == "datetime")
FREE_TEXT_FIELDS = ("narrative", "product_name", "brand", "model", "batch")
HOSPITAL_TZ = timezone(timedelta(hours=8), "CST")  # China Standard Time


def local_time(received_at: datetime) -> datetime:
    """A receipt time (naive = UTC) as naive hospital local time, comparable with the visit
    and injury times hospitals write. Every sentinel hospital is in China (UTC+8, no DST)."""
    aware = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
    return aware.astimezone(HOSPITAL_TZ).replace(tzinfo=None)


@dataclass
class PreparedExtract:
    frame: pd.DataFrame  # canonical fields + helper columns (prefixed "_" or suffixed "__ok")
    header_language: str
    unknown_columns: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    # Row errors found while reading (a cell over the length limit): same columns as the
    # validator's errors, without _submission_id.
    row_errors: list[dict] = field(default_factory=list)


def map_headers(headers: list[str]) -> tuple[dict[int, str], list[str], list[str]]:
    """Column position -> canonical field, unknown headers, and missing required fields."""
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for position, header in enumerate(headers):
        name = canonical_field(header)
        if name is None:
            if header:
                unknown.append(header)
            continue
        if name in seen:
            raise FileRejected("ambiguous_columns", first=seen[name], second=header, field=name)
        seen[name] = header
        mapping[position] = name
    missing = [f for f in REQUIRED_FIELDS if f not in seen]
    return mapping, unknown, missing


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse text in any accepted date format; unparseable or blank -> NaT."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = values.notna()
    for fmt in DATETIME_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(values[todo], format=fmt, errors="coerce")
        hit = parsed.notna()
        out.loc[hit[hit].index] = parsed[hit]
        todo.loc[hit[hit].index] = False
    return out


def _blank_to_none(values: Sequence[str]) -> pd.Series:
    """Strip cells; blank becomes None (plain Python: pandas string ops cost more here)."""
    return pd.Series([v.strip() or None for v in values], dtype=object)


def to_canonical_frame(
    raw: RawExtract, sender: str
) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    """Rows as canonical text columns (None for blank) plus ``_row``; language, unknown and
    missing required columns."""
    if raw.file_format == "neiss":
        return neiss_to_canonical(raw, sender)
    mapping, unknown, missing = map_headers(raw.headers)
    width = len(raw.headers)
    rows = raw.rows
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    if (lengths < width).any():  # short rows: the missing cells are blank
        rows = [r if len(r) >= width else [*r, *([""] * (width - len(r)))] for r in rows]
    # Transposed in C (zip), not cell by cell: rows -> columns.
    columns = list(zip(*rows, strict=False)) if rows else [()] * width
    frame = pd.DataFrame(
        {name: _blank_to_none(columns[position]) for position, name in mapping.items()},
        index=pd.RangeIndex(len(rows)),
    )
    frame["_row"] = np.asarray(raw.row_numbers, dtype="int64")
    # A row with a non-blank cell beyond the header's width is flagged.
    extra_ok = np.ones(len(rows), dtype=bool)
    for i in np.flatnonzero(lengths > width):
        extra_ok[i] = not any(c.strip() for c in rows[i][width:])
    frame["_extra_cells__ok"] = extra_ok
    return frame, header_language(raw.headers), unknown, missing


@dataclass
class CanonicalExtract:
    """A file's rows under canonical field names (text), before normalisation: what
    :func:`canonicalise` gives and :func:`prepare_canonical` prepares."""

    frame: pd.DataFrame
    header_language: str
    unknown_columns: list[str]
    missing_required: list[str]
    row_errors: list[dict]
    received_at: datetime


def canonicalise(raw: RawExtract, *, sender: str, received_at: datetime) -> CanonicalExtract:
    """Map a RawExtract's headers to canonical fields (raises ``FileRejected`` for a file
    whose columns cannot be mapped, e.g. two columns for one field)."""
    frame, language, unknown, missing = to_canonical_frame(raw, sender)
    return CanonicalExtract(frame, language, unknown, missing, _oversize_errors(raw), received_at)


def prepare_extract(
    raw: RawExtract,
    *,
    sender: str,
    received_at: datetime,
    key: bytes,
    earliest_date: date | None = None,
) -> PreparedExtract:
    """Canonicalise, normalise, pseudonymise and flag a RawExtract from hospital ``sender``.

    ``earliest_date``: visit and injury dates before it are flagged (rule date_too_early);
    default: ``IntakeLimits().earliest_date``."""
    canonical = canonicalise(raw, sender=sender, received_at=received_at)
    return prepare_canonical([canonical], key=key, earliest_date=earliest_date)[0]


def prepare_canonical(
    items: list[CanonicalExtract], *, key: bytes, earliest_date: date | None = None
) -> list[PreparedExtract]:
    """Normalise, pseudonymise and flag several canonical extracts in one columnar pass.

    Preparation is row by row (a row's result depends on its own cells and its file's receipt
    time only), so each result equals preparing its file alone; the fixed costs (regex
    automata of the scrubber, one parsing pass per date format, the taxonomy lookup) are paid
    once for all the files instead of once per file: a batch of small daily files."""
    if not items:
        return []
    frames = []
    for number, item in enumerate(items):
        part = item.frame.copy()
        for f in FIELDS:  # before concat: a field the file lacks is None, never NaN
            if f.name not in part.columns:
                part[f.name] = None
        part["_received_at"] = pd.Timestamp(local_time(item.received_at))
        part["_file"] = number
        frames.append(part)
    whole = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frames) > 1:
        # A helper column only some files have (e.g. NEISS lacks _extra_cells__ok): None
        # elsewhere (dropped again below), never NaN.
        for column in whole.columns:
            if any(column not in f.columns for f in frames):
                whole[column] = whole[column].astype(object).where(whole[column].notna(), None)
    frame = _prepare_rows(whole.reset_index(drop=True), key, earliest_date)
    if len(items) == 1:
        parts = [frame.drop(columns="_file")]
    else:
        # Each file's columns in the order preparing it alone gives: its own canonical
        # columns, the fields it lacked, then the columns preparation adds.
        field_names = [f.name for f in FIELDS]
        own_all = set().union(*(set(item.frame.columns) for item in items)) | set(field_names)
        added = [c for c in frame.columns if c not in own_all and c != "_file"]
        file_of = frame["_file"].to_numpy()
        parts = []
        for number, item in enumerate(items):
            own = list(item.frame.columns)
            keep = own + [n for n in field_names if n not in own] + added
            parts.append(frame.loc[file_of == number, keep].reset_index(drop=True))
    return [
        PreparedExtract(
            frame=part,
            header_language=item.header_language,
            unknown_columns=item.unknown_columns,
            missing_required=item.missing_required,
            row_errors=item.row_errors,
        )
        for part, item in zip(parts, items, strict=True)
    ]


def _prepare_rows(frame: pd.DataFrame, key: bytes, earliest_date: date | None) -> pd.DataFrame:
    """The row-by-row preparation of canonical text columns (every field present,
    ``_received_at`` set), in columnar steps."""
    earliest = pd.Timestamp(earliest_date or IntakeLimits().earliest_date)
    for f in FIELDS:
        if f.default is not None:
            frame[f.name] = frame[f.name].where(frame[f.name].notna(), f.default)

    # Identifiers: pseudonymise first; remember names only to scrub them from free text (one
    # vectorised pass over every free-text field, the row's own name removed literally).
    names = frame["patient_name"].copy()
    for name in IDENTIFIER_FIELDS:
        frame[name] = pseudonymise_many(name.removeprefix("patient_"), frame[name].tolist(), key)
    scrubbed = scrub_columns(frame, FREE_TEXT_FIELDS, names)
    for name in FREE_TEXT_FIELDS:
        frame[name] = scrubbed[name]

    # Codes: upper-case the code-like fields, map code-set labels (zh/en) to codes.
    # Each distinct value once (a code column holds a handful of them).
    for name in ("hospital_code", "product_category"):
        frame[name] = _map_distinct(frame[name], str.upper)
    for f in FIELDS:
        if f.codeset:
            lookup = reference.label_to_code(f.codeset)
            frame[f.name] = _map_distinct(
                frame[f.name], lambda v, lk=lookup: lk.get(v.strip().lower(), v)
            )

    # Dates and times: one canonical text form plus typed helper columns for order checks.
    for name in DATETIME_FIELDS:
        parsed = parse_datetimes(frame[name])
        frame[f"{name}__ok"] = _ok_flag(frame[name], parsed.notna())
        ok = parsed.notna().to_numpy()
        text = frame[name].to_numpy(dtype=object).copy()
        text[ok] = _canonical_text(parsed.to_numpy()[ok])
        frame[name] = text
        frame[f"_{name.removesuffix('_datetime')}_at"] = parsed
        not_early = np.full(len(frame), None, dtype=object)
        not_early[ok] = (parsed.to_numpy()[ok] >= earliest.to_datetime64()).astype(object)
        frame[f"{name}__not_early"] = pd.Series(not_early, index=frame.index, dtype=object)
    # received_at is UTC (the file's mtime); visit and injury times are hospital local time.
    frame["_received_at"] = frame.pop("_received_at").astype("datetime64[us]")

    # Age: a number, range-checked per unit (years, months, days).
    # float64 always (not int64 when every age is whole and given): a file's dtypes do not
    # depend on the other files prepared with it.
    age = pd.to_numeric(frame["age"], errors="coerce").astype("float64")
    frame["age__ok"] = _ok_flag(frame["age"], age.notna())
    for unit in ("years", "months", "days"):
        frame[f"_age_{unit}"] = age.where(frame["age_unit"] == unit)

    frame["product_category__ok"] = _category_valid_on_visit(
        frame["product_category"], frame["_visit_at"]
    )
    # The fields as text objects, None where blank: one dtype whatever the values (pandas would
    # infer "str" for a column with a value and object for an all-blank one), so a file's
    # result does not depend on the files prepared with it.
    for f in FIELDS:
        values = frame[f.name]
        frame[f.name] = values.astype(object).where(values.notna(), None)
    return frame


def _map_distinct(values: pd.Series, fn) -> pd.Series:  # type: ignore[no-untyped-def]
    """``fn`` of every string value (others kept; missing become None), ``fn`` called once
    per distinct value (a code column holds a handful of them)."""
    as_object = values.astype(object)
    codes, uniques = pd.factorize(as_object, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) if isinstance(u, str) else u for u in uniques]
    mapped[-1] = None  # code -1: missing
    return pd.Series(mapped[codes], index=values.index, dtype=object)


_YEAR_1000 = np.datetime64("1000-01-01")


def _canonical_text(stamps: np.ndarray) -> np.ndarray:
    """datetime64 values (no NaT) as CANONICAL_DATETIME text, in numpy; the rare year before
    1000 through strftime (numpy pads the year to four digits, strftime may not)."""
    if not len(stamps):
        return np.empty(0, dtype=object)
    text = np.char.replace(
        np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s"), "T", " "
    ).astype(object)
    early = np.flatnonzero(stamps < _YEAR_1000)
    for i in early:
        text[i] = pd.Timestamp(stamps[i]).strftime(CANONICAL_DATETIME)
    return text


def _oversize_errors(raw: RawExtract) -> list[dict]:
    """One ``cell_too_large`` error per oversized cell (the reader cut it at the limit): the
    row is quarantined, the rest of the file is kept."""
    if not raw.oversize:
        return []
    errors = []
    for position, columns in sorted(raw.oversize.items()):
        for column in sorted(columns):
            header = raw.headers[column] if column < len(raw.headers) else ""
            name = canonical_field(header) or "*"
            errors.append(
                {
                    "_row": int(raw.row_numbers[position]),
                    "field": name,
                    # Not echoed: the value is the problem, and it may be anything (an
                    # identifier in an ignored column).
                    "value": None,
                    "rule": "cell_too_large",
                    "message_en": messages.row_message("cell_too_large", name, "en"),
                    "message_zh": messages.row_message("cell_too_large", name, "zh"),
                }
            )
    return errors


def _ok_flag(values: pd.Series, ok: pd.Series) -> pd.Series:
    """True/False where a value was given, None where blank (blank is the 'required' rule's job)."""
    return pd.Series(
        [None if v is None else bool(o) for v, o in zip(values, ok, strict=True)],
        index=values.index,
        dtype=object,
    )


def _category_valid_on_visit(codes: pd.Series, visits: pd.Series) -> pd.Series:
    """False when a known category code was retired (or not yet valid) on the visit date;
    None for a blank or unknown code (the code-set rule's job) or no visit date. Columnar:
    each row looks its code's validity up by a join, not a per-row index lookup."""
    taxonomy = reference.load_taxonomy().drop_duplicates("category_code")
    valid_from = dict(zip(taxonomy["category_code"], taxonomy["valid_from"], strict=True))
    valid_to = dict(zip(taxonomy["category_code"], taxonomy["valid_to"], strict=True))
    code_values = codes.astype(object).where(codes.notna(), None)
    known = code_values.map(lambda c: c in valid_from).astype(bool) & visits.notna()
    day = pd.to_datetime(visits).dt.normalize()  # valid_to is the last valid day (inclusive)
    start = pd.to_datetime(code_values.map(valid_from), errors="coerce")
    end = pd.to_datetime(code_values.map(valid_to), errors="coerce")
    ok = (start <= day) & (end.isna() | (day <= end))
    flags = pd.Series([None] * len(codes), index=codes.index, dtype=object)
    flags[known] = ok[known].astype(bool).astype(object)
    return flags
