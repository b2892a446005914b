"""The shipped product coder and the model-training building blocks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.coding import NO_PRODUCT
from pipeline.coding import evaluation as ev
from pipeline.coding.model import FeatureConfig, ProductCoder, model_text
from pipeline.config import REPO_ROOT

MODELS = REPO_ROOT / "models" / "product_coder"


def test_shipped_model_is_current_small_and_documented(shipped_model):
    version = (MODELS / "CURRENT").read_text().strip()
    assert shipped_model.version == version
    directory = MODELS / version
    assert (directory / "model.joblib").stat().st_size < 30e6
    metrics = json.loads((directory / "metrics.json").read_text())
    test = metrics["test"]
    assert test["top1_accuracy"] >= 0.90
    assert 0 < test["macro"]["f1"] <= 1
    assert test["calibration"]["ece"] < 0.05
    assert metrics["model"]["thresholds"]["review"] == shipped_model.thresholds.review
    card = (directory / "model_card.md").read_text()
    for heading in ("Held-out test metrics", "Review threshold", "Calibration", "Per-class"):
        assert heading in card
    assert shipped_model.coef.dtype == np.float32


@pytest.mark.parametrize(
    ("product", "narrative", "expected"),
    [
        ("电饭煲", "患儿在家碰翻桌上的电饭煲被烫伤，右手背浅II度烫伤。", "HA01"),
        ("RICE COOKER", "3YOF KNOCKED OVER RICE COOKER AT HOME, SCALD BURN R HAND", "HA01"),
        ("TRAMPOLINE", "7YOM JUMPING ON TRAMPOLINE AND FELL OFF, FX L WRIST", "SP01"),
        ("", "8YOF BOUNCING ON A TRAMPOLINE, LANDED ON ANKLE, SPRAIN", "SP01"),
        ("学步车", "婴儿坐学步车时翻倒，额部挫伤。", "CP02"),
        ("", "患者被狗咬伤右小腿，皮肤裂伤。", NO_PRODUCT),
    ],
)
def test_shipped_model_predicts_chinese_and_english(shipped_model, product, narrative, expected):
    proba = shipped_model.predict_proba([model_text(product, narrative)])
    assert proba.shape == (1, len(shipped_model.classes))
    assert proba.sum() == pytest.approx(1.0, abs=1e-4)
    assert shipped_model.classes[int(np.argmax(proba))] == expected


def test_model_text_normalises():
    assert model_text("ＲＩＣＥ  Cooker", None) == "rice cooker | "
    assert model_text(float("nan"), " 烫伤\n ") == " | 烫伤"


def _toy_data():
    rng = np.random.default_rng(7)
    words = {
        "A": ["电饭煲", "rice cooker", "烫伤"],
        "B": ["蹦床", "trampoline", "摔下"],
        "C": ["菜刀", "knife", "割伤"],
    }
    texts, labels = [], []
    for label, vocab in words.items():
        for _ in range(40):
            picked = rng.choice(vocab, size=2, replace=False)
            texts.append(model_text("", " ".join(picked) + " 患者 pt home"))
            labels.append(label)
    return texts, labels


def test_training_is_deterministic_and_calibration_helps():
    texts, labels = _toy_data()
    config = FeatureConfig(char_max_features=500, word_max_features=100, min_df=1, C=50.0)
    a = ProductCoder.fit(texts, labels, name="toy", version="t1", config=config)
    b = ProductCoder.fit(
        list(reversed(texts)), list(reversed(labels)), name="toy", version="t1", config=config
    )
    assert list(a.classes) == ["A", "B", "C"]
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-3, atol=1e-4)
    before, after = a.calibrate(texts, labels)
    assert after <= before + 1e-9
    assert a.temperature > 0
    proba = a.predict_proba(texts)
    assert (a.classes[proba.argmax(1)] == np.array(labels)).mean() == 1.0


def test_artifact_roundtrip(tmp_path):
    from pipeline.coding import model as m

    texts, labels = _toy_data()
    coder = ProductCoder.fit(
        texts,
        labels,
        name="toy",
        version="v9",
        config=FeatureConfig(char_max_features=300, word_max_features=50, min_df=1),
    )
    coder.save(tmp_path / "toy" / "v9")
    m.set_current(tmp_path, "toy", "v9")
    loaded = m.load(tmp_path, "toy")
    np.testing.assert_array_equal(loaded.predict_proba(texts[:5]), coder.predict_proba(texts[:5]))
    with pytest.raises(FileNotFoundError):
        m.load(tmp_path, "missing")


def test_reliability_and_ece():
    conf = np.array([0.95] * 100 + [0.55] * 100)
    correct = np.array([True] * 95 + [False] * 5 + [True] * 55 + [False] * 45)
    ece, table = ev.reliability(conf, correct)
    assert ece == pytest.approx(0.0, abs=1e-9)  # perfectly calibrated
    assert sum(r["cases"] for r in table) == 200
    overconfident = np.array([0.99] * 100)
    ece2, _ = ev.reliability(overconfident, np.array([True] * 70 + [False] * 30))
    assert ece2 == pytest.approx(0.29)


def test_threshold_table_trade_off_and_choice():
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.2, 1.0, 5000)
    correct = rng.uniform(size=5000) < conf  # calibrated by construction
    table = ev.threshold_table(conf, correct)
    shares = [r["review_share"] for r in table]
    accs = [r["auto_accuracy"] for r in table]
    assert shares == sorted(shares)  # higher threshold -> more to review
    assert accs[-1] > accs[0]  # ... and a more accurate automatic rest
    chosen = ev.choose_threshold(table, target_accuracy=0.9)
    row = next(r for r in table if r["threshold"] == chosen)
    assert row["auto_accuracy"] >= 0.9 and chosen >= 0.5
    lower = [r for r in table if 0.5 <= r["threshold"] < chosen]
    assert all(r["auto_accuracy"] < 0.9 for r in lower)
    assert ev.choose_threshold(table, target_accuracy=1.01) == table[-1]["threshold"]


def test_disagreement_rule():
    classes = np.array(["A", "B", "C"], dtype=object)
    proba = np.array([[0.95, 0.01, 0.04], [0.95, 0.03, 0.02], [0.5, 0.4, 0.1], [0.98, 0.01, 0.01]])
    flags = ev.disagreement_flags(proba, classes, ["B", "B", "B", "A"], 0.9, 0.02)
    assert flags.tolist() == [True, False, False, False]


@pytest.mark.slow
def test_train_from_warehouse_writes_artifact_card_and_current(con, tmp_path):
    import coding_helpers as h

    from pipeline.coding import model as m
    from pipeline.coding.train import labelled_cases, train

    templates = [h.RICE_ZH, h.RICE_EN, h.TRAMPOLINE_EN, h.TRAMPOLINE_ZH, h.KNIFE_ZH]
    rows = [h.case(f"K{i:03d}", templates[i % 5]) for i in range(150)]
    rows += [h.case(f"N{i:03d}", h.DOG_BITE, category=None) for i in range(20)]  # weak NONE
    rows += [h.case(f"U{i:03d}", h.RICE_EN, category=None) for i in range(10)]  # to predict
    h.store(con, rows)
    frame = labelled_cases(con)
    assert len(frame) == 170
    assert set(frame["label_source"]) == {"hospital", "weak_none"}
    config = FeatureConfig(char_max_features=2000, word_max_features=500, min_df=1)
    # without the hand-written corpora: they name 巴克球, the new term of the rule below
    coder, metrics = train(con, tmp_path, name="toy", version="v1", config=config, handwritten=())
    directory = tmp_path / "toy" / "v1"
    assert {p.name for p in directory.iterdir()} == {
        "model.joblib",
        "metrics.json",
        "model_card.md",
    }
    assert m.current_version(tmp_path, "toy") == "v1"
    saved = json.loads((directory / "metrics.json").read_text())
    assert saved["test"]["top1_accuracy"] == metrics["test"]["top1_accuracy"]
    for key in (
        "top1_accuracy",
        "top2_accuracy",
        "macro",
        "per_class",
        "calibration",
        "threshold_table",
        "at_threshold",
        "hospital_check",
    ):
        assert key in saved["test"], key
    assert (
        saved["data"]["split"]["train"]
        + saved["data"]["split"]["calibration"]
        + saved["data"]["split"]["test"]
        == 170
    )
    assert saved["uncoded_cases"]["cases"] == 10
    assert 0.5 <= coder.thresholds.review <= 0.98
    assert NO_PRODUCT in coder.classes
    # the unknown-name rule reads the training names (>= name_min_df of them), not the
    # n-gram vocabularies: 电饭煲 and RICE COOKER are known, 巴克球 is not
    assert coder.name_vocab["电饭"] >= 3 and "cooker" in coder.name_vocab
    assert coder.unknown_names(["电饭煲", "RICE COOKER", "巴克球", None]).tolist() == [
        False,
        False,
        True,
        False,
    ]
    assert "unknown product name" in (directory / "model_card.md").read_text().lower()
    at = saved["test"]["at_threshold"]
    assert at["review_share"] == pytest.approx(
        at["review_share_low_confidence"] + at["review_share_unknown_name"]
    )
    with pytest.raises(FileExistsError):
        train(con, tmp_path, name="toy", version="v1", config=config)


def test_unknown_product_names_with_the_shipped_model(shipped_model):
    from pipeline.coding.model import name_tokens

    assert name_tokens("巴克球 (BUCKYBALLS) 5mm") == (["巴克", "克球"], ["buckyballs"])
    assert name_tokens("球") == (["球"], [])
    # 嘭嘭珠: an invented name (v2 learned 巴克球 from the hand-written corpora)
    share = shipped_model.unknown_name_share(["嘭嘭珠", "电饭煲", "RICE COOKER", "", None])
    assert share[0] == 1.0 and share[1] == 0.0 and share[2] == 0.0
    assert np.isnan(share[3]) and np.isnan(share[4])
    assert shipped_model.unknown_names(["嘭嘭珠", "BUCKYBALLZ", "电饭煲", None]).tolist() == [
        True,
        True,
        False,
        False,
    ]
