"""The web app's per-snapshot memory (``Snapshots``) gives the answers a direct read of the
published snapshot gives, and a new publication is seen by the next request."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_warehouse import SIGNAL_ID, WEEK
from web_helpers import WebEnv

from pipeline.services import cases, signals
from pipeline.services.cases import CaseQuery
from pipeline.storage.session import Snapshots, writer

QUERIES = [
    {},
    {"category": ["HA"]},
    {"category": ["HA01", "CP02"], "severity": ["severe", "moderate"]},
    {"q": ["lid"]},
    {"q": ["LID steam"]},
    {"q": ["电饭煲"]},
    {"q": ['"rice cooker"']},
    {"age_group": ["0", "1-4", "65+"], "sex": ["male"]},
    {"date_from": ["2026-11-01"], "date_to": ["2026-11-30"], "city": ["310100"]},
    {"hospital": ["GZ001"], "q": ["烫"]},
]


def _plain(result: cases.SearchResult) -> dict:
    return dataclasses.asdict(result)


@pytest.mark.parametrize(
    "params", QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())
)
def test_remembered_search_equals_a_direct_read(web: WebEnv, params: dict) -> None:
    settings = web.settings
    known = cases.facets(settings.hospital_registry)
    query = CaseQuery.parse(params, known)
    snapshots = Snapshots(settings)
    try:
        for page in (1, 2):
            first = cases.search(settings, query, page=page, page_size=5, snapshots=snapshots)
            hits = snapshots.hits
            again = cases.search(settings, query, page=page, page_size=5, snapshots=snapshots)
            assert snapshots.hits == hits + 1  # the second answer came from memory
            direct = cases.search(settings, query, page=page, page_size=5)  # no memory at all
            assert _plain(first) == _plain(direct) == _plain(again)
    finally:
        snapshots.close()


def test_remembered_inbox_and_signal_equal_a_direct_read(web: WebEnv) -> None:
    settings = web.settings
    snapshots = Snapshots(settings)
    try:
        for lang in ("en", "zh"):
            remembered = signals.inbox(settings, WEEK, lang=lang, snapshots=snapshots, db=web.db)
            remembered = signals.inbox(settings, WEEK, lang=lang, snapshots=snapshots, db=web.db)
            direct = signals.inbox(settings, WEEK, lang=lang, db=web.db)
            assert remembered.rows == direct.rows and remembered.counts == direct.counts
            one = signals.details(settings, SIGNAL_ID, WEEK, lang, snapshots=snapshots, db=web.db)
            one = signals.details(settings, SIGNAL_ID, WEEK, lang, snapshots=snapshots, db=web.db)
            fresh = signals.details(settings, SIGNAL_ID, WEEK, lang, db=web.db)
            assert one.keys() == fresh.keys()
            for key in one:
                if hasattr(one[key], "equals"):
                    assert one[key].equals(fresh[key]), key
                else:
                    assert one[key] == fresh[key], key
        assert snapshots.hits >= 4
    finally:
        snapshots.close()


def test_a_new_publication_is_seen_by_the_next_request(web: WebEnv) -> None:
    settings = web.settings
    analyst = web.signed_in("u-analyst")
    before = analyst.get("/cases?search=1&q=lid")
    assert before.status_code == 200
    known = cases.facets(settings.hospital_registry)
    query = CaseQuery.parse({"q": ["lid"]}, known)
    remembered = cases.search(settings, query, snapshots=web.app.state.web.snapshots)
    assert remembered.total > 0
    old_path = web.app.state.web.snapshots.path
    # A writer withdraws one matching case and publishes.
    with writer(settings) as con:
        con.execute(
            """UPDATE cases SET status = 'withdrawn'
               WHERE (hospital_code, case_id) IN (
                 SELECT hospital_code, case_id FROM cases
                 WHERE status = 'active' AND regexp_matches(narrative, '(?i)lid')
                 ORDER BY visit_datetime DESC, hospital_code, case_id LIMIT 1)"""
        )
    after = cases.search(settings, query, snapshots=web.app.state.web.snapshots)
    assert web.app.state.web.snapshots.path != old_path
    assert after.total == remembered.total - 1
    assert _plain(after) == _plain(cases.search(settings, query))
    page = analyst.get("/cases?search=1&q=lid")
    assert page.status_code == 200
    assert f"<strong>{after.total:,}</strong>" in page.text


# Text over characters a term may hold and their case neighbours (Kelvin sign, long s,
# fullwidth letters, Greek sigmas, dotted I): a term found as a plain substring exactly when
# the case-insensitive pattern finds it, whenever the search uses the plain test.
_ALPHABET = "电饭煲烫伤磁摔 12-，。ァあkKKsSſσΣςİiıＡａ\"'"


@pytest.mark.slow  # 300 examples, a DuckDB connection each: 5-8 s
@settings(max_examples=300, deadline=None)
@given(
    term=st.text(alphabet=_ALPHABET, min_size=1, max_size=4),
    texts=st.lists(st.text(alphabet=_ALPHABET, max_size=12), min_size=1, max_size=8),
)
def test_the_plain_substring_test_finds_what_the_pattern_finds(term: str, texts: list[str]) -> None:
    from pipeline.services.cases import _pattern, _uncased

    if not _uncased(term):
        return
    con = duckdb.connect()
    try:
        found = con.execute(
            "SELECT list(regexp_matches(t, ?) = contains(t, ?)) FROM unnest(?) AS u(t)",
            [_pattern(term), term, texts],
        ).fetchone()[0]
    finally:
        con.close()
    assert all(found)


def test_an_export_holds_every_match_up_to_the_limit_and_names_the_count_beyond(
    web: WebEnv,
) -> None:
    from pipeline.errors import BadInput

    settings = web.settings
    query = CaseQuery.parse({"q": ["lid"]}, cases.facets(settings.hospital_registry))
    total = cases.search(settings, query).total
    assert total >= 2
    exact = cases.export(settings, query, "csv", max_rows=total)
    assert exact.rows == total
    refused = None
    try:
        cases.export(settings, query, "csv", max_rows=total - 1)
    except BadInput as exc:
        refused = exc
    assert refused is not None and f"{total:,} cases match" in str(refused)


# ---- the search table built at publication (pipeline.storage.read_tables) -----------------


def _base_copy(settings, tmp_path):  # type: ignore[no-untyped-def]
    """A copy of the current snapshot without its derived tables (as an older Sentinel
    published it): searches there read the base tables."""
    import shutil

    from pipeline.storage import publish, read_tables

    copy = tmp_path / "base.duckdb"
    shutil.copyfile(publish.current(settings), copy)
    con = duckdb.connect(str(copy))
    con.execute(f"DROP TABLE {read_tables.SEARCH_TABLE}")
    con.close()
    return duckdb.connect(str(copy), read_only=True)


@pytest.mark.parametrize(
    "params",
    [*QUERIES, {"q": ["Lid"], "category": ["HA"]}, {"q": ["HYPERLINK"]}, {"q": ["steam", "lid"]}],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_the_search_table_answers_what_the_base_tables_answer(
    web: WebEnv, tmp_path, params: dict
) -> None:
    from pipeline.storage import publish, read_tables

    settings = web.settings
    known = cases.facets(settings.hospital_registry)
    query = CaseQuery.parse(params, known)
    derived = duckdb.connect(str(publish.current(settings)), read_only=True)
    base = _base_copy(settings, tmp_path)
    try:
        assert read_tables.has_search_table(derived) and not read_tables.has_search_table(base)
        for page in (1, 2):
            fast = cases._search(derived, known, query, page, 5, "en")
            slow = cases._search(base, known, query, page, 5, "en")
            assert _plain(fast) == _plain(slow)
        fast_rows = cases._export_frame(derived, known, query, 10_000)
        slow_rows = cases._export_frame(base, known, query, 10_000)
        assert fast_rows.astype(str).equals(slow_rows.astype(str))
    finally:
        derived.close()
        base.close()


# Words over characters with and without other cases: a word written as it stands in a
# narrative is always found through the search table, whatever the lower-casing does.
_WORDS = "电饭煲烫伤磁 12-，ァkKKsSſσΣςİiıＡａLIDlid"


@pytest.fixture(scope="module")
def memory_db():  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    yield con
    con.close()


@settings(max_examples=200, deadline=None)
@given(
    word=st.text(alphabet=_WORDS.replace(" ", ""), min_size=1, max_size=4),
    texts=st.lists(st.text(alphabet=_WORDS, max_size=12), min_size=1, max_size=8),
)
def test_a_word_as_written_in_the_text_is_found_through_the_search_table(
    memory_db, word: str, texts: list[str]
) -> None:
    found = memory_db.execute(
        "SELECT list(contains(lower(t), lower(?))) FROM unnest(?) AS u(t)", [word, texts]
    ).fetchone()[0]
    assert all(f for f, t in zip(found, texts, strict=True) if word in t)


def test_a_signals_stored_cases_are_its_cases_read_from_the_base_tables(web: WebEnv) -> None:
    from pipeline.alerts import signal_store
    from pipeline.reporting.context import signal_cases, stored_signal_cases
    from pipeline.storage import publish, read_tables

    con = duckdb.connect(str(publish.current(web.settings)), read_only=True)
    try:
        assert read_tables.has_signal_cases(con)
        stored = con.execute("SELECT signal_id, week FROM signal_weeks ORDER BY 2, 1").fetchall()
        assert stored
        seen = 0
        for signal_id, week in stored:
            signal = signal_store.load_signal(con, signal_id, week)
            fast, slow = stored_signal_cases(con, signal), signal_cases(con, signal)
            assert fast.astype(str).equals(slow.astype(str)), (signal_id, week)
            seen += len(fast)
        assert seen > 0
    finally:
        con.close()


def test_member_records_of_a_week_are_each_signals_members(web: WebEnv) -> None:
    import math

    from pipeline.alerts import signal_store
    from pipeline.storage import publish

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return type(a) is type(b) and a == b

    con = duckdb.connect(str(publish.current(web.settings)), read_only=True)
    try:
        compared = 0
        for week in signal_store.signal_weeks(con):
            ids = list(signal_store.week_signals(con, week)["signal_id"])
            batch = signal_store.member_records(con, ids)
            assert list(batch) == ids
            for signal_id in ids:
                alone = signal_store.members(con, signal_id).to_dict("records")
                assert [list(r) for r in batch[signal_id]] == [list(r) for r in alone]
                for one, other in zip(batch[signal_id], alone, strict=True):
                    assert all(same(one[k], other[k]) for k in other), (signal_id, week)
                compared += len(alone)
        assert compared > 0
    finally:
        con.close()


def test_a_signals_provisional_members_are_linked_over_every_pending_case(web: WebEnv) -> None:
    """signal_provisional matches the subjects within the evidence window only: the same rows,
    order and types as linking every review-pending case (the rule as written) for every
    stored signal week."""
    import json

    import pandas as pd

    from pipeline.alerts import signal_store
    from pipeline.alerts.signals import linked_mask
    from pipeline.reporting import context
    from pipeline.storage import publish

    def every_pending(pending: pd.DataFrame, signal: dict) -> pd.DataFrame:
        subjects = signal.get("subjects") or []
        subjects = json.loads(subjects) if isinstance(subjects, str) else list(subjects)
        if pending.empty or not subjects:
            return context._scrubbed(pending.reindex(columns=context.PROVISIONAL_COLUMNS))
        mask, _ = linked_mask(pending, subjects, signal["onset_week"], signal["week"])
        counted = set(signal_store.case_keys(signal))
        keys = zip(pending["hospital_code"], pending["case_id"], strict=True)
        mask &= pd.Series([k not in counted for k in keys], index=pending.index)
        kept = pending[mask].reindex(columns=context.PROVISIONAL_COLUMNS)
        return context._scrubbed(kept.reset_index(drop=True))

    con = duckdb.connect(str(publish.current(web.settings)), read_only=True)
    try:
        pending = context.pending_provisional(con)
        stored = con.execute("SELECT signal_id, week FROM signal_weeks ORDER BY 2, 1").fetchall()
        assert stored and not pending.empty
        seen = 0
        for signal_id, week in stored:
            signal = signal_store.load_signal(con, signal_id, week)
            fast = context.signal_provisional(con, signal, pending)
            slow = every_pending(pending, signal)
            assert fast.equals(slow) and list(fast.dtypes) == list(slow.dtypes), (signal_id, week)
            seen += len(fast)
        print(f"{len(stored)} signal weeks, {len(pending)} pending, {seen} provisional rows")
    finally:
        con.close()
