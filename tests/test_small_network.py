"""The shared small-network fixture is what later-stage tests assume it is."""

from __future__ import annotations

from network_fixture import DETECT_WEEKS, HOSTILE_IDENTIFIERS

from pipeline.storage.warehouse import connect


def test_small_network_is_ingested_coded_clustered_and_detected(small_network) -> None:
    con = connect(small_network.warehouse_path, read_only=True)
    try:
        cases = con.execute("SELECT count(*) FROM cases WHERE status = 'active'").fetchone()[0]
        coded = con.execute("SELECT count(*) FROM coded_cases").fetchone()[0]
        patterned = con.execute("SELECT count(*) FROM case_patterns").fetchone()[0]
        weeks = {w for (w,) in con.execute("SELECT DISTINCT week FROM alerts").fetchall()}
        last_week_alerts = con.execute(
            "SELECT count(*) FROM alerts WHERE week = ? AND status <> 'resolved'",
            [DETECT_WEEKS[-1]],
        ).fetchone()[0]
        hostile = con.execute(
            "SELECT narrative, product_name FROM cases "
            "WHERE case_id LIKE 'HOSTILE%' ORDER BY case_id"
        ).fetchall()
        identifiers = con.execute(
            "SELECT patient_name, patient_id_number, patient_phone FROM cases "
            "WHERE case_id LIKE 'HOSTILE%'"
        ).fetchall()
    finally:
        con.close()
    assert cases > 5000 and coded > 0.95 * cases and patterned > 0.8 * coded
    # Hazards are still running in the last week, so its report has alerts to show.
    assert weeks <= set(DETECT_WEEKS) and last_week_alerts > 0
    # The hostile extract is stored as sent (text is escaped where rendered, not here) ...
    assert len(hostile) == 3 and all("<script>" in n for n, _ in hostile)
    # ... but its identifiers only as pseudonyms.
    clear = set(HOSTILE_IDENTIFIERS.values())
    assert identifiers and all(v not in clear and v for row in identifiers for v in row)


def test_coded_and_review_pending_cases_partition_the_active_cases(small_network) -> None:
    from pipeline.alerts.series import load_cases, load_review_pending

    con = connect(small_network.warehouse_path, read_only=True)
    try:
        coded, pending = load_cases(con), load_review_pending(con)
        production = con.execute(
            "SELECT count(*) FROM cases c JOIN ref_hospitals h USING (hospital_code) "
            "WHERE c.status = 'active' AND h.is_test = 'False'"
        ).fetchone()[0]
        waiting = {
            f"{h}/{c}"
            for h, c in con.execute(
                "SELECT k.hospital_code, k.case_id FROM case_coding k JOIN cases c "
                "ON c.hospital_code = k.hospital_code AND c.case_id = k.case_id "
                "AND c.version = k.case_version JOIN ref_hospitals h "
                "ON h.hospital_code = c.hospital_code "
                "WHERE k.needs_review AND c.status = 'active' AND h.is_test = 'False'"
            ).fetchall()
        }
    finally:
        con.close()
    keys = lambda frame: set(frame["hospital_code"] + "/" + frame["case_id"])  # noqa: E731
    assert len(coded) + len(pending) == production
    assert not keys(coded) & keys(pending)
    assert waiting and waiting <= keys(pending)
    assert list(pending.columns) == list(coded.columns) and pending["category"].isna().all()
