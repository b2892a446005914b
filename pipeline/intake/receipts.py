"""Receipts: what happened to a submission, for the hospital that sent it.

Built here from plain data (pure); written by the ledger (:mod:`pipeline.storage.ledger`) to
``<outbox>/<hospital>/<submission_id>.json`` and ``.md``, in the language of the
file's headers. Every rejected row is listed with its row number, field, value, rule and a
message. Values of identifier fields are never echoed.
"""

from __future__ import annotations

from pipeline.contract import IDENTIFIER_FIELDS
from pipeline.escaping import md_cell

LABELS = {
    "en": {
        "title": "Submission receipt",
        "file": "File",
        "hospital": "Hospital",
        "id": "Submission id",
        "sha": "SHA-256",
        "received": "Received",
        "status": "Status",
        "counts": "Rows received / stored / quarantined / duplicate",
        "file_error": "File rejected",
        "duplicate_of": "Duplicate of submission",
        "errors": "Rejected rows",
        "row": "Row",
        "field": "Field",
        "value": "Value",
        "rule": "Rule",
        "message": "Message",
        "none": "No row was rejected.",
        "unknown": "Columns ignored (not in the data dictionary)",
        "hint": "What to do",
    },
    "zh": {
        "title": "报送回执",
        "file": "文件",
        "hospital": "医院",
        "id": "报送编号",
        "sha": "SHA-256",
        "received": "接收时间",
        "status": "状态",
        "counts": "接收 / 入库 / 隔离 / 重复 行数",
        "file_error": "整份文件被拒收",
        "duplicate_of": "与此前报送重复",
        "errors": "被拒收的行",
        "row": "行",
        "field": "字段",
        "value": "值",
        "rule": "规则",
        "message": "说明",
        "none": "没有被拒收的行。",
        "unknown": "已忽略的列（不在数据字典中）",
        "hint": "处理建议",
    },
}
STATUS_ZH = {
    "accepted": "已接收",
    "partially_accepted": "部分接收",
    "rejected": "已拒收",
    "duplicate": "重复报送",
}


def build_receipt(submission: dict, errors: list[dict], detail: str | None = None) -> dict:
    """A receipt as a plain dict (the JSON form)."""
    rows = []
    for err in sorted(errors, key=lambda e: (e["source_row"], e["field"], e["rule"])):
        value = None if err["field"] in IDENTIFIER_FIELDS else err.get("value")
        rows.append(
            {
                "row": err["source_row"],
                "field": err["field"],
                "value": value,
                "rule": err["rule"],
                "message_en": err["message_en"],
                "message_zh": err["message_zh"],
            }
        )
    keys = (
        "submission_id",
        "hospital_code",
        "file_name",
        "sha256",
        "received_at",
        "status",
        "rows_received",
        "rows_stored",
        "rows_quarantined",
        "rows_duplicate",
        "file_rule",
        "file_message",
        "duplicate_of",
        "header_language",
        "file_format",
        "encoding",
    )
    receipt = {k: submission.get(k) for k in keys}
    receipt["received_at"] = str(receipt["received_at"])
    receipt["file_detail"] = detail
    receipt["unknown_columns"] = submission.get("unknown_columns") or []
    receipt["errors"] = rows
    return receipt


def render_markdown(receipt: dict) -> str:
    lang = "zh" if receipt.get("header_language") == "zh" else "en"
    t = LABELS[lang]
    status = receipt["status"]
    status_text = f"{STATUS_ZH.get(status, status)} ({status})" if lang == "zh" else status
    lines = [
        f"# {t['title']}",
        "",
        f"- {t['id']}: `{receipt['submission_id']}`",
        f"- {t['hospital']}: {receipt['hospital_code']}",
        f"- {t['file']}: `{receipt['file_name']}`",
        f"- {t['sha']}: `{receipt['sha256']}`",
        f"- {t['received']}: {receipt['received_at']}",
        f"- {t['status']}: **{status_text}**",
        f"- {t['counts']}: {receipt['rows_received']} / {receipt['rows_stored']} / "
        f"{receipt['rows_quarantined']} / {receipt['rows_duplicate']}",
    ]
    if receipt.get("file_rule"):
        lines.append(f"- {t['file_error']}: `{receipt['file_rule']}` — {receipt['file_message']}")
    if receipt.get("file_detail"):
        lines.append(f"- {t['hint']}: {receipt['file_detail']}")
    if receipt.get("duplicate_of"):
        lines.append(f"- {t['duplicate_of']}: `{receipt['duplicate_of']}`")
    if receipt.get("unknown_columns"):
        lines.append(f"- {t['unknown']}: " + ", ".join(receipt["unknown_columns"]))
    lines += ["", f"## {t['errors']}", ""]
    if not receipt["errors"]:
        lines.append(t["none"])
    else:
        lines.append(f"| {t['row']} | {t['field']} | {t['value']} | {t['rule']} | {t['message']} |")
        lines.append("|---|---|---|---|---|")
        for err in receipt["errors"]:
            value = "" if err["value"] is None else md_cell(err["value"])
            message = err["message_zh"] if lang == "zh" else err["message_en"]
            lines.append(
                f"| {err['row']} | {err['field']} | {value} | {err['rule']} | {md_cell(message)} |"
            )
    return "\n".join(lines) + "\n"
