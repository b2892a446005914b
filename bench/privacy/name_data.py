"""Build the name model's tables (``pipeline/privacy/data/``) and fit its weights.

    python -m bench.privacy.name_data tables --sources DIR [--dict /usr/share/dict/words]
    python -m bench.privacy.name_data train

``tables`` reads public word lists unpacked under DIR (nothing is downloaded at run time; the
scrubber ships what this writes):

* ``ngender-0.1.1/ngender/charfreq.csv`` (MIT): how often each character occurs in Chinese
  given names (32 million name characters) -> the given-name character model;
* ``faker/faker/providers/person/`` (Faker 40.63.0, MIT): Chinese surname frequencies, and the
  first and last names of the Latin-script locales;
* ``jieba-0.42.1/jieba/dict.txt`` (MIT): Chinese words with corpus frequencies -> the text
  character model and the list of ordinary words;
* the project's own name-free clinical text (the coding training corpus and the sample
  network's narratives) -> the clinical part of the text model and clinical words;
* ``/usr/share/dict/words`` (Debian ``wamerican``, SCOWL): which English names are also
  ordinary lower-case words ("Will", "Mason", "Hope").

Get the packages with ``pip download --no-deps ngender==0.1.1 jieba==0.42.1 faker==40.63.0``
and unpack them into DIR (the wheel with ``unzip`` into ``DIR/faker``).

``train`` fits the logistic model of ``pipeline/privacy/names.py`` on the candidates of the
project's template corpus, the dev corpus and the first held-out corpus (spent: measured once
in December 2026, then studied), with name-free clinical text as negatives, and picks the
threshold by cross-validation. The second held-out corpus (``independent_test2.jsonl``) is
never read here.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "pipeline" / "privacy" / "data"
CODING_ZH = ROOT / "pipeline" / "reference" / "data" / "coding_corpus" / "handwritten_zh.csv"
PRIVACY = ROOT / "tests" / "data" / "privacy"
TRAIN_SOURCES = ("independent_dev.jsonl", "independent_test.jsonl")  # never test2
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
LATIN_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿĀ-ſ][A-Za-zÀ-ÖØ-öø-ÿĀ-ſ'\-]+$")
# The single surnames of the Hundred Family Surnames (百家姓, a classic text), and modern
# surnames it lacks.
BAIJIAXING = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"
    "鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平"
    "黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童"
    "颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔"
    "吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰"
    "秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴"
    "鬱胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍郤璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连"
    "茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷"
    "訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公"
    "闫佘覃冼禤佴谯谌邝亓苟付佟栗鄢粟"
)
FAKER_LOCALES = [
    "en_US",
    "en_GB",
    "en_IE",
    "es_ES",
    "es_MX",
    "pt_BR",
    "pt_PT",
    "fr_FR",
    "de_DE",
    "it_IT",
    "nl_NL",
    "tr_TR",
    "pl_PL",
    "sv_SE",
    "da_DK",
    "fi_FI",
    "cs_CZ",
    "ro_RO",
    "hu_HU",
    "id_ID",
]


# ---- clinical text ---------------------------------------------------------------------------


def clinical_zh() -> list[str]:
    """Name-free Chinese clinical text of the project: the coding training corpus and the
    sample network's narratives (rows that hold their own patient's name are left out)."""
    texts = []
    with CODING_ZH.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts += [row["narrative"], row.get("product_name") or ""]
    from pipeline.config import SAMPLE_DIR
    from pipeline.contract import canonical_field

    for path in sorted((SAMPLE_DIR / "landing").rglob("*.csv")):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                table = list(csv.reader(io.StringIO(raw.decode(encoding))))
                break
            except UnicodeDecodeError:
                table = []
        if not table:
            continue
        fields = [canonical_field(h) for h in table[0]]
        if "narrative" not in fields:
            continue
        at = fields.index("narrative")
        name_at = fields.index("patient_name") if "patient_name" in fields else None
        for row in table[1:]:
            if len(row) <= at:
                continue
            name = row[name_at] if name_at is not None and len(row) > name_at else ""
            if name and name in row[at]:
                continue
            texts.append(row[at])
    return [t for t in dict.fromkeys(texts) if t and re.search("[\u4e00-\u9fff]", t)]


# ---- tables ----------------------------------------------------------------------------------


def _faker(sources: Path, locale: str):
    if str(sources / "faker") not in sys.path:
        sys.path.insert(0, str(sources / "faker"))
    return importlib.import_module(f"faker.providers.person.{locale}").Provider


def _names(values) -> list[str]:
    return list(values.keys()) if hasattr(values, "keys") else list(values)


def build_tables(sources: Path, dictionary: Path) -> None:
    from pipeline.privacy import lexicon as L

    OUT.mkdir(parents=True, exist_ok=True)
    # Surnames: Faker's frequencies (percent of the population), then the lexicon's surnames
    # Faker lacks, at half its rarest weight.
    faker_zh = dict(_faker(sources, "zh_CN").last_names)
    rare = min(faker_zh.values()) / 2
    surnames = dict(faker_zh)
    for s in (*L.SURNAMES_1, *L.SURNAMES_2, *BAIJIAXING):
        surnames.setdefault(s, rare)
    _write(OUT / "zh_surnames.tsv", sorted(surnames.items(), key=lambda kv: (-kv[1], kv[0])))

    # Given-name characters.
    given: Counter = Counter()
    with (sources / "ngender-0.1.1" / "ngender" / "charfreq.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            given[row["char"]] += int(row["male"]) + int(row["female"])

    # Text characters and words: jieba's corpus frequencies (person names left out), and the
    # project's clinical text, weighted to a third of the mass.
    general: Counter = Counter()
    words: Counter = Counter()
    with (sources / "jieba-0.42.1" / "jieba" / "dict.txt").open(encoding="utf-8") as f:
        for line in f:
            word, freq, tag = line.split()
            freq = int(freq)
            if not CJK.match(word):
                continue
            person = tag in ("nr", "nrt", "nrfg")
            if not person:
                for ch in word:
                    general[ch] += freq
            if 2 <= len(word) <= 3 and (freq >= 200 if person else freq >= 10):
                words[word] += freq
    clinical: Counter = Counter()
    grams: Counter = Counter()
    for text in clinical_zh():
        for run in re.findall("[\u4e00-\u9fff]+", text):
            clinical.update(run)
            for n in (2, 3):
                grams.update(run[i : i + n] for i in range(len(run) - n + 1))
    scale = sum(general.values()) / 2 / max(1, sum(clinical.values()))
    text = Counter({ch: n for ch, n in general.items()})
    for ch, n in clinical.items():
        text[ch] += round(n * scale)
    for gram, n in grams.items():
        if n >= 4:  # a clinical word ("查体", "烫伤"), or at least a frequent phrase
            words[gram] = max(words[gram], n * 20)
    chars = sorted(set(given) | set(text), key=lambda c: (-(given[c] + text[c]), c))
    _write(OUT / "zh_chars.tsv", [(c, given[c], text[c]) for c in chars if CJK.match(c)])
    _write(OUT / "zh_words.tsv", sorted(words.items(), key=lambda kv: (-kv[1], kv[0])))

    # English names: Faker's Latin-script locales and the lexicon's first names; flagged when
    # the lower-case form is an ordinary English word.
    lower_words = {
        w.strip() for w in dictionary.read_text(encoding="utf-8").splitlines() if w.islower()
    }
    first, last = set(L.FIRST_NAMES), set()
    us = set(L.FIRST_NAMES) | set(_names(_faker(sources, "en_US").first_names))
    for locale in FAKER_LOCALES:
        provider = _faker(sources, locale)
        first.update(n for n in _names(getattr(provider, "first_names", ())))
        last.update(n for n in _names(getattr(provider, "last_names", ())))
    # first names: name, also an English word, a common US first name (used in upper case)
    _write(
        OUT / "en_first.tsv",
        sorted(
            (n, int(n.lower() in lower_words), int(n in us)) for n in first if LATIN_NAME.match(n)
        ),
    )
    _write(
        OUT / "en_last.tsv",
        sorted((n, int(n.lower() in lower_words)) for n in last if LATIN_NAME.match(n)),
    )
    print(
        f"surnames {len(surnames)}, characters {len(chars)}, words {len(words)}, "
        f"first names {len(first)}, last names {len(last)}"
    )


def _write(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write("\t".join(str(v) for v in row) + "\n")


# ---- training --------------------------------------------------------------------------------


def labelled_records() -> list[dict]:
    from bench.privacy.corpus import build

    records = build()
    for name in TRAIN_SOURCES:
        with (PRIVACY / name).open(encoding="utf-8") as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def training_set() -> tuple[list[list[float]], list[int], list[str]]:
    """Candidates with labels: 1 when the candidate is exactly a labelled name, 0 when it
    touches no name (partial overlaps with a name are left out: neither answer is right)."""
    from pipeline.privacy import names

    X, y, groups = [], [], []
    for record in labelled_records():
        text = record["text"]
        if not re.search("[\u4e00-\u9fff]", text):
            continue
        spans = [(s["start"], s["end"]) for s in record["spans"] if s["kind"] == "name"]
        for start, end, vec in names.candidates(text):
            if (start, end) in spans:
                label = 1
            elif any(start < e and s < end for s, e in spans):
                continue
            else:
                label = 0
            X.append(vec)
            y.append(label)
            groups.append(record["id"])
    for i, text in enumerate(clinical_zh()):
        for _start, _end, vec in names.candidates(text):
            X.append(vec)
            y.append(0)
            groups.append(f"clinical-{i}")
    return X, y, groups


def train(precision_goal: float) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from pipeline.privacy import names

    model_file = OUT / "zh_name_model.json"
    if not model_file.exists():  # the features need the tables, not the weights
        model_file.write_text(json.dumps({"weights": [0.0] * len(names.FEATURES), "threshold": 0}))
    X, y, groups = training_set()
    X, y = np.array(X), np.array(y)
    print(f"{len(y)} candidates, {int(y.sum())} names")
    oof = np.zeros(len(y))
    for fit, held in GroupKFold(n_splits=5).split(X, y, groups):
        model = LogisticRegression(C=1.0, max_iter=2000).fit(X[fit], y[fit])
        oof[held] = model.decision_function(X[held])
    # The lowest threshold whose out-of-fold precision reaches the goal.
    order = np.argsort(-oof)
    tp = np.cumsum(y[order])
    precision = tp / np.arange(1, len(y) + 1)
    ok = np.flatnonzero(precision >= precision_goal)
    cut = ok.max() if len(ok) else 0
    threshold = float(oof[order][cut])
    recall = tp[cut] / y.sum()
    print(
        f"threshold {threshold:.3f}: out-of-fold precision {precision[cut]:.3f}, recall {recall:.3f}"
    )
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
    weights = [float(model.intercept_[0] + model.coef_[0][0])] + [
        float(w) for w in model.coef_[0][1:]
    ]
    out = {
        "features": list(names.FEATURES),
        "weights": [round(w, 4) for w in weights],
        "threshold": round(threshold, 4),
        "trained_on": {
            "candidates": int(len(y)),
            "names": int(y.sum()),
            "sources": ["bench/privacy/corpus.py", *TRAIN_SOURCES, "clinical_zh()"],
            "out_of_fold_precision": round(float(precision[cut]), 4),
            "out_of_fold_recall": round(float(recall), 4),
        },
    }
    (OUT / "zh_name_model.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    for f, w in zip(names.FEATURES, weights, strict=True):
        print(f"  {f:16s} {w:+.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tables")
    t.add_argument("--sources", type=Path, required=True)
    t.add_argument("--dict", type=Path, default=Path("/usr/share/dict/words"))
    r = sub.add_parser("train")
    r.add_argument("--precision", type=float, default=0.95)
    args = parser.parse_args(argv)
    if args.command == "tables":
        build_tables(args.sources, args.dict)
    else:
        train(args.precision)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
