"""Extract the alphabetic product index of the NEISS coding manual into reference data.

    pdftotext /path/to/neiss-coding-manual.pdf manual.txt      # poppler-utils, raw mode
    python scripts/extract_neiss_manual_index.py manual.txt \
        > pipeline/reference/data/neiss_manual_index.csv

The manual (CPSC, January 2016 edition; public US government document, kept in the shared
reference folder) lists everyday product words with the NEISS product code to use, e.g.
``Bomb, cherry or gopher / Use: Fireworks .... 1313`` or ``Firecrackers / Use: Fireworks ....
1313``. Each such entry becomes one row ``term, neiss_code, page``; entries whose code depends on
circumstances (``If ...``), ``Do not report`` and ``See:`` entries are left out, as are the
heads of ``Choose among:`` lists (their sub-items, each with its own code, are kept). The
product lexicon maps the codes to Sentinel categories through ``neiss_product_crosswalk.csv``.

Run once when the manual changes; the CSV is committed (nothing is extracted at run time).
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

_CODE = re.compile(r"^(.*?)\s*\.{2,}\s*(\d{4})\s*$")
_CODE_BARE = re.compile(r"^(.*?[a-z)])\s+(\d{4})\s*$")
SOURCE = "NEISS Coding Manual (CPSC, January 2016), alphabetic product index"


def _clean(term: str) -> str:
    term = re.sub(r"\s+", " ", term).strip(" .,;:")
    return term


def parse(text: str) -> list[tuple[str, str, int]]:
    pages = text.split("\f")
    rows: list[tuple[str, str, int]] = []
    started = False
    for page_no, page in enumerate(pages, start=1):
        lines = page.splitlines()
        if not started:
            if any(line.strip().startswith("Abrasive cleaners") for line in lines):
                started = True
            else:
                continue
        if any(line.startswith("Appendix A: NEISS Coding Sheet") for line in lines):
            break
        pending: list[str] = []
        subject: str | None = None
        title: list[str] = []
        skip = False
        for raw in lines + [""]:
            line = raw.strip()
            if not line or line.startswith("NEISS –") or line == "January 2016":
                pending, subject, title, skip = [], None, [], False
                continue
            if re.fullmatch(r"\d+|[A-Z]", line):
                continue
            if skip:
                continue
            if line.startswith("If ") or line.startswith("Also consider"):
                skip = True
                continue
            if line.startswith("Choose among"):
                pending, subject = [], None
                continue
            if line.startswith("See:") or "Do not report" in line or "See:" in line:
                pending, subject, title = [], None, []
                continue
            if line.startswith("Use:"):
                subject = _clean(" ".join(pending)) if pending else None
                pending, title = [], [line[4:].strip()]
            elif subject is not None:
                title.append(line)
            else:
                pending.append(line)
            joined = " ".join(title if subject is not None else pending)
            match = _CODE.match(joined) or _CODE_BARE.match(joined)
            if match:
                code = match.group(2)
                term = subject if subject is not None else _clean(match.group(1))
                if term and not term.lower().startswith(("use", "choose")):
                    rows.append((term, code, page_no))
                pending, subject, title = [], None, []
    return rows


def main(argv: list[str]) -> int:
    text = Path(argv[1]).read_text(encoding="utf-8")
    rows = sorted(set(parse(text)), key=lambda r: (r[0].lower(), r[1], r[2]))
    seen: set[tuple[str, str]] = set()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["term", "neiss_code", "page", "source"])
    for term, code, page in rows:
        if (term.lower(), code) in seen:
            continue
        seen.add((term.lower(), code))
        out.writerow([term, code, page, SOURCE])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
