"""Train, evaluate and save a product coder from the warehouse (``sentinel model train``).

Training data: active cases whose category is *known* -

1. a coder's resolution of the case's current version (``coding_review``), else
2. a valid hospital-supplied code (in the taxonomy and valid on the visit date), else
3. ``NONE`` (no product involved) for cases with relation ``other`` and neither product name
   nor category: the network's way of recording injuries without a product (a weak label,
   documented in the model card).

Cases are sorted by key and split by a hash of ``hospital_code|case_id`` (stable whatever the
order or size of the warehouse): 80 % train, 10 % calibration (temperature and review
threshold), 10 % test (every reported figure). Training is deterministic (lbfgs, no random
state involved); the same warehouse gives the same model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import sklearn

from pipeline import reference
from pipeline.coding import NO_PRODUCT, confidence
from pipeline.coding import evaluation as ev
from pipeline.coding.augment import lexicon_variants
from pipeline.coding.external import read_labelled
from pipeline.coding.lexicon import lexicon_table
from pipeline.coding.model import (
    CARD,
    DEFAULT_NAME,
    METRICS,
    FeatureConfig,
    ProductCoder,
    Thresholds,
    model_dir,
    model_text,
    set_current,
)

Progress = Callable[[str], None]
TARGET_AUTO_ACCURACY = 0.99  # accuracy required of automatically accepted predictions (v1 rule)
TARGET_AUTO_PRECISION = 0.975  # precision the confidence threshold aims at (format 3; see docs)
# Weight of a hand-written or coder-labelled narrative against a generated one: ~6,000
# hand-written rows next to ~37,000 generated cases (and their lexicon variants) would otherwise
# be drowned by the generator's few templates. Chosen by cross-writer validation (docs/coding.md).
HAND_WEIGHT = 3.0
# Generated (synthetic / hospital-coded sample) cases and their lexicon variants together weigh
# at most this many cases: the sample's 37,000 training cases repeat a few hundred templates,
# and at full weight they would outweigh the hand-written narratives again. The settings were
# chosen by cross-writer validation with 12,000 generated cases (docs/coding.md).
GENERATED_BUDGET = 12000.0
CORPUS_DIR = reference.DATA_DIR / "coding_corpus"
HANDWRITTEN = ("handwritten_zh.csv", "handwritten_en.csv")
MIN_CALIBRATION = 200  # fewer non-generated calibration cases: add the synthetic split
SPLIT_TRAIN, SPLIT_CAL = 80, 90  # hash buckets 0-79 train, 80-89 calibration, 90-99 test


def reference_documents() -> tuple[list[str], list[str]]:
    """Texts and labels from the reference data: for every active taxonomy category its
    Chinese name, English name and description, and each NEISS product label mapped to it."""
    taxonomy = reference.load_taxonomy()
    taxonomy = taxonomy[taxonomy["valid_to"].isna()].sort_values("category_code")
    texts, labels = [], []
    for row in taxonomy.itertuples(index=False):
        texts += [
            model_text(row.name_zh, row.name_zh),
            model_text(row.name_en, row.name_en),
            model_text(row.name_en, row.description_en),
        ]
        labels += [row.category_code] * 3
    neiss = reference.load_neiss_product_crosswalk()
    neiss = neiss[neiss["category_code"].isin(set(taxonomy["category_code"]))]
    for row in neiss.sort_values("neiss_code").itertuples(index=False):
        texts.append(model_text(row.neiss_label, row.neiss_label))
        labels.append(row.category_code)
    return texts, labels


def handwritten_corpus(files: tuple[str, ...] = HANDWRITTEN) -> pd.DataFrame:
    """The hand-written training narratives (``reference/data/coding_corpus/``): ``text``,
    ``label``, ``lang``, ``style``, ``corpus`` (file name), as ``external.read_labelled``."""
    frames = []
    for name in files:
        frame = read_labelled(CORPUS_DIR / name)
        frame["corpus"] = name
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["text", "label", "lang", "style", "corpus"])
    return pd.concat(frames, ignore_index=True)


def split_bucket(hospital_code: str, case_id: str) -> int:
    digest = hashlib.sha256(f"{hospital_code}|{case_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100


def valid_codes(codes: pd.Series, visits: pd.Series) -> pd.Series:
    """True where a code is in the taxonomy and valid on the visit date."""
    tax = reference.load_taxonomy().set_index("category_code")
    out = []
    for code, visit in zip(codes, visits, strict=True):
        if not isinstance(code, str) or code not in tax.index:
            out.append(False)
            continue
        row = tax.loc[code]
        day = pd.Timestamp(visit).date() if not pd.isna(visit) else None
        out.append(
            day is None
            or (row["valid_from"] <= day and (row["valid_to"] is None or day <= row["valid_to"]))
        )
    return pd.Series(out, index=codes.index, dtype=bool)


def labelled_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Active cases with a known category (``label``, ``label_source``), sorted by key."""
    resolutions = """
            SELECT hospital_code, case_id, case_version, resolution FROM coding_review
            WHERE status = 'resolved'
            QUALIFY row_number() OVER (PARTITION BY hospital_code, case_id, case_version
                                       ORDER BY resolved_at DESC, review_id DESC) = 1"""
    frame = con.execute(f"""
        SELECT c.hospital_code, c.case_id, c.version, c.product_name, c.narrative,
               c.product_category, c.product_relation, c.visit_datetime, r.resolution
        FROM cases c
        LEFT JOIN ({resolutions}) r ON r.hospital_code = c.hospital_code
           AND r.case_id = c.case_id AND r.case_version = c.version
        WHERE c.status = 'active'
        ORDER BY c.hospital_code, c.case_id""").df()
    valid = valid_codes(frame["product_category"], frame["visit_datetime"])
    none = (
        frame["product_category"].isna()
        & frame["product_name"].isna()
        & (frame["product_relation"] == "other")
    )
    label = pd.Series(None, index=frame.index, dtype=object)
    source = pd.Series(None, index=frame.index, dtype=object)
    label[none], source[none] = NO_PRODUCT, "weak_none"
    label[valid], source[valid] = frame.loc[valid, "product_category"], "hospital"
    coder = frame["resolution"].notna()
    label[coder], source[coder] = frame.loc[coder, "resolution"], "coder"
    frame["label"], frame["label_source"] = label, source
    frame = frame[frame["label"].notna()].reset_index(drop=True)
    frame["bucket"] = [
        split_bucket(h, c) for h, c in zip(frame["hospital_code"], frame["case_id"], strict=True)
    ]
    frame["text"] = [
        model_text(p, n) for p, n in zip(frame["product_name"], frame["narrative"], strict=True)
    ]
    return frame


def unlabelled_texts(
    con: duckdb.DuckDBPyConnection, labelled: pd.DataFrame
) -> tuple[list[str], list]:
    """Texts and product names of active cases without a known category: where the model is
    actually used."""
    frame = con.execute(
        "SELECT hospital_code, case_id, product_name, narrative FROM cases "
        "WHERE status = 'active' ORDER BY hospital_code, case_id"
    ).df()
    known = set(zip(labelled["hospital_code"], labelled["case_id"], strict=True))
    keep = [
        (h, c) not in known for h, c in zip(frame["hospital_code"], frame["case_id"], strict=True)
    ]
    frame = frame[keep]
    return (
        [model_text(p, n) for p, n in zip(frame["product_name"], frame["narrative"], strict=True)],
        list(frame["product_name"]),
    )


def next_version(models_dir: Path, name: str) -> str:
    base = Path(models_dir) / name
    taken = [int(p.name[1:]) for p in base.glob("v*") if p.is_dir() and p.name[1:].isdigit()]
    return f"v{max(taken, default=0) + 1}"


def evaluate(
    coder: ProductCoder,
    texts: list[str],
    labels: np.ndarray,
    given_codes: np.ndarray | None = None,
    seed: int = 20261122,
    product_names: list | None = None,
) -> dict:
    """Held-out metrics of a calibrated coder on labelled texts (``product_names``: for the
    unknown-name rule; without them only the confidence threshold sends cases to review)."""
    names = product_names if product_names is not None else [None] * len(texts)
    assessment = confidence.assess(coder, texts, names)
    proba = assessment.proba
    raw = coder.predict_proba(texts, temperature=1.0)
    classes = coder.classes
    pred = classes[np.argmax(proba, axis=1)]
    correct = pred == labels
    conf = proba.max(axis=1)
    rows, macro = ev.per_class(list(labels), list(pred))
    ece, table = ev.reliability(conf, correct)
    ece_raw, _ = ev.reliability(raw.max(axis=1), classes[np.argmax(raw, axis=1)] == labels)
    thresholds = ev.threshold_table(conf, correct)
    confident = assessment.confident
    unknown = (
        assessment.unknown_name if product_names is not None else np.zeros(len(labels), dtype=bool)
    )
    auto = confident & ~unknown
    out = {
        "cases": len(labels),
        **ev.accuracy(proba, classes, labels),
        "macro": macro,
        "per_class": rows,
        "calibration": {
            "temperature": coder.temperature,
            "ece": ece,
            "ece_uncalibrated": ece_raw,
            "reliability": table,
        },
        "threshold_table": thresholds,
        "curve": confidence.tradeoff_curve(assessment.confidence, correct),
        "at_threshold": {
            "threshold": coder.confidence.threshold
            if confidence.has_confidence_model(coder)
            else coder.thresholds.review,
            "review_share": float(1 - auto.mean()),
            "review_share_low_confidence": float(1 - confident.mean()),
            "review_share_unknown_name": float((confident & unknown).mean()),
            "unknown_name_cases": int(unknown.sum()),
            "errors": int((~correct).sum()),
            "errors_sent_to_review": int((~correct & ~auto).sum()),
            "errors_caught_by_unknown_name": int((~correct & confident & unknown).sum()),
            "auto_accuracy": float(correct[auto].mean()) if auto.any() else None,
        },
    }
    if given_codes is not None:
        th = coder.thresholds
        flags = ev.disagreement_flags(
            proba, classes, list(given_codes), th.disagree_top, th.disagree_given
        )
        # Synthetic miscoding: replace every given code by a random other category.
        rng = np.random.default_rng(seed)
        product_classes = np.array([c for c in classes if c != NO_PRODUCT], dtype=object)
        wrong = np.array(
            [rng.choice(product_classes[product_classes != g]) for g in given_codes], dtype=object
        )
        wrong_flags = ev.disagreement_flags(
            proba, classes, list(wrong), th.disagree_top, th.disagree_given
        )
        out["hospital_check"] = {
            "rule": f"flag when top category != hospital code, top probability >= "
            f"{th.disagree_top} and hospital code probability < {th.disagree_given}",
            "hospital_coded_cases": len(given_codes),
            "flag_rate_on_hospital_codes": float(flags.mean()),
            "recall_on_synthetic_wrong_codes": float(wrong_flags.mean()),
        }
    return out


def _slice(correct: np.ndarray, auto: np.ndarray, top3: np.ndarray) -> dict:
    return {
        "cases": int(len(correct)),
        "top1_accuracy": float(correct.mean()) if len(correct) else None,
        "top3_accuracy": float(top3.mean()) if len(correct) else None,
        "review_share": float(1 - auto.mean()) if len(correct) else None,
        "auto_precision": float(correct[auto].mean()) if auto.any() else None,
    }


def external_metrics(coder: ProductCoder, frame: pd.DataFrame) -> dict:
    """Top-1 / top-3, review share and precision of the automatically coded rest on a labelled
    set (``external.read_labelled``), overall, per language and per style, plus the review-share
    / precision curve. A NEISS record's second product counts as a right answer too."""
    assessment = confidence.assess(coder, list(frame["text"]), list(frame["product_name"]))
    order = np.argsort(-assessment.proba, axis=1, kind="stable")[:, :3]
    top = coder.classes[order]
    labels = frame["label"].to_numpy(dtype=object)
    also = frame["also_right"].to_numpy(dtype=object)
    correct = (top[:, 0] == labels) | ((also != "") & (top[:, 0] == also))
    top3 = (top == labels[:, None]).any(axis=1)
    auto = assessment.auto
    out = {"overall": _slice(correct, auto, top3), "by_language": {}, "by_style": {}}
    for key, col in (("by_language", "lang"), ("by_style", "style")):
        for value in sorted(set(frame[col])):
            mask = (frame[col] == value).to_numpy()
            out[key][value or "-"] = _slice(correct[mask], auto[mask], top3[mask])
    out["curve"] = confidence.tradeoff_curve(assessment.confidence, correct)
    ece, table = ev.reliability(assessment.confidence, correct)
    out["confidence_ece"] = ece
    out["reliability"] = table
    return out


def train(
    con: duckdb.DuckDBPyConnection,
    models_dir: Path,
    name: str = DEFAULT_NAME,
    version: str | None = None,
    config: FeatureConfig | None = None,
    target_accuracy: float = TARGET_AUTO_ACCURACY,
    activate: bool = True,
    progress: Progress | None = None,
    calibration_path: Path | None = None,
    evaluation_paths: dict[str, Path] | None = None,
    target_precision: float = TARGET_AUTO_PRECISION,
    handwritten: tuple[str, ...] = HANDWRITTEN,
    hand_weight: float = HAND_WEIGHT,
) -> tuple[ProductCoder, dict]:
    """Train on the warehouse's labelled cases (plus lexicon variants and reference documents),
    calibrate on data the generator did not write, evaluate on the held-out split, its
    coder-labelled part and every external evaluation set, and write the artifact directory.

    ``calibration_path``: a labelled CSV used for temperature, confidence model and auto-code
    threshold (never for training); ``evaluation_paths``: name -> labelled CSV, measured only;
    ``handwritten``: files of the hand-written corpus trained on (``()``: none), each row and
    each coder-labelled case weighing ``hand_weight`` generated cases."""
    say = progress or (lambda _m: None)
    config = config or FeatureConfig()
    version = version or next_version(models_dir, name)
    target = model_dir(models_dir, name, version)
    if (target / "model.joblib").exists():
        raise FileExistsError(f"{target} already holds a model; choose another --version")
    frame = labelled_cases(con)
    ref_texts, ref_labels = reference_documents()
    train_ = frame[frame["bucket"] < SPLIT_TRAIN]
    cal = frame[(frame["bucket"] >= SPLIT_TRAIN) & (frame["bucket"] < SPLIT_CAL)]
    test = frame[frame["bucket"] >= SPLIT_CAL]
    say(
        f"{len(frame)} labelled cases: train {len(train_)}, calibration {len(cal)}, "
        f"test {len(test)}; {frame['label'].nunique()} classes with cases; "
        f"{len(ref_texts)} reference documents"
    )
    train_texts, train_labels = list(train_["text"]), list(train_["label"])
    n_generated = int((train_["label_source"] != "coder").sum())
    generated_weight = min(1.0, GENERATED_BUDGET / n_generated) if n_generated else 1.0
    weights = [
        hand_weight if src == "coder" else generated_weight for src in train_["label_source"]
    ]
    aug_texts: list[str] = []
    lex_texts: list[str] = []
    if config.normalise:
        table = lexicon_table()
        aug_texts, aug_labels = lexicon_variants(train_texts, train_labels, table)
        hand = table[table["source"].str.startswith("hand-written")]
        lex_texts = [model_text(t, t) for t in hand["term"]]
        lex_labels = list(hand["category_code"])
        train_texts, train_labels = (
            train_texts + aug_texts + lex_texts,
            train_labels + aug_labels + lex_labels,
        )
        weights += [generated_weight] * len(aug_texts) + [1.0] * len(lex_texts)
        say(f"{len(aug_texts)} lexicon variants of training cases, {len(lex_texts)} lexicon terms")
    corpus = handwritten_corpus(handwritten)
    train_texts += list(corpus["text"])
    train_labels += list(corpus["label"])
    weights += [hand_weight] * len(corpus)
    say(
        f"{len(corpus)} hand-written narratives ({', '.join(handwritten) or 'none'}), weight {hand_weight}"
    )
    started = time.perf_counter()
    coder = ProductCoder.fit(
        train_texts + ref_texts,
        train_labels + ref_labels,
        name=name,
        version=version,
        config=config,
        sample_weight=weights + [1.0] * len(ref_texts),
    )
    fit_seconds = time.perf_counter() - started
    say(f"fitted in {fit_seconds:.1f} s ({coder.n_features} features)")
    # Calibration data not written by the generator: coder-labelled cases of the calibration
    # split and the external calibration set; the synthetic split only when there is none.
    coder_cal = cal[cal["label_source"] == "coder"]
    external_cal = read_labelled(calibration_path) if calibration_path else None
    cal_texts = list(coder_cal["text"]) + (
        list(external_cal["text"]) if external_cal is not None else []
    )
    cal_labels = list(coder_cal["label"]) + (
        list(external_cal["label"]) if external_cal is not None else []
    )
    cal_names = list(coder_cal["product_name"]) + (
        list(external_cal["product_name"]) if external_cal is not None else []
    )
    cal_source = f"{len(coder_cal)} coder-labelled cases of the calibration split" + (
        f" + {len(external_cal)} cases of {Path(calibration_path).name}"
        if external_cal is not None
        else ""
    )
    if len(cal_texts) < MIN_CALIBRATION:
        cal_texts += list(cal["text"])
        cal_labels += list(cal["label"])
        cal_names += list(cal["product_name"])
        cal_source += f" + {len(cal)} generated cases of the calibration split (too few others)"
    nll_before, nll_after = coder.calibrate(cal_texts, cal_labels)
    say(
        f"temperature {coder.temperature:.3f} (calibration NLL {nll_before:.4f} -> {nll_after:.4f})"
    )
    cal_proba = coder.predict_proba(list(cal["text"]))
    cal_correct = coder.classes[np.argmax(cal_proba, axis=1)] == cal["label"].to_numpy()
    cal_table = ev.threshold_table(cal_proba.max(axis=1), cal_correct)
    review = ev.choose_threshold(cal_table, target_accuracy)
    coder.thresholds = Thresholds(review=review)
    confidence_info: dict = {}
    if config.normalise:
        proba_c, sig_c = confidence.signals(coder, cal_texts, cal_names)
        correct_c = coder.classes[np.argmax(proba_c, axis=1)] == np.asarray(cal_labels, object)
        coder.confidence, oof = confidence.fit_confidence(
            sig_c, correct_c, target_precision, fitted_on=cal_source
        )
        auto_c = oof >= coder.confidence.threshold
        confidence_info = {
            "fitted_on": cal_source,
            "cases": len(cal_texts),
            "top1_accuracy": float(correct_c.mean()),
            "target_precision": target_precision,
            "threshold": coder.confidence.threshold,
            "cross_fitted_review_share": float(1 - auto_c.mean()),
            "cross_fitted_auto_precision": float(correct_c[auto_c].mean())
            if auto_c.any()
            else None,
            "coefficients": dict(
                zip(confidence.SIGNALS, coder.confidence.coef.tolist(), strict=True)
            ),
            "curve": confidence.tradeoff_curve(oof, correct_c),
        }
        say(
            f"confidence model on {cal_source}: auto-code threshold "
            f"{coder.confidence.threshold:.3f}, cross-fitted review share "
            f"{confidence_info['cross_fitted_review_share']:.3f}, precision "
            f"{confidence_info['cross_fitted_auto_precision']}"
        )
    say(
        f"review threshold {review} (lowest with automatic accuracy >= {target_accuracy} on "
        "the calibration split)"
    )

    hospital_test = test[test["label_source"] == "hospital"]
    metrics_test = evaluate(
        coder,
        list(test["text"]),
        test["label"].to_numpy(),
        product_names=list(test["product_name"]),
    )
    check = evaluate(
        coder,
        list(hospital_test["text"]),
        hospital_test["label"].to_numpy(),
        given_codes=hospital_test["label"].to_numpy(),
    )
    metrics_test["hospital_check"] = check["hospital_check"]
    metrics_test["hospital_coded_only"] = {
        k: check[k] for k in ("cases", "top1_accuracy", "top2_accuracy")
    }
    metrics_test["hospital_coded_only"]["macro_f1"] = check["macro"]["f1"]
    unl, unl_names = unlabelled_texts(con, frame)
    uncoded = uncoded_review(coder, unl, unl_names)
    coder.info.update(
        {
            "sklearn": sklearn.__version__,
            "classes": len(coder.classes),
            "features": coder.n_features,
            "trained_on_cases": len(train_),
        }
    )
    coder_test = test[test["label_source"] == "coder"]
    metrics_coder = (
        evaluate(
            coder,
            list(coder_test["text"]),
            coder_test["label"].to_numpy(),
            product_names=list(coder_test["product_name"]),
        )
        if len(coder_test)
        else None
    )
    external = {}
    for set_name, path in (evaluation_paths or {}).items():
        external[set_name] = external_metrics(coder, read_labelled(path))
        external[set_name]["path"] = _repo_path(path)
        say(f"{set_name}: {json.dumps(external[set_name]['overall'])}")
    metrics = {
        "model": {
            "name": name,
            "version": version,
            "format_version": coder.format_version,
            "method": "normalised text; TF-IDF character n-grams "
            f"{'/'.join(map(str, config.char_ngrams))} + English words and word pairs "
            "(numpy substring hashes) -> multinomial logistic regression (lbfgs, balanced "
            "class weights, weighted samples), temperature scaling, confidence model on "
            "out-of-distribution signals; training cases, hand-written corpora, lexicon "
            "variants and terms, taxonomy and NEISS reference documents",
            "config": asdict(config),
            "features": coder.n_features,
            "classes": len(coder.classes),
            "temperature": coder.temperature,
            "thresholds": asdict(coder.thresholds),
            "target_auto_accuracy": target_accuracy,
            "fit_seconds": round(fit_seconds, 1),
            "lbfgs_iterations": coder.info["n_iter"],
            "sklearn": sklearn.__version__,
            "python": platform.python_version(),
            "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "data": {
            "labelled_cases": len(frame),
            "by_source": {k: int(v) for k, v in frame["label_source"].value_counts().items()},
            "split": {"train": len(train_), "calibration": len(cal), "test": len(test)},
            "split_rule": "sha256(hospital_code|case_id) mod 100: <80 train, 80-89 "
            "calibration, 90-99 test",
            "reference_documents": len(ref_texts),
            "handwritten": {
                str(k): int(v) for k, v in corpus["corpus"].value_counts().sort_index().items()
            }
            if len(corpus)
            else {},
            "hand_weight": hand_weight,
            "generated_weight": generated_weight,
            "classes_without_cases": sorted(set(coder.classes) - set(frame["label"])),
            "no_product_cases": int((frame["label"] == NO_PRODUCT).sum()),
            "hospitals": int(frame["hospital_code"].nunique()),
            "chinese_narratives": int(
                frame["narrative"].fillna("").str.contains(r"[\u4e00-\u9fff]").sum()
            ),
            "visit_range": [
                str(frame["visit_datetime"].min())[:10],
                str(frame["visit_datetime"].max())[:10],
            ],
        },
        "calibration_split": {
            "nll_uncalibrated": nll_before,
            "nll_calibrated": nll_after,
            "threshold_table": cal_table,
        },
        "test": metrics_test,
        "coder_test": metrics_coder,
        "external": external,
        "confidence": confidence_info,
        "lexicon": {
            "version": getattr(coder.lexicon, "version", None),
            "digest": getattr(coder.lexicon, "digest", None),
            "terms": getattr(coder.lexicon, "terms", None),
            "augmented_cases": len(aug_texts),
            "lexicon_documents": len(lex_texts),
        },
        "uncoded_cases": uncoded,
    }
    target.mkdir(parents=True, exist_ok=True)
    path = coder.save(target)
    metrics["model"]["artifact_bytes"] = path.stat().st_size
    (target / METRICS).write_text(
        json.dumps(metrics, ensure_ascii=False, indent=1, default=_json_default) + "\n",
        encoding="utf-8",
    )
    (target / CARD).write_text(render_card(metrics), encoding="utf-8")
    if activate:
        set_current(models_dir, name, version)
    say(f"wrote {target} ({path.stat().st_size / 1e6:.1f} MB)")
    return coder, metrics


def _repo_path(path: Path) -> str:
    from pipeline.config import REPO_ROOT

    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def uncoded_review(coder: ProductCoder, texts: list[str], names: list) -> dict:
    """Review shares on the warehouse's cases without a known category (where the model is
    used), with the pipeline's own decision (``confidence.assess``)."""
    if not texts:
        return {"cases": 0, "review_share_at_threshold": None}
    judged = confidence.assess(coder, texts, names)
    return {
        "cases": len(texts),
        "review_share_at_threshold": float(1 - judged.auto.mean()),
        "review_share_low_confidence": float(1 - judged.confident.mean()),
        "unknown_name_share": float(judged.unknown_name.mean()),
    }


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def _card_curve(rows: list[dict]) -> list[str]:
    out = ["| sent to review | auto-coded cases | precision of the auto-coded |", "|---|---|---|"]
    out += [
        f"| {_pct(r['review_share'])} | {r['auto_cases']} | {_pct(r['auto_precision'])} |"
        for r in rows
    ]
    return out


def _card_slices(title: str, slices: dict) -> list[str]:
    out = [
        f"| {title} | cases | top-1 | top-3 | sent to review | precision of the auto-coded |",
        "|---|---|---|---|---|---|",
    ]
    for key, v in slices.items():
        out.append(
            f"| {key} | {v['cases']} | {_pct(v['top1_accuracy'])} | {_pct(v['top3_accuracy'])} "
            f"| {_pct(v['review_share'])} | {_pct(v['auto_precision'])} |"
        )
    return out


def _card_confidence(m: dict) -> list[str]:
    c = m.get("confidence") or {}
    if not c:
        return []
    lines = [
        "",
        "## Confidence and the auto-code rule",
        "",
        "A case is coded automatically only when the confidence model (logistic regression on "
        "the signals below, fitted on labelled narratives the generator did not write) gives "
        f"at least **{c['threshold']:.3f}** and the product name is readable; everything else "
        "goes to coder review with the top suggestions. The threshold is the lowest at which "
        "the cross-fitted auto-coded cases of the calibration data reach "
        f"{_pct(c['target_precision'])} precision with an add-one correction "
        "((errors + 1) / (accepted + 1)).",
        "",
        f"- fitted on: {c['fitted_on']} ({c['cases']} cases; top-1 there "
        f"{_pct(c['top1_accuracy'])})",
        f"- cross-fitted on those cases: review share {_pct(c['cross_fitted_review_share'])}, "
        f"precision of the auto-coded {_pct(c['cross_fitted_auto_precision'])}",
        "- signals (standardised coefficients): "
        + ", ".join(f"{k} {v:+.2f}" for k, v in c["coefficients"].items()),
        "",
        "Cross-fitted review share vs precision on the calibration data:",
        "",
        *_card_curve(c["curve"]),
    ]
    return lines


def _card_external(m: dict) -> list[str]:
    lines: list[str] = []
    coder = m.get("coder_test")
    if coder:
        at = coder["at_threshold"]
        lines += [
            "",
            "## Held-out coder-labelled cases",
            "",
            f"{coder['cases']} cases (hash buckets 90-99 of the cases whose label is a coder's "
            f"resolution): top-1 {_pct(coder['top1_accuracy'])}, sent to review "
            f"{_pct(at['review_share'])}, precision of the auto-coded "
            f"{_pct(at['auto_accuracy'])}.",
        ]
    for name, ext in (m.get("external") or {}).items():
        o = ext["overall"]
        lines += [
            "",
            f"## Evaluation set `{name}` (measured only: never trained on, never used for a "
            "choice)",
            "",
            f"`{ext.get('path', '')}`: {o['cases']} cases; top-1 **{_pct(o['top1_accuracy'])}**, "
            f"top-3 {_pct(o['top3_accuracy'])}; at the auto-code threshold "
            f"**{_pct(o['review_share'])}** sent to review, precision of the automatically "
            f"coded rest **{_pct(o['auto_precision'])}**; confidence ECE "
            f"{ext.get('confidence_ece', 0):.3f}.",
            "",
            *_card_slices("language", ext["by_language"]),
            "",
            *_card_slices("style", ext["by_style"]),
            "",
            "Review share vs precision of the automatically coded rest (cases ranked by "
            "confidence):",
            "",
            *_card_curve(ext["curve"]),
        ]
    return lines


def render_card(m: dict) -> str:
    """The model card (Markdown) from metrics.json."""
    model, data, test = m["model"], m["data"], m["test"]
    cal = test["calibration"]
    th = model["thresholds"]
    at = test["at_threshold"]
    unc = m["uncoded_cases"]
    taxonomy = reference.load_taxonomy().set_index("category_code")
    lines = [
        f"# Model card: {model['name']} {model['version']}",
        "",
        "Assigns a product category (Sentinel taxonomy, or `NONE` = no product involved) to an "
        "injury case from its product name and narrative (Chinese or English). Used by "
        "`sentinel coding run` for cases whose hospital left the category blank or invalid, and "
        "to check hospital-supplied codes. Every coded case records this model's name and "
        "version in `case_coding`.",
        "",
        "## Method",
        "",
        f"- {model['method']}",
        f"- features: {model['features']} ({model['config']['char_max_features']} character "
        f"n-grams, {model['config']['word_max_features']} English word n-grams, min_df "
        f"{model['config']['min_df']}); C = {model['config']['C']}, tol = "
        f"{model['config']['tol']}; lbfgs iterations {model['lbfgs_iterations']}; fit "
        f"{model['fit_seconds']} s",
        f"- classes: {model['classes']}; temperature {model['temperature']:.3f} (fitted on the "
        "calibration split)",
        f"- artifact: `model.joblib`, {model['artifact_bytes'] / 1e6:.1f} MB (float32 "
        "coefficients, zlib-compressed); scikit-learn " + model["sklearn"],
        "",
        "## Training data",
        "",
        f"- {data['labelled_cases']} labelled active cases from {data['hospitals']} hospitals, "
        f"visits {data['visit_range'][0]} to {data['visit_range'][1]}; "
        f"{data['chinese_narratives']} Chinese narratives",
        "- label sources: "
        + ", ".join(f"{k} {v}" for k, v in sorted(data["by_source"].items()))
        + " (`hospital` = valid hospital code, `coder` = resolved review, `weak_none` = relation "
        "`other` with neither product name nor category, taken as *no product involved*)",
        f"- split: {data['split_rule']} -> train {data['split']['train']}, calibration "
        f"{data['split']['calibration']}, test {data['split']['test']}",
        f"- plus {data['reference_documents']} reference documents (taxonomy names and "
        "descriptions, NEISS product labels) so that every active category is known; "
        "categories without any labelled case: "
        + (", ".join(data["classes_without_cases"]) or "none"),
    ]
    if data.get("handwritten"):
        lines.append(
            "- plus the hand-written training corpora ("
            + ", ".join(f"`{k}` {v} rows" for k, v in data["handwritten"].items())
            + f"; `pipeline/reference/data/coding_corpus/`), each row weighing "
            f"{data['hand_weight']} generated cases; generated cases weigh "
            f"{data.get('generated_weight', 1.0):.3f} each. The corpora were written by two "
            "independent writers who never saw the evaluation or calibration sets; **training "
            "and evaluation text come from different, independent writers**."
        )
    lines += [
        "",
        "## Held-out test metrics",
        "",
        "| measure | value |",
        "|---|---|",
        f"| test cases | {test['cases']} |",
        f"| top-1 accuracy | {_pct(test['top1_accuracy'])} |",
        f"| top-2 accuracy | {_pct(test['top2_accuracy'])} |",
        f"| macro precision | {_pct(test['macro']['precision'])} |",
        f"| macro recall | {_pct(test['macro']['recall'])} |",
        f"| macro F1 ({test['macro']['classes']} classes) | {_pct(test['macro']['f1'])} |",
        f"| top-1 accuracy, hospital-coded test cases only | "
        f"{_pct(test['hospital_coded_only']['top1_accuracy'])} |",
        f"| ECE before / after temperature scaling | {cal['ece_uncalibrated']:.4f} / "
        f"{cal['ece']:.4f} |",
        (
            f"| auto-code rule | confidence model >= {m['confidence']['threshold']:.3f} "
            "(see below) |"
            if m.get("confidence")
            else f"| review threshold | {th['review']} |"
        ),
        f"| review share (test): low confidence + unknown product name | "
        f"{_pct(test['at_threshold']['review_share'])} "
        f"({_pct(at.get('review_share_low_confidence'))} + "
        f"{_pct(at.get('review_share_unknown_name'))}) |",
        f"| model errors in the test split / sent to review / caught by the unknown-name rule | "
        f"{at.get('errors', '-')} / {at.get('errors_sent_to_review', '-')} / "
        f"{at.get('errors_caught_by_unknown_name', '-')} |",
        f"| accuracy of the automatically coded rest (test) | "
        f"{_pct(test['at_threshold']['auto_accuracy'])} |",
        f"| review share on the uncoded cases of the warehouse | "
        f"{_pct(unc['review_share_at_threshold'])} ({unc['cases']} cases; unknown product "
        f"name {_pct(unc.get('unknown_name_share'))}) |",
        "",
        "## Review threshold (probability rule of format 1)",
        "",
        "(A format-3 model decides with its confidence model, below; this table of the "
        "calibrated top probability is kept for comparison with v1.) "
        f"A predicted category is accepted automatically when its calibrated probability is at "
        f"least the threshold, otherwise the case goes to the coder-review queue and stays out "
        f"of statistics until resolved. The threshold is the lowest value >= 0.5 of the grid "
        f"whose automatic accuracy on the calibration split reaches "
        f"{_pct(model['target_auto_accuracy'])}. Trade-off on the test split:",
        "",
        "| threshold | sent to review | accuracy of the automatic rest |",
        "|---|---|---|",
    ]
    for row in test["threshold_table"]:
        mark = " **(chosen)**" if row["threshold"] == th["review"] else ""
        lines.append(
            f"| {row['threshold']}{mark} | {_pct(row['review_share'])} | "
            f"{_pct(row['auto_accuracy'])} |"
        )
    hc = test["hospital_check"]
    lines += [
        "",
        "(The table is the confidence threshold alone; the unknown-name rule below adds its "
        "share at every threshold.)",
        "",
        "## Unknown product names",
        "",
        f"A prediction is also sent to review, whatever its probability, when more than "
        f"{_pct(th.get('unknown_name', 0.5))} of the product name's tokens (Chinese character "
        f"bigrams, English words) occur in fewer than {model['config'].get('name_min_df', 3)} "
        f"training product names: the model reads such a name through the fragments it knows "
        f"(巴克球 'buckyballs' through 球 'ball') and its confidence is not evidence. On the "
        f"test split the rule flags {at.get('unknown_name_cases', '-')} cases "
        f"({_pct(at.get('review_share_unknown_name'))} sent to review on top of the threshold); "
        f"on the warehouse's uncoded cases {_pct(unc.get('unknown_name_share'))}.",
        "",
        "## Hospital-code check",
        "",
        f"A valid hospital code is kept; the case is flagged for coder review when the model "
        f"strongly disagrees: {hc['rule']}. On the {hc['hospital_coded_cases']} hospital-coded "
        f"test cases (all correct in the sample) the rule flags {_pct(hc['flag_rate_on_hospital_codes'])}"
        f"; when every given code is replaced by a random wrong one it flags "
        f"{_pct(hc['recall_on_synthetic_wrong_codes'])}.",
        "",
        "## Calibration (test split, top-1 confidence)",
        "",
        "| confidence bin | cases | mean confidence | accuracy |",
        "|---|---|---|---|",
    ]
    for row in cal["reliability"]:
        lines.append(
            f"| {row['bin']} | {row['cases']} | "
            f"{'-' if row['confidence'] is None else row['confidence']} | "
            f"{'-' if row['accuracy'] is None else row['accuracy']} |"
        )
    lines += [
        "",
        "## Per-class test metrics (lowest F1 first)",
        "",
        "| class | name | precision | recall | F1 | support |",
        "|---|---|---|---|---|---|",
    ]
    for code, row in sorted(test["per_class"].items(), key=lambda kv: (kv[1]["f1"], kv[0])):
        label = (
            "no product involved"
            if code == NO_PRODUCT
            else (taxonomy.loc[code, "name_en"] if code in taxonomy.index else "")
        )
        lines.append(
            f"| {code} | {label} | {row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['f1']:.3f} | {row['support']} |"
        )
    lines += _card_confidence(m) + _card_external(m)
    lines += [
        "",
        "## Limitations",
        "",
        "- The generated sample's narratives come from a finite set of templates; the "
        "hand-written corpora and the evaluation sets are invented by independent writers (AI "
        "sessions), not real records, and the real NEISS sample covers one product "
        "(skateboards). Expect lower accuracy and a larger review share on a real network's "
        "narratives; retrain on coder-resolved cases (`retrain_models`).",
        "- The `NONE` label is a weak label (relation `other`, no product name, no category).",
        "- Categories with very few cases are learned from a handful of narratives; their "
        "per-class figures rest on small supports.",
        "- A new product term mentioned only in the narrative (blank product name) is not caught "
        "by the unknown-name rule and can still be coded confidently into a similar category.",
        "",
        "## Reproduce",
        "",
        "```bash",
        f"sentinel model train --name {model['name']} --version {model['version']}",
        "```",
        "",
        "on the same warehouse (the shipped model: the sample network, `sentinel ingest`). "
        "Figures: `metrics.json` next to this card.",
        "",
    ]
    return "\n".join(lines)
