"""A statistical model of Chinese person names in running text, and the English name lists.

Rules find names where a role word, title or label announces them. Independently written text
also names people with no such word: "学生闫浩然，男", "其中甄宝玉一例", "储秀云死亡". For those,
every surname in the text that stands between a left cue (start, punctuation, a role word, an
object word such as 与/联系/之女) and a right cue (punctuation, sex, age, a verb such as
称/接听/死亡, a contact word such as 电话) is a *candidate* (the surname and one or two
following characters), and a logistic model decides whether it is a name:

* how name-like the characters are: the log-likelihood ratio of the candidate under a name
  model (surname frequency x given-name character frequencies, from public name lists) and
  under a text model (character frequencies of general and clinical Chinese);
* whether the candidate, its parts, or the words it would cut are ordinary words (a word list
  with frequencies: 高峰, 温暖, 电话 ...);
* which cue stands left and right.

The tables (``data/``) are built from public word lists and the weights are fitted on the
project's labelled corpora by ``bench/privacy/name_data.py``; ``data/README.md`` says what
came from where. Everything is loaded once, on first use.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

from pipeline.privacy import lexicon as L

DATA = Path(__file__).resolve().parent / "data"


def _read_tsv(name: str) -> list[list[str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


@cache
def tables() -> dict:
    """The model's tables (loaded once)."""
    surnames = {s: float(w) for s, w in _read_tsv("zh_surnames.tsv")}
    given, text = {}, {}
    for ch, g, t in _read_tsv("zh_chars.tsv"):
        if int(g):
            given[ch] = int(g)
        if int(t):
            text[ch] = int(t)
    words = {w: int(f) for w, f in _read_tsv("zh_words.tsv")}
    model = json.loads((DATA / "zh_name_model.json").read_text(encoding="utf-8"))
    return {
        "surname_logp": _log_probs(surnames, floor=min(surnames.values()) / 4),
        "given_logp": _log_probs(given, floor=0.5),
        "text_logp": _log_probs(text, floor=0.5),
        "words": words,
        "weights": model["weights"],
        "threshold": model["threshold"],
    }


def _log_probs(counts: dict[str, float], floor: float) -> dict:
    total = sum(counts.values()) + floor
    out = {k: math.log(v / total) for k, v in counts.items()}
    out[""] = math.log(floor / total)  # anything unseen
    return out


# ---- candidates ----------------------------------------------------------------------------

_CJK = "\u4e00-\u9fff"
# Characters that close a clause or stand around a name (whitespace counts too): punctuation,
# brackets, quotes.
PUNCT = '，,。．.；;：:！!？?、（()）“”"「」『』【】[]《》<>/&+~～—-'
DIGITS = "0123456789０１２３４５６７８９"


def char_class(chars: str) -> str:
    """A character class of ``chars`` that Python's engine and RE2 read alike."""
    return "[" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "]"


LEFT_WORDS = L.words(" ".join((*L.ROLE_WORDS_ZH, *L.MODEL_LEFT_WORDS_ZH, *L.BEFORE_NAME)))
RIGHT_STRONG = frozenset(L.MODEL_RIGHT_STRONG_ZH)
_PUNCT = frozenset(PUNCT)
_LEFT_ROLE = frozenset((*L.ROLE_WORDS_ZH, *L.MODEL_LEFT_WORDS_ZH))
_LEFT_OBJECT = frozenset(L.BEFORE_NAME)
_LEFT_LAST = frozenset(w[-1] for w in LEFT_WORDS) | frozenset(PUNCT) | frozenset("（(")
_LEFT_LEN = max(len(w) for w in LEFT_WORDS)
_TITLES = frozenset(L.TITLES_ZH)
# The cue words themselves and the label words of other identifiers are never a name
# ("孙女", "微信号", "原话" after 患者 is not one either, but that is the model's to judge).
_STOP = frozenset((*LEFT_WORDS, *RIGHT_STRONG, *_TITLES, *L.NOT_NICKNAMES)) | frozenset(
    L.words(
        "微信 微信号 威信 电话 手机 座机 邮箱 地址 住址 地点 身份证 证件 护照 号码 联系方式 联系 本人 "
        "家里 家中 自己 自家 孩子 对方 大家 别人 他人 家人 亲属 两人 三人 多人 一人 有人 某人 原话 口述 "
        "代述 陈述 所述 自诉 主诉 诉说 品牌 牌子 商标"
    )
)
_BRAND_CUE = re.compile(r"品牌|牌子|商标|厂家|厂商|brand", re.IGNORECASE)
_BRAND_AFTER = re.compile(r"[”\"」』]?(?:牌|品牌|商标|公司|厂)")
_BRANDS = re.compile(
    "|".join(
        re.escape(b)
        for b in sorted({*L.BRANDS_ZH, *L.NAME_BRANDS}, key=len, reverse=True)
        if re.search("[\u4e00-\u9fff]", b)
    )
)


def _alt(words) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


@cache
def surname_chars() -> str:
    """Every character that starts a surname of the table (for patterns and triggers)."""
    return "".join(sorted({row[0][0] for row in _read_tsv("zh_surnames.tsv")}))


# How much more likely a character must be as a surname than as a character of text (log
# ratio, by the tables) to start a candidate: after mere punctuation a surname must be more
# frequent as a surname ("，王芳，" may be a name, "，左手，" not); after a role or object word
# it may be rarer, but not one of the commonest characters ("据家长", "同学相撞", "向后").
_PLAIN_MARGIN, _ROLE_MARGIN = 0.0, -1.5


def _surnames_over(margin: float) -> frozenset[str]:
    t = tables()
    sl, tl = t["surname_logp"], t["text_logp"]
    return frozenset(s for s in sl if s and (len(s) == 2 or sl[s] - tl.get(s, tl[""]) > margin))


@cache
def plain_surnames() -> frozenset[str]:
    """Surnames that may start a candidate after punctuation or at the start."""
    return _surnames_over(_PLAIN_MARGIN)


@cache
def role_surnames() -> frozenset[str]:
    """Surnames that may start a candidate after a role or object word."""
    return _surnames_over(_ROLE_MARGIN)


def _surname_pattern(surnames: frozenset[str]) -> str:
    single = "".join(sorted(s for s in surnames if len(s) == 1))
    double = "|".join(sorted(s for s in surnames if len(s) == 2))
    return f"(?:[{single}]|{double})"


@cache
def candidate_pattern() -> re.Pattern[str]:
    """A surname and 1-3 following characters, looked at, not consumed (candidates overlap;
    ``features`` checks the cues)."""
    return re.compile(rf"(?=(?P<c>[{surname_chars()}][{_CJK}]{{1,3}}))")


def left_class(text: str, start: int) -> str:
    """What stands right before a candidate starting at ``start``."""
    if start == 0:
        return "start"
    prev = text[start - 1]
    if prev in "（(":
        return "bracket"
    if prev.isspace():
        return "space"
    if prev in "]】":
        return "other"  # right after a placeholder: nothing new may appear on a second pass
    if prev in _PUNCT:
        return "punct"
    if prev not in _LEFT_LAST:
        return "other"
    head = text[max(0, start - _LEFT_LEN) : start]
    for n in range(len(head), 0, -1):
        word = head[-n:]
        if word in _LEFT_OBJECT:
            return "object"
        if word in _LEFT_ROLE:
            return "role"
    return "other"


def right_class(text: str, end: int) -> str:
    """What stands right after a candidate ending at ``end``."""
    if end >= len(text):
        return "end"
    nxt = text[end]
    if nxt in "）)":
        return "bracket"
    if nxt in "男女":
        return "other" if text[end + 1 : end + 2] in ("性", "士", "孩", "童", "儿", "生") else "sex"
    if nxt in DIGITS:
        return "digit"
    if nxt.isspace() or nxt in _PUNCT:
        return "punct"
    ahead = text[end : end + 4]
    for n in range(min(4, len(ahead)), 0, -1):
        if ahead[:n] in RIGHT_STRONG:
            return "strong"
    if ahead[:2] in _TITLES or ahead[:1] in _TITLES:
        return "title"
    return "other"


def trigger(ws: str) -> str:
    """An RE2 pattern matching every text in which the model can find a name (a superset): a
    role or object word and a surname; or punctuation (or the start), a plain surname and 1-3
    characters, and a right cue. ``ws``: the engine's class of whitespace."""
    right = (*RIGHT_STRONG, *_TITLES)
    return (
        f"{_alt(LEFT_WORDS)}{_surname_pattern(role_surnames())}"
        f"|(?:^|{char_class(PUNCT)}|{ws}){_surname_pattern(plain_surnames())}[{_CJK}]{{1,3}}"
        f"(?:$|{char_class(PUNCT + DIGITS + '男女')}|{ws}|{_alt(right)})"
    )


LEFT_CLASSES = ("start", "bracket", "space", "punct", "object", "role")
RIGHT_CLASSES = ("end", "bracket", "sex", "digit", "punct", "strong", "title")
FEATURES = (
    "bias",
    "llr",
    "given2",
    "word_self",
    "word_head",
    "word_given",
    "word_cut_right",
    "word_cut_left",
    "word_longer",
    *(f"L_{c}" for c in LEFT_CLASSES),
    *(f"R_{c}" for c in RIGHT_CLASSES),
)


def word_freq(word: str) -> int:
    """How often ``word`` occurs as a word (0 when it is not in the list)."""
    return tables()["words"].get(word, 0)


def _wf(words: dict[str, int], w: str) -> float:
    return math.log1p(words.get(w, 0))


def features(text: str, start: int, surname_len: int, end: int) -> list[float] | None:
    """The feature vector of the candidate ``text[start:end]`` (surname of ``surname_len``
    characters), or None when its context has no cue on one side."""
    cand = text[start:end]
    if cand in _STOP or cand[:2] in _STOP or cand[-2:] in _STOP:
        return None
    if cand[-1] in L.NOT_NAME_FINAL or (cand[-1] in "男女" and len(cand) == 3):
        return None  # "韩国籍", "马力男33岁": a nationality, a place, the sex after a name
    left = left_class(text, start)
    if left == "other":
        return None
    allowed = role_surnames() if left in ("object", "role") else plain_surnames()
    if text[start : start + surname_len] not in allowed:
        return None
    right = right_class(text, end)
    if right == "other":
        return None
    if _BRAND_CUE.search(text[max(0, start - 5) : start]) or _BRAND_AFTER.match(text, end):
        return None  # "品牌“贝贝乐”", "“乐图”牌": a brand
    t = tables()
    sur, given = text[start : start + surname_len], text[start + surname_len : end]
    sl, gl, tl = t["surname_logp"], t["given_logp"], t["text_logp"]
    llr = sl.get(sur, sl[""]) + sum(gl.get(c, gl[""]) for c in given)
    llr -= sum(tl.get(c, tl[""]) for c in text[start:end])
    words = t["words"]
    nxt = text[end : end + 1]
    prev = text[start - 1 : start] if start else ""
    vec = {
        "bias": 1.0,
        "llr": llr,
        "given2": float(len(given) == 2),
        "word_self": _wf(words, cand),
        "word_head": _wf(words, cand[:2]) if len(cand) == 3 else 0.0,
        "word_given": _wf(words, given) if len(given) == 2 else 0.0,
        "word_cut_right": _wf(words, cand[-1] + nxt) if nxt else 0.0,
        "word_cut_left": _wf(words, prev + cand[0]) if prev else 0.0,
        "word_longer": max(_wf(words, cand + nxt), _wf(words, cand[-2:] + nxt)) if nxt else 0.0,
    }
    for c in LEFT_CLASSES:
        vec[f"L_{c}"] = float(left == c)
    for c in RIGHT_CLASSES:
        vec[f"R_{c}"] = float(right == c)
    return [vec[f] for f in FEATURES]


def candidates(text: str) -> list[tuple[int, int, list[float]]]:
    """Every candidate (start, end, features) of ``text``: a surname (a compound one counts
    as one) and one or two characters, with a cue on both sides."""
    found = []
    surnames = tables()["surname_logp"]
    for m in candidate_pattern().finditer(text):
        start = m.start("c")
        run = m.group("c")
        lens = [2] if run[:2] in surnames and len(run) >= 3 else []
        lens.append(1)
        for sl in lens:
            for gl in (1, 2):
                end = start + sl + gl
                if end > m.end("c"):
                    continue
                vec = features(text, start, sl, end)
                if vec is not None:
                    found.append((start, end, vec))
    return found


def score(vec: list[float]) -> float:
    weights = tables()["weights"]
    return sum(w * x for w, x in zip(weights, vec, strict=True))


def name_spans(text: str) -> list[tuple[int, int]]:
    """Spans the model takes for names: candidates over the threshold, best first, without
    overlaps."""
    threshold = tables()["threshold"]
    scored = [(score(vec), s, e) for s, e, vec in candidates(text)]
    if not scored:
        return []
    chosen = [m.span() for m in _BRANDS.finditer(text)]  # brands block the names they hold
    brands = len(chosen)
    for value, s, e in sorted(scored, reverse=True):
        if value < threshold:
            break
        if any(s < ce and cs < e for cs, ce in chosen):
            continue
        if any(p in text[s:e] for p in "[]"):
            continue
        chosen.append((s, e))
    return sorted(chosen[brands:])


# ---- English names ---------------------------------------------------------------------------


@cache
def en_names() -> tuple[dict[str, bool], dict[str, bool]]:
    """First and last names (Latin script) -> whether the name is also an ordinary lower-case
    English word ("Will", "Mason", "Rose")."""
    first = {row[0]: row[1] == "1" for row in _read_tsv("en_first.tsv")}
    last = {n: flag == "1" for n, flag in _read_tsv("en_last.tsv")}
    return first, last


def is_first_name(word: str) -> bool:
    return word.title() in en_names()[0] or word in en_names()[0]


def is_plain_first_name(word: str) -> bool:
    """A first name that is not also an ordinary word."""
    first = en_names()[0]
    return first.get(word) is False or first.get(word.title()) is False


def is_last_name(word: str) -> bool:
    last = en_names()[1]
    return word in last or word.title() in last


@cache
def us_first_names() -> tuple[str, ...]:
    """Common US first names that are not ordinary words: in upper-case text (NEISS) a name
    after a role word must be one of these."""
    return tuple(
        row[0]
        for row in _read_tsv("en_first.tsv")
        if len(row) > 2 and row[2] == "1" and row[1] == "0"
    )
