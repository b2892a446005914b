"""Errors of the application database and its account rules, each with a message in zh and en.

Every class carries its own process exit code; the CLI prints one line and exits with it, the web
app shows the message in the user's language next to the form field it concerns (``field``).
"""

from __future__ import annotations

from typing import ClassVar

from pipeline.errors import EXIT_CODES, SentinelError


class AppDBError(SentinelError):
    """Base class: ``message(lang)`` is what a user reads; ``str(err)`` is the English one."""

    exit_code: ClassVar[int] = 1
    messages: ClassVar[dict[str, str]] = {
        "en": "application database error",
        "zh": "应用数据库错误",
    }

    def __init__(self, field: str | None = None, **params: object) -> None:
        self.field = field
        self.params = params
        super().__init__(self.message("en"))

    def user_message(self, lang: str = "en") -> str:
        return self.message(lang)

    def message(self, lang: str = "en") -> str:
        template = self.messages.get(lang) or self.messages["en"]
        return template.format(**{k: _plain(v) for k, v in self.params.items()})


def _plain(value: object) -> str:
    """User text inside a message: control characters cannot reach a terminal."""
    text = str(value)
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)[:200]


class InvalidInput(AppDBError):
    """Bad value of one field; the message templates are given where it is raised."""

    exit_code = EXIT_CODES["bad_input"]

    def __init__(self, field: str | None, en: str, zh: str, **params: object) -> None:
        self._en, self._zh = en, zh
        super().__init__(field, **params)

    def message(self, lang: str = "en") -> str:
        template = self._zh if lang == "zh" else self._en
        return template.format(**{k: _plain(v) for k, v in self.params.items()})


class WeakPassword(AppDBError):
    exit_code = EXIT_CODES["bad_input"]
    messages = {
        "en": "the password does not meet the rules: {reasons}",
        "zh": "密码不符合要求：{reasons}",
    }

    def __init__(self, reasons_en: list[str], reasons_zh: list[str]) -> None:
        self.reasons_en, self.reasons_zh = reasons_en, reasons_zh
        super().__init__("password")

    def message(self, lang: str = "en") -> str:
        if lang == "zh":
            return self.messages["zh"].format(reasons="；".join(self.reasons_zh))
        return self.messages["en"].format(reasons="; ".join(self.reasons_en))


class UserExists(AppDBError):
    exit_code = EXIT_CODES["exists"]
    messages = {
        "en": "a user named {username} already exists",
        "zh": "用户名 {username} 已存在",
    }


class UserNotFound(AppDBError):
    exit_code = EXIT_CODES["not_found"]
    messages = {"en": "no user named {username}", "zh": "没有用户名为 {username} 的用户"}


class UnknownHospital(AppDBError):
    exit_code = EXIT_CODES["bad_input"]
    messages = {
        "en": "{code} is not a hospital of the registry",
        "zh": "{code} 不是登记在册的哨点医院",
    }


class NotPermitted(AppDBError):
    exit_code = EXIT_CODES["not_permitted"]
    messages = {
        "en": "{username} may not do this (role {role})",
        "zh": "{username}（角色 {role}）无权执行此操作",
    }


class SchemaNotCurrent(AppDBError):
    exit_code = EXIT_CODES["schema"]
    messages = {
        "en": "the application database is at revision {current}, this version needs {head}: "
        "run `sentinel appdb upgrade`",
        "zh": "应用数据库版本为 {current}，本程序需要 {head}：请运行 `sentinel appdb upgrade`",
    }


class AuditChainBroken(AppDBError):
    exit_code = EXIT_CODES["audit_chain_broken"]
    messages = {
        "en": "the audit log has been tampered with: {detail}",
        "zh": "审计日志已被篡改：{detail}",
    }


class RecordNotFound(AppDBError):
    """An object of the workspace (a saved query, a request) that does not exist for this user."""

    kind = "not_found"
    exit_code = EXIT_CODES["not_found"]
    messages = {"en": "no such {what}: {key}", "zh": "没有此{what_zh}：{key}"}
