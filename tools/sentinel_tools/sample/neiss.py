"""A small file in the public NEISS format (tab-separated), for the intake's NEISS adapter.

Codes are real NEISS codes (``sentinel_tools/data/neiss_format_codes.tsv``): product (PROD),
body part (BDYPT), diagnosis (DIAG), disposition (DISP), location (LOC), fire (FIRE), sex
(GENDER), race (RACE); ages under 2 years are coded 201-223 (months).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sentinel_tools.sample.writers import csv_bytes

NEISS_COLUMNS = (
    "CPSC_Case_Number",
    "Treatment_Date",
    "Age",
    "Sex",
    "Race",
    "Other_Race",
    "Hispanic",
    "Body_Part",
    "Diagnosis",
    "Other_Diagnosis",
    "Body_Part_2",
    "Diagnosis_2",
    "Other_Diagnosis_2",
    "Disposition",
    "Location",
    "Fire_Involvement",
    "Alcohol",
    "Drug",
    "Product_1",
    "Product_2",
    "Product_3",
    "Narrative_1",
    "Stratum",
    "PSU",
    "Weight",
)

BODY_EN = {
    "0": "",
    "33": "LOWER ARM",
    "34": "WRIST",
    "35": "KNEE",
    "37": "ANKLE",
    "75": "HEAD",
    "76": "FACE",
    "79": "LOWER TRUNK",
    "82": "HAND",
    "85": "",
    "92": "FINGER",
    "83": "FOOT",
}
DIAG_EN = {
    "41": ("INGESTION", "INGESTED"),
    "52": ("CONCUSSION", "CHI"),
    "53": ("CONTUSION", "CONT"),
    "54": ("CRUSH INJ",),
    "57": ("FX", "FRACTURE"),
    "59": ("LAC", "LACERATION"),
    "64": ("SPRAIN", "STRAIN"),
    "68": ("POISONING", "INGESTION"),
}

# product, second product, ages (lo, hi years; 0 = under 2), male share, (body, diag) options,
# location codes, event phrases
NEISS_SCENARIOS: tuple[
    tuple[
        str,
        str,
        tuple[int, int],
        float,
        tuple[tuple[str, str], ...],
        tuple[str, ...],
        tuple[str, ...],
    ],
    ...,
] = (
    (
        "1842",
        "0",
        (2, 90),
        0.45,
        (("37", "64"), ("75", "53"), ("79", "53"), ("37", "57")),
        ("1", "5"),
        ("FELL DOWN STAIRS", "MISSED A STEP AND FELL", "TRIPPED GOING UP STAIRS"),
    ),
    (
        "1807",
        "0",
        (60, 95),
        0.35,
        (("79", "57"), ("75", "53"), ("75", "59"), ("76", "53")),
        ("1",),
        ("SLIPPED AND FELL ON FLOOR", "FELL TO FLOOR AT HOME", "LOST BALANCE AND FELL ON FLOOR"),
    ),
    (
        "4076",
        "1807",
        (0, 4),
        0.5,
        (("75", "53"), ("75", "52"), ("76", "53")),
        ("1",),
        ("ROLLED OFF BED ONTO FLOOR", "FELL OFF BED", "JUMPING ON BED AND FELL"),
    ),
    (
        "1233",
        "0",
        (4, 14),
        0.55,
        (("34", "57"), ("37", "64"), ("33", "57"), ("35", "64")),
        ("1", "9"),
        (
            "FELL OFF TRAMPOLINE",
            "JUMPING ON TRAMPOLINE, COLLIDED WITH SIBLING",
            "LANDED WRONG ON TRAMPOLINE",
        ),
    ),
    (
        "5040",
        "0",
        (6, 60),
        0.7,
        (("33", "57"), ("76", "59"), ("34", "57"), ("35", "53")),
        ("4", "5"),
        ("FELL OFF BICYCLE", "RIDING BIKE, HIT POTHOLE AND FELL", "BIKE CRASH"),
    ),
    (
        "1205",
        "0",
        (12, 35),
        0.85,
        (("37", "64"), ("92", "57"), ("92", "64")),
        ("9", "8"),
        (
            "PLAYING BASKETBALL, TWISTED ANKLE",
            "JAMMED FINGER PLAYING BASKETBALL",
            "LANDED ON ANOTHER PLAYER'S FOOT",
        ),
    ),
    (
        "1267",
        "0",
        (8, 30),
        0.7,
        (("37", "64"), ("35", "64"), ("35", "53")),
        ("9",),
        ("PLAYING SOCCER, KICKED IN KNEE", "INJURED ANKLE PLAYING SOCCER"),
    ),
    (
        "464",
        "0",
        (18, 70),
        0.45,
        (("92", "59"), ("82", "59")),
        ("1",),
        ("CUT FINGER WITH KNIFE WHILE CUTTING FOOD", "LACERATED HAND WITH KITCHEN KNIFE"),
    ),
    (
        "4057",
        "0",
        (0, 5),
        0.6,
        (("76", "59"), ("75", "53")),
        ("1",),
        ("HIT FOREHEAD ON CORNER OF TABLE", "FELL AND STRUCK FACE ON COFFEE TABLE"),
    ),
    (
        "1893",
        "0",
        (1, 10),
        0.5,
        (("92", "59"), ("92", "54"), ("92", "57")),
        ("1",),
        ("FINGER CAUGHT IN DOOR", "SIBLING SHUT DOOR ON HAND"),
    ),
    (
        "679",
        "1807",
        (0, 4),
        0.5,
        (("75", "53"), ("76", "53")),
        ("1",),
        ("FELL OFF COUCH", "CLIMBING ON SOFA AND FELL"),
    ),
    (
        "4074",
        "0",
        (2, 80),
        0.5,
        (("75", "53"), ("79", "53"), ("34", "57")),
        ("1",),
        ("FELL OFF CHAIR", "STANDING ON CHAIR AND FELL", "CHAIR TIPPED BACKWARDS"),
    ),
    (
        "1929",
        "0",
        (1, 4),
        0.5,
        (("85", "68"),),
        ("1",),
        ("INGESTED GRANDMOTHER'S PILLS", "FOUND WITH OPEN BOTTLE OF MEDICATION"),
    ),
    (
        "1244",
        "0",
        (4, 11),
        0.5,
        (("33", "57"), ("34", "57")),
        ("8", "5"),
        ("FELL FROM MONKEY BARS AT SCHOOL", "FELL OFF MONKEY BARS AT PARK"),
    ),
    (
        "5042",
        "0",
        (10, 45),
        0.7,
        (("34", "57"), ("75", "52"), ("37", "64")),
        ("4",),
        ("FELL OFF ELECTRIC SCOOTER", "RIDING POWERED SCOOTER, HIT CURB"),
    ),
    ("1616", "0", (1, 5), 0.5, (("0", "41"),), ("1",), ("SWALLOWED EARRING", "SWALLOWED A RING")),
)


def neiss_age(rnd: random.Random, lo: int, hi: int) -> tuple[str, int, str]:
    """(coded age, age value, unit tag) – under two years coded 201-223."""
    if lo == 0 and rnd.random() < 0.5:
        months = rnd.randint(3, 23)
        return str(200 + months), months, "MO"
    years = rnd.randint(max(lo, 2), max(hi, 2))
    return str(years), years, "YO"


def neiss_file(
    rnd: random.Random, end: date, *, rows: int = 50, days: int = 7
) -> tuple[bytes, int]:
    out = []
    stratum, psu, weight = rnd.choice(
        (("M", "61", 68.3216), ("S", "22", 81.8912), ("L", "8", 15.9741))
    )
    for i in range(rows):
        prod, prod2, (lo, hi), male, body_diag, locs, events = rnd.choice(NEISS_SCENARIOS)
        day = end - timedelta(days=rnd.randrange(days))
        coded, value, tag = neiss_age(rnd, lo, hi)
        sex = "1" if rnd.random() < male else "2"
        body, diag = rnd.choice(body_diag)
        dispo = rnd.choices(("1", "4", "5", "2"), weights=(85, 8, 4, 3))[0]
        event = rnd.choice(events)
        part = BODY_EN[body]
        dx = rnd.choice(DIAG_EN[diag])
        dx_text = f"{dx} {part}".strip() if rnd.random() < 0.5 else f"{part} {dx}".strip()
        loc = rnd.choice(locs)
        at = {"1": " AT HOME", "8": " AT SCHOOL", "9": " AT GYM", "4": "", "5": " AT PARK"}.get(
            loc, ""
        )
        narrative = f"{value}{tag}{'M' if sex == '1' else 'F'} {event}{at}, DX {dx_text}"
        if dispo == "4" and rnd.random() < 0.7:
            narrative += ", ADMITTED"
        out.append(
            [
                f"{day:%y%m%d}{i + 1:03d}",
                f"{day:%m/%d/%Y}",
                coded,
                sex,
                rnd.choices(("0", "1", "2", "3", "4"), weights=(30, 35, 15, 5, 15))[0],
                "",
                rnd.choice(("0", "1", "2", "2")),
                body,
                diag,
                "",
                "",
                "",
                "",
                dispo,
                loc,
                "0",
                "1" if rnd.random() < 0.03 else "0",
                "0",
                prod,
                prod2,
                "0",
                narrative,
                stratum,
                psu,
                f"{weight:.4f}",
            ]
        )
    out.sort(key=lambda r: (r[1][6:] + r[1][:5], r[0]))
    return csv_bytes(NEISS_COLUMNS, out, encoding="utf-8", newline="\n", delimiter="\t"), len(out)
