"""Narrative builders: Chinese clerk prose and NEISS-style clerk English.

A narrative is assembled from an opener (who), a time and place phrase, the scenario's event
phrase, an injury phrase derived from injury nature x body region (with side, anatomical part,
bone, burn degree ...), a diagnosis and a disposition, combined by one of many templates, then
lightly corrupted with clerk habits: abbreviations, mixed punctuation and the occasional typo.
Everything is driven by the ``random.Random`` passed in, so output is reproducible.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# (zh part, en part, zh bone, en bone, weight)
PARTS: dict[str, tuple[tuple[str, str, str, str, float], ...]] = {
    "upper_limb": (
        ("手指", "FINGER", "指骨", "FINGER", 4),
        ("拇指", "THUMB", "拇指近节指骨", "THUMB", 1.5),
        ("食指", "INDEX FINGER", "食指中节指骨", "INDEX FINGER", 1.5),
        ("中指", "MIDDLE FINGER", "中指指骨", "MIDDLE FINGER", 1),
        ("手掌", "PALM", "掌骨", "METACARPAL", 1.5),
        ("手背", "HAND", "第五掌骨", "5TH METACARPAL", 1.5),
        ("手", "HAND", "掌骨", "METACARPAL", 2),
        ("腕部", "WRIST", "桡骨远端", "DISTAL RADIUS", 3),
        ("前臂", "FOREARM", "尺桡骨", "RADIUS/ULNA", 3),
        ("肘部", "ELBOW", "肱骨髁上", "SUPRACONDYLAR HUMERUS", 1.5),
        ("上臂", "UPPER ARM", "肱骨干", "HUMERUS", 1.2),
        ("肩部", "SHOULDER", "锁骨", "CLAVICLE", 1.5),
    ),
    "lower_limb": (
        ("足部", "FOOT", "跖骨", "METATARSAL", 2),
        ("脚趾", "TOE", "趾骨", "TOE", 1.2),
        ("踝部", "ANKLE", "外踝", "ANKLE", 3.5),
        ("小腿", "LOWER LEG", "胫腓骨", "TIBIA/FIBULA", 2.5),
        ("膝部", "KNEE", "髌骨", "PATELLA", 2.5),
        ("大腿", "UPPER LEG", "股骨干", "FEMUR", 1),
        ("足底", "SOLE OF FOOT", "跟骨", "CALCANEUS", 1),
        ("髋部", "HIP", "股骨颈", "HIP", 1),
    ),
    "head": (
        ("头部", "HEAD", "颅骨", "SKULL", 4),
        ("头皮", "SCALP", "颅骨", "SKULL", 2),
        ("枕部", "BACK OF HEAD", "枕骨", "OCCIPITAL BONE", 1.5),
        ("额顶部", "TOP OF HEAD", "顶骨", "PARIETAL BONE", 1),
    ),
    "face": (
        ("额部", "FOREHEAD", "额骨", "FRONTAL BONE", 4),
        ("眉弓", "EYEBROW", "眶骨", "ORBIT", 2),
        ("下颌", "CHIN", "下颌骨", "MANDIBLE", 2.5),
        ("口唇", "LIP", "牙槽骨", "ALVEOLAR RIDGE", 2),
        ("鼻部", "NOSE", "鼻骨", "NASAL BONE", 1.5),
        ("面部", "FACE", "颧骨", "ZYGOMA", 2.5),
        ("眼部", "EYE", "眼眶", "ORBIT", 1),
        ("面颊", "CHEEK", "颧骨", "CHEEKBONE", 1),
        ("口腔", "MOUTH", "牙齿", "TOOTH", 1),
        ("耳部", "EAR", "颞骨", "TEMPORAL BONE", 0.4),
    ),
    "neck": (
        ("颈部", "NECK", "颈椎", "CERVICAL SPINE", 3),
        ("咽部", "THROAT", "颈椎", "C-SPINE", 1),
    ),
    "trunk": (
        ("胸部", "CHEST", "肋骨", "RIB", 3),
        ("腹部", "ABDOMEN", "骨盆", "PELVIS", 2),
        ("背部", "BACK", "胸椎", "THORACIC SPINE", 1.5),
        ("腰部", "LOWER BACK", "腰椎", "LUMBAR SPINE", 2),
        ("臀部", "BUTTOCK", "尾骨", "COCCYX", 1.5),
        ("锁骨区", "CLAVICLE", "锁骨", "CLAVICLE", 1),
    ),
    "multiple": (
        ("全身多处", "MULTIPLE SITES", "多发", "MULTIPLE", 3),
        ("头面部及四肢", "HEAD, FACE AND LIMBS", "多发", "MULTIPLE", 1),
        ("四肢多处", "MULTIPLE EXTREMITIES", "多发", "MULTIPLE", 1.5),
        ("双上肢", "BOTH ARMS", "多发", "MULTIPLE", 1),
    ),
    "whole_body": (("全身", "WHOLE BODY", "多发", "MULTIPLE", 1),),
    "other": (("身体", "BODY", "多发", "MULTIPLE", 1),),
}
LIMBS = ("upper_limb", "lower_limb")
FINGERS = frozenset({"手指", "拇指", "食指", "中指"})
HAND = FINGERS | {"手掌", "手背", "手"}
FOOT = frozenset({"足部", "脚趾", "足底"})
HEAD = frozenset({"头部", "头皮", "枕部", "额顶部"})
# words in an event phrase that pin down the anatomical part (checked in order)
PART_WORDS_ZH: tuple[tuple[str, frozenset[str]], ...] = (
    ("手指", FINGERS),
    ("手掌", frozenset({"手掌"})),
    ("腕", frozenset({"腕部"})),
    ("手", HAND),
    ("前臂", frozenset({"前臂"})),
    ("手臂", frozenset({"前臂", "上臂"})),
    ("脚底", frozenset({"足底"})),
    ("足底", frozenset({"足底"})),
    ("崴脚", frozenset({"踝部"})),
    ("踝", frozenset({"踝部"})),
    ("脚", FOOT),
    ("足", FOOT),
    ("小腿", frozenset({"小腿"})),
    ("大腿", frozenset({"大腿"})),
    ("下肢", frozenset({"小腿", "大腿"})),
    ("膝", frozenset({"膝部"})),
    ("额头", frozenset({"额部"})),
    ("眼", frozenset({"眼部", "眉弓"})),
    ("面部", frozenset({"面部", "面颊", "额部", "下颌"})),
    ("脸", frozenset({"面部", "面颊"})),
    ("口腔", frozenset({"口腔", "口唇"})),
    ("口", frozenset({"口腔", "口唇"})),
    ("耳", frozenset({"耳部"})),
    ("鼻", frozenset({"鼻部"})),
    ("颈", frozenset({"颈部"})),
    ("咽", frozenset({"咽部"})),
    ("臀", frozenset({"臀部"})),
    ("腹", frozenset({"腹部"})),
    ("胸", frozenset({"胸部"})),
    ("头", HEAD),
)
PART_WORDS_EN: tuple[tuple[str, frozenset[str]], ...] = (
    ("FINGERS?", FINGERS),
    ("THUMB", frozenset({"拇指"})),
    ("PALM", frozenset({"手掌"})),
    ("HANDS?", HAND),
    ("WRIST", frozenset({"腕部"})),
    ("ARM", frozenset({"前臂", "上臂"})),
    ("FOOT|FEET", FOOT),
    ("TOES?", frozenset({"脚趾"})),
    ("ANKLE", frozenset({"踝部"})),
    ("KNEE", frozenset({"膝部"})),
    ("LEG", frozenset({"小腿", "大腿"})),
    ("LAP", frozenset({"大腿"})),
    ("FOREHEAD", frozenset({"额部"})),
    ("EYE", frozenset({"眼部", "眉弓"})),
    ("FACE", frozenset({"面部", "面颊", "额部", "下颌"})),
    ("MOUTH|PALATE", frozenset({"口腔", "口唇"})),
    ("EAR", frozenset({"耳部"})),
    ("NOSE", frozenset({"鼻部"})),
    ("NECK", frozenset({"颈部"})),
    ("THROAT", frozenset({"咽部"})),
    ("CHEST", frozenset({"胸部"})),
    ("HEAD", HEAD),
)
_EN_WORD = {w: re.compile(rf"\b(?:{w})\b") for w, _ in PART_WORDS_EN}

PLACES_ZH = {
    "home": ("在家中", "在家", "于家中", "在自家", "在家里", "家中", "在自己家"),
    "school": ("在学校", "在校", "课间在教室", "在学校操场", "在校内"),
    "road": ("在路上", "在马路上", "在路口", "于道路上", "在小区门口路上"),
    "sports_area": ("在体育馆", "在球场", "在运动场", "在健身房", "在操场"),
    "public_place": ("在商场", "在小区", "在公园", "在超市", "在餐厅", "在游乐场", "在小区广场"),
    "workplace": ("在工地", "在单位", "工作时", "在厂里", "上班时在公司"),
    "farm": ("在田间", "在地里干活时", "在农田"),
    "other": ("", "在外面"),
    "unknown": ("",),
}
KINDER_ZH = ("在幼儿园", "在托班")
PLACES_EN = {
    "home": ("AT HOME", "@ HOME", "AT HOME", "IN HOME", "AT HM"),
    "school": ("AT SCHOOL", "@ SCHOOL", "AT SCHOOL DURING RECESS"),
    "road": ("ON STREET", "ON ROAD", "ON THE ROAD"),
    "sports_area": ("AT GYM", "AT SPORTS FIELD", "AT BASKETBALL COURT"),
    "public_place": ("AT PARK", "AT MALL", "AT STORE", "IN PUBLIC PLACE", "AT RESTAURANT"),
    "workplace": ("AT WORK", "@ WORK", "AT WORKSITE"),
    "farm": ("ON FARM",),
    "other": ("",),
    "unknown": ("",),
}

BURN_WORD = {
    "scald": ("烫伤", "烫伤", "热液烫伤"),
    "flame": ("烧伤", "火焰烧伤", "烧伤"),
    "contact": ("烫伤", "接触性烫伤", "低温烫伤"),
    "chem": ("化学灼伤", "灼伤"),
    "elec": ("电烧伤", "电灼伤"),
}
BURN_EN = {
    "scald": ("SCALD BURN", "SCALD", "BURN"),
    "flame": ("THERMAL BURN", "BURN", "FLAME BURN"),
    "contact": ("BURN", "CONTACT BURN", "THERMAL BURN"),
    "chem": ("CHEMICAL BURN",),
    "elec": ("ELECTRICAL BURN", "ELECTRIC BURN"),
}
BURN_DEGREE = {
    "mild": ("I度", "浅II度", "浅Ⅱ度"),
    "moderate": ("浅II度", "深II度", "Ⅱ°", "II度"),
    "severe": ("深II度", "III度", "深Ⅱ-Ⅲ度"),
}
BURN_DEGREE_EN = {
    "mild": ("1ST", "1ST DEGREE", "SUPERFICIAL"),
    "moderate": ("2ND", "2ND DEGREE", "PARTIAL THICKNESS"),
    "severe": ("2ND-3RD", "3RD DEGREE", "FULL THICKNESS"),
}

ORGAN_ZH = ("脾破裂", "肝挫裂伤", "肺挫伤", "肾挫伤", "腹部闭合性损伤", "脾挫伤")
ORGAN_EN = ("SPLEEN LAC", "LIVER LAC", "PULMONARY CONTUSION", "INTERNAL INJURY", "BLUNT ABD TRAUMA")
CONC_ZH = {
    "mild": ("脑震荡", "轻型颅脑损伤", "头部外伤"),
    "moderate": ("脑震荡", "轻型颅脑损伤", "颅脑损伤"),
    "severe": ("中型颅脑损伤", "硬膜下血肿", "颅内出血"),
}
CONC_EN = {
    "mild": ("CHI", "CONCUSSION", "HEAD INJURY", "CLOSED HEAD INJURY"),
    "moderate": ("CONCUSSION", "CHI W/ LOC", "CLOSED HEAD INJURY"),
    "severe": ("SUBDURAL HEMATOMA", "INTRACRANIAL BLEED", "SKULL FX W/ ICH"),
}
FB_ZH = {
    "trunk": ("消化道异物", "胃内异物", "肠道异物", "消化道异物"),
    "neck": ("食管异物", "咽部异物", "气道异物"),
    "face": ("鼻腔异物", "外耳道异物", "眼内异物"),
    "upper_limb": ("手部软组织异物",),
    "lower_limb": ("足部软组织异物",),
}
FB_EN = {
    "trunk": ("FB INGESTION", "FB IN STOMACH", "SWALLOWED FB", "INGESTED FB"),
    "neck": ("FB ESOPHAGUS", "FB THROAT", "AIRWAY FB"),
    "face": ("FB NOSE", "FB EAR", "FB IN EYE"),
    "upper_limb": ("FB HAND",),
    "lower_limb": ("FB FOOT",),
}

DISPO_ZH = {
    "treated_released": (
        "处理后离院",
        "门诊处理后回家",
        "对症处理后离院",
        "处理后回家观察",
        "予以处理后离院",
    ),
    "observed": ("急诊留观", "留观治疗", "留院观察", "留观"),
    "transferred": ("转上级医院", "转院治疗", "转外院进一步治疗", "建议转院"),
    "admitted": ("收住院", "收入院治疗", "住院治疗", "收入{dept}"),
    "died": ("抢救无效死亡", "经抢救无效死亡"),
    "other": ("家属要求离院", "自动离院", "拒绝进一步治疗"),
}
DISPO_RELEASE_BY_NATURE = {
    "fracture": ("予石膏固定后离院", "予夹板固定后离院", "手法复位石膏外固定后离院"),
    "cut": ("予清创缝合后离院", "清创缝合{n}针后离院", "清创包扎后回家"),
    "burn": ("予清创换药后离院", "予湿润烧伤膏外涂后离院", "换药后回家"),
    "foreign_body": ("内镜下取出异物后离院", "异物取出后离院", "门诊取出异物"),
}
DEPT_ZH = {
    "fracture": "骨科",
    "burn": "烧伤科",
    "concussion": "神经外科",
    "organ_injury": "普外科",
    "poisoning": "急诊内科",
    "foreign_body": "消化内科",
    "cut": "外科",
    "other": "急诊病房",
}
DISPO_EN = {
    "treated_released": ("", "", "TX'D & REL", "TREATED AND RELEASED", "DC'D HOME"),
    "observed": ("HELD FOR OBS", "OBS", "OBSERVATION"),
    "transferred": ("TRANSFERRED", "XFER", "TRANSFERRED TO HIGHER LEVEL OF CARE"),
    "admitted": ("ADMITTED", "ADMIT", "ADMITTED TO {dept}"),
    "died": ("DIED IN ED", "DOA", "EXPIRED"),
    "other": ("LEFT AMA", "LWBS"),
}
DEPT_EN = {
    "fracture": "ORTHO",
    "burn": "BURN UNIT",
    "concussion": "NEUROSURGERY",
    "organ_injury": "SURGERY",
    "poisoning": "ICU",
    "foreign_body": "GI",
    "cut": "SURGERY",
    "other": "OBS UNIT",
}

CAUSE_SHORT_ZH = {
    "traffic": ("车祸伤", "撞伤", "交通事故"),
    "fall": ("摔伤", "跌伤", "摔倒"),
    "blunt_force": ("撞伤", "砸伤", "碰伤"),
    "cut_pierce": ("割伤", "划伤", "刺伤"),
    "burn_scald": ("烫伤", "烧伤"),
    "drowning": ("溺水",),
    "suffocation_choking": ("窒息", "卡喉"),
    "poisoning": ("误服", "中毒"),
    "electric_shock": ("触电", "电击伤"),
    "animal": ("咬伤",),
    "crush": ("夹伤", "压伤", "挤压伤"),
    "explosion": ("爆炸伤", "炸伤"),
    "other": ("误吞", "受伤"),
    "unknown": ("受伤",),
}

TYPOS_ZH = (
    ("烫伤", "汤伤"),
    ("骨折", "骨拆"),
    ("摔倒", "摔到"),
    ("挫伤", "错伤"),
    ("裂伤", "列伤"),
    ("跌倒", "跌到"),
    ("电饭煲", "电饭堡"),
    ("蹦床", "崩床"),
    ("滑倒", "划倒"),
    ("扭伤", "纽伤"),
    ("划伤", "滑伤"),
    ("头部", "头布"),
    ("离院", "离开"),
    ("诊断", "诊段"),
    ("楼梯", "楼体"),
)
TYPOS_EN = (
    ("FELL", "FEL"),
    ("LACERATION", "LACERATON"),
    ("FRACTURE", "FRACUTRE"),
    ("HEAD", "HAED"),
    ("WHILE", "WHIEL"),
    ("STAIRS", "STAIRES"),
    ("ANKLE", "ANKEL"),
    ("WRIST", "WRSIT"),
    ("FINGER", "FINGR"),
    ("CONTUSION", "CONTUSOIN"),
    ("KITCHEN", "KITCEHN"),
    ("SCOOTER", "SCOOTR"),
    ("BICYCLE", "BICYLE"),
    ("STRUCK", "STRUK"),
    ("SWALLOWED", "SWALOWED"),
)


@dataclass
class Facts:
    """What the narrative must say (already decided by the generator)."""

    age: int
    age_unit: str  # years | months | days
    sex: str
    place: str
    cause: str
    nature: str
    region: str
    severity: str
    outcome: str
    product: str  # name of the product as written in the narrative ("" = none)
    event_zh: str
    event_en: str
    burn: str
    other_zh: tuple[str, ...]
    other_en: tuple[str, ...]
    hint_zh: str = ""  # event phrase without the product name (for anatomical words)
    hint_en: str = ""
    parts: str = ""  # "hand": limb injuries are to the hands / feet


def wchoice(rnd: random.Random, options: dict[str, float]) -> str:
    keys = list(options)
    return rnd.choices(keys, weights=[options[k] for k in keys])[0]


def _part(
    rnd: random.Random,
    region: str,
    nature: str,
    hint: str = "",
    parts_hint: str = "",
    lang: str = "zh",
) -> tuple[str, str, str, str]:
    parts = PARTS.get(region, PARTS["other"])
    if parts_hint == "hand" and region in LIMBS:
        parts = tuple(p for p in parts if p[0] in HAND | FOOT) or parts
    if hint:
        words = PART_WORDS_ZH if lang == "zh" else PART_WORDS_EN
        for word, allowed in words:
            found = word in hint if lang == "zh" else bool(_EN_WORD[word].search(hint))
            if found:
                narrowed = tuple(p for p in parts if p[0] in allowed)
                if narrowed:
                    parts = narrowed
                    break
    weights = [p[4] for p in parts]
    if nature in ("cut", "burn") and region == "upper_limb":
        weights = [
            w * (2.0 if p[0] in ("手指", "手", "手掌", "手背", "前臂") else 0.5)
            for p, w in zip(parts, weights, strict=True)
        ]
    if nature == "sprain" and region == "lower_limb":
        weights = [
            w * (4.0 if p[0] in ("踝部", "膝部") else 0.3)
            for p, w in zip(parts, weights, strict=True)
        ]
    p = rnd.choices(parts, weights=weights)[0]
    return p[0], p[1], p[2], p[3]


def _side(rnd: random.Random, region: str) -> tuple[str, str]:
    if region not in LIMBS:
        return "", ""
    r = rnd.random()
    if r < 0.46:
        return "左", "L "
    if r < 0.92:
        return "右", "R "
    if r < 0.96:
        return "双", "BILAT "
    return "", ""


def age_text_zh(age: int, unit: str, rnd: random.Random) -> str:
    if unit == "days":
        return f"{age}天"
    if unit == "months":
        if age >= 12 and rnd.random() < 0.5:
            y, m = divmod(age, 12)
            return f"{y}岁{m}个月" if m else f"{y}岁"
        return rnd.choice((f"{age}个月", f"{age}月", f"{age}个月"))
    return f"{age}岁"


def age_sex_en(age: int, unit: str, sex: str, rnd: random.Random) -> str:
    s = {"male": "M", "female": "F"}.get(sex, "")
    unit_tag = {"days": "DO", "months": "MO"}.get(unit, "YO")
    style = rnd.random()
    if style < 0.55:
        return f"{age}{unit_tag}{s}"
    if style < 0.8:
        return f"{age} {unit_tag}{s}"
    long_sex = {"M": "MALE", "F": "FEMALE"}.get(s, "PT")
    word = {"DO": "DAY OLD", "MO": "MONTH OLD", "YO": "YO"}[unit_tag]
    if style < 0.93:
        return f"{age} {word} {long_sex}"
    return f"{age}{'Y/O' if unit_tag == 'YO' else unit_tag} {s}".rstrip()


def _is_child(f: Facts) -> bool:
    return f.age_unit != "years" or f.age < 14


def _opener_zh(f: Facts, rnd: random.Random) -> str:
    age = age_text_zh(f.age, f.age_unit, rnd)
    sex = {"male": "男", "female": "女"}.get(f.sex, "")
    if _is_child(f):
        kid = {"male": "男孩", "female": "女孩"}.get(f.sex, "小孩")
        if f.age_unit in ("days", "months") and f.age < 12 and f.age_unit != "years":
            kid = {"male": "男婴", "female": "女婴"}.get(f.sex, "婴儿")
        return rnd.choice(
            (
                "患儿",
                "患儿",
                f"患儿，{sex}，{age}，" if sex else "患儿，",
                f"{age}{kid}，",
                f"患儿{age}，",
                "",
                "家属代诉：患儿",
                "据家长述，患儿",
                "小儿",
            )
        )
    if f.age >= 65:
        return rnd.choice(("患者", "老人", f"患者{sex}，{age}，", "", "家属诉患者", "病人"))
    return rnd.choice(
        (
            "患者",
            "患者",
            f"患者{sex}，{age}，",
            f"{sex}，{age}，",
            "",
            "病人",
            "伤者",
            "自诉",
            "患者自述",
        )
    )


def _time_zh(rnd: random.Random) -> str:
    n = rnd.randint(1, 5)
    return rnd.choice(
        (
            "",
            "",
            "",
            "约1小时前",
            f"约{n}小时前",
            "今日",
            "今晨",
            "今日上午",
            "今日下午",
            "今晚",
            "昨晚",
            "半小时前",
            f"{rnd.randint(10, 50)}分钟前",
            f"入院前{n}小时",
            "傍晚",
        )
    )


def _place_zh(f: Facts, rnd: random.Random) -> str:
    if f.place == "school" and _is_child(f) and f.age_unit == "years" and 3 <= f.age <= 5:
        return rnd.choice(KINDER_ZH)
    if rnd.random() < 0.15:
        return ""
    return rnd.choice(PLACES_ZH.get(f.place, ("",)))


def _injury_zh(f: Facts, rnd: random.Random) -> tuple[str, str]:
    """(finding phrase, diagnosis) in Chinese."""
    side, _ = _side(rnd, f.region)
    part, _, bone, _ = _part(rnd, f.region, f.nature, f.hint_zh, f.parts, "zh")
    n = f.nature
    if n == "fracture":
        if f.region == "multiple":
            return rnd.choice(("全身多处疼痛", "多处肿痛畸形")), rnd.choice(("多发骨折", "多发伤"))
        if f.region in ("head", "face", "trunk", "neck"):
            finding = rnd.choice(
                (f"{part}肿胀压痛", f"{part}疼痛明显", f"{part}皮下血肿", f"{part}受伤")
            )
        else:
            finding = rnd.choice(
                (
                    f"{side}{part}肿痛、活动受限",
                    f"{side}{part}疼痛畸形",
                    f"{side}{part}受伤",
                    f"{side}{part}肿胀疼痛",
                )
            )
        dx = rnd.choice(
            (
                f"{side}{bone}骨折",
                f"{side}{bone}骨折",
                f"{side}{bone}闭合性骨折",
                f"{side}{bone}骨裂",
            )
        )
        return finding, dx
    if n == "sprain":
        return (
            rnd.choice((f"{side}{part}扭伤肿痛", f"{side}{part}疼痛", f"{side}{part}肿胀")),
            rnd.choice((f"{side}{part}扭伤", f"{side}{part}软组织损伤", f"{side}{part}韧带拉伤")),
        )
    if n == "cut":
        cm = rnd.randint(1, 6)
        return (
            rnd.choice(
                (
                    f"{side}{part}裂伤出血",
                    f"{side}{part}划伤",
                    f"{side}{part}一长约{cm}cm伤口",
                    f"{side}{part}皮肤裂开约{cm}cm",
                )
            ),
            rnd.choice(
                (
                    f"{side}{part}皮肤裂伤",
                    f"{side}{part}开放性伤口",
                    f"{side}{part}切割伤",
                    f"{side}{part}裂伤",
                )
            ),
        )
    if n == "bruise":
        return (
            rnd.choice((f"{part}肿痛", f"{part}擦伤渗血", f"{part}起包", f"{part}青紫")),
            rnd.choice((f"{part}挫伤", f"{part}擦伤", f"{part}软组织挫伤", f"{part}皮下血肿")),
        )
    if n == "burn":
        word = rnd.choice(BURN_WORD.get(f.burn, BURN_WORD["scald"]))
        deg = rnd.choice(BURN_DEGREE[f.severity])
        pct = rnd.choice(
            (
                "",
                "",
                f"，面积约{rnd.randint(1, 8) if f.severity != 'severe' else rnd.randint(8, 30)}%",
            )
        )
        return (
            rnd.choice(
                (f"{side}{part}{word}", f"{side}{part}红肿起水疱", f"{side}{part}皮肤发红起疱")
            ),
            f"{side}{part}{deg}{word}{pct}",
        )
    if n == "concussion":
        return (
            rnd.choice(
                (
                    "头痛头晕伴呕吐",
                    f"伤后呕吐{rnd.randint(1, 4)}次",
                    "短暂意识丧失",
                    "哭闹后嗜睡",
                    "头晕、恶心",
                )
            ),
            rnd.choice(CONC_ZH[f.severity]),
        )
    if n == "organ_injury":
        dx = rnd.choice(f.other_zh) if f.other_zh else rnd.choice(ORGAN_ZH)
        return rnd.choice(("腹痛明显", "胸痛、呼吸困难", "腹部压痛")), dx
    if n == "poisoning":
        dx = rnd.choice(f.other_zh) if f.other_zh else "中毒"
        return rnd.choice(("出现恶心呕吐", "头晕乏力", "口腔黏膜发白", "精神差", "无明显不适")), dx
    if n == "foreign_body":
        dx = rnd.choice(FB_ZH.get(f.region, ("异物",)))
        if f.region == "face":
            for word, text in (("耳", "外耳道异物"), ("鼻", "鼻腔异物"), ("眼", "眼内异物")):
                if word in f.hint_zh:
                    dx = text
                    break
        return rnd.choice(("哭闹不安", "流涎", "腹痛", "无明显不适", "呛咳")), dx
    dx = rnd.choice(f.other_zh) if f.other_zh else f"{part}损伤"
    return rnd.choice((f"{part}疼痛", f"{part}不适", f"{part}受伤")), dx


def _dispo_zh(f: Facts, rnd: random.Random) -> str:
    if (
        f.outcome == "treated_released"
        and f.nature in DISPO_RELEASE_BY_NATURE
        and rnd.random() < 0.6
    ):
        text = rnd.choice(DISPO_RELEASE_BY_NATURE[f.nature])
    else:
        text = rnd.choice(DISPO_ZH.get(f.outcome, ("处理后离院",)))
    return text.format(dept=DEPT_ZH.get(f.nature, "外科"), n=rnd.randint(2, 8))


def _cause_short(f: Facts, rnd: random.Random) -> str:
    if f.nature == "foreign_body":
        return "误吞"
    return rnd.choice(CAUSE_SHORT_ZH.get(f.cause, ("受伤",)))


def narrative_zh(
    f: Facts, rnd: random.Random, *, require_event: bool = False, terse: float = 0.0
) -> str:
    """Chinese clerk narrative; ``terse`` is the share of bare shorthand entries (e.g. community
    hospitals write "家中 电饭煲烫伤，右手背浅II度烫伤")."""
    o = _opener_zh(f, rnd)
    t = _time_zh(rnd)
    p = _place_zh(f, rnd)
    e = f.event_zh
    finding, dx = _injury_zh(f, rnd)
    x = _dispo_zh(f, rnd)
    k = rnd.randrange(12 if not require_event else 11)
    if terse and not require_event and f.product and rnd.random() < terse:
        k = 11
    if k == 0:
        text = f"{o}{t}{p}{e}，致{finding}。诊断：{dx}。{x}。"
    elif k == 1:
        text = f"{o}{t}{p}{e}，{finding}，{x}"
    elif k == 2:
        text = f"{t}{p}{e}致{finding}，{x}。"
    elif k == 3:
        text = f"{o}因{t}{e}来诊。{finding}。初步诊断：{dx}。"
    elif k == 4:
        text = f"主诉：{e}，伤后{rnd.randint(1, 6)}小时。查体：{finding}。诊断：{dx}。处理：{x}。"
    elif k == 5:
        text = f"{o}{p}{e}。{dx}"
    elif k == 6:
        text = f"{e}，{finding}。{dx}，{x}。"
    elif k == 7:
        text = f"{o}{t}{e}，伤后{finding}，急诊就诊。诊断{dx}。"
    elif k == 8:
        text = f"{dx}。{t}{p}{e}。"
    elif k == 9:
        text = f"{o}{t}{p}{e}，当即{finding}，遂来我院。{x}"
    elif k == 10:
        text = f"{p}{e}，{dx}，{x}"
    else:  # clerk shorthand without the event phrase
        place = p.removeprefix("在").removeprefix("于") if p else ""
        prod = f.product or ""
        text = f"{place}{' ' if place else ''}{prod}{_cause_short(f, rnd)}，{dx}"
    return _noise_zh(text, rnd)


def _noise_zh(text: str, rnd: random.Random) -> str:
    text = text.replace("，，", "，").replace("。。", "。").replace("：，", "：").lstrip("，")
    r = rnd.random()
    if r < 0.05:
        text = text.replace("，", ",")
    elif r < 0.08:
        text = text.replace("，", " ")
    elif r < 0.12:
        text = text.rstrip("。")
    if rnd.random() < 0.05:
        cands = [(a, b) for a, b in TYPOS_ZH if a in text]
        if cands:
            a, b = rnd.choice(cands)
            text = text.replace(a, b, 1)
    return text


def _injury_en(f: Facts, rnd: random.Random) -> tuple[str, str]:
    """(part phrase, diagnosis) in clerk English."""
    _, side = _side(rnd, f.region)
    _, part, _, bone = _part(rnd, f.region, f.nature, f.hint_en, f.parts, "en")
    n = f.nature
    if n == "fracture":
        if f.region == "multiple":
            return "MULTIPLE SITES", rnd.choice(("MULTIPLE FX", "MULTIPLE FRACTURES", "POLYTRAUMA"))
        return f"{side}{part}", rnd.choice(
            (
                f"FX {side}{bone}",
                f"{side}{bone} FX",
                f"FRACTURE {side}{bone}",
                f"{side}{part} FRACTURE",
                f"CLOSED FX {side}{bone}",
            )
        )
    if n == "sprain":
        return f"{side}{part}", rnd.choice(
            (
                f"{side}{part} SPRAIN",
                f"STRAIN {side}{part}",
                f"SPRAINED {side}{part}",
                f"{side}{part} STRAIN",
            )
        )
    if n == "cut":
        cm = rnd.randint(1, 6)
        return f"{side}{part}", rnd.choice(
            (
                f"LAC {side}{part}",
                f"{cm}CM LAC TO {side}{part}",
                f"LACERATION {side}{part}",
                f"{side}{part} LAC",
                f"LACERATION TO {side}{part}",
            )
        )
    if n == "bruise":
        return part, rnd.choice(
            (
                f"CONTUSION {part}",
                f"{part} CONTUSION",
                f"ABRASION {part}",
                f"{part} HEMATOMA",
                f"CONT/ABR {part}",
            )
        )
    if n == "burn":
        word = rnd.choice(BURN_EN.get(f.burn, BURN_EN["scald"]))
        deg = rnd.choice(BURN_DEGREE_EN[f.severity])
        return f"{side}{part}", rnd.choice(
            (
                f"{deg} {word} {side}{part}",
                f"{word} TO {side}{part}",
                f"{side}{part} {word}",
                f"{deg} DEG {word} {side}{part}",
            )
        )
    if n == "concussion":
        return "HEAD", rnd.choice(CONC_EN[f.severity])
    if n == "organ_injury":
        return "ABDOMEN", rnd.choice(f.other_en) if f.other_en else rnd.choice(ORGAN_EN)
    if n == "poisoning":
        return "", rnd.choice(f.other_en) if f.other_en else "POISONING"
    if n == "foreign_body":
        dx = rnd.choice(FB_EN.get(f.region, ("FOREIGN BODY",)))
        if f.region == "face":
            for word, text in (("EAR", "FB EAR"), ("NOSE", "FB NOSE"), ("EYE", "FB IN EYE")):
                if re.search(rf"\b{word}\b", f.hint_en):
                    dx = text
                    break
        return "", dx
    return part, rnd.choice(f.other_en) if f.other_en else f"{part} INJURY"


def narrative_en(f: Facts, rnd: random.Random, *, require_event: bool = False) -> str:
    a = age_sex_en(f.age, f.age_unit, f.sex, rnd)
    e = f.event_en
    p = rnd.choice(PLACES_EN.get(f.place, ("",))) if rnd.random() < 0.7 else ""
    part, dx = _injury_en(f, rnd)
    x = rnd.choice(DISPO_EN.get(f.outcome, ("",))).format(dept=DEPT_EN.get(f.nature, "FLOOR"))
    sp = f" {p}" if p else ""
    k = rnd.randrange(10)
    if k == 0:
        text = f"{a} {e}{sp}, DX {dx}"
    elif k == 1:
        text = f"{a} {e}{sp}. DX: {dx}"
    elif k == 2:
        text = f"{a} PT {e}{sp} AND SUSTAINED {dx}"
    elif k == 3:
        text = f"{a} {e} >> {dx}"
    elif k == 4:
        text = f"{a} REPORTS {e}{sp}; {dx}"
    elif k == 5 and part:
        text = f"{a} {e}{sp} C/O {part} PAIN. DX {dx}"
    elif k == 6:
        text = f"{a} WITH {dx}, {e}{sp}"
    elif k == 7:
        text = f"{dx} - {a} {e}{sp}"
    elif k == 8:
        text = f"{a} {e}. {dx}"
    else:
        text = f"{a} {e}{sp} - {dx}"
    if x and rnd.random() < 0.6:
        text = f"{text}. {x}" if rnd.random() < 0.5 else f"{text}, {x}"
    text = text.replace("  ", " ").replace(" ,", ",").replace("..", ".")
    if rnd.random() < 0.05:
        cands = [(a_, b) for a_, b in TYPOS_EN if a_ in text]
        if cands:
            a_, b = rnd.choice(cands)
            text = text.replace(a_, b, 1)
    if rnd.random() < 0.04:
        text = text.lower().capitalize()  # a clerk who does not type in capitals
    return text
