"""Training-data augmentation from the product lexicon.

The sample's narratives name each product with the few words of the generator's phrase lists,
so a model trained on them alone learns those words (FIREWORKS) but not their kinds and
synonyms (sparkler, bottle rocket, 窜天猴). ``lexicon_variants`` adds, for a share of the training
cases, a copy in which the product name and its mentions in the narrative are replaced by
another hand-written lexicon term of the same category and language (sometimes with the product
name left blank, as in narrative-only records). The label stays the case's label: the lexicon
says the term names that category. Deterministic (fixed seed).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.coding import NO_PRODUCT

_HAN = re.compile(r"[\u4e00-\u9fff]")
AUGMENT_SHARE = 0.5  # share of training cases that get a lexicon variant
SKIP = frozenset({NO_PRODUCT, "OT99"})  # no product word to swap


def hand_terms(table: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    """(category, lang) -> hand-written lexicon terms (lower case)."""
    hand = table[table["source"].str.startswith("hand-written")]
    out: dict[tuple[str, str], list[str]] = {}
    for cat, lang, term in zip(hand["category_code"], hand["lang"], hand["term"], strict=True):
        out.setdefault((cat, lang), []).append(term.lower())
    return out


def lexicon_variants(
    texts: list[str],
    labels: list[str],
    table: pd.DataFrame,
    share: float = AUGMENT_SHARE,
    blank_name: float = 0.4,
    seed: int = 20261205,
) -> tuple[list[str], list[str]]:
    """Augmented copies of ``model_text`` strings (``name | narrative``, lower case)."""
    terms = hand_terms(table)
    rng = np.random.default_rng(seed)
    out_texts, out_labels = [], []
    for text, label in zip(texts, labels, strict=True):
        if label in SKIP or rng.random() >= share:
            continue
        name, sep, narrative = text.partition(" | ")
        if not sep:
            continue
        lang = "zh" if _HAN.search(narrative) else "en"
        choices = terms.get((label, lang)) or terms.get((label, "en" if lang == "zh" else "zh"))
        if not choices:
            continue
        new = choices[int(rng.integers(len(choices)))]
        name = name.strip()
        # a one-character name (刀, 球) is part of many other words: not replaced in the text
        in_narrative = len(name) >= 2 and name in narrative
        narrative_new = narrative.replace(name, new) if in_narrative else narrative
        keep_name = not in_narrative or rng.random() >= blank_name
        out_texts.append(f"{new if keep_name else ''} | {narrative_new}")
        out_labels.append(label)
    return out_texts, out_labels
