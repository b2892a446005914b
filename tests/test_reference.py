"""Tests for the versioned reference data in pipeline/reference/data."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from sentinel_tools.neiss_crosswalk import DEFAULT_TSV as NEISS_FORMAT_CODES

from pipeline import reference as ref

# The copy shipped with the tools (public-domain US CPSC data, tools/sentinel_tools/data/).
NEISS_TSV = NEISS_FORMAT_CODES

EXPECTED_CODESETS: dict[str, tuple[str, ...]] = {
    name: tuple(codes.split())
    for name, codes in {
        "report_type": "new correction void",
        "sex": "male female unknown",
        "age_unit": "years months days",
        "cause": "traffic fall blunt_force cut_pierce burn_scald drowning suffocation_choking"
        " poisoning electric_shock animal crush explosion other unknown",
        "place": "home school road sports_area public_place workplace farm other unknown",
        "activity": "work housework study sport leisure vital_activity travel walking other"
        " unknown",
        "intent": "unintentional self_harm assault unknown",
        "injury_nature": "fracture sprain cut bruise burn concussion organ_injury poisoning"
        " foreign_body other",
        "body_region": "head face neck trunk upper_limb lower_limb multiple whole_body other",
        "severity": "mild moderate severe",
        "outcome": "treated_released observed transferred admitted died other",
        "product_relation": "misuse quality_related normal_use_accident uncertain other",
    }.items()
}

# Priority products named in the brief -> categories that must exist with priority=1.
PRIORITY_PRODUCTS: dict[str, tuple[str, ...]] = {
    "air purifiers": ("HA03",),
    "rice cookers": ("HA01",),
    "smart toilet seats": ("HA04",),
    "smartphones": ("EL01",),
    "children's diapers": ("CP01",),
    "children's toys": ("TY01", "TY04", "TY11"),
    "infant and children's clothing": ("TX01",),
    "kitchenware": ("KW01",),
    "bedding": ("TX02",),
    "furniture": ("FU01", "FU04", "FU09", "FU11"),
    "building materials": ("BM01", "BM03", "BM04", "BM11"),
    "cars and car parts": ("VE01", "VE02"),
    "motor fuel": ("FL01",),
    "children's products": ("CP03", "CP04", "CP11"),
    "e-bikes": ("VE03",),
    "water heaters": ("HA05", "FL04"),
    "baby walkers": ("CP02",),
}

TAXONOMY_COLUMNS = (
    "category_code",
    "family_code",
    "family_en",
    "family_zh",
    "name_en",
    "name_zh",
    "priority",
    "valid_from",
    "valid_to",
    "description_en",
)

DATA_FILES = (
    "product_taxonomy.csv",
    "codesets.csv",
    "hospitals.csv",
    "neiss_product_crosswalk.csv",
    "neiss_codeset_crosswalk.csv",
)


def _neiss_rows(fmt: str) -> list[tuple[int, int, str]]:
    assert NEISS_TSV.exists(), f"the NEISS code file ships with the tools: {NEISS_TSV}"
    with NEISS_TSV.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        return [(int(r[1]), int(r[2]), r[3]) for r in reader if r and r[0] == fmt]


# --- files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATA_FILES)
def test_data_files_are_utf8_lf(name: str) -> None:
    raw = (ref.DATA_DIR / name).read_bytes()
    raw.decode("utf-8")
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    assert not raw.startswith(b"\xef\xbb\xbf")


def test_loaders_return_copies() -> None:
    df = ref.load_taxonomy()
    df.loc[0, "name_en"] = "mutated"
    assert ref.load_taxonomy().loc[0, "name_en"] != "mutated"


# --- taxonomy ------------------------------------------------------------------------------


def test_taxonomy_codes_unique_and_well_formed() -> None:
    tax = ref.load_taxonomy()
    assert tax["category_code"].is_unique
    assert tax["category_code"].str.fullmatch(r"[A-Z]{2}[0-9]{2}").all()
    assert (tax["category_code"].str[:2] == tax["family_code"]).all()
    assert tuple(tax.columns) == TAXONOMY_COLUMNS
    assert set(tax["priority"]) <= {0, 1}


def test_taxonomy_families_consistent() -> None:
    tax = ref.load_taxonomy()
    fam = tax.groupby("family_code")[["family_en", "family_zh"]].nunique()
    assert (fam == 1).all().all(), "each family has exactly one English and one Chinese name"
    assert 12 <= len(fam) <= 20


def test_taxonomy_names_non_empty_and_chinese() -> None:
    tax = ref.load_taxonomy()
    for col in ("family_en", "family_zh", "name_en", "name_zh", "description_en"):
        assert (tax[col].str.strip() != "").all(), col
    assert tax["name_zh"].map(lambda s: re.search(r"[\u4e00-\u9fff]", s) is not None).all()
    assert tax["name_en"].is_unique
    assert tax["name_zh"].is_unique


def test_active_category_count() -> None:
    active = ref.active_categories(dt.date(2025, 6, 1))
    assert 80 <= len(active) <= 200
    assert 100 <= len(ref.load_taxonomy()) <= 160


def test_retired_codes_exercise_time_validity() -> None:
    tax = ref.load_taxonomy()
    retired = tax[tax["valid_to"].notna()]
    assert 1 <= len(retired) <= 3
    for row in retired.itertuples():
        assert row.priority == 0
        before = set(ref.active_categories(row.valid_to)["category_code"])
        after = set(ref.active_categories(row.valid_to + dt.timedelta(days=1))["category_code"])
        assert row.category_code in before
        assert row.category_code not in after
        replacements = re.findall(r"\b[A-Z]{2}[0-9]{2}\b", row.description_en)
        assert replacements, "a retired code names its replacements"
        assert set(replacements) <= after


def test_active_categories_respects_valid_from() -> None:
    assert ref.active_categories(dt.date(1999, 12, 31)).empty


def test_priority_products_present() -> None:
    tax = ref.load_taxonomy().set_index("category_code")
    for product, cats in PRIORITY_PRODUCTS.items():
        for cat in cats:
            assert cat in tax.index, (product, cat)
            assert tax.loc[cat, "priority"] == 1, (product, cat)
            assert tax.loc[cat, "valid_to"] is None, (product, cat)


# --- code sets -----------------------------------------------------------------------------


def test_codesets_exact_codes_in_order() -> None:
    cs = ref.load_codesets()
    assert set(cs["codeset"]) == set(EXPECTED_CODESETS)
    for name, expected in EXPECTED_CODESETS.items():
        assert ref.codes(name) == expected, name
        sub = cs[cs["codeset"] == name]
        assert list(sub["sort_order"]) == list(range(1, len(expected) + 1)), name


def test_codeset_labels_unique_and_non_empty() -> None:
    cs = ref.load_codesets()
    assert (cs["label_en"].str.strip() != "").all()
    assert (cs["label_zh"].str.strip() != "").all()
    for name, sub in cs.groupby("codeset"):
        assert sub["label_en"].str.lower().is_unique, name
        assert sub["label_zh"].is_unique, name


def test_cause_has_iceci_note() -> None:
    cs = ref.load_codesets()
    assert (cs.loc[cs["codeset"] == "cause", "iceci_note"] != "").all()


@pytest.mark.parametrize("name", sorted(EXPECTED_CODESETS))
def test_label_to_code_round_trip(name: str) -> None:
    mapping = ref.label_to_code(name)
    cs = ref.load_codesets()
    for row in cs[cs["codeset"] == name].itertuples():
        assert mapping[row.code] == row.code
        assert mapping[row.label_en.lower()] == row.code
        assert mapping[row.label_zh] == row.code


def test_label_to_code_examples() -> None:
    assert ref.label_to_code("sex")["男"] == "male"
    assert ref.label_to_code("cause")["跌倒/坠落"] == "fall"
    assert ref.label_to_code("product_relation")["产品质量相关"] == "quality_related"
    assert ref.label_to_code("outcome")["treated and released"] == "treated_released"


def test_unknown_codeset_raises() -> None:
    with pytest.raises(KeyError):
        ref.codes("no_such_codeset")


# --- hospitals -----------------------------------------------------------------------------


def test_hospitals_well_formed() -> None:
    hosp = ref.load_hospitals()
    assert hosp["hospital_code"].is_unique
    assert hosp["hospital_code"].str.fullmatch(r"[A-Z]{2}[0-9]{3}").all()
    assert hosp["region_code"].str.fullmatch(r"[1-8][0-9]{5}").all()
    assert set(hosp["hospital_type"]) <= set(ref.HOSPITAL_TYPES)
    assert (hosp["name_zh"] != "").all() and (hosp["name_en"] != "").all()
    for row in hosp.itertuples():
        assert row.active_to is None or row.active_from <= row.active_to


def test_hospital_network_shape() -> None:
    hosp = ref.load_hospitals()
    prod = hosp[~hosp["is_test"]]
    test = hosp[hosp["is_test"]]
    assert len(prod) == 24
    assert len(test) == 2
    assert test["name_en"].str.contains("Test").all()
    assert test["name_zh"].str.contains("测试").all()
    assert prod["city_en"].nunique() >= 6
    counts = prod["hospital_type"].value_counts()
    assert counts["children"] >= 4 and counts["general_tertiary"] >= 10
    assert counts["community"] >= 5
    ranges = {"children": (25, 45), "general_tertiary": (15, 35), "community": (4, 10)}
    for row in prod.itertuples():
        lo, hi = ranges[row.hospital_type]
        assert lo <= row.daily_volume <= hi, row.hospital_code


def test_first_eight_hospitals_form_sample_network() -> None:
    prod = ref.load_hospitals()
    first8 = prod[~prod["is_test"]].head(8)
    assert first8["hospital_type"].value_counts().to_dict() == {
        "general_tertiary": 4,
        "children": 2,
        "community": 2,
    }
    assert first8["city_en"].nunique() >= 4
    assert (first8["active_from"] == dt.date(2020, 1, 1)).all()
    assert first8["active_to"].isna().all()


def test_active_hospitals_by_date() -> None:
    hosp = ref.load_hospitals()
    late = hosp[hosp["active_from"] > dt.date(2020, 1, 1)]
    left = hosp[hosp["active_to"].notna()]
    assert len(late) >= 1 and len(left) >= 1
    early = set(ref.active_hospitals(dt.date(2021, 1, 1))["hospital_code"])
    assert not early & set(late["hospital_code"])
    assert set(left["hospital_code"]) <= early
    after = set(ref.active_hospitals(dt.date(2026, 1, 1))["hospital_code"])
    assert not after & set(left["hospital_code"])
    assert set(late["hospital_code"]) <= after
    assert not after & set(hosp.loc[hosp["is_test"], "hospital_code"])


def test_load_hospitals_path_override(tmp_path: Path) -> None:
    src = (ref.DATA_DIR / "hospitals.csv").read_text(encoding="utf-8").splitlines()
    custom = tmp_path / "hospitals.csv"
    custom.write_text("\n".join(src[:3]) + "\n", encoding="utf-8")
    df = ref.load_hospitals(custom)
    assert len(df) == 2
    assert len(ref.load_hospitals()) > 2


# --- NEISS crosswalks ----------------------------------------------------------------------


def test_neiss_product_crosswalk_covers_every_code_once() -> None:
    rows = _neiss_rows("PROD")
    assert all(lo == hi for lo, hi, _ in rows), "PROD rows are single codes"
    xw = ref.load_neiss_product_crosswalk()
    assert xw["neiss_code"].is_unique
    assert sorted(xw["neiss_code"]) == sorted(lo for lo, _, _ in rows)


def test_neiss_product_crosswalk_targets() -> None:
    xw = ref.load_neiss_product_crosswalk()
    active = set(ref.active_categories(dt.date.today())["category_code"])
    assert set(xw["status"]) == {"mapped", "unmapped"}
    mapped = xw[xw["status"] == "mapped"]
    unmapped = xw[xw["status"] == "unmapped"]
    assert mapped["category_code"].isin(active).all()
    assert (mapped["reason"] == "").all()
    assert (unmapped["category_code"] == "").all()
    assert (unmapped["reason"].str.strip() != "").all()
    assert len(mapped) > len(xw) / 2


@pytest.mark.parametrize(
    ("neiss_code", "category"),
    [
        (307, "HA03"),  # air purifiers
        (1233, "SP01"),  # trampolines
        (1508, "CP02"),  # baby walkers
        (1512, "CP01"),  # diapers
        (550, "EL01"),  # telephones
        (1901, "VE01"),  # motor vehicles
        (910, "FL01"),  # gasoline
        (3215, "VE03"),  # mopeds or power-assisted cycles
        (1842, "BM04"),  # stairs
        (4002, "TX02"),  # bedding
    ],
)
def test_neiss_product_examples(neiss_code: int, category: str) -> None:
    xw = ref.load_neiss_product_crosswalk().set_index("neiss_code")
    assert xw.loc[neiss_code, "category_code"] == category


FORMAT_TO_CODESET = {
    "BDYPT": "body_region",
    "DIAG": "injury_nature",
    "DISP": "outcome",
    "LOC": "place",
    "GENDER": "sex",
    "AGELTTWO": "age_unit",
}


@pytest.mark.parametrize("fmt", sorted(FORMAT_TO_CODESET))
def test_neiss_codeset_crosswalk_complete(fmt: str) -> None:
    expected = {code for lo, hi, _ in _neiss_rows(fmt) for code in range(lo, hi + 1)}
    xw = ref.load_neiss_codeset_crosswalk()
    sub = xw[xw["neiss_format"] == fmt]
    assert sub["neiss_code"].is_unique
    assert set(sub["neiss_code"]) == expected
    assert (sub["codeset"] == FORMAT_TO_CODESET[fmt]).all()
    mapped = sub.loc[sub["code"] != "", "code"]
    assert set(mapped) <= set(ref.codes(FORMAT_TO_CODESET[fmt]))


def test_neiss_age_semantics() -> None:
    xw = ref.load_neiss_codeset_crosswalk()
    age = xw[xw["neiss_format"] == "AGELTTWO"].set_index("neiss_code")["code"]
    assert age[0] == ""
    assert age[2] == "years" and age[120] == "years"
    assert age[201] == "months" and age[223] == "months"


@pytest.mark.parametrize("name", sorted(EXPECTED_CODESETS))
def test_label_keys_unambiguous(name: str) -> None:
    cs = ref.load_codesets()
    seen: dict[str, str] = {}
    for row in cs[cs["codeset"] == name].itertuples():
        for key in (row.code, row.label_en.strip().lower(), row.label_zh.strip()):
            assert seen.setdefault(key, row.code) == row.code, (name, key)
