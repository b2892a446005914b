"""Triage forms of the signal page: a decision (confirm / dismiss / watch with a reason) and a
follow-up order for chosen cases. Who may (the service's triage roles), CSRF, the audit entry
with the signed-in user and channel ``web``, refusals in the user's language, hostile text
inert. The tiny signal starts confirmed by u-analyst with one open follow-up (GZ001/C0000)."""

from __future__ import annotations

import json

from sqlalchemy import select
from tiny_warehouse import SIGNAL_ID, WEEK
from web_helpers import WebEnv, page_token

from pipeline.appdb.audit import verify_chain
from pipeline.appdb.models import AuditEntry, FollowUp, TriageDecision

PAGE = f"/signals/{SIGNAL_ID}"
DECIDE = f"/signals/{SIGNAL_ID}/decision"
ORDER = f"/signals/{SIGNAL_ID}/followups"
HOSTILE_REASON = '<script>alert("r")</script><img src=x onerror="alert(3)"> =HYPERLINK("x")'


def _audit(web: WebEnv) -> list[AuditEntry]:
    with web.db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        session.expunge_all()
        return list(rows)


def _decisions(web: WebEnv) -> list[tuple[str, str | None, str, str]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(TriageDecision).order_by(TriageDecision.recorded_at)).all()
        return [(r.decision, r.previous, r.actor_username, r.channel) for r in rows]


def _followups(web: WebEnv) -> list[tuple[str, str, str, str]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(FollowUp).order_by(FollowUp.requested_at)).all()
        return [(f"{r.hospital_code}/{r.case_id}", r.note, r.requested_by, r.channel) for r in rows]


def _decide(client, token: str, **form: str):  # type: ignore[no-untyped-def]
    data = {"week": WEEK, "expected": "confirm", "csrf_token": token, **form}
    return client.post(DECIDE, data=data)


# ---- decisions -----------------------------------------------------------------------------


def test_an_analyst_records_a_decision_audited_as_themself(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    page = analyst.get(PAGE)
    assert 'id="decision-form"' in page.text and 'id="followup-form"' in page.text
    # The decision the signal has is not offered again.
    assert 'name="decision" value="confirm"' not in page.text
    before = len(_audit(web))
    done = _decide(analyst, page_token(analyst, PAGE), decision="watch", reason="lid recall?")
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?week={WEEK}&done=decision"
    after = analyst.get(done.headers["location"])
    assert "Decision recorded." in after.text and "lid recall?" in after.text
    assert 'id="current-decision">watching<' in after.text
    assert _decisions(web)[-1] == ("watch", "confirm", "u-analyst", "web")
    new = _audit(web)[before:]
    assert [(e.action, e.actor_username, e.channel, e.object_id) for e in new] == [
        ("triage.decision", "u-analyst", "web", SIGNAL_ID)
    ]
    assert json.loads(new[0].details)["previous"] == "confirm"
    with web.db.transaction() as session:
        assert verify_chain(session).ok
    # The inbox shows the new decision.
    row = analyst.get("/signals").text.split(f'<tr data-signal="{SIGNAL_ID}">')[1]
    assert "watching" in row.split("</tr>")[0]


def test_a_supervisor_may_decide_too(web: WebEnv) -> None:
    supervisor = web.signed_in("u-supervisor")
    token = page_token(supervisor, PAGE)
    done = _decide(supervisor, token, decision="dismiss", reason="not the product")
    assert done.status_code == 303
    assert _decisions(web)[-1] == ("dismiss", "confirm", "u-supervisor", "web")


def test_other_roles_may_not_decide_nor_order_follow_ups(web: WebEnv) -> None:
    before = (_decisions(web), _followups(web))
    for username in ("u-coder", "u-recall", "u-coordinator", "u-clerk", "u-admin"):
        client = web.signed_in(username)
        token = page_token(client)
        audit = len(_audit(web))
        refused = _decide(client, token, decision="dismiss", reason="not mine")
        assert refused.status_code == 403, username
        order = {"cases": ["SH001/C0004"], "note": "x", "week": WEEK, "csrf_token": token}
        assert client.post(ORDER, data=order).status_code == 403, username
        # Signing in is audited; nothing else was.
        assert len(_audit(web)) == audit, username
    assert (_decisions(web), _followups(web)) == before


def test_signed_out_may_not_decide(web: WebEnv) -> None:
    client = web.client()
    refused = client.post(DECIDE, data={"decision": "dismiss", "reason": "x", "csrf_token": "x"})
    assert refused.status_code == 401
    assert len(_decisions(web)) == 1


def test_a_decision_needs_the_sessions_csrf_token(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    other = web.signed_in("u-supervisor")
    before = len(_audit(web))
    form = {"decision": "watch", "reason": "csrf", "week": WEEK, "expected": "confirm"}
    assert analyst.post(DECIDE, data=form).status_code == 403  # no token
    assert analyst.post(DECIDE, data={**form, "csrf_token": "forged"}).status_code == 403
    # Another user's token is not this session's.
    assert analyst.post(DECIDE, data={**form, "csrf_token": page_token(other)}).status_code == 403
    cross = analyst.post(
        DECIDE,
        data={**form, "csrf_token": page_token(analyst)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert len(_audit(web)) == before and len(_decisions(web)) == 1
    # The header form of the token (htmx) is accepted.
    via_header = analyst.post(DECIDE, data=form, headers={"X-CSRF-Token": page_token(analyst)})
    assert via_header.status_code == 303


def test_refused_decisions_say_why_and_record_nothing(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst, PAGE)
    before = len(_audit(web))
    empty = _decide(analyst, token, decision="watch", reason="   ")
    assert empty.status_code == 400 and "reason is required" in empty.text
    assert 'id="decision-form"' in empty.text  # the form again, to correct
    same = _decide(analyst, token, decision="confirm", reason="again")
    assert same.status_code == 400 and "already confirmed" in same.text
    unknown = _decide(analyst, token, decision="escalate", reason="x")
    assert unknown.status_code == 400 and "is not one of" in unknown.text
    # Someone decided meanwhile: the analyst saw "not triaged".
    stale = _decide(analyst, token, decision="watch", reason="x", expected="")
    assert stale.status_code == 400 and "someone decided meanwhile" in stale.text
    assert len(_audit(web)) == before and len(_decisions(web)) == 1
    missing = analyst.post(
        "/signals/S-nothing/decision",
        data={"decision": "watch", "reason": "x", "csrf_token": token},
    )
    assert missing.status_code == 404
    # In Chinese for a Chinese-speaking analyst.
    analyst.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": token})
    zh = _decide(analyst, token, decision="watch", reason="")
    assert zh.status_code == 400 and "理由不能为空" in zh.text


def test_a_hostile_reason_is_stored_as_text_and_shown_inert(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst, PAGE)
    assert _decide(analyst, token, decision="watch", reason=HOSTILE_REASON).status_code == 303
    html = analyst.get(PAGE).text
    history = html.split('id="triage-history"')[1].split("</table>")[0]
    assert "&lt;script&gt;alert(&#34;r&#34;)&lt;/script&gt;" in history
    assert "<script>alert" not in html and "<img src=x" not in html
    # A refused hostile form is echoed inert as well.
    again = _decide(analyst, token, decision="watch", reason=HOSTILE_REASON, expected="watch")
    assert again.status_code == 400
    assert "<script>alert" not in again.text and "&lt;script&gt;" in again.text


# ---- follow-ups ------------------------------------------------------------------------------


def test_an_analyst_orders_follow_ups_for_chosen_cases(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    page = analyst.get(PAGE).text
    assert 'name="cases" value="SH001/C0004" form="followup-form"' in page
    before = len(_audit(web))
    done = analyst.post(
        ORDER,
        data={
            "cases": ["SH001/C0004", "BJ001/C0008"],
            "note": "ask for the lid's batch number",
            "week": WEEK,
            "csrf_token": page_token(analyst, PAGE),
        },
    )
    assert done.status_code == 303 and done.headers["location"].endswith("&done=followups")
    assert _followups(web)[1:] == [
        ("SH001/C0004", "ask for the lid's batch number", "u-analyst", "web"),
        ("BJ001/C0008", "ask for the lid's batch number", "u-analyst", "web"),
    ]
    new = _audit(web)[before:]
    assert [(e.action, e.actor_username, e.channel) for e in new] == [
        ("followup.order", "u-analyst", "web")
    ] * 2
    after = analyst.get(done.headers["location"]).text
    assert "Follow-up ordered." in after and after.count('data-followup="') == 3
    assert _decisions(web)[-1][0] == "confirm"  # ordering leaves the decision alone


def test_refused_follow_up_orders_say_why(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst, PAGE)
    before = len(_audit(web))

    def order(**form):  # type: ignore[no-untyped-def]
        return analyst.post(ORDER, data={"week": WEEK, "csrf_token": token, **form})

    none = order(note="which ones?")
    assert none.status_code == 400 and "needs the cases" in none.text
    outside = order(cases=["GZ001/C0001"], note="a magnet case")  # TY04, not this signal's
    assert outside.status_code == 400 and "not cases of signal" in outside.text
    assert 'value="GZ001/C0001"' not in outside.text  # only the signal's cases are offered
    twice = order(cases=["GZ001/C0000"], note="again")
    assert twice.status_code == 400 and "already have an open follow-up" in twice.text
    garbage = order(cases=['<img src=x onerror="alert(1)">'], note="x")
    assert garbage.status_code == 400 and "<img src=x" not in garbage.text
    no_note = order(cases=["SH001/C0004"], note="")
    assert no_note.status_code == 400 and "note is required" in no_note.text
    assert len(_audit(web)) == before and len(_followups(web)) == 1


def test_a_follow_up_order_needs_the_csrf_token(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    refused = analyst.post(ORDER, data={"cases": ["SH001/C0004"], "note": "x", "week": WEEK})
    assert refused.status_code == 403 and len(_followups(web)) == 1
