"""E-mail notifications: what needs someone's attention, sent once, in their language.

Kinds (each user chooses which they get on *My account* → *Notifications*; without a choice the
role's default applies):

* ``new_signals``: the week's new top-ranked signals (rank 1..``TOP_RANK``), one e-mail per week
  (analysts, supervisors);
* ``approvals``: documents waiting for the supervisor's approval (supervisors; the approval
  queue comes with the notices of issue 15: until then there is nothing to send);
* ``followups_due``: follow-up investigations due within ``DUE_WORKING_DAYS`` working days and
  not completed (analysts);
* ``receipts``: the receipt of every file the clerk's hospital sent in the last
  ``RECEIPT_DAYS`` days (hospital clerks).

:func:`collect` finds what each user should get (published snapshot + application database);
:func:`send` mails what was not sent before and records it (``notifications_sent``: sending
twice changes nothing). No patient data is mailed: subjects, counts and links only.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from pipeline.appdb import accounts as account_rules
from pipeline.appdb import workspace
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.roles import Role
from pipeline.config import Settings, SmtpSettings
from pipeline.errors import ConfigError
from pipeline.reporting.context import _plain
from pipeline.reporting.labels import Labels
from pipeline.storage.session import Snapshots, open_reader
from pipeline.triage import store as triage_store
from pipeline.triage.workdays import add_working_days

KINDS = ("new_signals", "approvals", "followups_due", "receipts")
DEFAULTS: dict[str, frozenset[Role]] = {
    "new_signals": frozenset({Role.ANALYST, Role.SUPERVISOR}),
    "approvals": frozenset({Role.SUPERVISOR}),
    "followups_due": frozenset({Role.ANALYST}),
    "receipts": frozenset({Role.HOSPITAL_CLERK}),
}
# Who may choose a kind at all (a clerk gets no signals, an analyst no hospital's receipts).
AVAILABLE: dict[str, frozenset[Role]] = {
    "new_signals": frozenset({Role.ANALYST, Role.SUPERVISOR, Role.RECALL_OFFICER}),
    "approvals": frozenset({Role.SUPERVISOR}),
    "followups_due": frozenset({Role.ANALYST, Role.SUPERVISOR}),
    "receipts": frozenset({Role.HOSPITAL_CLERK, Role.COORDINATOR}),
}
TOP_RANK = 5
DUE_WORKING_DAYS = 2
RECEIPT_DAYS = 2


def kinds_for(role: Role) -> list[str]:
    return [k for k in KINDS if role in AVAILABLE[k]]


def choices(db: AppDB, user: account_rules.UserView) -> dict[str, bool]:
    """The kinds this user can get and whether they get them."""
    with db.transaction() as session:
        chosen = workspace.preferences(session, user.id)
    return {k: chosen.get(k, user.role in DEFAULTS[k]) for k in kinds_for(user.role)}


def set_choices(db: AppDB, actor: Actor, user: account_rules.UserView, wanted: set[str]) -> None:
    """Save the user's choice for every kind their role can get (audited)."""
    with db.transaction() as session:
        workspace.set_preferences(session, actor, {k: k in wanted for k in kinds_for(user.role)})


@dataclass(frozen=True)
class Message:
    user_id: int
    username: str
    recipient: str
    kind: str
    key: str  # what it is about: sent once per (user, kind, key)
    subject: str
    body: str


@dataclass
class Outcome:
    sent: list[Message] = field(default_factory=list)
    skipped: int = 0  # sent before
    failed: list[tuple[Message, str]] = field(default_factory=list)


TEXT = {
    "en": {
        "signals_subject": "[Sentinel] {n} new top signal(s) in week {week}",
        "signals_intro": "New signals among the top {top} of week {week}:",
        "signal_line": "#{rank} {subject}: {observed:g} cases, {severe} severe, {died} died",
        "followups_subject": "[Sentinel] {n} follow-up(s) due by {due}",
        "followups_intro": "Follow-up investigations due within {days} working days:",
        "followup_line": "{hospital}/{case} (signal {signal}): due {due}",
        "receipt_subject": "[Sentinel] Receipt: {file} {status}",
        "receipt_body": "File {file} of {hospital}, received {received}: {status}.\n"
        "Rows received {received_rows}, stored {stored}, rejected {rejected}, duplicate "
        "{duplicate}.",
        "receipt_rules": "Rejected rows by rule:",
        "footer": "Sign in to Sentinel to see the details. You chose to receive these e-mails "
        "(My account > Notifications).",
        "status": {
            "accepted": "accepted",
            "partially_accepted": "partially accepted",
            "rejected": "rejected",
            "duplicate": "duplicate",
        },
    },
    "zh": {
        "signals_subject": "[Sentinel] 第 {week} 周新增 {n} 个高排名风险信号",
        "signals_intro": "第 {week} 周排名前 {top} 的新增信号：",
        "signal_line": "第 {rank} 名 {subject}：{observed:g} 例，重度 {severe} 例，死亡 {died} 例",
        "followups_subject": "[Sentinel] {n} 项回访将于 {due} 前到期",
        "followups_intro": "{days} 个工作日内到期的回访调查：",
        "followup_line": "{hospital}/{case}（信号 {signal}）：{due} 到期",
        "receipt_subject": "[Sentinel] 回执：{file} {status}",
        "receipt_body": "{hospital} 的文件 {file}（接收时间 {received}）：{status}。\n"
        "接收 {received_rows} 行，入库 {stored} 行，拒收 {rejected} 行，重复 {duplicate} 行。",
        "receipt_rules": "按规则统计的拒收行：",
        "footer": "请登录 Sentinel 查看详情。您已选择接收此类邮件（我的账户 > 通知）。",
        "status": {
            "accepted": "已接收",
            "partially_accepted": "部分接收",
            "rejected": "已拒收",
            "duplicate": "重复报送",
        },
    },
}


def _recipients(db: AppDB) -> list[tuple[account_rules.UserView, dict[str, bool]]]:
    out = []
    for user in _users(db):
        if user.disabled or not user.email:
            continue
        wanted = choices(db, user)
        if any(wanted.values()):
            out.append((user, wanted))
    return out


def _users(db: AppDB) -> list[account_rules.UserView]:
    with db.transaction() as session:
        return account_rules.list_users(session)


@dataclass
class Found:
    """What is due now, for every recipient (read once)."""

    week: str | None
    top: list[dict]
    due: list[dict]
    due_by: str
    approvals: list[dict]
    receipts: list[dict]
    rules: list[tuple]
    labels: Labels


def _messages_for(
    user: account_rules.UserView, wanted: dict[str, bool], found: Found
) -> list[Message]:
    lang = user.preferred_language
    text = TEXT[lang]
    out: list[Message] = []

    def add(kind: str, key: str, subject: str, lines: list[str]) -> None:
        body = "\n".join([*lines, "", text["footer"]]) + "\n"
        out.append(Message(user.id, user.username, user.email or "", kind, key, subject, body))

    if wanted.get("new_signals") and found.top:
        add(
            "new_signals",
            f"week:{found.week}:" + ",".join(r["alert_id"] for r in found.top),
            text["signals_subject"].format(n=len(found.top), week=found.week),
            [text["signals_intro"].format(top=TOP_RANK, week=found.week)]
            + [
                text["signal_line"].format(
                    rank=r["rank"],
                    subject=found.labels.subject(r, lang),
                    observed=float(r.get("observed") or 0),
                    severe=r.get("n_severe") or 0,
                    died=r.get("n_died") or 0,
                )
                for r in found.top
            ],
        )
    if wanted.get("followups_due") and found.due:
        add(
            "followups_due",
            "followups:" + ",".join(sorted(r["followup_id"] for r in found.due)),
            text["followups_subject"].format(n=len(found.due), due=found.due_by),
            [text["followups_intro"].format(days=DUE_WORKING_DAYS)]
            + [
                text["followup_line"].format(
                    hospital=r["hospital_code"],
                    case=r["case_id"],
                    signal=r["signal_id"],
                    due=r["due_date"],
                )
                for r in found.due
            ],
        )
    if wanted.get("approvals"):
        for item in found.approvals:
            add("approvals", f"approval:{item['key']}", f"[Sentinel] {item['title']}", [])
    if wanted.get("receipts"):
        for r in found.receipts:
            if user.role is Role.HOSPITAL_CLERK and r["hospital_code"] != user.hospital_code:
                continue  # a clerk hears only of their own hospital's files
            status = text["status"].get(r["status"], r["status"])
            lines = [
                text["receipt_body"].format(
                    file=r["file_name"],
                    hospital=r["hospital_code"],
                    received=r["received_at"],
                    status=status,
                    received_rows=r["rows_received"],
                    stored=r["rows_stored"],
                    rejected=r["rows_quarantined"],
                    duplicate=r["rows_duplicate"],
                )
            ]
            counts = [(rule, n) for sid, rule, n in found.rules if sid == r["submission_id"]]
            if counts:
                lines += [text["receipt_rules"], *(f"  {rule}: {n}" for rule, n in counts)]
            add(
                "receipts",
                f"receipt:{r['submission_id']}",
                text["receipt_subject"].format(file=r["file_name"], status=status),
                lines,
            )
    return out


def collect(
    settings: Settings,
    db: AppDB,
    now: datetime,
    *,
    snapshots: Snapshots | None = None,
    approvals: Callable[[], list[dict]] | None = None,
) -> list[Message]:
    """Every message due now, whether sent before or not (``send`` skips those).
    ``approvals``: documents waiting for approval (``{key, title}``), once notices have an
    approval queue."""
    people = _recipients(db)
    if not people:
        return []
    today = (now + timedelta(hours=8)).date()  # the Chinese calendar day
    due_by = add_working_days(today, DUE_WORKING_DAYS)
    with db.transaction() as session:  # follow-ups live in the application database
        follow = triage_store.followups(session, as_of=today)
    with open_reader(settings, snapshots) as con:
        week = con.execute("SELECT max(week) FROM alerts WHERE rank IS NOT NULL").fetchall()[0][0]
        top = (
            con.execute(
                "SELECT * FROM alerts WHERE week = ? AND status = 'new' AND rank <= ? "
                "ORDER BY rank",
                [week, TOP_RANK],
            ).df()
            if week
            else None
        )
        labels = Labels(con)
        since = now - timedelta(days=RECEIPT_DAYS)
        receipts = con.execute(
            "SELECT s.submission_id, s.hospital_code, s.file_name, s.received_at, s.status, "
            "s.rows_received, s.rows_stored, s.rows_quarantined, s.rows_duplicate "
            "FROM submissions s WHERE s.processed_at >= ? ORDER BY s.received_at",
            [since],
        ).df()
        rules = con.execute(
            "SELECT submission_id, rule, count(DISTINCT source_row) FROM quarantine "
            "WHERE submission_id IN (SELECT submission_id FROM submissions WHERE processed_at >= ?) "
            "GROUP BY 1, 2 ORDER BY 1, 3 DESC",
            [since],
        ).fetchall()
    found = Found(
        week=week,
        top=[]
        if top is None
        else [{k: _plain(v) for k, v in r.items()} for r in top.to_dict("records")],
        due=follow[
            (follow["status"] != "completed")
            & follow["due_date"].map(lambda d: d is not None and d <= due_by)
        ].to_dict("records"),
        due_by=due_by.isoformat(),
        approvals=approvals() if approvals else [],
        receipts=receipts.to_dict("records"),
        rules=rules,
        labels=labels,
    )
    messages: list[Message] = []
    for user, wanted in people:
        messages.extend(_messages_for(user, wanted, found))
    return messages


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if not smtp.host:
        raise ConfigError(
            "SENTINEL_SMTP_HOST is not set: notifications cannot be sent (docs/web.md)",
            detail_zh="未设置 SENTINEL_SMTP_HOST：无法发送通知邮件（见 docs/web.md）",
        )
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
    if smtp.username:
        client.login(smtp.username, smtp.password or "")
    return client


def send(settings: Settings, db: AppDB, messages: list[Message], now: datetime) -> Outcome:
    """Mail every message not sent before, recording each as it goes (a failure stops nothing
    else and is tried again next time)."""
    outcome = Outcome()
    todo = []
    with db.transaction() as session:
        for m in messages:
            if workspace.already_sent(session, m.user_id, m.kind, m.key):
                outcome.skipped += 1
            else:
                todo.append(m)
    if not todo:
        return outcome
    client = _connect(settings.smtp)
    try:
        for m in todo:
            mail = EmailMessage()
            mail["From"] = settings.smtp.sender
            mail["To"] = m.recipient
            mail["Subject"] = m.subject
            mail.set_content(m.body)
            try:
                client.send_message(mail)
            except smtplib.SMTPException as exc:
                outcome.failed.append((m, str(exc)[:200]))
                continue
            with db.transaction() as session:
                workspace.record_sent(session, m.user_id, m.kind, m.key, m.recipient, now)
            outcome.sent.append(m)
    finally:
        with contextlib.suppress(smtplib.SMTPException):
            client.quit()
    return outcome


def notify(
    settings: Settings, db: AppDB, now: datetime, *, dry_run: bool = False
) -> tuple[list[Message], Outcome]:
    """Collect and (unless ``dry_run``) send: what ``sentinel notify`` and the DAG call."""
    messages = collect(settings, db, now)
    if dry_run:
        return messages, Outcome()
    return messages, send(settings, db, messages, now)
