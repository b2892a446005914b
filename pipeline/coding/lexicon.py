"""The product lexicon: words that name a product, per taxonomy category, Chinese and English.

Reference data (``pipeline/reference/data/``), each term with its source:

- ``product_lexicon.csv``: hand-written common, colloquial and trade names, brand-free product
  names and kinds of each product (电饭锅, 饭煲, multicooker; 窜天猴, 二踢脚, bottle rocket,
  sparkler ...), written from product knowledge, never from evaluation data;
- ``product_taxonomy.csv``: each category's Chinese and English name;
- ``neiss_product_crosswalk.csv``: the NEISS product titles mapped to a category (``BICYCLES OR
  ACCESSORIES`` -> bicycles), split at ``,`` / ``or`` into the product words they list;
- ``neiss_manual_index.csv``: the everyday product words of the NEISS coding manual's alphabetic
  index (``Bomb, cherry or gopher -> 1313 FIREWORKS``), mapped through the same crosswalk.

Terms are matched on the normalised text (``normalise``: simplified characters, stems, no
numbers), longest match first, so 电动自行车 is an e-bike and not a 自行车 bicycle, and "hair
dryer" is not a clothes "dryer". A term listed under several categories matches all of them.
The matcher is pickled inside a model artifact, so a model keeps the lexicon it was trained with
(``version``, ``digest``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pipeline import reference
from pipeline.coding.normalise import normalise

LEXICON_VERSION = "2026-12.1"
LEXICON_FILE = "product_lexicon.csv"
MANUAL_INDEX_FILE = "neiss_manual_index.csv"
MAX_EN_TOKENS = 6  # longer phrases (whole NEISS titles) never occur verbatim in a narrative

_HAN = re.compile(r"[\u3400-\u9fff]+")
_EN_TOKEN = re.compile(r"[a-z0-9]+")
_PAREN = re.compile(r"\([^)]*\)?")
# pieces of NEISS titles that name no product by themselves
_GENERIC = frozenset(
    [
        "other",
        "others",
        "accessories",
        "accessory",
        "parts",
        "part",
        "equipment",
        "apparel",
        "activity",
        "activities",
        "not",
        "specified",
        "unspecified",
        "similar",
        "products",
        "product",
        "items",
        "item",
        "devices",
        "device",
        "supplies",
        "materials",
        "material",
        "sets",
        "set",
        "kits",
        "kit",
        "units",
        "unit",
        "n",
        "e",
        "c",
        "nec",
        "elsewhere",
        "classified",
        "excl",
        "incl",
        "and",
        "or",
        "type",
        "types",
        "kinds",
        "general",
        "household",
        "home",
        "use",
        "used",
        "for",
        "with",
        "without",
    ]
)


# single words that name no product by themselves (or name a body part, an action, a
# treatment): never a lexicon term alone, whatever the source
_STOP_SINGLE = frozenset(
    [
        "electric",
        "electrical",
        "fall",
        "fire",
        "fit",
        "heat",
        "land",
        "lawn",
        "lift",
        "manual",
        "medical",
        "metal",
        "mop",
        "mountain",
        "power",
        "public",
        "range",
        "ring",
        "safe",
        "scale",
        "squeeze",
        "stand",
        "step",
        "support",
        "throw",
        "tool",
        "universal",
        "unpower",
        "yard",
        "jumper",
        "sling",
        "nipple",
        "etc",
        "game",
        "deploy",
        "cover",
        "pad",
        "player",
        "plant",
        "picture",
        "runner",
        "frame",
        "bar",
        "board",
        "extension",
        "level",
        "plane",
        "pole",
        "roller",
        "jack",
        "iron",
        "cord",
        "sheet",
        "tablet",
        "cap",
        "tie",
        "heel",
        "chest",
        "match",
        "flare",
        "can",
        "lid",
        "gate",
        "bat",
        "saw",
        "tap",
        "shower",
        "blind",
        "glass",
        "wood",
        "water",
        "hot",
        "cold",
        "light",
        "open",
        "close",
        "clos",
        "burn",
        "cut",
        "hit",
        "head",
        "hand",
        "foot",
        "arm",
        "leg",
        "eye",
        "face",
        "finger",
        "toe",
        "knee",
        "back",
        "neck",
        "mouth",
        "nose",
        "ear",
        "skin",
        "wrist",
        "ankle",
        "hip",
        "shoulder",
        "elbow",
        "thumb",
        "lip",
        "tongue",
        "tooth",
        "teeth",
        "chin",
        "forehead",
        "scalp",
        "body",
        "patient",
        "home",
        "house",
        "room",
        "kitchen",
        "bathroom",
        "bedroom",
        "yard",
        "garden",
        "school",
        "store",
        "work",
        "street",
        "road",
        "park",
        "left",
        "right",
        "male",
        "female",
        "year",
        "old",
        "month",
        "day",
        "week",
        "time",
        "pain",
        "injury",
        "fracture",
        "laceration",
        "contusion",
        "abrasion",
        "sprain",
        "strain",
        "burn",
        "diagnosis",
        "treatment",
        "hospital",
        "doctor",
        "nurse",
        "mother",
        "father",
        "child",
        "baby",
        "boy",
        "girl",
        "friend",
        "brother",
        "sister",
    ]
)


def _title_pieces(title: str) -> list[str]:
    """Product words of a NEISS title: the title without its parenthetical, and each piece
    between commas and ``or`` that is not a generic word."""
    base = _PAREN.sub(" ", title).replace("/", " or ").lower()
    base = re.sub(r"\s+", " ", base).strip(" ,;")
    pieces = [base]
    for part in re.split(r",| or ", base):
        part = part.strip(" ,;")
        words = part.split()
        if not words or all(w in _GENERIC for w in words) or len(part) < 4 or part[-1] == "-":
            continue
        if words[0] in ("not", "excl.", "incl.", "excl", "incl"):
            continue
        pieces.append(part)
    return pieces


def _manual_forms(term: str) -> list[str]:
    """``Bats, baseball`` -> ``bats, baseball`` and ``baseball bats`` (the index inverts)."""
    base = re.sub(r"\s+", " ", _PAREN.sub(" ", term)).strip(" ,;").lower()
    forms = [base]
    head, sep, tail = base.partition(", ")
    if sep and "," not in tail and " or " not in tail:
        forms.append(f"{tail} {head}")
    return forms


def lexicon_table() -> pd.DataFrame:
    """Every term with its category and source: columns ``category_code``, ``lang``, ``term``,
    ``source``. Only active categories (and ``NONE``)."""
    data = reference.DATA_DIR
    taxonomy = reference.load_taxonomy()
    active = set(taxonomy.loc[taxonomy["valid_to"].isna(), "category_code"]) | {"NONE"}
    hand = pd.read_csv(data / LEXICON_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    rows = [hand[["category_code", "lang", "term", "source"]]]
    tax = taxonomy[taxonomy["category_code"].isin(active)]
    rows.append(
        pd.DataFrame(
            {
                "category_code": list(tax["category_code"]) * 2,
                "lang": ["zh"] * len(tax) + ["en"] * len(tax),
                "term": list(tax["name_zh"]) + list(tax["name_en"].str.lower()),
                "source": "taxonomy name (product_taxonomy.csv)",
            }
        )
    )
    crosswalk = reference.load_neiss_product_crosswalk()
    crosswalk = crosswalk[crosswalk["category_code"].isin(active)]
    neiss = [
        (r.category_code, "en", piece, f"NEISS product title {r.neiss_code} (crosswalk)")
        for r in crosswalk.itertuples(index=False)
        for piece in _title_pieces(r.neiss_label)
    ]
    rows.append(pd.DataFrame(neiss, columns=["category_code", "lang", "term", "source"]))
    manual = pd.read_csv(
        data / MANUAL_INDEX_FILE, dtype=str, keep_default_na=False, encoding="utf-8"
    )
    code_to_cat = {
        int(code): cat
        for code, cat in zip(crosswalk["neiss_code"], crosswalk["category_code"], strict=True)
    }
    index_rows = [
        (
            code_to_cat[int(r.neiss_code)],
            "en",
            form,
            f"NEISS coding manual index p. {r.page} -> {r.neiss_code} (crosswalk)",
        )
        for r in manual.itertuples(index=False)
        if int(r.neiss_code) in code_to_cat
        for form in _manual_forms(r.term)
    ]
    rows.append(pd.DataFrame(index_rows, columns=["category_code", "lang", "term", "source"]))
    table = pd.concat(rows, ignore_index=True)
    table = table[table["term"].str.strip() != ""]
    table = table[table["category_code"].isin(active)]
    return table.drop_duplicates(["category_code", "lang", "term"]).reset_index(drop=True)


def _key(term: str) -> tuple[str, tuple[str, ...] | str] | None:
    """The match key of a term: ``("zh", normalised string)`` or ``("en", token tuple)``;
    None for a term that normalises to nothing specific (digits only, single letters)."""
    text = normalise(term)
    if _HAN.search(text):
        han = "".join(_HAN.findall(text))
        return ("zh", han) if len(han) >= 2 else None
    tokens = tuple(_EN_TOKEN.findall(text))
    if not tokens or all(len(t) <= 1 or t.isdigit() for t in tokens):
        return None
    if (len(tokens) == 1 and tokens[0] in _STOP_SINGLE) or len(tokens) > MAX_EN_TOKENS:
        return None
    return ("en", tokens)


@dataclass
class LexiconMatcher:
    """Longest-match lookup of lexicon terms in normalised text."""

    categories: list[str]
    zh: dict[str, tuple[int, ...]] = field(default_factory=dict)
    en: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict)
    zh_lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)  # first char -> lengths
    en_max: int = 1
    version: str = LEXICON_VERSION
    digest: str = ""
    terms: int = 0

    @classmethod
    def build(cls, categories: Sequence[str], table: pd.DataFrame | None = None) -> LexiconMatcher:
        table = lexicon_table() if table is None else table
        index = {c: i for i, c in enumerate(categories)}
        zh: dict[str, set[int]] = {}
        en: dict[tuple[str, ...], set[int]] = {}
        for cat, term in zip(table["category_code"], table["term"], strict=True):
            if cat not in index:
                continue
            key = _key(term)
            if key is None:
                continue
            target = zh if key[0] == "zh" else en
            target.setdefault(key[1], set()).add(index[cat])  # type: ignore[arg-type]
        lengths: dict[str, set[int]] = {}
        for term in zh:
            lengths.setdefault(term[0], set()).add(len(term))
        digest = hashlib.sha256(
            "\n".join(
                sorted(
                    f"{c}|{t}" for c, t in zip(table["category_code"], table["term"], strict=True)
                )
            ).encode()
        ).hexdigest()[:16]
        return cls(
            categories=list(categories),
            zh={k: tuple(sorted(v)) for k, v in sorted(zh.items())},
            en={k: tuple(sorted(v)) for k, v in sorted(en.items())},
            zh_lengths={k: tuple(sorted(v, reverse=True)) for k, v in sorted(lengths.items())},
            en_max=max((len(k) for k in en), default=1),
            digest=digest,
            terms=len(zh) + len(en),
        )

    def match(self, normalised: str) -> list[tuple[str, tuple[int, ...]]]:
        """The terms found in an already normalised text (longest first, no overlaps), each with
        its category indices."""
        found: list[tuple[str, tuple[int, ...]]] = []
        for run in _HAN.findall(normalised):
            i, n = 0, len(run)
            while i < n - 1:
                for length in self.zh_lengths.get(run[i], ()):
                    if i + length <= n and (cats := self.zh.get(run[i : i + length])):
                        found.append((run[i : i + length], cats))
                        i += length
                        break
                else:
                    i += 1
        tokens = _EN_TOKEN.findall(normalised)
        i, n = 0, len(tokens)
        while i < n:
            for length in range(min(self.en_max, n - i), 0, -1):
                cats = self.en.get(tuple(tokens[i : i + length]))
                if cats:
                    found.append((" ".join(tokens[i : i + length]), cats))
                    i += length
                    break
            else:
                i += 1
        return found

    def categories_in(self, normalised: str) -> set[int]:
        return {c for _term, cats in self.match(normalised) for c in cats}

    def features(self, normalised_texts: Iterable[str]) -> sp.csr_matrix:
        """One column per category: the category is named somewhere in the text (product name
        or narrative). Values 1/0."""
        k = len(self.categories)
        rows, cols = [], []
        n = 0
        for n, text in enumerate(normalised_texts, start=1):
            for col in sorted(self.categories_in(text)):
                rows.append(n - 1)
                cols.append(col)
        data = np.ones(len(rows), dtype=np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(n, k), dtype=np.float32)
