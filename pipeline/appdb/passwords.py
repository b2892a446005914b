"""Password hashing (argon2id) and the strength rules every new password must meet.

The rules follow NIST SP 800-63B rather than composition rules: long enough, not a common or
context-derived password, not a run of one character. Generated passwords (reset, demo users)
come from ``secrets`` and always pass.
"""

from __future__ import annotations

import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.appdb.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing cost does not grow with length, but a request body should not be 1 MB
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3, p=4)
# A dummy hash to verify against when the user does not exist: same time either way.
_DUMMY_HASH = _HASHER.hash("sentinel-timing-equaliser")

# The most common passwords of public breach corpora (top entries, lower-cased) and words a
# Sentinel user would reach for; anything containing one of these as the whole password fails.
COMMON = frozenset(
    [
        "123456789012",
        "1234567890123",
        "12345678910",
        "111111111111",
        "000000000000",
        "123123123123",
        "password1234",
        "password123!",
        "passw0rd1234",
        "qwertyuiop12",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "abc123456789",
        "iloveyou1234",
        "welcome12345",
        "admin1234567",
        "administrator",
        "letmein12345",
        "changeme1234",
        "sentinel1234",
        "sentinel2026",
        "hospital1234",
        "woaini123456",
        "woaini520520",
        "aa123456789a",
        "zxcvbnm12345",
        "asdfghjkl123",
        "1qaz2wsx3edc",
        "qazwsxedcrfv",
        "147258369123",
        "987654321098",
        "password12345",
        "p@ssw0rd1234",
        "monkey123456",
        "dragon123456",
        "football1234",
    ]
)

_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def generate_password(groups: int = 4, size: int = 5) -> str:
    """E.g. ``Kq7mP-x9raT-...``: about 114 bits, easy to read out and type once."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(size)) for _ in range(groups))


def check_strength(password: str, username: str = "", display_name: str = "") -> None:
    """Raise ``WeakPassword`` listing every rule the password breaks (in zh and en)."""
    en: list[str] = []
    zh: list[str] = []
    normal = unicodedata.normalize("NFKC", password)
    if len(normal) < MIN_LENGTH:
        en.append(f"at least {MIN_LENGTH} characters")
        zh.append(f"至少 {MIN_LENGTH} 个字符")
    if len(normal) > MAX_LENGTH:
        en.append(f"at most {MAX_LENGTH} characters")
        zh.append(f"最多 {MAX_LENGTH} 个字符")
    if any(unicodedata.category(ch).startswith("C") for ch in normal):
        en.append("no control characters")
        zh.append("不能包含控制字符")
    if len(set(normal)) < 5:
        en.append("at least 5 different characters")
        zh.append("至少包含 5 个不同的字符")
    folded = normal.casefold()
    if folded in COMMON or folded.rstrip("!.?") in COMMON:
        en.append("not a commonly used password")
        zh.append("不能使用常见密码")
    for context in (username, display_name):
        context = unicodedata.normalize("NFKC", context).casefold().strip()
        if len(context) >= 3 and context in folded:
            en.append("must not contain the user name or display name")
            zh.append("不能包含用户名或显示名")
            break
    if en:
        raise WeakPassword(en, zh)
