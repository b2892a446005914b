"""Patient identifiers never leave intake in clear.

* ``pseudonymise``: names, ID-card numbers and phone numbers in the identifier columns become
  keyed pseudonyms (HMAC-SHA256 with a secret from the environment), so the same patient links
  across submissions and nobody can recover or brute-force the identifier from stored data.
* ``scrub_series`` / ``scrub_columns`` (columns) and ``scrub_text`` (one value): free text
  loses every identifier it carries, each replaced by a typed placeholder (``[电话]`` /
  ``[PHONE]``, ``[姓名]`` / ``[NAME]`` ...) so a reader knows something was removed: ID and
  document numbers, phones in every common written form (mobiles, landlines with area codes
  and extensions, +86/0086, full-width digits, US and other international numbers), e-mail
  addresses, WeChat/QQ ids, street addresses (Chinese and US) and person names (after role and
  kinship words, with titles, as the subject of speech verbs, nicknames, compound surnames,
  English first names, and the record's own known names by literal matching).
* ``scrub_csv``: the same scrubbing on one column of any UTF-8 CSV (``sentinel privacy scrub``).

Modules: ``rules`` (patterns, RE2 triggers), ``lexicon`` (word lists), ``scrub`` (the value and
column paths), ``files`` (CSV), ``pseudonym``. Measured by ``python -m bench.privacy``.
"""

from pipeline.privacy.files import ScrubInputError, ScrubSummary, scrub_csv
from pipeline.privacy.pseudonym import pseudonymise, pseudonymise_many
from pipeline.privacy.rules import (
    ALL_PLACEHOLDERS,
    GATES,
    ID_MASK,
    KINDS,
    NAME_MASK,
    PHONE_MASK,
    PLACEHOLDERS,
    RULES,
    TRIGGERS,
)
from pipeline.privacy.scrub import (
    known_name_rows,
    rules_to_run,
    scrub_columns,
    scrub_series,
    scrub_text,
)

__all__ = [
    "ALL_PLACEHOLDERS",
    "GATES",
    "ID_MASK",
    "KINDS",
    "NAME_MASK",
    "PHONE_MASK",
    "PLACEHOLDERS",
    "RULES",
    "TRIGGERS",
    "ScrubInputError",
    "ScrubSummary",
    "known_name_rows",
    "pseudonymise",
    "pseudonymise_many",
    "rules_to_run",
    "scrub_columns",
    "scrub_csv",
    "scrub_series",
    "scrub_text",
]
