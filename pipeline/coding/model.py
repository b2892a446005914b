"""The product coder: narrative + product name -> calibrated probabilities over categories.

Features (fitted on the training cases only), of the normalised text ``product_name |
narrative`` (``normalise.py``: simplified characters, clinical shorthand, English stems,
numbers masked; format 3) or of the raw lower-cased text (format 1, the v1 artifact):

- character n-grams (1-3, word-boundary n-grams as ``char_wb``): works for Chinese (no word
  boundaries) and for clerk English with its abbreviations and typos;
- word uni- and bigrams of the English words of the same text.

Format 3 computes them for a whole batch at once with numpy (``features.py``: substring
hashes looked up in a fitted vocabulary, 5-10x faster than scikit-learn's vectorisers); format
1 uses scikit-learn's ``TfidfVectorizer``.

Classifier: multinomial logistic regression (L2, lbfgs, balanced class weights, so rare
categories are not drowned by common ones). Besides the cases, training reads three short
reference documents per active taxonomy category (Chinese name, English name, English
description) and the NEISS product labels mapped to it, so a category with few or no coded cases
(a new product) still has a footing. Probabilities are calibrated by
temperature scaling (one scalar fitted on a held-out calibration split), which keeps the ranking
and fixes the usual under- or over-confidence; ECE before and after is in the model card.

The saved artifact holds only what prediction needs: the two fitted vectorisers (without their
``stop_words_`` list), the coefficients as float32, the intercepts, the temperature and the
decision thresholds, compressed with joblib (about 10-20 MB for the sample model).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.coding.features import Batch, LexiconIndex, TextFeatures
from pipeline.coding.lexicon import LexiconMatcher
from pipeline.coding.normalise import normalise_model_text, normalise_name

ARTIFACT = "model.joblib"
METRICS = "metrics.json"
CARD = "model_card.md"
CURRENT = "CURRENT"
DEFAULT_NAME = "product_coder"
FORMAT_VERSION = 3
READABLE_FORMATS = (1, 3)  # v1 artifacts: raw text, scikit-learn vectorisers, no confidence model
_SPACES = re.compile(r"\s+")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"\b[a-z][a-z]+\b")  # the word vectoriser's token pattern


def _normalise(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def model_text(product_name: object, narrative: object) -> str:
    """The text the coder reads: NFKC-normalised, lower-cased ``product | narrative``."""
    return f"{_normalise(product_name)} | {_normalise(narrative)}"


def name_tokens(product_name: object) -> tuple[list[str], list[str]]:
    """The tokens a product name is read by: Chinese character bigrams (a lone character by
    itself) and English words of two or more letters. Digits and model numbers are ignored."""
    text = _normalise(product_name)
    han: list[str] = []
    for run in _HAN_RUN.findall(text):
        han += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return han, _WORD.findall(text)


def name_vocabulary(texts: Iterable[str], min_df: int) -> dict[str, int]:
    """Product-name tokens (``name_tokens`` of the part of each ``model_text`` before the first
    `` | ``) found in at least ``min_df`` texts, with their document frequency; sorted, so the
    pickled artifact is byte-stable."""
    counts: Counter[str] = Counter()
    for text in texts:
        han, eng = name_tokens(text.split(" | ", 1)[0])
        counts.update(set(han) | set(eng))
    return {t: n for t, n in sorted(counts.items()) if n >= min_df}


@dataclass(frozen=True)
class FeatureConfig:
    char_max_features: int = 40000
    word_max_features: int = 10000
    min_df: int = 2
    char_ngrams: tuple[int, ...] = (1, 2, 3)
    C: float = 10.0
    # lbfgs stopping tolerance: at 1e-3 the fit stopped after ~20 iterations, far from the
    # optimum, and cross-writer accuracy moved by several points with the sample weights
    tol: float = 1e-4
    max_iter: int = 500
    class_weight: str | None = "balanced"  # rare categories count as much as common ones
    # product-name tokens seen in fewer training names than this are "unknown" to the model
    # (the unknown-name rule)
    name_min_df: int = 3
    # clinical text normalisation (normalise.py); False only reproduces v1-style raw text
    normalise: bool = True
    # weight of the "lexicon names category c" features in the classifier (0: the lexicon is
    # used for training documents, augmentation and the confidence signals only; as features
    # it lowered cross-writer accuracy: docs/coding.md)
    lexicon_weight: float = 0.0


@dataclass(frozen=True)
class Thresholds:
    """Decision rules (documented in docs/coding.md and the model card).

    - review: a predicted category (blank or invalid hospital code) is accepted automatically
      when its calibrated probability >= ``review``; below, the case goes to coder review;
    - disagreement: a valid hospital code is kept, but the case is flagged for review when the
      model's top category is another one with probability >= ``disagree_top`` and the
      hospital's code has probability < ``disagree_given``;
    - unknown product name: a predicted category is sent to review, whatever its probability,
      when more than ``unknown_name`` of the product name's tokens (``name_tokens``) are out of
      the model's vocabulary. The model then reads the name through fragments it does know (the
      character 球 "ball" of 巴克球 "buckyballs" means ball sports to it) and its confidence
      says nothing about the new product.
    """

    review: float = 0.5
    disagree_top: float = 0.9
    disagree_given: float = 0.02
    # a product name more than this share of whose tokens the model has no feature for is
    # a name the model cannot read: its prediction is not accepted automatically
    unknown_name: float = 0.5


@dataclass
class Analysis:
    """A batch as the model reads it (``ProductCoder.analyse``)."""

    prepared: list[str]  # normalised model texts
    x: sp.csr_matrix  # classifier features
    lexicon_hits: sp.csr_matrix | None = None  # (n, classes) 1 = the lexicon names the class
    known_share: np.ndarray | None = None  # share of words / character pairs that are features


@dataclass
class ProductCoder:
    name: str
    version: str
    classes: np.ndarray
    char_vec: TfidfVectorizer | None  # format 1
    word_vec: TfidfVectorizer | None  # format 1
    coef: np.ndarray  # (n_classes, n_features) float32
    intercept: np.ndarray  # (n_classes,) float32
    temperature: float = 1.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    config: FeatureConfig = field(default_factory=FeatureConfig)
    info: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # product-name token -> number of training texts naming it (None: a v1 artifact, whose
    # unknown-name rule falls back to the n-gram vocabularies)
    name_vocab: dict[str, int] | None = None
    # format 3 (None / False in v1 artifacts, read with getattr)
    normalised: bool = False
    lexicon: LexiconMatcher | None = None
    centroids: sp.csr_matrix | None = None  # per class, L2-normalised, top features only
    confidence: object | None = None  # confidence.ConfidenceModel
    text_features: TextFeatures | None = None
    lexicon_index: LexiconIndex | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_weights", None)  # a transposed copy of coef, rebuilt on first use
        state.pop("_name_share_cache", None)  # a cache
        return state

    # ---- training ----------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        name: str,
        version: str,
        config: FeatureConfig | None = None,
        sample_weight: Sequence[float] | None = None,
    ) -> ProductCoder:
        """Fit on ``model_text`` strings (``sample_weight``: per text, default 1)."""
        config = config or FeatureConfig()
        texts = [normalise_model_text(t) for t in texts] if config.normalise else list(texts)
        labels_arr = np.asarray(labels, dtype=object)
        categories = sorted(set(labels_arr))
        text_features = TextFeatures(
            char_ngrams=tuple(config.char_ngrams),
            min_df=config.min_df,
            char_max_features=config.char_max_features,
            word_max_features=config.word_max_features,
        ).fit(texts)
        lexicon = LexiconMatcher.build(categories)
        index = LexiconIndex.build(len(categories), lexicon.zh, lexicon.en)
        batch = Batch.of(texts)
        blocks = text_features.transform(texts, batch)
        if config.lexicon_weight:
            blocks.append(index.features(batch, len(texts)) * np.float32(config.lexicon_weight))
        x = sp.hstack(blocks).tocsr()
        clf = LogisticRegression(
            C=config.C, tol=config.tol, max_iter=config.max_iter, class_weight=config.class_weight
        )
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        clf.fit(x, labels_arr, sample_weight=weights)
        assert list(clf.classes_) == categories
        return cls(
            name=name,
            version=version,
            classes=np.asarray(clf.classes_, dtype=object),
            char_vec=None,
            word_vec=None,
            coef=clf.coef_.astype(np.float32),
            intercept=clf.intercept_.astype(np.float32),
            config=config,
            info={"n_iter": int(np.max(clf.n_iter_))},
            name_vocab=name_vocabulary(texts, config.name_min_df),
            normalised=config.normalise,
            lexicon=lexicon,
            centroids=_centroids(x, labels_arr, clf.classes_),
            text_features=text_features,
            lexicon_index=index,
        )

    def calibrate(self, texts: Sequence[str], labels: Sequence[str]) -> tuple[float, float]:
        """Fit the temperature on held-out cases (minimum negative log-likelihood).

        Returns (NLL at T=1, NLL at the fitted T)."""
        logits = self.logits(texts).astype(np.float64)
        index = {c: i for i, c in enumerate(self.classes)}
        known = np.array([lab in index for lab in labels])
        y = np.array([index[lab] for lab in np.asarray(labels, dtype=object)[known]])
        logits = logits[known]

        def nll(t: float) -> float:
            z = logits / t
            z = z - z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-log_p[np.arange(len(y)), y].mean())

        before = nll(1.0)
        result = minimize_scalar(
            nll, bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-4}
        )
        self.temperature = float(result.x)
        return before, float(result.fun)

    # ---- prediction ----------------------------------------------------------------------
    def prepare(self, texts: Sequence[str]) -> list[str]:
        """The model's own view of ``model_text`` strings (normalised from format 3 on)."""
        if getattr(self, "normalised", False):
            return [normalise_model_text(t) for t in texts]
        return list(texts)

    def analyse(self, texts: Sequence[str], prepared: bool = False) -> Analysis:
        """Features of ``model_text`` strings and, for format 3, what the confidence signals
        read from the same batch (lexicon hits, share of the text that is known)."""
        texts = list(texts) if prepared else self.prepare(texts)
        if getattr(self, "text_features", None) is None:  # format 1
            x = sp.hstack([self.char_vec.transform(texts), self.word_vec.transform(texts)]).tocsr()
            return Analysis(texts, x)
        batch = Batch.of(texts)
        blocks = self.text_features.transform(texts, batch)
        hits = self.lexicon_index.features(batch, len(texts))
        if self.config.lexicon_weight:
            blocks.append(hits * np.float32(self.config.lexicon_weight))
        x = sp.hstack(blocks, format="csr")
        return Analysis(texts, x, hits, self.text_features.known_share(texts, batch))

    def features(self, texts: Sequence[str], prepared: bool = False) -> sp.csr_matrix:
        return self.analyse(texts, prepared).x

    def _weight_matrix(self) -> np.ndarray:
        weights = self.__dict__.get("_weights")
        if weights is None:  # (n_features, n_classes), C order: sparse @ dense without a copy
            weights = self.__dict__["_weights"] = np.ascontiguousarray(self.coef.T)
        return weights

    def logits(self, texts: Sequence[str], x: sp.csr_matrix | None = None) -> np.ndarray:
        x = self.features(texts) if x is None else x
        return np.asarray(x @ self._weight_matrix(), dtype=np.float32) + self.intercept

    def predict_proba(
        self,
        texts: Sequence[str],
        temperature: float | None = None,
        x: sp.csr_matrix | None = None,
    ) -> np.ndarray:
        """Calibrated class probabilities (rows sum to 1), columns in ``classes`` order
        (``x``: the features of ``texts`` when already computed)."""
        t = self.temperature if temperature is None else temperature
        z = self.logits(texts, x) / np.float32(t)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict_proba_cases(
        self, product_names: Iterable[object], narratives: Iterable[object], batch_size: int = 20000
    ) -> np.ndarray:
        texts = [model_text(p, n) for p, n in zip(product_names, narratives, strict=True)]
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return np.vstack(
            [
                self.predict_proba(texts[i : i + batch_size])
                for i in range(0, len(texts), batch_size)
            ]
        )

    def unknown_name_share(self, product_names: Iterable[object]) -> np.ndarray:
        """Share of each product name's tokens (``name_tokens``) the model does not know:
        tokens found in fewer than ``name_min_df`` training product names (reference documents
        included); for a v1 artifact without that vocabulary, tokens missing from the
        character / word n-gram vocabularies (which also lack frequent tokens cut by
        ``max_features``). NaN for a name without tokens (blank, digits only). Names recur,
        so each distinct name is read once per loaded model (a bounded cache)."""
        cache = self.__dict__.setdefault("_name_share_cache", {})
        if len(cache) > 200_000:
            cache.clear()
        out = np.empty(len(product_names := list(product_names)), dtype=np.float64)
        for i, name in enumerate(product_names):
            key = name if isinstance(name, str) else None
            share = cache.get(key)
            if share is None:
                share = cache[key] = self._name_share(name)
            out[i] = share
        return out

    def _name_share(self, name: object) -> float:
        if getattr(self, "name_vocab", None) is not None:  # v1 artifacts predate it
            chars = words = self.name_vocab
        else:
            chars, words = self.char_vec.vocabulary_, self.word_vec.vocabulary_
        normalised = getattr(self, "normalised", False)
        han, eng = name_tokens(
            normalise_name(name) if normalised and isinstance(name, str) else name
        )
        total = len(han) + len(eng)
        unknown = sum(t not in chars for t in han) + sum(t not in words for t in eng)
        return unknown / total if total else float("nan")

    def unknown_names(
        self, product_names: Iterable[object], share: np.ndarray | None = None
    ) -> np.ndarray:
        """True where the product name is one the model cannot read (see ``Thresholds``);
        ``share``: ``unknown_name_share`` when already computed."""
        limit = getattr(self.thresholds, "unknown_name", Thresholds.unknown_name)
        share = self.unknown_name_share(product_names) if share is None else share
        return np.nan_to_num(share, nan=0.0) > limit

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    # ---- artifacts -----------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for vec in (self.char_vec, self.word_vec):
            if hasattr(vec, "_stop_words_id"):  # set again by every transform; an address
                delattr(vec, "_stop_words_id")
        path = directory / ARTIFACT
        joblib.dump(self, path, compress=("zlib", 6))
        return path


def _centroids(
    x: sp.csr_matrix, labels: np.ndarray, classes: np.ndarray, keep: int = 400
) -> sp.csr_matrix:
    """Per class, the mean of its L2-normalised training rows, cut to its ``keep`` largest
    features and L2-normalised again: cosine to it is the out-of-distribution signal "how far
    is this text from what the model saw for the category it predicts"."""
    from sklearn.preprocessing import normalize

    xn = normalize(x, norm="l2", axis=1)
    rows = []
    for cls in classes:
        mean = np.asarray(xn[labels == cls].mean(axis=0)).ravel().astype(np.float32)
        if np.count_nonzero(mean) > keep:
            mean[mean < np.partition(mean, -keep)[-keep]] = 0.0
        norm = float(np.linalg.norm(mean))
        rows.append(sp.csr_matrix(mean / norm if norm > 0 else mean))
    return sp.vstack(rows).tocsr().astype(np.float32)


def model_dir(models_dir: Path, name: str, version: str) -> Path:
    return Path(models_dir) / name / version


def current_version(models_dir: Path, name: str = DEFAULT_NAME) -> str:
    path = Path(models_dir) / name / CURRENT
    if not path.exists():
        raise FileNotFoundError(f"no {path}: train a model first (`sentinel model train`)")
    return path.read_text(encoding="utf-8").strip()


def set_current(models_dir: Path, name: str, version: str) -> None:
    path = Path(models_dir) / name / CURRENT
    tmp = path.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    tmp.replace(path)


def load(models_dir: Path, name: str = DEFAULT_NAME, version: str | None = None) -> ProductCoder:
    """Load a model artifact (default: the version named in ``models/<name>/CURRENT``)."""
    version = version or current_version(models_dir, name)
    path = model_dir(models_dir, name, version) / ARTIFACT
    if not path.exists():
        raise FileNotFoundError(f"no model artifact at {path}")
    coder = joblib.load(path)
    if not isinstance(coder, ProductCoder) or coder.format_version not in READABLE_FORMATS:
        raise ValueError(f"{path} is not a product coder of format {READABLE_FORMATS}")
    return coder


def read_metrics(models_dir: Path, name: str, version: str) -> dict:
    return json.loads((model_dir(models_dir, name, version) / METRICS).read_text("utf-8"))
