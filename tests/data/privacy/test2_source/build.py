#!/usr/bin/env python3
"""Assemble independent_test2.jsonl from the hand-written source files in src/.

This script does NOT generate any text. Every record was typed by hand in
src/*.txt, one record per line:

    lang|field|style|text with [[k:identifier]] markers

where k is one of n (name), p (phone), a (address), e (email), w (im_id),
i (id_number). The script only strips the markers, computes Python string
offsets of the identifier values, validates text[start:end] == value, checks
for overlaps, counts, and writes the JSONL file. `--lint` additionally lists
unlabelled digit runs / @-signs etc. so the author can re-read them by hand.
"""
import collections
import glob
import json
import re
import sys

KINDS = {"n": "name", "p": "phone", "a": "address", "e": "email",
         "w": "im_id", "i": "id_number"}
LANGS = {"zh", "en", "mixed"}
FIELDS = {"narrative", "product_name", "brand", "model", "batch",
          "followup_note", "triage_reason"}
PROV = "written-independently-2026-12"
MARK = re.compile(r"\[\[([a-z]):(.*?)\]\]")


def parse_line(line, where):
    parts = line.split("|", 3)
    if len(parts) != 4:
        raise SystemExit(f"{where}: expected lang|field|style|text")
    lang, field, style = (p.strip() for p in parts[:3])
    marked = parts[3].rstrip("\n").strip()
    if lang not in LANGS:
        raise SystemExit(f"{where}: bad lang {lang!r}")
    if field not in FIELDS:
        raise SystemExit(f"{where}: bad field {field!r}")
    text = []
    spans = []
    pos = 0
    out_len = 0
    for m in MARK.finditer(marked):
        before = marked[pos:m.start()]
        text.append(before)
        out_len += len(before)
        k, value = m.group(1), m.group(2)
        if k not in KINDS:
            raise SystemExit(f"{where}: bad kind code {k!r}")
        if not value or value != value.strip():
            raise SystemExit(f"{where}: empty/whitespace-padded value {value!r}")
        if "[[" in value:
            raise SystemExit(f"{where}: nested marker")
        spans.append({"start": out_len, "end": out_len + len(value),
                      "kind": KINDS[k], "value": value})
        text.append(value)
        out_len += len(value)
        pos = m.end()
    text.append(marked[pos:])
    text = "".join(text)
    if "[[" in text or "]]" in text:
        raise SystemExit(f"{where}: unbalanced marker")
    for s in spans:
        assert text[s["start"]:s["end"]] == s["value"], where
    for a, b in zip(spans, spans[1:]):
        if b["start"] < a["end"]:
            raise SystemExit(f"{where}: overlapping spans")
    return {"lang": lang, "field": field, "style": style, "text": text,
            "spans": spans, "provenance": PROV}


def load():
    recs = []
    for path in sorted(glob.glob("src/*.txt")):
        with open(path, encoding="utf-8") as fh:
            for no, line in enumerate(fh, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                recs.append(parse_line(line, f"{path}:{no}"))
    return recs


LINT = [
    re.compile(r"[0-9０-９][0-9０-９ \-.]{5,}[0-9０-９xX]"),
    re.compile(r"[@＠]|\bat\b.*\bdot\b"),
    re.compile(r"(?i)wx|vx|微信|qq|扣扣"),
]


def lint(recs):
    for r in recs:
        covered = set()
        for s in r["spans"]:
            covered.update(range(s["start"], s["end"]))
        hits = []
        for rx in LINT:
            for m in rx.finditer(r["text"]):
                if not covered.intersection(range(m.start(), m.end())):
                    hits.append(m.group(0))
        if hits:
            print(r["id"], r["lang"], hits, "||", r["text"][:160])


def main():
    recs = load()
    seen = set()
    for i, r in enumerate(recs, 1):
        r["id"] = f"P{i:04d}"
        if r["text"] in seen:
            raise SystemExit(f"duplicate text {r['id']}")
        seen.add(r["text"])
    order = ["id", "lang", "field", "style", "text", "spans", "provenance"]
    with open("independent_test2.jsonl", "w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps({k: r[k] for k in order}, ensure_ascii=False) + "\n")
    kinds = collections.Counter()
    kind_lang = collections.Counter()
    langs = collections.Counter(r["lang"] for r in recs)
    fields = collections.Counter(r["field"] for r in recs)
    for r in recs:
        for s in r["spans"]:
            kinds[s["kind"]] += 1
            kind_lang[(s["kind"], r["lang"])] += 1
    n = len(recs)
    print(f"records {n}; spans {sum(kinds.values())}; "
          f"identifier-free {sum(1 for r in recs if not r['spans'])}")
    print("langs", {k: f"{v} ({100*v/n:.0f}%)" for k, v in langs.items()})
    print("fields", dict(fields))
    for k in KINDS.values():
        print(f"  {k:10s} {kinds[k]:4d}  zh {kind_lang[(k,'zh')]:3d}  "
              f"en {kind_lang[(k,'en')]:3d}  mixed {kind_lang[(k,'mixed')]:3d}")
    if "--lint" in sys.argv:
        lint(recs)


if __name__ == "__main__":
    main()
