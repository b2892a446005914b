"""Issue 16, probe 9: what an analyst types (actor, reason, conclusion) is scrubbed before
the triage tables and the audit log store it. On main before issue 16 the actor
"欧阳娜娜 13812345678" and the name 上官婉儿 in a reason were stored in clear."""

from __future__ import annotations

from datetime import datetime

from pipeline.triage import store

T0 = datetime(2026, 3, 16, 2, 0, 0)


def test_actor_and_reason_are_scrubbed_everywhere_they_are_stored(tiny_con) -> None:
    store.record_decision(
        tiny_con,
        "A1",
        "follow_up",
        "欧阳娜娜 13812345678",
        "上官婉儿来电反映同型号电热水壶底座漏电",
        cases=["GZ001/C1"],
        at=T0,
    )
    fid = store.followups(tiny_con).iloc[0]["followup_id"]
    store.record_followup_result(
        tiny_con,
        fid,
        reached=True,
        actor="欧阳娜娜 13812345678",
        conclusion="电话回访：其母王秀英确认型号，微信wxy_19880101",
        product_role="caused",
    )
    dump = "\n".join(
        str(row)
        for table in store.TRIAGE_TABLES
        for row in tiny_con.execute(f"SELECT * FROM {table}").fetchall()
    )
    for secret in ("欧阳娜娜", "13812345678", "上官婉儿", "王秀英", "wxy_19880101"):
        assert secret not in dump, secret
    assert "同型号电热水壶底座漏电" in dump  # the reason itself is kept
    assert "[姓名]" in dump and "[电话]" in dump and "[社交账号]" in dump
