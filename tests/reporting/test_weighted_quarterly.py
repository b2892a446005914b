"""NEISS survey weights end to end (issue 15 item 8): NEISS files from a production hospital go
through the real intake (Weight, Stratum, PSU kept in the warehouse) and product coding; the
quarterly summary's weighted national estimates equal R `survey` on the same cases read from
the warehouse with independent SQL."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import Settings
from pipeline.services import coding, intake, reporting
from pipeline.storage.warehouse import connect

from .reporting_r import require_r, run_r

pytestmark = pytest.mark.slow
SENDER = "SH001"  # a production hospital of the packaged registry
HEADERS = (
    "CPSC_Case_Number\tTreatment_Date\tAge\tSex\tRace\tOther_Race\tHispanic\tBody_Part\t"
    "Diagnosis\tOther_Diagnosis\tBody_Part_2\tDiagnosis_2\tOther_Diagnosis_2\tDisposition\t"
    "Location\tFire_Involvement\tAlcohol\tDrug\tProduct_1\tProduct_2\tProduct_3\tNarrative_1\t"
    "Stratum\tPSU\tWeight"
)
PRODUCTS = {  # NEISS product -> (share, narrative)
    "1333": (0.35, "{age}YOM FELL OFF SKATEBOARD AT PARK DX: WRIST FX"),
    "1807": (0.25, "{age}YOF SLIPPED AND FELL ON FLOOR AT HOME DX: HIP CONTUSION"),
    "1842": (0.2, "{age}YOF FELL DOWN STAIRS AT HOME DX: ANKLE SPRAIN"),
    "4076": (0.12, "{age}YOM ROLLED OFF BED ONTO FLOOR DX: HEAD CONTUSION"),
    "1233": (0.03, "{age}YOM JUMPING ON TRAMPOLINE LANDED WRONG DX: KNEE SPRAIN"),
}
STRATA = {
    "C": (4, 4.851),
    "L": (3, 56.2517),
    "M": (3, 78.1602),
    "S": (5, 73.8005),
    "V": (4, 15.9992),
}


def _neiss_file(rng: np.random.Generator, month: int, first: int) -> tuple[bytes, int]:
    lines = [HEADERS]
    n = first
    codes = list(PRODUCTS)
    shares = np.array([PRODUCTS[c][0] for c in codes])
    for stratum, (psus, weight) in STRATA.items():
        for psu in range(1, psus + 1):
            for _ in range(int(rng.integers(3, 12))):
                n += 1
                product = str(rng.choice(codes, p=shares / shares.sum()))
                age = int(rng.integers(5, 80))
                day = date(2026, month, int(rng.integers(1, 28)))
                lines.append(
                    "\t".join(
                        [
                            f"26{month:02d}{n:05d}",
                            f"{day.month:02d}/{day.day:02d}/{day.year}",
                            str(age),
                            str(int(rng.integers(1, 3))),
                            "1",
                            "",
                            "2",
                            "37",
                            "64",
                            "",
                            "",
                            "",
                            "",
                            "1",
                            "1",
                            "0",
                            "0",
                            "0",
                            product,
                            "0",
                            "0",
                            PRODUCTS[product][1].format(age=age),
                            stratum,
                            str(psu),
                            f"{weight * rng.uniform(0.98, 1.02):.4f}",
                        ]
                    )
                )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8"), n


@pytest.fixture(scope="module")
def weighted(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("weighted")
    settings = Settings.from_env(
        {
            "SENTINEL_HOME": str(root / "home"),
            "SENTINEL_LANDING": str(root / "landing"),
            "SENTINEL_PSEUDONYM_KEY": "weighted-test-pseudonym-key-0123456789",
        }
    )
    rng = np.random.default_rng(15)
    n = 0
    for month in (1, 2, 3):
        data, n = _neiss_file(rng, month, n)
        path = settings.landing_dir / SENDER / f"neiss_2026{month:02d}28.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        arrived = datetime(2026, month, 28, 12, tzinfo=UTC) + timedelta(days=3)
        os.utime(path, (arrived.timestamp(), arrived.timestamp()))
    intake.ingest(settings)
    coding.run(settings)
    return settings


def test_survey_design_is_kept_through_intake(weighted: Settings) -> None:
    con = connect(weighted.warehouse_path, read_only=True)
    try:
        statuses = con.execute("SELECT DISTINCT status FROM submissions").fetchall()
        missing = con.execute(
            "SELECT count(*) FROM cases WHERE survey_weight IS NULL OR survey_stratum IS NULL "
            "OR survey_psu IS NULL"
        ).fetchone()[0]
        strata = con.execute(
            "SELECT survey_stratum, count(DISTINCT survey_psu), min(survey_weight), "
            "max(survey_weight) FROM case_versions GROUP BY 1 ORDER BY 1"
        ).fetchall()
        weight_type = con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'cases' AND column_name = 'survey_weight'"
        ).fetchone()[0]
    finally:
        con.close()
    assert statuses == [("accepted",)] and missing == 0 and weight_type == "DOUBLE"
    assert [s[0] for s in strata] == list(STRATA)
    for stratum, psus, low, high in strata:
        assert psus == STRATA[stratum][0]
        assert STRATA[stratum][1] * 0.98 <= low <= high <= STRATA[stratum][1] * 1.02


def test_weighted_estimates_match_r_survey(weighted: Settings, tmp_path: Path) -> None:
    require_r("survey")
    paths = reporting.quarterly(weighted, "2026-Q1")
    data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["weighted"]
    con = connect(weighted.warehouse_path, read_only=True)
    try:
        cases = con.execute("""
            SELECT c.survey_stratum AS stratum, c.survey_psu AS psu, c.survey_weight AS weight,
                   CASE WHEN k.needs_review THEN '_pending' ELSE k.category_code END AS category,
                   CASE WHEN k.needs_review THEN '_pending' ELSE t.family_code END AS family
            FROM cases c
            JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
                 AND k.case_version = c.version
            LEFT JOIN ref_taxonomy t ON t.category_code = k.category_code
            WHERE c.status = 'active' AND c.survey_weight IS NOT NULL
              AND CAST(c.visit_datetime AS DATE) BETWEEN '2026-01-01' AND '2026-03-31'
        """).df()
    finally:
        con.close()
    assert data["cases"] == len(cases) > 100 and data["without_design"] == 0
    assert data["strata"] == 5 and data["psus"] == 19 and data["lonely_strata"] == []
    reference = run_r(
        """
suppressPackageStartupMessages(library(survey))
d <- read.csv("cases.csv", colClasses = c(psu = "character"))
d$one <- 1
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)
rows <- list(data.frame(dimension = "total", code = "all",
                        estimate = unname(coef(svytotal(~one, des))),
                        se = unname(SE(svytotal(~one, des)))))
for (dim in c("family", "category")) {
  by <- svyby(~one, as.formula(paste0("~", dim)), des, svytotal)
  rows[[dim]] <- data.frame(dimension = dim, code = by[[dim]], estimate = unname(coef(by)),
                            se = unname(SE(by)))
}
write.csv(format(do.call(rbind, rows), digits = 15), "out.csv", row.names = FALSE)
""",
        {"cases": cases},
        tmp_path,
    )
    ours = {(r["dimension"], r["code"]): r for r in data["rows"]}
    assert len(ours) == len(reference) >= 1 + 3 + 5
    for ref in reference.to_dict("records"):
        row = ours[(ref["dimension"].strip(), str(ref["code"]).strip())]
        estimate, se = float(ref["estimate"]), float(ref["se"])
        assert row["estimate"] == pytest.approx(estimate, rel=1e-6)
        assert row["se"] == pytest.approx(se, rel=1e-5)
        assert row["ci_low"] == pytest.approx(estimate - 1.959964 * se, rel=1e-5)
        cv = se / estimate
        assert row["cv"] == pytest.approx(cv, rel=1e-4)
        # NEISS's rule, from the reference figures
        unstable = row["cases"] < 20 or estimate < 1200 or cv > 0.33
        assert row["unstable"] == unstable
    assert any(r["unstable"] for r in data["rows"]) and not ours[("total", "all")]["unstable"]
    html = Path(paths["html"]).read_text(encoding="utf-8")
    assert "Weighted national estimates" in html and "unstable" in html
