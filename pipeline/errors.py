"""The errors a user can meet, each with a message in Chinese and English and its exit code.

Library code raises a :class:`SentinelError` subclass when a request cannot be served for a
reason the user can act on (a missing key, a busy warehouse, an unknown alert ...). The command
line prints ``user_message(lang)`` as one line on stderr and exits with ``exit_code``; anything
else is a bug and is reported as such (``--debug`` shows the traceback). The exit codes are part
of the interface (documented in docs/operations.md): scripts and schedulers branch on them.

Stage errors that predate this module (``TriageError``, ``ReviewError``, ``NoticeRefused`` ...)
subclass :class:`BadInput` or :class:`NotFound`, so they keep their ``ValueError`` /
``LookupError`` base for existing callers.
"""

from __future__ import annotations

import errno
import os

#: Exit codes of the ``sentinel`` command (0 is success; Typer's usage errors exit 2).
EXIT_CODES: dict[str, int] = {
    "bad_input": 2,
    "config": 3,
    "not_found": 4,
    "busy": 5,
    "home_not_writable": 6,
    "disk_full": 7,
    "key_mismatch": 8,
    "schema": 9,
    "not_permitted": 10,
    "exists": 11,
    "audit_chain_broken": 12,
    "internal": 70,
}


class SentinelError(Exception):
    """A failure the user can act on. ``detail`` says what and where (file, row, id ...)."""

    kind = "error"
    exit_code = 1
    message_en = "{detail}"
    message_zh = "{detail}"

    def __init__(self, detail: str = "", *, detail_zh: str | None = None, **fields: object):
        self.detail = detail
        self.detail_zh = detail_zh
        self.fields = fields
        super().__init__(self.user_message("en"))

    def user_message(self, lang: str = "en") -> str:
        zh = lang == "zh"
        template = self.message_zh if zh else self.message_en
        detail = (self.detail_zh if zh and self.detail_zh else self.detail) or ""
        text = template.format(detail=detail, **self.fields)
        return text.rstrip(" :：;；,，")


class BadInput(SentinelError, ValueError):
    """A request that breaks a rule (bad option value, refused transition ...)."""

    kind = "bad_input"
    exit_code = EXIT_CODES["bad_input"]


class ConfigError(SentinelError, RuntimeError):
    """A setting is missing or invalid (e.g. no pseudonym key)."""

    kind = "config"
    exit_code = EXIT_CODES["config"]
    message_en = "configuration: {detail}"
    message_zh = "配置错误：{detail}"


class NotFound(SentinelError, LookupError):
    """What was asked for does not exist (no warehouse yet, unknown alert or case ...)."""

    kind = "not_found"
    exit_code = EXIT_CODES["not_found"]


class WarehouseBusy(SentinelError, RuntimeError):
    """Another process holds the warehouse's write lock longer than the configured wait."""

    kind = "busy"
    exit_code = EXIT_CODES["busy"]
    message_en = (
        "the warehouse is busy: another process ({holder}) has been writing for the "
        "{waited:.0f} s waited; retry when it has finished (wait longer with "
        "SENTINEL_LOCK_TIMEOUT)"
    )
    message_zh = (
        "数据仓库正忙：另一个进程（{holder}）正在写入，已等待 {waited:.0f} 秒；"
        "请在其结束后重试（可用 SENTINEL_LOCK_TIMEOUT 延长等待）"
    )


class HomeNotWritable(SentinelError, PermissionError):
    """SENTINEL_HOME (or a folder below it) cannot be written."""

    kind = "home_not_writable"
    exit_code = EXIT_CODES["home_not_writable"]
    message_en = "cannot write under {path}: {detail} (check SENTINEL_HOME and its permissions)"
    message_zh = "无法写入 {path}：{detail}（请检查 SENTINEL_HOME 及其权限）"


class DiskFull(SentinelError, OSError):
    """The disk holding SENTINEL_HOME is full; nothing partial was kept."""

    kind = "disk_full"
    exit_code = EXIT_CODES["disk_full"]
    message_en = (
        "the disk holding {path} is full; nothing partial was kept: free space and run the "
        "command again"
    )
    message_zh = "{path} 所在磁盘已满；未保留任何不完整的结果：请释放空间后重新运行"


class KeyMismatch(SentinelError, RuntimeError):
    """The pseudonym key differs from the one the warehouse was built with (issue 16)."""

    kind = "key_mismatch"
    exit_code = EXIT_CODES["key_mismatch"]
    message_en = "the pseudonym key does not match this warehouse: {detail}"
    message_zh = "假名化密钥与此数据仓库不一致：{detail}"


class SchemaError(SentinelError, RuntimeError):
    """The warehouse schema cannot be used by this version (newer, or a migration failed)."""

    kind = "schema"
    exit_code = EXIT_CODES["schema"]
    message_en = "warehouse schema: {detail}"
    message_zh = "数据仓库结构：{detail}"


def from_os_error(exc: OSError, path: object) -> SentinelError | None:
    """The user-facing error for an OS error while writing under ``path`` (None: not one the
    user can act on)."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(reason, path=path)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return HomeNotWritable(reason, path=path)
    return None


def internal_error_message(exc: BaseException, lang: str = "en") -> str:
    """One line for an unexpected exception (a bug): what it was, and how to see more."""
    what = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if lang == "zh":
        return f"内部错误：{what}（加 --debug 运行可查看调用栈）"
    return f"internal error: {what} (run with --debug for the traceback)"
