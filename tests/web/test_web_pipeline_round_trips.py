"""Round trips between the web app and the pipeline, with the real stages (slow: they load the
product coder, build an evidence pack, run the dry-run validation):

* a coder resolves on the web -> the next coding run applies it to the warehouse -> the page
  shows it applied; a resolution of a case that changed since is not applied (stale);
* a recall officer asks for a pack -> the background builder writes it from the published
  snapshot -> the page lists it, verified, and it downloads;
* a clerk uploads a file for a dry run -> the receipt lists every rejected row in the clerk's
  language, with the uploaded file's name and nothing stored.
"""

from __future__ import annotations

import re
import zipfile

import pytest
from sqlalchemy import select
from tiny_warehouse import REVIEW_OPEN, REVIEW_OTHER, SIGNAL_ID, WEEK
from web_helpers import WebEnv, page_token

from pipeline.appdb.models import CodingResolution, EvidenceRequest
from pipeline.services import coding
from pipeline.services import evidence as evidence_service
from pipeline.storage.session import reader, writer

pytestmark = pytest.mark.slow


def _resolutions(web: WebEnv) -> list[tuple[str, str, str]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(CodingResolution).order_by(CodingResolution.id)).all()
        return [(r.case_id, r.category, r.status) for r in rows]


def test_a_web_resolution_is_applied_by_the_next_coding_run(web: WebEnv) -> None:
    coder = web.signed_in("u-coder")
    token = page_token(coder, "/coding")
    for review, category in ((REVIEW_OPEN, "HA02"), (REVIEW_OTHER, "NONE")):
        response = coder.post(
            "/coding/resolve", data={"review_id": review, "category": category, "csrf_token": token}
        )
        assert response.status_code == 303
    # The second case changes before the run (a correction arrives): its resolution is stale.
    with writer(web.settings) as con:
        con.execute(
            "UPDATE cases SET version = 2 WHERE hospital_code = 'BJ001' AND case_id = 'C0002'"
        )
    summary = coding.run(web.settings)
    assert summary["web_resolutions"] == {"applied": 1, "stale": 1}
    assert _resolutions(web) == [("C0003", "HA02", "applied"), ("C0002", "NONE", "stale")]
    with reader(web.settings) as con:
        review = con.execute(
            "SELECT status, resolution, resolved_by FROM coding_review WHERE review_id = ?",
            [REVIEW_OPEN],
        ).fetchall()
        coded = con.execute(
            "SELECT category_code, source, needs_review FROM case_coding "
            "WHERE hospital_code = 'GZ001' AND case_id = 'C0003'"
        ).fetchall()
    assert review == [("resolved", "HA02", "u-coder")]
    assert coded == [("HA02", "coder", False)]
    page = coder.get("/coding").text
    assert REVIEW_OPEN not in page.split('id="recent-resolutions"')[0]  # left the queue
    assert "applied" in page.split('id="recent-resolutions"')[1]
    # Running again applies nothing twice.
    again = coding.run(web.settings)
    assert again["web_resolutions"] == {}
    with reader(web.settings) as con:
        n = con.execute(
            "SELECT count(*) FROM coding_review WHERE hospital_code = 'GZ001' AND case_id = 'C0003'"
        ).fetchall()[0][0]
    assert n == 1


def test_a_requested_pack_is_built_in_the_background_and_verified(web: WebEnv) -> None:
    officer = web.signed_in("u-recall")
    token = page_token(officer, "/evidence")
    officer.post(
        "/evidence/requests", data={"signal_id": SIGNAL_ID, "week": WEEK, "csrf_token": token}
    )
    web.app.state.web.jobs.run_all()  # what the worker thread does
    with web.db.transaction() as session:
        request = session.scalars(select(EvidenceRequest)).one()
        assert request.status == "built" and request.requested_by == "u-recall"
        name, digest = request.pack_name, request.manifest_sha256
    assert re.fullmatch(rf"evidence-{SIGNAL_ID}-{WEEK}-{digest[:12]}\.zip", name)
    page = officer.get("/evidence").text
    assert name in page and digest[:16] in page
    download = officer.get(f"/evidence/packs/{name}")
    path = web.settings.evidence_dir / "downloaded.zip"
    path.write_bytes(download.content)
    assert zipfile.is_zipfile(path) and evidence_service.verify(path) == []
    assert evidence_service.verify(web.settings.evidence_dir / name) == []


def test_a_clerk_dry_runs_a_file_in_their_language(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")
    clerk.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": page_token(clerk)})
    token = page_token(clerk, "/hospitals/GZ001/upload")
    header = (
        "hospital_code,case_id,report_type,visit_datetime,injury_datetime,sex,age,age_unit,"
        "residence_region,cause,place,activity,intent,injury_nature,body_region,severity,"
        "outcome,product_name,product_category,product_relation,narrative\r\n"
    )
    row = (
        "GZ001,{id},new,2026-11-20 10:00,2026-11-20 09:30,female,{age},years,440104,fall,home,"
        "leisure,unintentional,fracture,upper_limb,mild,treated_released,baby walker,CP02,"
        "normal_use_accident,fell down the stairs in a baby walker\r\n"
    )
    rows = row.format(id="D1", age=300) + row.format(id="D2", age=4)
    response = clerk.post(
        "/hospitals/GZ001/upload",
        data={"csrf_token": token},
        files={"file": ("<img src=x onerror=alert(1)>.csv", (header + rows).encode(), "text/csv")},
    )
    assert response.status_code == 200
    html = response.text
    assert 'id="dry-run-note"' in html and "未保存任何内容" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html and "<img src=x" not in html
    errors = html.split('id="receipt-errors"')[1].split("</table>")[0]
    assert errors.count("<tr><td") == 1 and ">age<" in errors  # row 2: age 300 years
    assert re.search(r"[\u4e00-\u9fff]", errors.split(">age<")[1])  # the message in Chinese
    assert not (web.settings.staging_dir / "web-uploads").exists() or not any(
        (web.settings.staging_dir / "web-uploads").iterdir()
    )  # nothing kept
    bad = clerk.post(
        "/hospitals/GZ001/upload",
        data={"csrf_token": token},
        files={"file": ("notes.docx", b"PK\x03\x04", "application/octet-stream")},
    )
    assert bad.status_code == 400 and "请上传 CSV、TSV 或 XLSX 文件" in bad.text
