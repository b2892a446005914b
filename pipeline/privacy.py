"""Patient identifiers never leave intake in clear.

Names, ID-card numbers and phone numbers are replaced by keyed pseudonyms (HMAC-SHA256 with a
secret from the environment), so the same patient links across submissions without anyone being
able to recover or brute-force the identifier from stored data. Narratives are scrubbed of
ID-card and phone-number patterns and of the patient's own name before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

# 18-digit resident ID (last char may be X), 15-digit legacy ID; mobile 1[3-9]x + 8 digits,
# optionally +86 / spaced / dashed; landlines like 020-12345678.
ID_CARD_RE = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}[0-9]{7}[0-9Xx](?![0-9])"
                        r"|(?<![0-9])[1-9][0-9]{14}(?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])"
                      r"|(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])")
# "姓名：张三", "患者张三，" and "name: John Smith" style mentions.
NAME_LABEL_RE = re.compile(
    r"(?:姓名|患者姓名|患儿姓名|病人姓名)[:：]?\s*[\u4e00-\u9fff·]{2,4}"
    r"|(?i:\b(?:patient name|name)\s*[:：]\s*[A-Za-z][A-Za-z.'\-]*(?:\s+[A-Za-z][A-Za-z.'\-]*){0,2})"
)
ID_MASK, PHONE_MASK, NAME_MASK = "[身份证号]", "[电话]", "[姓名]"


def pseudonymise(kind: str, value: str | None, key: bytes) -> str | None:
    """Keyed pseudonym of an identifier; blank stays blank. ``kind`` separates namespaces."""
    if value is None:
        return None
    folded = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value)).upper()
    if not folded:
        return None
    digest = hmac.new(key, f"{kind}:{folded}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:2]}_{digest[:20]}"


def scrub_text(text: str | None, names: tuple[str, ...] = ()) -> str | None:
    """Remove ID-card numbers, phone numbers and the given names from free text."""
    if not text:
        return text
    out = ID_CARD_RE.sub(ID_MASK, text)
    out = PHONE_RE.sub(PHONE_MASK, out)
    out = NAME_LABEL_RE.sub(NAME_MASK, out)
    for name in names:
        name = name.strip()
        if len(name) >= 2:
            out = re.sub(re.escape(name), NAME_MASK, out, flags=re.IGNORECASE)
    return out
