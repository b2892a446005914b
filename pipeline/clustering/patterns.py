"""Hazard patterns in the warehouse: refresh (``sentinel patterns refresh``) and list.

Tables:

- ``hazard_patterns``: one row per pattern (stable id ``<category>-P<nnn>``), with labels in
  English and Chinese, distinctive terms (JSON: ``concepts``, ``zh``, ``en``), dominant
  mechanism / injury / body region, number of cases, first and last visit week of its cases and
  the week it emerged (was promoted from a candidate);
- ``case_patterns``: the pattern of each clustered case, the week it was assigned and its
  similarity to the pattern when assigned;
- ``pattern_processed``: every case the clusterer has seen (also those not, or not yet, in a
  pattern) with the case version and category it was clustered under;
- ``pattern_refreshes``: one row per refresh (audit; links the warehouse to the saved state).

Input: ``coded_cases`` (final codings only) with a product involved. A refresh processes the
cases not seen before, in visit-week order, then relabels the patterns that changed. A case
whose category changes (correction or coder decision) or that leaves ``coded_cases`` (void,
back in review) is taken out of its pattern and, when eligible, clustered again; other
corrections keep the case's pattern.

The clusterer state (frozen IDF, centroids, candidates) lives in
``$SENTINEL_HOME/patterns/state/<refresh_seq>/``; a refresh writes a new state directory before
committing, so an interrupted refresh leaves the previous state and tables untouched.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.clustering import engine, features, provisional
from pipeline.clustering.analysis import DocStore
from pipeline.clustering.engine import ClusterState, Params
from pipeline.clustering.labels import label_patterns
from pipeline.config import Settings
from pipeline.errors import NotFound
from pipeline.storage.warehouse import transaction

Progress = Callable[[str], None]
KEEP_STATES = 3
DEFAULT_PARAMS = Params()


class PatternStateError(NotFound):
    """The saved clusterer state does not match the warehouse."""


def state_root(settings: Settings) -> Path:
    return settings.home / "patterns" / "state"


def analysis_root(settings: Settings) -> Path:
    """The analysed narratives kept between refreshes (``pipeline.clustering.analysis``)."""
    return settings.home / "patterns" / "analysis"


def _eligible(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Cases that may be clustered: final coding, product involved."""
    return con.execute("""
        SELECT hospital_code, case_id, version, category_code, visit_week,
               strftime(visit_datetime, '%Y-%m-%d %H:%M:%S') AS visit_datetime, product_name,
               narrative, cause, injury_nature, body_region, product_relation
        FROM coded_cases
        WHERE product_involved AND category_code IS NOT NULL
        ORDER BY visit_week, visit_datetime, hospital_code, case_id""").df()


def _rows(frame: pd.DataFrame, docs: DocStore) -> np.ndarray:
    return docs.rows(frame["product_name"].tolist(), frame["narrative"].tolist())


def _vectors(frame: pd.DataFrame, state: ClusterState, docs: DocStore | None = None):
    """The case vectors of ``frame`` (product_name, narrative and the coded fields); narratives
    are analysed through ``docs`` (once per content)."""
    docs = docs if docs is not None else DocStore()
    return _vectors_of(frame, _rows(frame, docs), state, docs)


def _vectors_of(frame: pd.DataFrame, rows: np.ndarray, state: ClusterState, docs: DocStore):
    structs = frame[list(features.STRUCT_FIELDS)].to_dict("records")
    return features.vectorise_parts(
        docs.vector_parts(rows),
        structs,
        state.layout,
        state.idf,
        state.params.weights,
    )


def new_state(
    frame: pd.DataFrame,
    params: Params | None = None,
    idf: features.Idf | None = None,
    docs: DocStore | None = None,
) -> ClusterState:
    """A fresh clusterer whose IDF is frozen from ``frame`` (product_name, narrative), or
    the given ``idf``."""
    params = params or DEFAULT_PARAMS
    if idf is None:
        docs = docs if docs is not None else DocStore()
        idf = docs.idf(_rows(frame, docs))
    return ClusterState(params=params, idf=idf, layout=features.Layout.default())


PROCESSING_ORDER = ["visit_week", "visit_datetime", "hospital_code", "case_id"]


def cluster_cases(
    state: ClusterState, frame: pd.DataFrame, docs: DocStore | None = None
) -> list[engine.Assignment]:
    """Feed cases to the clusterer in the deterministic processing order (visit week, visit
    time, hospital, case id), one visit week at a time; candidates idle for too long expire
    after each week. ``frame`` columns: hospital_code, case_id, category_code, visit_week,
    visit_datetime (text), product_name, narrative and the coded fields."""
    todo = (
        frame.assign(visit_datetime=frame["visit_datetime"].astype(str))
        .sort_values(PROCESSING_ORDER, kind="stable")
        .reset_index(drop=True)
    )
    docs = docs if docs is not None else DocStore()
    rows = _rows(todo, docs)  # every new narrative analysed in one go
    out: list[engine.Assignment] = []
    for visit_week, idx in todo.groupby("visit_week", sort=True).indices.items():
        part = todo.iloc[idx]
        vectors = _vectors_of(part, rows[idx], state, docs)
        for category, h, c, vec in zip(
            part["category_code"], part["hospital_code"], part["case_id"], vectors, strict=True
        ):
            out.extend(state.assign(category, (h, c), visit_week, vec))
        state.expire_candidates(visit_week)
    return out


def _clustered_content(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> pd.DataFrame:
    """For cases taken out: the category, pattern and content of the case version that was
    clustered (``pattern_processed.case_version``), from which its vector is rebuilt."""
    con.register("_out", keys)
    try:
        return con.execute("""
            SELECT pp.hospital_code, pp.case_id, pp.category_code, cp.pattern_id,
                   v.product_name, v.narrative, v.cause, v.injury_nature, v.body_region,
                   v.product_relation
            FROM pattern_processed pp JOIN _out USING (hospital_code, case_id)
            JOIN case_versions v ON v.hospital_code = pp.hospital_code
                 AND v.case_id = pp.case_id AND v.version = pp.case_version
            LEFT JOIN case_patterns cp ON cp.hospital_code = pp.hospital_code
                 AND cp.case_id = pp.case_id
            ORDER BY pp.hospital_code, pp.case_id""").df()
    finally:
        con.unregister("_out")


def _drop_from_state(state: ClusterState, removed: pd.DataFrame, docs: DocStore) -> int:
    """Take cases out of their pattern or candidate: subtract their vector (rebuilt from the
    clustered version with the frozen IDF, so it is the vector that was added) from the
    centroid sum and their count; candidates also forget the member. Returns how many
    centroids changed. ``removed``: ``_clustered_content`` rows."""
    if removed.empty:
        return 0
    vectors = _vectors(removed, state, docs)
    changed = 0
    for row, vec in zip(removed.itertuples(index=False), vectors, strict=True):
        key = (row.hospital_code, row.case_id)
        state.pending_sim.pop(key, None)
        cc = state.categories.get(row.category_code)
        if cc is None:
            continue
        i = None
        if isinstance(row.pattern_id, str) and row.pattern_id in cc.pattern_id:
            i = cc.pattern_id.index(row.pattern_id)
        else:
            i = next((j for j in range(len(cc)) if key in cc.members[j]), None)
            if i is not None:
                cc.members[i] = [k for k in cc.members[i] if k != key]
        if i is None or not cc.alive[i]:
            continue  # an expired candidate: nothing left to subtract
        cc.count[i] -= 1
        if cc.count[i] <= 0:
            cc.sums[i] = 0.0  # an emptied pattern keeps its id (ids are never reused)
            cc.count[i] = 0
        else:
            cc.sums[i] -= vec
        cc.norm2[i] = float(cc.sums[i].astype(np.float64) @ cc.sums[i].astype(np.float64))
        changed += 1
    return changed


def refresh(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    week: str | None = None,
    rebuild: bool = False,
    params: Params | None = None,
    progress: Progress | None = None,
) -> dict:
    """Cluster the coded cases not clustered yet (up to ``week``); one transaction."""
    say = progress or (lambda _m: None)
    last = con.execute("SELECT max(refresh_seq) FROM pattern_refreshes").fetchall()[0][0]
    seq = (last or 0) + 1
    root = state_root(settings)
    state: ClusterState | None = None
    if last is not None and not rebuild:
        directory = root / f"{last:06d}"
        if not (directory / "state.json").exists():
            raise PatternStateError(
                f"the warehouse was last clustered by refresh {last} but its state "
                f"{directory} is missing: run `sentinel patterns refresh --rebuild`"
            )
        state = ClusterState.load(directory)
    eligible = _eligible(con)
    if week is None:
        week = eligible["visit_week"].max() if len(eligible) else None
    if week is None:
        say("no coded cases with a product: nothing to cluster")
        return {"refresh_seq": None, "week": None, "new_cases": 0}
    eligible = eligible.reset_index(drop=True)

    processed = (
        con.execute(
            "SELECT hospital_code, case_id, case_version, category_code FROM pattern_processed"
        ).df()
        if not rebuild
        else pd.DataFrame(columns=["hospital_code", "case_id", "case_version", "category_code"])
    )
    now_cat = {
        (h, c): (v, k)
        for h, c, v, k in zip(
            eligible["hospital_code"],
            eligible["case_id"],
            eligible["version"],
            eligible["category_code"],
            strict=True,
        )
    }
    # a case whose category changed or that left coded_cases is taken out; other corrections
    # keep the pattern, and pattern_processed keeps the version that was clustered (its
    # vector is the one in the centroid)
    removed: set[tuple[str, str]] = set()
    for h, c, _v, k in processed.itertuples(index=False):
        cur = now_cat.get((h, c))
        if cur is None or cur[1] != k:
            removed.add((h, c))
    seen = set(zip(processed["hospital_code"], processed["case_id"], strict=True)) - removed
    keys = list(zip(eligible["hospital_code"], eligible["case_id"], strict=True))
    todo_mask = pd.Series([k not in seen for k in keys], index=eligible.index)
    todo = eligible[todo_mask & (eligible["visit_week"] <= week)].reset_index(drop=True)

    docs = DocStore.open(analysis_root(settings))
    if state is None:
        basis = eligible[eligible["visit_week"] <= week]
        state = new_state(basis, params, docs=docs)
        say(f"new pattern state: IDF frozen from {len(basis)} cases up to {week}")
    removed_frame = pd.DataFrame(sorted(removed), columns=["hospital_code", "case_id"])
    _drop_from_state(
        state, _clustered_content(con, removed_frame) if removed else removed_frame, docs
    )
    say(f"refresh {seq}: {len(todo)} cases to cluster up to {week}, {len(removed)} taken out")

    before = {pid for cc in state.categories.values() for pid in cc.pattern_id if pid}
    assignments = cluster_cases(state, todo, docs)
    state.processed_week = max(filter(None, [state.processed_week, week]))
    after = {pid for cc in state.categories.values() for pid in cc.pattern_id if pid}
    new_patterns = sorted(after - before)

    now = datetime.now(UTC).replace(tzinfo=None)
    assigned = pd.DataFrame.from_records(
        [
            {
                "hospital_code": a.hospital_code,
                "case_id": a.case_id,
                "pattern_id": a.pattern_id,
                "assigned_week": a.assigned_week,
                "similarity": float(a.similarity),
                "category_code": a.pattern_id.rsplit("-P", 1)[0],
                "refresh_seq": seq,
            }
            for a in assignments
        ],
        columns=[
            "hospital_code",
            "case_id",
            "pattern_id",
            "assigned_week",
            "similarity",
            "category_code",
            "refresh_seq",
        ],
    )
    done = todo[["hospital_code", "case_id", "version", "category_code", "visit_week"]].rename(
        columns={"version": "case_version"}
    )
    done["refresh_seq"] = seq

    # review-pending cases: provisional members of their top suggestion's pattern (item 7)
    placed = provisional.place(
        state, provisional.pending_cases(con), seq, lambda f, s: _vectors(f, s, docs)
    )

    directory = root / f"{seq:06d}"
    state.save(directory)
    with transaction(con):
        if rebuild:
            for table in ("case_patterns", "pattern_processed", "hazard_patterns"):
                con.execute(f"DELETE FROM {table}")
        touched_sql = "SELECT pattern_id FROM _assigned"
        con.register("_assigned", assigned)
        con.register("_removed", removed_frame)
        touched_removed = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT p.pattern_id FROM case_patterns p JOIN _removed USING "
                "(hospital_code, case_id)"
            ).fetchall()
        ]
        con.execute(
            "DELETE FROM case_patterns p USING _removed r WHERE "
            "p.hospital_code = r.hospital_code AND p.case_id = r.case_id"
        )
        con.execute(
            "DELETE FROM pattern_processed p USING _removed r WHERE "
            "p.hospital_code = r.hospital_code AND p.case_id = r.case_id"
        )
        con.execute("INSERT INTO case_patterns BY NAME SELECT * FROM _assigned")
        con.register("_done", done)
        con.execute("INSERT INTO pattern_processed BY NAME SELECT * FROM _done")
        touched = sorted(
            {r[0] for r in con.execute(touched_sql).fetchall()}
            | set(touched_removed)
            | set(new_patterns)
        )
        _relabel(con, state, touched, seq_week=week, now=now, docs=docs)
        # the narratives analysed by this refresh are kept for the next ones (a cache: a part
        # written here stays right even if the transaction fails)
        docs.save()
        n_provisional = provisional.replace(con, placed)
        con.execute(
            "INSERT INTO pattern_refreshes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                seq,
                week,
                rebuild,
                now,
                len(todo),
                len(assigned),
                len(removed),
                len(new_patterns),
                len(after),
                json.dumps(
                    {
                        "threshold": state.params.threshold,
                        "min_cases": state.params.min_cases,
                        "merge_threshold": state.params.merge_threshold,
                        "candidate_ttl_weeks": state.params.candidate_ttl_weeks,
                        "weights": {**features.DEFAULT_WEIGHTS, **state.params.weights},
                    }
                ),
            ],
        )
        for name in ("_assigned", "_removed", "_done"):
            con.unregister(name)
    _prune_states(root, keep=KEEP_STATES)
    clustered = con.execute("SELECT count(*) FROM case_patterns").fetchall()[0][0]
    result = {
        "refresh_seq": seq,
        "week": week,
        "rebuilt": rebuild,
        "new_cases": len(todo),
        "assigned": len(assigned),
        "taken_out": len(removed),
        "new_patterns": len(new_patterns),
        "patterns": len(after),
        "clustered_cases": int(clustered),
        "provisional_members": n_provisional,
        "narratives_analysed": docs.analysed,
        "narratives_kept": docs.kept,
        "state": str(directory),
    }
    say(
        f"refresh {seq}: {len(assigned)} assignments, {len(new_patterns)} new patterns, "
        f"{len(after)} patterns in all; {docs.analysed} narratives analysed, "
        f"{docs.kept} kept from earlier refreshes"
    )
    return result


def _relabel(
    con: duckdb.DuckDBPyConnection,
    state: ClusterState,
    pattern_ids: list[str],
    seq_week: str,
    now: datetime,
    docs: DocStore,
) -> None:
    if not pattern_ids:
        return
    con.register("_touched", pd.DataFrame({"pattern_id": pattern_ids}))
    members = con.execute("""
        SELECT p.pattern_id, p.category_code, c.product_name, c.narrative, c.cause,
               c.injury_nature, c.body_region, c.visit_week
        FROM case_patterns p JOIN _touched USING (pattern_id)
        JOIN cases c ON c.hospital_code = p.hospital_code AND c.case_id = p.case_id
        ORDER BY p.pattern_id, p.hospital_code, p.case_id""").df()
    categories = sorted({pid.rsplit("-P", 1)[0] for pid in pattern_ids})
    con.register("_cats", pd.DataFrame({"category_code": categories}))
    background = con.execute("""
        SELECT p.category_code, c.product_name, c.narrative FROM pattern_processed p
        JOIN _cats USING (category_code)
        JOIN cases c ON c.hospital_code = p.hospital_code AND c.case_id = p.case_id
        ORDER BY p.category_code, p.hospital_code, p.case_id""").df()
    members["doc"] = _rows(members, docs)
    background["doc"] = _rows(background, docs)
    labels = (
        label_patterns(members, background[["category_code", "doc"]], docs)
        if len(members)
        else pd.DataFrame(columns=["pattern_id"])
    )
    # the week a pattern emerged: its first members got their id in the week it was promoted
    created = dict(
        con.execute(
            "SELECT pattern_id, min(assigned_week) FROM case_patterns JOIN _touched USING "
            "(pattern_id) GROUP BY 1"
        ).fetchall()
    )
    weeks = (
        members.groupby("pattern_id")["visit_week"].agg(["min", "max", "count"])
        if len(members)
        else pd.DataFrame(columns=["min", "max", "count"])
    )
    rows = []
    for r in labels.to_dict("records"):
        pid = r["pattern_id"]
        rows.append(
            {
                "pattern_id": pid,
                "category_code": r["category_code"],
                "label_en": r["label_en"],
                "label_zh": r["label_zh"],
                "top_terms": json.dumps(
                    {"concepts": r["concepts"], "zh": r["terms_zh"], "en": r["terms_en"]},
                    ensure_ascii=False,
                ),
                "dominant_cause": r["dominant_cause"],
                "dominant_injury": r["dominant_injury"],
                "dominant_region": r["dominant_region"],
                "n_cases": int(weeks.loc[pid, "count"]),
                "first_week": weeks.loc[pid, "min"],
                "last_week": weeks.loc[pid, "max"],
                "created_week": created.get(pid, seq_week),
                "updated_at": now,
            }
        )
    con.execute("DELETE FROM hazard_patterns WHERE pattern_id IN (SELECT pattern_id FROM _touched)")
    if rows:
        frame = pd.DataFrame.from_records(rows)
        con.register("_hp", frame)
        con.execute("INSERT INTO hazard_patterns BY NAME SELECT * FROM _hp")
        con.unregister("_hp")
    con.unregister("_touched")
    con.unregister("_cats")


def _prune_states(root: Path, keep: int) -> None:
    dirs = sorted(p for p in root.glob("[0-9]" * 6) if p.is_dir())
    for old in dirs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def list_patterns(
    con: duckdb.DuckDBPyConnection,
    category: str | None = None,
    limit: int = 50,
    sort: str = "cases",
) -> pd.DataFrame:
    order = {
        "cases": "n_cases DESC, pattern_id",
        "recent": "created_week DESC, pattern_id",
        "id": "pattern_id",
    }.get(sort, "n_cases DESC, pattern_id")
    where, params = ("WHERE category_code = ?", [category.upper()]) if category else ("", [])
    return con.execute(
        f"SELECT * FROM hazard_patterns {where} ORDER BY {order} LIMIT {int(limit)}", params
    ).df()
