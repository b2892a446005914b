"""Password hashing (argon2id) and the strength rules every new password must meet.

The rules follow NIST SP 800-63B rather than composition rules: long enough, not a common or
context-derived password, not a run of one character. Generated passwords (reset, demo users)
come from ``secrets`` and always pass.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from pipeline.appdb.errors import WeakPassword
from pipeline.config import PasswordCost

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing cost does not grow with length, but a request body should not be 1 MB
HASHER_KEY = "password_hasher"  # where an AppDB session carries its hasher (Session.info)

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


@dataclass(frozen=True, eq=False)
class Hasher:
    """argon2id with a configured cost (``PasswordCost``; the default is RFC 9106's low-memory
    profile: 64 MiB, t=3, p=4). A hash keeps its own parameters, so any hash verifies whatever
    the configured cost; a sign-in re-hashes a password stored at another cost."""

    cost: PasswordCost = PasswordCost()

    @cached_property
    def _argon2(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.cost.time_cost,
            memory_cost=self.cost.memory_kib,
            parallelism=self.cost.parallelism,
        )

    @cached_property
    def _dummy_hash(self) -> str:
        # Verified against when the user does not exist: the same time either way.
        return self._argon2.hash("sentinel-timing-equaliser")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; always spends one argon2 verification."""
        try:
            return self._argon2.verify(password_hash or self._dummy_hash, password) and bool(
                password_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)


DEFAULT_HASHER = Hasher()


def hasher_of(session: Session | None) -> Hasher:
    """The hasher of the application database this session belongs to (``AppDB`` puts it in
    ``Session.info``), the default one otherwise."""
    found = session.info.get(HASHER_KEY) if session is not None else None
    return found if isinstance(found, Hasher) else DEFAULT_HASHER


def hash_password(password: str, session: Session | None = None) -> str:
    return hasher_of(session).hash(password)


def verify_password(
    password_hash: str | None, password: str, session: Session | None = None
) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    return hasher_of(session).verify(password_hash, password)


def needs_rehash(password_hash: str, session: Session | None = None) -> bool:
    return hasher_of(session).needs_rehash(password_hash)


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
