import pandas as pd

from pipeline.detection import new_terms
from pipeline.detection.new_terms import category_new_terms, tokenize

HISTORY = [
    ("H1", "2023-W10", "Child fell from bicycle, cut on knee"),
    ("H2", "2023-W30", "Burn from electric kettle while cooking"),
    ("H3", "2024-W02", "Fell off chair at home, bruise to forehead"),
    ("H1", "2024-W20", "儿童从自行车上摔下，膝盖擦伤"),
    ("H2", "2024-W30", "使用电水壶时被热水烫伤"),
    ("H3", "2024-W40", "Scooter battery overheated, minor burn"),
]


def _frame(current: list[tuple[str, str, str]]) -> pd.DataFrame:
    rows = HISTORY + current
    return pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(len(rows))],
            "hospital_code": [h for h, _, _ in rows],
            "week": [w for _, w, _ in rows],
            "narrative": [n for _, _, n in rows],
        }
    )


def test_tokenizer_english_and_chinese() -> None:
    terms = tokenize("12YOM fell off a hoverboard; hoverboard battery caught fire. 误吞磁力珠")
    assert {"hoverboard", "hoverboard battery", "battery", "caught fire"} <= terms
    assert "12yom" not in terms and "off" not in terms and "a hoverboard" not in terms
    assert {"磁力", "力珠", "磁力珠", "误吞"} <= terms
    assert not any(len(t) == 1 for t in terms)
    assert "的电" not in tokenize("充电宝的电池")  # function-character n-grams dropped


def test_new_english_phrase_and_chinese_word_at_two_hospitals() -> None:
    week = "2024-W45"
    current = [
        ("H1", week, "Hoverboard caught fire in bedroom, burn to hand"),
        ("H2", week, "hoverboard caught fire while charging"),
        ("H3", week, "Fell off hoverboard; hoverboard caught fire"),
        ("H1", week, "3岁儿童误吞磁力珠，腹痛"),
        ("H2", week, "误吞磁力珠两颗"),
        ("H2", week, "玩耍时误吞磁力珠"),
        ("H1", week, "Fell from bicycle again"),  # known words: nothing new
    ]
    out = new_terms(_frame(current), week)
    terms = dict(zip(out["term"], out["n_cases"], strict=True))
    assert terms.get("hoverboard caught fire") == 3  # words and 2-word phrases collapsed
    assert "hoverboard" not in terms and "caught fire" not in terms
    assert terms.get("误吞磁力珠") == 3  # bigrams/trigrams merged into one term
    assert not {"磁力", "磁力珠", "误吞"} & set(terms)
    zh = out[out["term"] == "误吞磁力珠"].iloc[0]
    assert zh["language"] == "zh" and zh["hospital_codes"] == ("H1", "H2")
    assert "bicycle" not in terms and "fire" not in terms


def test_thresholds_cases_and_hospitals() -> None:
    week = "2024-W45"
    one_hospital = [("H1", week, "magnet set swallowed")] * 3
    two_cases = [("H1", week, "trampoline net tore"), ("H2", week, "trampoline net tore")]
    out = new_terms(_frame(one_hospital + two_cases), week)
    assert out.empty
    out = new_terms(_frame(one_hospital), week, min_hospitals=1)
    assert out["term"].tolist() == ["magnet set swallowed"]


def test_history_window_is_104_weeks() -> None:
    week = "2024-W45"
    current = [(h, week, "bicycle crash on descent") for h in ("H1", "H2", "H3")]
    # "bicycle" last seen 2023-W10, which is more than 104 weeks before 2025-W20.
    later = [(h, "2025-W20", "bicycle spoke injury") for h in ("H1", "H2", "H3")]
    assert "bicycle" not in set(new_terms(_frame(current), week)["term"])
    frame = _frame(later)
    frame = frame[~frame["narrative"].str.contains("bicycle") | (frame["week"] == "2025-W20")]
    assert "bicycle spoke injury" in set(new_terms(frame, "2025-W20")["term"])
    assert "bicycle spoke injury" in set(new_terms(frame, "2025-W20", history_weeks=10)["term"])


def test_chinese_ngrams_must_name_the_product_when_product_names_are_given() -> None:
    week = "2024-W45"
    current = [
        ("H1", week, "婴儿学步车从楼梯滚下，自热火锅无关", "学步车"),
        ("H2", week, "学步车从楼梯翻倒，头部血肿", "婴儿学步车"),
        ("H3", week, "坐学步车从楼梯摔下", None),
        ("H1", week, "吃自热火锅时盒子突然爆开烫伤", "自热火锅"),
        ("H2", week, "自热火锅加热时爆开", "麻辣自热火锅"),
        ("H3", week, "自热火锅爆开，手部烫伤", None),
    ]
    frame = _frame([c[:3] for c in current])
    without = set(new_terms(frame, week)["term"])
    # Without product names the cross-word trigram "车从楼" is a term (the old behaviour).
    assert any("车从楼" in t for t in without)
    frame["product_name"] = [None] * len(HISTORY) + [c[3] for c in current]
    out = new_terms(frame, week)
    terms = dict(zip(out["term"], out["n_cases"], strict=True))
    assert not any("从" in t for t in terms)  # not in any product name: dropped
    assert not any("爆开" in t for t in terms)  # a narrative word, not a product
    # named in the product field of 2 of its 4 cases (half): kept, merged to one term
    assert terms.get("自热火锅") == 4
    # a stricter share drops it
    assert "自热火锅" not in set(new_terms(frame, week, zh_product_share=0.75)["term"])


def test_vocabulary_cache_gives_the_same_terms() -> None:
    week = "2024-W45"
    current = [
        ("H1", week, "hoverboard caught fire"),
        ("H2", week, "hoverboard caught fire"),
        ("H3", week, "hoverboard caught fire"),
        ("H1", "2024-W46", "误吞磁力珠"),
        ("H2", "2024-W46", "误吞磁力珠"),
        ("H3", "2024-W46", "误吞磁力珠"),
    ]
    frame = _frame(current)
    cache: dict = {}
    for w in (week, "2024-W46"):
        cached = new_terms(frame, w, vocabulary_cache=cache)
        pd.testing.assert_frame_equal(cached, new_terms(frame, w))
    assert cache  # filled once, reused for the second week


def test_category_new_terms_are_new_to_the_category_only() -> None:
    week = "2024-W45"
    rows = [  # history: stairs are common, but never with baby walkers
        ("H1", "2024-W10", "老人在楼梯上摔倒", "SP01"),
        ("H2", "2024-W11", "儿童从楼梯滚下", "SP01"),
        ("H1", "2024-W12", "婴儿坐学步车翻倒，额头擦伤", "CP02"),
        ("H2", "2024-W13", "学步车卡住手指", "CP02"),
        ("H1", week, "婴儿坐学步车滑下楼梯，头部血肿", "CP02"),
        ("H2", week, "学步车冲下楼梯，额头擦伤", "CP02"),
        ("H3", week, "学步车从楼梯滚落", "CP02"),
        ("H1", week, "在楼梯上摔倒", "SP01"),
        ("H2", week, "楼梯摔倒", "SP01"),
        ("H3", week, "下楼梯时摔倒", "SP01"),
    ]
    frame = pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(len(rows))],
            "hospital_code": [r[0] for r in rows],
            "week": [r[1] for r in rows],
            "narrative": [r[2] for r in rows],
            "category": [r[3] for r in rows],
        }
    )
    out = category_new_terms(frame, week)
    assert set(out["category"]) == {"CP02"}  # stairs are old news for SP01
    stairs = out[out["term"] == "楼梯"].iloc[0]
    assert stairs["n_cases"] == 3 and stairs["hospital_codes"] == ("H1", "H2", "H3")
    assert not any(len(t) == 3 for t in out["term"])  # Chinese bigrams only
    assert "楼梯" not in set(new_terms(frame, week)["term"])  # not new overall
    cache: dict = {}
    pd.testing.assert_frame_equal(category_new_terms(frame, week, vocabulary_cache=cache), out)
    assert category_new_terms(frame, week, min_hospitals=4).empty
