"""The workspace pages on the tiny published warehouse: case search and export, saved queries,
the coder's queue, signals, evidence packs, the network view, a clerk's submissions and
receipts, notification preferences. Expected numbers are computed here from the fixture's own
rows (``tiny_warehouse._cases``), not by the services under test."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
from sqlalchemy import select
from tiny_warehouse import (
    ALERT_ID,
    BROKEN_PACK,
    OTHER_SUBMISSION,
    PACK,
    REVIEW_OPEN,
    REVIEW_OTHER,
    SIGNAL_ID,
    SUBMISSION,
    WAITING,
    WEEK,
    _cases,
)
from web_helpers import WebEnv, page_token

from pipeline.appdb.models import AuditEntry, CodingResolution, EvidenceRequest
from pipeline.contract import IDENTIFIER_FIELDS

CASES = _cases()


def _audit_actions(web: WebEnv) -> list[tuple[str, str, str | None]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        return [(r.action, r.actor_username, r.object_id) for r in rows]


def _total(html: str) -> int:
    match = re.search(r'id="total"><strong>([\d,]+)</strong>', html)
    assert match, "no total on the page"
    return int(match.group(1).replace(",", ""))


# ---- case search -------------------------------------------------------------------------


def test_case_search_counts_match_the_rows(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    everything = analyst.get("/cases?search=1")
    assert everything.status_code == 200 and _total(everything.text) == len(CASES)
    words = analyst.get("/cases", params={"q": "电饭煲", "search": "1"})
    expected = (
        CASES["narrative"].str.contains("电饭煲") | CASES["product_name"].str.contains("电饭煲")
    ).sum()
    assert _total(words.text) == expected
    # English words are case-insensitive; every term must occur.
    both = analyst.get("/cases", params={"q": "LID steam", "search": "1"})
    lower = CASES["narrative"].str.lower()
    assert _total(both.text) == (lower.str.contains("lid") & lower.str.contains("steam")).sum()
    # Filters combine: boys of 15-24 in Shanghai's hospitals.
    combined = analyst.get(
        "/cases",
        params={"sex": "male", "age_group": "15-24", "city": "310100", "search": "1"},
    )
    mask = (
        (CASES["sex"] == "male")
        & CASES["age"].between(15, 24.999)
        & (CASES["hospital_code"] == "SH001")
    )
    assert _total(combined.text) == mask.sum()
    # The weekly chart is server-side SVG with one bar per week, no script.
    assert '<figure class="chart" id="weekly-chart">' in everything.text
    weeks = CASES["visit_week"].nunique()
    assert everything.text.count('<rect class="bar') == weeks


def test_case_search_refuses_bad_values_in_the_users_language(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    bad = analyst.get("/cases", params={"category": "XX99", "search": "1"})
    assert bad.status_code == 400 and "unknown value XX99" in bad.text
    backwards = analyst.get("/cases", params={"date_from": "2026-11-01", "date_to": "2026-10-01"})
    assert backwards.status_code == 400 and "after the last" in backwards.text
    analyst.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": page_token(analyst)})
    zh = analyst.get("/cases", params={"category": "XX99", "search": "1"})
    assert zh.status_code == 400 and "未知的取值" in zh.text


def test_hostile_narratives_are_inert_on_the_search_page(web: WebEnv) -> None:
    page = web.signed_in("u-analyst").get("/cases", params={"q": "HYPERLINK", "search": "1"})
    assert _total(page.text) == 3
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;n&#34;)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;厨乐宝&lt;/b&gt;" not in page.text or "<b>厨乐宝</b>" not in page.text


def test_export_csv_and_xlsx_are_de_identified_and_formula_safe(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    response = analyst.get("/cases/export", params={"fmt": "csv", "q": "HYPERLINK"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    assert not set(rows[0]) & set(IDENTIFIER_FIELDS)
    assert "pn_" not in text and "id_0" not in text  # no pseudonym anywhere
    assert all(r["narrative"].startswith("<script>") for r in rows)  # text kept, not a formula
    assert all(r["product_name"].startswith("'=cmd") for r in rows)  # formula neutralised
    assert all(r["model"] == "'@SUM(1+1)" for r in rows)
    workbook = analyst.get("/cases/export", params={"fmt": "xlsx", "q": "HYPERLINK"})
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert not set(header) & set(IDENTIFIER_FIELDS)
    product = header.index("product_name")
    for row in sheet.iter_rows(min_row=2):
        assert row[product].data_type == "s" and row[product].value.startswith("'=cmd")
    exports = [a for a in _audit_actions(web) if a[0] == "cases.export"]
    assert [(a[1]) for a in exports] == ["u-analyst", "u-analyst"]


def test_saved_queries_are_per_user(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst, "/cases")
    saved = analyst.post(
        "/cases/saved",
        data={
            "name": "Rice cookers 2026",
            "query_string": "category=HA01&q=lid",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    location = saved.headers["location"]
    assert re.fullmatch(r"/cases\?saved=\d+", location)
    again = analyst.get(location)
    assert "Rice cookers 2026" in again.text and 'value="lid"' in again.text
    # Every "lid" case is a rice cooker (HA01); a case waiting for a coder has no final category.
    waiting = CASES["case_id"].isin(WAITING)
    expected = (CASES["narrative"].str.lower().str.contains("lid") & ~waiting).sum()
    assert _total(again.text) == expected
    # Someone else's saved query does not exist for them.
    other = web.signed_in("u-supervisor").get(location)
    assert other.status_code == 404
    query_id = location.rsplit("=", 1)[1]
    assert web.signed_in("u-recall").post(
        f"/cases/saved/{query_id}/delete",
        data={"csrf_token": page_token(web.signed_in("u-recall"))},
    ).status_code in (403, 404)
    deleted = analyst.post(f"/cases/saved/{query_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and analyst.get(location).status_code == 404
    actions = [a[0] for a in _audit_actions(web)]
    assert "query.save" in actions and "query.delete" in actions


def test_search_form_works_as_an_htmx_fragment(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    fragment = analyst.get("/cases?search=1&q=magnet", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="results"')
    assert "<html" not in fragment.text


# ---- the coder's queue -------------------------------------------------------------------


def test_coder_queue_resolves_from_the_keyboard_and_waits_for_the_next_run(web: WebEnv) -> None:
    coder = web.signed_in("u-coder")
    queue = coder.get("/coding")
    assert queue.status_code == 200
    assert queue.text.count('class="card queue-item') == 4
    assert 'accesskey="1" autofocus' in queue.text and 'accesskey="0"' in queue.text
    assert "41%" in queue.text and "33%" in queue.text  # the model's confidence
    token = page_token(coder, "/coding")
    done = coder.post(
        "/coding/resolve",
        data={"review_id": REVIEW_OPEN, "category": "HA02", "csrf_token": token},
    )
    assert done.status_code == 303
    after = coder.get("/coding")
    assert "resolved, applied at the next run" in after.text
    assert re.search(r'id="pending">1<', after.text) and re.search(r'id="remaining">3<', after.text)
    with web.db.transaction() as session:
        rows = session.scalars(select(CodingResolution)).all()
        assert [(r.case_id, r.category, r.status, r.username) for r in rows] == [
            ("C0003", "HA02", "pending", "u-coder")
        ]
    assert ("coding.resolve", "u-coder", "GZ001:C0003") in _audit_actions(web)
    # A category that does not exist is refused with the reason, nothing recorded.
    bad = coder.post(
        "/coding/resolve",
        data={"review_id": REVIEW_OPEN, "other_category": "ZZ99", "csrf_token": token},
    )
    assert bad.status_code == 400 and "ZZ99 is not a product category" in bad.text
    # Through htmx the queue fragment comes back.
    fragment = coder.post(
        "/coding/resolve",
        data={"review_id": REVIEW_OTHER, "category": "NONE", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert fragment.text.lstrip().startswith('<section id="queue">')
    assert 'id="just-resolved"' in fragment.text


def test_hostile_text_is_inert_in_the_queue(web: WebEnv) -> None:
    html = web.signed_in("u-coder").get("/coding").text
    assert 'data-review="GZ001:C0036:1"' in html  # the open item with the hostile narrative
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;n&#34;)&lt;/script&gt;" in html
    assert "=cmd|&#34;/c calc&#34;!A1" in html  # the product name shown as text


# ---- signals -------------------------------------------------------------------------------


def _listed(html: str) -> bool:
    """Whether the tiny signal is a row of the inbox table."""
    return f'<tr data-signal="{SIGNAL_ID}">' in html


def test_signal_inbox_lists_signals_with_filters_and_counts(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    inbox = analyst.get("/signals")
    assert inbox.status_code == 200 and _listed(inbox.text)
    # The signal, not its alert: names beside codes, cases since onset, decision, investigation.
    row = inbox.text.split(f'<tr data-signal="{SIGNAL_ID}">')[1].split("</tr>")[0]
    assert "HA01 Rice cooker" in row and "since 2026-W40" in row
    assert re.search(r'<td class="num">19</td>', row)  # the HA01 cases not waiting for a coder
    assert "confirmed" in row and "u-analyst" in row and "follow-up ordered" in row
    assert 'data-alert="' not in inbox.text
    assert re.search(r'data-count="new"><strong>1<', inbox.text)
    assert re.search(r'data-count="untriaged"><strong>0<', inbox.text)
    assert not _listed(analyst.get("/signals?status=resolved").text)
    assert _listed(analyst.get("/signals?status=open").text)
    assert _listed(analyst.get("/signals?city=310100&severity=died").text)
    assert not _listed(analyst.get("/signals?severity=other").text)
    assert not _listed(analyst.get("/signals?family=TY").text)
    assert _listed(analyst.get("/signals?family=HA&sort=cases").text)
    assert _listed(analyst.get("/signals?decision=confirm").text)
    assert not _listed(analyst.get("/signals?decision=none").text)
    assert _listed(analyst.get(f"/signals?week={WEEK}").text)
    for bad in ("status=bogus", "sort=bogus", "severity=severe%3Cx", "week=garbage"):
        assert analyst.get(f"/signals?{bad}").status_code == 400, bad
    fragment = analyst.get("/signals?status=new", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="inbox">') and _listed(fragment.text)


def test_signal_page_shows_window_members_trend_map_mix_and_inert_cases(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    page = analyst.get(f"/signals/{SIGNAL_ID}")
    assert page.status_code == 200
    html = page.text
    assert re.search(r"<title>HA01 Rice cooker[^<]*</title>", html)
    assert "2026-W40 to 2026-W47: 19 cases at 3 hospitals" in html  # the evidence window
    assert html.count("No notice drafted from this signal.") == 1
    assert f'<tr data-alert="{ALERT_ID}">' in html  # the member alert, with why it fired
    assert '<figure class="chart" id="trend-chart">' in html
    assert 'class="line expected"' in html and 'class="line upper"' in html
    assert html.count('class="bar alarm"') == 3  # the stored series alarms in its last 3 weeks
    assert '<g class="city hot" data-city="440100">' in html  # Guangzhou's hospital has cases
    coded = CASES[CASES["case_id"].isin(set(CASES["case_id"]) - set(WAITING))]
    ha01 = coded[
        coded["narrative"].str.contains("rice|电饭煲")
        | coded["product_name"].str.contains("电饭煲")
    ]
    assert html.count('<tr data-case="') == len(ha01) == 19
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    # Decision history and follow-ups from the application database.
    assert "three hospitals, one death" in html and "check the lid hinge" in html
    assert 'data-followup="' in html and "overdue" in html
    assert analyst.get(f"/signals/{SIGNAL_ID}?week={WEEK}").status_code == 200
    assert analyst.get(f"/signals/{SIGNAL_ID}?week=2026-W01").status_code == 404
    assert analyst.get(f"/signals/{SIGNAL_ID}?week=garbage").status_code == 400
    assert analyst.get("/signals/S-nothing-here").status_code == 404
    # A supervisor reads it too; a coder may not.
    assert web.signed_in("u-supervisor").get(f"/signals/{SIGNAL_ID}").status_code == 200
    assert web.signed_in("u-coder").get(f"/signals/{SIGNAL_ID}").status_code == 403


# ---- evidence --------------------------------------------------------------------------------


def test_recall_officer_sees_packs_with_their_verification(web: WebEnv) -> None:
    officer = web.signed_in("u-recall")
    page = officer.get("/evidence")
    assert page.status_code == 200 and f'data-signal="{SIGNAL_ID}"' in page.text
    intact, broken = page.text.index(PACK), page.text.index(BROKEN_PACK)
    assert "intact" in page.text[intact : intact + 600]
    assert "does not match the manifest" in page.text[broken : broken + 600]
    download = officer.get(f"/evidence/packs/{PACK}")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert ("evidence.download", "u-recall", PACK) in _audit_actions(web)
    for name in ("..%2Fapp.db", "evidence-x.txt", "evidence-..%2F..%2Fetc.zip", "nothing.zip"):
        assert officer.get(f"/evidence/packs/{name}").status_code == 404, name


def test_a_pack_request_is_recorded_once_and_queued(web: WebEnv) -> None:
    officer = web.signed_in("u-recall")
    token = page_token(officer, "/evidence")
    for _ in range(2):
        response = officer.post(
            "/evidence/requests", data={"signal_id": SIGNAL_ID, "week": WEEK, "csrf_token": token}
        )
        assert response.status_code == 303
    with web.db.transaction() as session:
        rows = session.scalars(select(EvidenceRequest)).all()
        assert [(r.signal_id, r.week, r.status, r.requested_by) for r in rows] == [
            (SIGNAL_ID, WEEK, "pending", "u-recall")
        ]
    assert len(web.app.state.web.jobs.queued) == 2  # the builder takes the one request
    missing = officer.post(
        "/evidence/requests", data={"signal_id": "NOPE", "week": WEEK, "csrf_token": token}
    )
    assert missing.status_code == 404


# ---- network, submissions, receipts --------------------------------------------------------


def test_coordinator_sees_the_network_and_drills_down_to_a_receipt(web: WebEnv) -> None:
    coordinator = web.signed_in("u-coordinator")
    page = coordinator.get("/network")
    assert page.status_code == 200 and 'data-hospital="GZ001"' in page.text
    listing = coordinator.get("/hospitals/GZ001/submissions")
    assert f'data-submission="{SUBMISSION}"' in listing.text
    receipt = coordinator.get(f"/hospitals/GZ001/submissions/{SUBMISSION}")
    assert receipt.status_code == 200
    assert receipt.text.count("age must be between 0 and 120 years") == 2
    assert "&#39;=HYPERLINK" in receipt.text or "=HYPERLINK(&#34;http://q.x&#34;)" in receipt.text


def test_a_clerk_sees_only_their_own_hospital(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")  # GZ001
    assert clerk.get("/hospitals/GZ001/submissions").status_code == 200
    assert clerk.get(f"/hospitals/GZ001/submissions/{SUBMISSION}").status_code == 200
    # Another hospital's list and submission: 404, whether reached by its code or through
    # the clerk's own hospital's path.
    for path in (
        "/hospitals/SH001/submissions",
        f"/hospitals/SH001/submissions/{OTHER_SUBMISSION}",
        f"/hospitals/GZ001/submissions/{OTHER_SUBMISSION}",
        "/hospitals/SH001/upload",
        "/hospitals/XX999/submissions",
    ):
        assert clerk.get(path).status_code == 404, path
    assert OTHER_SUBMISSION not in clerk.get("/hospitals/GZ001/submissions").text
    assert clerk.get("/network").status_code == 403
    assert clerk.get("/cases").status_code == 403


def test_the_receipt_is_in_the_clerks_language(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")
    clerk.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": page_token(clerk)})
    page = clerk.get(f"/hospitals/GZ001/submissions/{SUBMISSION}").text
    assert "年龄必须在 0 至 120 岁之间" in page and "age must be between" not in page
    assert "被拒收的行" in page


def test_upload_bodies_over_the_limit_are_refused(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")
    token = page_token(clerk, "/hospitals/GZ001/upload")
    big = b"x" * (web.settings.web.upload_max_mb * 1024 * 1024 + 200 * 1024)
    response = clerk.post(
        "/hospitals/GZ001/upload",
        data={"csrf_token": token},
        files={"file": ("big.csv", big, "text/csv")},
    )
    assert response.status_code == 413
    # Other forms keep the 1 MiB cap.
    assert clerk.post("/account", data={"email": "x" * (1100 * 1024)}).status_code == 413


# ---- notifications ----------------------------------------------------------------------------


def test_notification_choices_by_role(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    page = analyst.get("/account/notifications").text
    assert 'value="new_signals" checked' in page and 'value="followups_due" checked' in page
    assert 'value="receipts"' not in page  # not for analysts
    token = page_token(analyst, "/account/notifications")
    saved = analyst.post(
        "/account/notifications", data={"kind": "followups_due", "csrf_token": token}
    )
    assert saved.status_code == 303
    page = analyst.get("/account/notifications").text
    assert (
        'value="new_signals" >' in page
        or 'value="new_signals"  >' in page
        or ('value="new_signals" checked' not in page)
    )
    assert 'value="followups_due" checked' in page
    details = [a for a in _audit_actions(web) if a[0] == "notifications.preferences"]
    assert details == [("notifications.preferences", "u-analyst", "u-analyst")]
    clerk_page = web.signed_in("u-clerk").get("/account/notifications").text
    assert 'value="receipts" checked' in clerk_page and "new_signals" not in clerk_page


def test_every_workspace_page_in_both_languages(web: WebEnv) -> None:
    pages = {
        "u-analyst": ["/cases", "/cases?search=1", "/signals", f"/signals/{SIGNAL_ID}"],
        "u-coder": ["/coding"],
        "u-recall": ["/evidence", "/cases?search=1"],
        "u-coordinator": ["/network", "/hospitals/GZ001/submissions"],
        "u-clerk": [
            "/hospitals/GZ001/submissions",
            f"/hospitals/GZ001/submissions/{SUBMISSION}",
            "/hospitals/GZ001/upload",
        ],
    }
    for username, paths in pages.items():
        client = web.signed_in(username)
        for lang, probe in (("en", "Sign out"), ("zh", "退出")):
            client.post("/lang", data={"lang": lang, "next": "/", "csrf_token": page_token(client)})
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, (username, lang, path)
                assert probe in response.text, (username, lang, path)
                assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in response.text
                # no message key left untranslated on the page
                leftovers = re.findall(
                    r">\s*((?:cases|signals|signal|coding|evidence|network|submissions|receipt|upload|notifications)\.[a-z_.]+)\s*<",
                    response.text,
                )
                assert not leftovers, (username, lang, path, leftovers)


def test_receipt_json_is_read_from_the_outbox_not_the_path(web: WebEnv) -> None:
    # A submission id that tries to leave the outbox finds nothing.
    coordinator = web.signed_in("u-coordinator")
    assert coordinator.get("/hospitals/GZ001/submissions/..%2F..%2Fapp").status_code == 404
    data = json.loads((web.settings.outbox_dir / "GZ001" / f"{SUBMISSION}.json").read_text())
    assert data["rows_quarantined"] == 2
