"""Keyed pseudonyms of identifiers (names, ID-card and phone numbers in identifier columns)."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata


def pseudonymise(kind: str, value: str | None, key: bytes) -> str | None:
    """Keyed pseudonym of an identifier; blank stays blank. ``kind`` separates namespaces."""
    if value is None:
        return None
    folded = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value)).upper()
    if not folded:
        return None
    digest = hmac.new(key, f"{kind}:{folded}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:2]}_{digest[:20]}"
