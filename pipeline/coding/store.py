"""Coding in the warehouse: ``case_coding``, the ``coding_review`` queue, ``coded_cases``.

``case_coding`` holds the current coding of every active case (one row per case, for the case's
current version). A row says where the category came from (``hospital``, ``model`` or
``coder``), which model coded or checked it, the model's probability, runner-up, and whether
the case waits for a coder (``needs_review``) and why:

| reason | source | needs_review | when |
|---|---|---|---|
| ``hospital_code`` | hospital | no | valid hospital code, model does not strongly disagree |
| ``model_disagrees`` | hospital | yes | top category != code with p >= 0.9 and p(code) < 0.02 |
| ``model`` | model | no | blank code, calibrated top probability >= review threshold |
| ``model_invalid_code`` | model | no | code not in the taxonomy / not valid on the visit date |
| ``low_confidence`` | model | yes | top probability below the review threshold |
| ``unknown_product_name`` | model | yes | confident, but the product name is one the model
  cannot read (most of its tokens unseen in training: a new product term) |
| ``coder_resolved`` | coder | no | a coder resolved the case (or an earlier version with the
  same product name, narrative and code) |

``coding_review`` is the queue: one row per review item (``open`` -> ``resolved`` once, or
``superseded`` when a new case version replaced the one under review). Resolutions are written
once and never changed; resolving a case again adds a new, already resolved item, so the table
is an append-only audit of who decided what and when.

Statistics read the ``coded_cases`` view: active cases whose coding is final (not pending
review), with ``category_code`` (NULL when no product was involved).

The tables and the view are created by the warehouse migrations (pipeline/storage/migrations).
All writes of a run happen in one transaction; only one process may write the DuckDB file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from pipeline import reference
from pipeline.coding import NO_PRODUCT
from pipeline.coding.confidence import assess
from pipeline.coding.model import ProductCoder, model_text
from pipeline.errors import BadInput
from pipeline.storage.warehouse import transaction

Progress = Callable[[str], None]

CODING_COLUMNS = [
    "hospital_code",
    "case_id",
    "case_version",
    "category_code",
    "product_involved",
    "source",
    "model_name",
    "model_version",
    "probability",
    "runner_up",
    "runner_up_probability",
    "model_category",
    "needs_review",
    "reason",
    "input_hash",
    "coded_at",
]


def _first(rows: list) -> tuple | None:
    """First row or None (DuckDB 2.0: fetch everything, so no result stays open)."""
    return rows[0] if rows else None


class ReviewError(BadInput):
    """A review command cannot be applied (unknown case, bad category ...)."""


def input_hash(product_name: object, narrative: object, product_category: object) -> str:
    """What the coding of a case depends on (a correction changing none of it keeps a coder's
    decision)."""
    values = [
        v if isinstance(v, str) else None for v in (product_name, narrative, product_category)
    ]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:24]


def _valid_category(code: object, visit: object, taxonomy: pd.DataFrame) -> bool:
    if not isinstance(code, str) or code not in taxonomy.index:
        return False
    row = taxonomy.loc[code]
    if visit is None or pd.isna(visit):
        return row["valid_to"] is None
    day = pd.Timestamp(visit).date()
    return row["valid_from"] <= day and (row["valid_to"] is None or day <= row["valid_to"])


@dataclass
class RunSummary:
    model: str
    cases: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    opened_reviews: int = 0
    superseded_reviews: int = 0
    removed: int = 0

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "cases_coded": self.cases,
            "by_reason": self.by_reason,
            "reviews_opened": self.opened_reviews,
            "reviews_superseded": self.superseded_reviews,
            "codings_removed_void": self.removed,
        }


def pending_cases(
    con: duckdb.DuckDBPyConnection, recode: bool, model: ProductCoder
) -> pd.DataFrame:
    """Active cases without a coding for their current version (``recode``: also those coded
    or checked by another model version; coder decisions are kept)."""
    extra = ""
    if recode:
        extra = "OR (k.source <> 'coder' AND (k.model_name <> ? OR k.model_version <> ?))"
    sql = f"""
        SELECT c.hospital_code, c.case_id, c.version, c.product_name, c.narrative,
               c.product_category, c.visit_datetime
        FROM cases c
        LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
        WHERE c.status = 'active' AND (k.case_id IS NULL OR k.case_version <> c.version {extra})
        ORDER BY c.hospital_code, c.case_id"""
    return con.execute(sql, [model.name, model.version] if recode else []).df()


def _coder_decisions(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], str]:
    """(hospital, case, input_hash) -> the latest coder resolution for that content."""
    rows = con.execute("""
        SELECT hospital_code, case_id, input_hash, resolution FROM coding_review
        WHERE status = 'resolved'
        QUALIFY row_number() OVER (PARTITION BY hospital_code, case_id, input_hash
                                   ORDER BY resolved_at DESC, review_id DESC) = 1""").fetchall()
    return {(h, c, i): r for h, c, i, r in rows}


def decide(
    cases: pd.DataFrame,
    proba: np.ndarray,
    model: ProductCoder,
    coder: dict[tuple[str, str, str], str],
    now: datetime,
    confident: np.ndarray | None = None,
) -> pd.DataFrame:
    """The coding rows for a batch of cases (``proba`` row-aligned with ``cases``;
    ``confident``: the auto-code decision of ``confidence.assess``, default: top probability
    >= the review threshold)."""
    taxonomy = reference.load_taxonomy().set_index("category_code")
    classes = model.classes
    index = {c: i for i, c in enumerate(classes)}
    th = model.thresholds
    order = np.argsort(-proba, axis=1, kind="stable")[:, :2] if len(cases) else np.zeros((0, 2))
    unknown = model.unknown_names(cases["product_name"])
    confident_all = confident
    rows = []
    for i, case in enumerate(cases.itertuples(index=False)):
        top, second = classes[order[i, 0]], classes[order[i, 1]]
        p_top, p_second = float(proba[i, order[i, 0]]), float(proba[i, order[i, 1]])
        digest = input_hash(case.product_name, case.narrative, case.product_category)
        given = case.product_category if isinstance(case.product_category, str) else None
        row = {
            "hospital_code": case.hospital_code,
            "case_id": case.case_id,
            "case_version": int(case.version),
            "model_name": model.name,
            "model_version": model.version,
            "model_category": top,
            "input_hash": digest,
            "coded_at": now,
            "hospital_category": given,
        }
        resolved = coder.get((case.hospital_code, case.case_id, digest))
        if resolved is not None:
            p = float(proba[i, index[resolved]]) if resolved in index else None
            row.update(
                category=resolved,
                source="coder",
                probability=p,
                needs_review=False,
                reason="coder_resolved",
            )
        elif given and _valid_category(given, case.visit_datetime, taxonomy):
            p_given = float(proba[i, index[given]]) if given in index else 0.0
            disagree = top != given and p_top >= th.disagree_top and p_given < th.disagree_given
            row.update(
                category=given,
                source="hospital",
                probability=p_given,
                needs_review=bool(disagree),
                reason="model_disagrees" if disagree else "hospital_code",
            )
        else:
            # a confident prediction for a name the model cannot read is a guess from the
            # fragments it knows (巴克球 -> 球 -> ball sports): a coder decides
            confident = p_top >= th.review if confident_all is None else bool(confident_all[i])
            reason = (
                "low_confidence"
                if not confident
                else "unknown_product_name"
                if unknown[i]
                else "model_invalid_code"
                if given
                else "model"
            )
            row.update(
                category=top,
                source="model",
                probability=p_top,
                needs_review=not confident or bool(unknown[i]),
                reason=reason,
            )
        # runner-up: the best category other than the one recorded
        if row["category"] == top:
            row["runner_up"], row["runner_up_probability"] = second, p_second
        else:
            row["runner_up"], row["runner_up_probability"] = top, p_top
        rows.append(row)
    out = pd.DataFrame.from_records(rows)
    if out.empty:
        return out
    out["product_involved"] = out["category"] != NO_PRODUCT
    out["category_code"] = out["category"].where(out["product_involved"], None)
    return out


def run_coding(
    con: duckdb.DuckDBPyConnection,
    model: ProductCoder,
    recode: bool = False,
    batch_size: int = 20000,
    progress: Progress | None = None,
) -> RunSummary:
    """Code every active case lacking a current coding; one transaction."""
    say = progress or (lambda _m: None)
    summary = RunSummary(model=f"{model.name}/{model.version}")
    cases = pending_cases(con, recode, model)
    say(f"{len(cases)} cases to code with {summary.model}")
    now = datetime.now(UTC).replace(tzinfo=None)
    coder = _coder_decisions(con)
    parts = []
    for start in range(0, len(cases), batch_size):
        chunk = cases.iloc[start : start + batch_size]
        texts = [
            model_text(p, n) for p, n in zip(chunk["product_name"], chunk["narrative"], strict=True)
        ]
        judged = assess(model, texts, list(chunk["product_name"]))
        parts.append(decide(chunk, judged.proba, model, coder, now, judged.confident))
        say(f"coded {min(start + batch_size, len(cases))}/{len(cases)}")
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    with transaction(con):
        # Void cases leave statistics: drop their coding and close their open reviews.
        summary.removed = con.execute("""
            DELETE FROM case_coding k USING cases c
            WHERE c.hospital_code = k.hospital_code AND c.case_id = k.case_id
              AND c.status <> 'active'""").fetchall()[0][0]
        summary.superseded_reviews += con.execute("""
            UPDATE coding_review r SET status = 'superseded', note = 'case voided'
            FROM cases c WHERE c.hospital_code = r.hospital_code AND c.case_id = r.case_id
              AND r.status = 'open' AND c.status <> 'active'""").fetchall()[0][0]
        if not rows.empty:
            con.register("_rows", rows[CODING_COLUMNS])
            con.execute("INSERT OR REPLACE INTO case_coding BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
            summary.cases = len(rows)
            summary.by_reason = {k: int(v) for k, v in rows["reason"].value_counts().items()}
            # Open reviews of a case's older versions (or now settled) are superseded.
            con.register(
                "_keys",
                rows[["hospital_code", "case_id", "case_version", "needs_review", "reason"]],
            )
            summary.superseded_reviews += con.execute("""
                UPDATE coding_review r SET status = 'superseded',
                       note = 'superseded by case version ' || k.case_version
                FROM _keys k WHERE r.hospital_code = k.hospital_code
                  AND r.case_id = k.case_id AND r.status = 'open'
                  AND (r.case_version <> k.case_version OR NOT k.needs_review
                       OR r.reason <> k.reason)""").fetchall()[0][0]
            con.unregister("_keys")
            summary.opened_reviews = _open_reviews(con, rows[rows["needs_review"]], now)
    say(
        f"coded {summary.cases} cases: {summary.by_reason}; {summary.opened_reviews} reviews opened"
    )
    return summary


def _open_reviews(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, now: datetime) -> int:
    if rows.empty:
        return 0
    existing = set(
        con.execute(
            "SELECT hospital_code, case_id, case_version, reason FROM coding_review "
            "WHERE status = 'open'"
        ).fetchall()
    )
    counts = dict(
        ((h, c), n)
        for h, c, n in con.execute(
            "SELECT hospital_code, case_id, count(*) FROM coding_review GROUP BY 1, 2"
        ).fetchall()
    )
    records = []
    for r in rows.itertuples(index=False):
        if (r.hospital_code, r.case_id, r.case_version, r.reason) in existing:
            continue
        seq = counts.get((r.hospital_code, r.case_id), 0) + 1
        counts[(r.hospital_code, r.case_id)] = seq
        records.append(
            {
                "review_id": f"{r.hospital_code}:{r.case_id}:{seq}",
                "hospital_code": r.hospital_code,
                "case_id": r.case_id,
                "case_version": r.case_version,
                "input_hash": r.input_hash,
                "reason": r.reason,
                "hospital_category": r.hospital_category,
                "suggested_category": r.model_category,
                "probability": (
                    r.runner_up_probability if r.source == "hospital" else r.probability
                ),
                "runner_up": r.category if r.source == "hospital" else r.runner_up,
                "runner_up_probability": (
                    r.probability if r.source == "hospital" else r.runner_up_probability
                ),
                "model_name": r.model_name,
                "model_version": r.model_version,
                "status": "open",
                "opened_at": now,
                "resolution": None,
                "resolved_by": None,
                "resolved_at": None,
                "note": None,
            }
        )
    if records:
        frame = pd.DataFrame.from_records(records)
        for col in ("resolution", "resolved_by", "note", "hospital_category"):
            frame[col] = frame[col].astype(object)
        frame["resolved_at"] = pd.Series([None] * len(frame), dtype="datetime64[us]")
        con.register("_rev", frame)
        con.execute("INSERT INTO coding_review BY NAME SELECT * FROM _rev")
        con.unregister("_rev")
    return len(records)


# ---- the review queue ----------------------------------------------------------------------


def list_reviews(
    con: duckdb.DuckDBPyConnection,
    status: str = "open",
    limit: int = 50,
    hospital: str | None = None,
) -> pd.DataFrame:
    where = [] if status == "all" else ["r.status = ?"]
    params: list = [] if status == "all" else [status]
    if hospital:
        where.append("r.hospital_code = ?")
        params.append(hospital)
    sql = f"""
        SELECT r.review_id, r.hospital_code, r.case_id, r.case_version, r.reason,
               r.hospital_category, r.suggested_category, r.probability, r.runner_up,
               r.runner_up_probability, r.status, r.opened_at, r.resolution, r.resolved_by,
               r.resolved_at, c.product_name, c.narrative
        FROM coding_review r
        LEFT JOIN cases c ON c.hospital_code = r.hospital_code AND c.case_id = r.case_id
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY r.opened_at, r.hospital_code, r.case_id, r.review_id
        LIMIT {int(limit)}"""
    return con.execute(sql, params).df()


def review_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        s: int(n)
        for s, n in con.execute(
            "SELECT status, count(*) FROM coding_review GROUP BY 1 ORDER BY 1"
        ).fetchall()
    }


def _find_case(con: duckdb.DuckDBPyConnection, ref: str) -> tuple[str, str]:
    """``HOSP:CASE``, ``HOSP/CASE``, a review id or a case id unique across hospitals."""
    for sep in (":", "/"):
        if sep in ref:
            hospital, case_id = ref.split(sep, 2)[:2]
            return hospital.strip().upper(), case_id.strip()
    rows = con.execute(
        "SELECT hospital_code, case_id FROM cases WHERE case_id = ? ORDER BY 1", [ref.strip()]
    ).fetchall()
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise ReviewError(f"no stored case {ref!r} (use HOSPITAL:CASE_ID)")
    raise ReviewError(
        f"case id {ref!r} exists at several hospitals "
        f"({', '.join(h for h, _ in rows)}): use HOSPITAL:CASE_ID"
    )


def resolve_review(
    con: duckdb.DuckDBPyConnection,
    case_ref: str,
    category: str,
    by: str,
    note: str | None = None,
    model: ProductCoder | None = None,
) -> dict:
    """Record a coder's decision for a case (category code or ``NONE``) and apply it."""
    if not by or not by.strip():
        raise ReviewError("--by NAME is required: every resolution names the coder")
    hospital, case_id = _find_case(con, case_ref)
    case = _first(
        con.execute(
            "SELECT version, status, product_name, narrative, "
            "product_category, visit_datetime FROM cases "
            "WHERE hospital_code = ? AND case_id = ?",
            [hospital, case_id],
        ).fetchall()
    )
    if case is None:
        raise ReviewError(f"no stored case {hospital}:{case_id}")
    version, status, name, narrative, given, visit = case
    if status != "active":
        raise ReviewError(f"case {hospital}:{case_id} is {status}")
    category = category.strip().upper()
    taxonomy = reference.load_taxonomy().set_index("category_code")
    if category != NO_PRODUCT and not _valid_category(category, visit, taxonomy):
        raise ReviewError(
            f"{category} is not a taxonomy category valid on the visit date "
            f"(or {NO_PRODUCT} for no product involved)"
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    digest = input_hash(name, narrative, given)
    coding = _first(
        con.execute(
            "SELECT model_name, model_version, probability, "
            "model_category FROM case_coding "
            "WHERE hospital_code = ? AND case_id = ?",
            [hospital, case_id],
        ).fetchall()
    )
    model_name, model_version = (
        (coding[0], coding[1])
        if coding
        else ((model.name, model.version) if model else ("none", "none"))
    )
    with transaction(con):
        open_item = _first(
            con.execute(
                "SELECT review_id FROM coding_review WHERE hospital_code = ? AND case_id = ? "
                "AND status = 'open' AND case_version = ? ORDER BY opened_at DESC, review_id DESC "
                "LIMIT 1",
                [hospital, case_id, version],
            ).fetchall()
        )
        if open_item:
            review_id = open_item[0]
            con.execute(
                "UPDATE coding_review SET status = 'resolved', resolution = ?, "
                "resolved_by = ?, resolved_at = ?, note = ?, input_hash = ? "
                "WHERE review_id = ? AND status = 'open'",
                [category, by.strip(), now, note, digest, review_id],
            )
        else:
            seq = (
                con.execute(
                    "SELECT count(*) FROM coding_review WHERE hospital_code = ? AND case_id = ?",
                    [hospital, case_id],
                ).fetchall()[0][0]
                + 1
            )
            review_id = f"{hospital}:{case_id}:{seq}"
            con.execute(
                "INSERT INTO coding_review (review_id, hospital_code, case_id, case_version, "
                "input_hash, reason, hospital_category, suggested_category, probability, "
                "model_name, model_version, status, opened_at, resolution, resolved_by, "
                "resolved_at, note) VALUES (?, ?, ?, ?, ?, 'coder_revision', ?, ?, ?, ?, ?, "
                "'resolved', ?, ?, ?, ?, ?)",
                [
                    review_id,
                    hospital,
                    case_id,
                    version,
                    digest,
                    given,
                    coding[3] if coding else None,
                    coding[2] if coding else None,
                    model_name,
                    model_version,
                    now,
                    category,
                    by.strip(),
                    now,
                    note,
                ],
            )
        involved = category != NO_PRODUCT
        con.execute(
            "INSERT OR REPLACE INTO case_coding (hospital_code, case_id, case_version, "
            "category_code, product_involved, source, model_name, model_version, probability, "
            "runner_up, runner_up_probability, model_category, needs_review, reason, "
            "input_hash, coded_at) VALUES (?, ?, ?, ?, ?, 'coder', ?, ?, NULL, NULL, NULL, ?, "
            "false, 'coder_resolved', ?, ?)",
            [
                hospital,
                case_id,
                version,
                category if involved else None,
                involved,
                model_name,
                model_version,
                coding[3] if coding else None,
                digest,
                now,
            ],
        )
    return {
        "review_id": review_id,
        "hospital_code": hospital,
        "case_id": case_id,
        "case_version": version,
        "category": category,
        "resolved_by": by.strip(),
        "resolved_at": now.isoformat(timespec="seconds"),
        "was_open": bool(open_item),
    }


def coding_summary(con: duckdb.DuckDBPyConnection) -> dict:
    rows = con.execute("""
        SELECT k.source, k.reason, k.needs_review, count(*) FROM case_coding k
        JOIN cases c USING (hospital_code, case_id) WHERE c.status = 'active'
        GROUP BY ALL ORDER BY 1, 2, 3""").fetchall()
    active, uncoded = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE k.case_id IS NULL OR k.case_version <> c.version)
        FROM cases c LEFT JOIN case_coding k USING (hospital_code, case_id)
        WHERE c.status = 'active'""").fetchall()[0]
    models = con.execute(
        "SELECT model_name || '/' || model_version, count(*) FROM case_coding GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {
        "active_cases": active,
        "without_current_coding": uncoded,
        "by_source_reason": [
            {"source": s, "reason": r, "needs_review": n, "cases": c} for s, r, n, c in rows
        ],
        "models": dict(models),
        "reviews": review_counts(con),
    }
