"""Injected emerging hazards: what they look like, where and when they start.

Every hazard has its own scenario (same ``Scenario`` type as the background catalog) whose event
phrases always carry the hazard's distinctive terms, a shape (step, ramp or burst), an onset
counted back from the end of the sample and a rate of extra cases per week spread over the
hospitals it affects.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentinel_tools.sample.catalog import S, Scenario
from sentinel_tools.sample.refdata import Hospital


@dataclass(frozen=True)
class HazardSpec:
    id: str
    title: str
    category: str
    shape: str  # step | ramp | burst
    onset_back: int  # weeks before the final week (0 = final week)
    rate: float  # extra cases per week at full strength (whole network)
    scenario: Scenario
    terms_zh: tuple[str, ...]
    terms_en: tuple[str, ...]
    text: str
    ramp_weeks: int = 0
    burst_weeks: int = 0
    new_term: bool = False
    brand_zh: str = ""
    brand_en: str = ""
    model: str = ""
    scope: str = ""  # how hospitals are chosen (see select_hospitals)

    def rate_at(self, weeks_since_onset: int) -> float:
        if weeks_since_onset < 0:
            return 0.0
        if self.shape == "ramp":
            return self.rate * min(1.0, (weeks_since_onset + 1) / max(self.ramp_weeks, 1))
        if self.shape == "burst":
            return self.rate if weeks_since_onset < self.burst_weeks else 0.0
        return self.rate


HAZARDS: tuple[HazardSpec, ...] = (
    HazardSpec(
        id="HZ01-rice-cooker-lid",
        title="Rice cooker lid bursts open: steam and hot-content scalds",
        category="HA01",
        shape="step",
        onset_back=10,
        rate=4.0,
        scope="general_then_children:4",
        text="Lid of an electric rice cooker pops open during cooking; hot steam, porridge or soup "
        "scalds the face and arms (children and adults at home).",
        terms_zh=("弹开",),
        terms_en=("LID",),
        brand_zh="厨乐宝",
        brand_en="CHULEBAO",
        model="CLB-40F1",
        scenario=S(
            "HA01",
            "hz_rice_cooker_lid",
            0,
            "tod:1.5 chi:1.5 adu:3 eld:.5",
            "burn_scald:1",
            "bu.fc:3 bu.ul:4 bu.tr:1 bu.mu:1",
            "电饭煲:6|电饭锅:5|多功能电饭煲:1|电饭煲(厨乐宝):1",
            "RICE COOKER:6|ELECTRIC RICE COOKER:2",
            [
                "用{p}煮饭时锅盖突然弹开，热蒸汽喷出",
                "{p}煮粥时盖子自动弹开，滚烫米汤溅出",
                "{p}工作中锅盖突然弹开喷出热粥",
                "站在{p}旁边时{p}盖子弹开，热汤溅到身上",
                "使用{p}煲汤，锅盖意外弹开",
                "{p}正在煮饭，盖子“砰”一声弹开，蒸汽烫伤",
                "按下{p}开盖键前盖子已自行弹开，米汤喷出",
            ],
            [
                "{p} LID POPPED OPEN WHILE COOKING, HOT STEAM",
                "{p} LID BLEW OPEN AND HOT PORRIDGE SPRAYED",
                "LID OF {p} SUDDENLY FLEW OPEN, SCALDED BY HOT CONTENTS",
                "STANDING NEXT TO {p} WHEN LID POPPED OPEN",
            ],
            act="housework:3 leisure:1",
            sev=(3, 5, 1.2),
            rel="quality_related:5 uncertain:2 normal_use_accident:1",
            hazard="HZ01-rice-cooker-lid",
        ),
    ),
    HazardSpec(
        id="HZ02-baby-walker-stairs",
        title="Baby walkers tipping down stairs: infant head injuries",
        category="CP02",
        shape="ramp",
        onset_back=16,
        rate=4.0,
        ramp_weeks=10,
        scope="children_general:5",
        text="Infant (age in months) in a baby walker rolls to a staircase and tips down the "
        "stairs; head injuries (bruise, concussion, skull fracture).",
        terms_zh=("楼梯", "台阶"),
        terms_en=("STAIRS", "STEPS"),
        brand_zh="乐童",
        brand_en="LETONG",
        model="LT-8800",
        scenario=S(
            "CP02",
            "hz_walker_stairs",
            0,
            "inf:3 tod:1",
            "fall:1",
            "br.hd:3 cc.hd:3 fx.hd:1 ct.fc:1 br.fc:1",
            "学步车:6|婴儿学步车:3|学行车:1",
            "BABY WALKER:5|WALKER:2",
            [
                "坐{p}从楼梯上翻滚下来",
                "坐{p}冲下楼梯翻倒",
                "家人未注意，患儿坐{p}从楼梯滚落",
                "坐{p}滑到楼梯口连人带车翻下台阶",
                "在{p}里滑向楼梯，从台阶上翻落",
                "坐{p}时从二楼楼梯摔下",
            ],
            [
                "IN {p}, WENT DOWN STAIRS",
                "{p} TIPPED DOWN FLIGHT OF STAIRS",
                "FELL DOWN STAIRS IN {p}",
                "IN {p} AND ROLLED DOWN 10 STEPS",
            ],
            sev=(3, 5, 1.8),
            rel="normal_use_accident:3 quality_related:1 misuse:2 uncertain:2",
            hazard="HZ02-baby-walker-stairs",
            months=(5, 16),
        ),
    ),
    HazardSpec(
        id="HZ03-magnet-balls",
        title="Magnetic balls swallowed by children",
        category="TY04",
        shape="burst",
        onset_back=5,
        rate=5.0,
        burst_weeks=3,
        scope="children:3",
        text="Children swallow several small high-powered magnetic balls (a new craze toy); "
        "gastro-intestinal foreign body, sometimes perforation needing surgery.",
        terms_zh=("磁力珠", "巴克球", "磁珠", "磁力球"),
        terms_en=("MAGNET", "BUCKYBALL"),
        scenario=S(
            "TY04",
            "hz_magnet_balls",
            0,
            "tod:1 chi:3 teen:.5",
            "other:1",
            "fb.tr:6 oi.tr:1",
            "磁力珠:5|巴克球:4|磁力球:1|磁珠:1",
            "MAGNET BALLS:4|MAGNETIC BALLS:3|BUCKYBALLS:1",
            [
                "误吞{p}数颗",
                "玩{p}时将多颗吞下",
                "吞下{p}约{n}颗后腹痛",
                "将{p}含在嘴里不慎咽下",
                "吞食多粒{p}后腹痛呕吐",
                "在学校与同学玩{p}时吞下",
            ],
            [
                "SWALLOWED SEVERAL {p}",
                "INGESTED {p}, ABD PAIN",
                "SWALLOWED {n} {p}",
                "PUT {p} IN MOUTH AND SWALLOWED THEM",
            ],
            place="home:4 school:1",
            sev=(2, 5, 3),
            rel="misuse:2 quality_related:2 uncertain:2",
            zo=["[oi]肠穿孔", "[oi]小肠多处穿孔", "[oi]胃肠道穿孔"],
            eo=["[oi]BOWEL PERFORATION"],
            hazard="HZ03-magnet-balls",
        ),
    ),
    HazardSpec(
        id="HZ04-ebike-battery-fire",
        title="E-bike battery fires while charging (one city)",
        category="VE04",
        shape="step",
        onset_back=8,
        rate=3.0,
        scope="city",
        text="E-bike batteries catch fire or explode while charging indoors or in hallways in one "
        "city; flame burns to several body regions (category x region cluster).",
        terms_zh=("充电",),
        terms_en=("CHARGING",),
        brand_zh="骏驰",
        brand_en="JUNCHI",
        model="JC-48V20AH",
        scenario=S(
            "VE04",
            "hz_ebike_battery",
            0,
            "teen:.2 adu:3 eld:.5 chi:.3",
            "burn_scald:3 explosion:1",
            "bu.mu:3 bu.ul:3 bu.fc:2 bu.ll:1",
            "电动车电池:4|电瓶车电池:3|电动车锂电池:3|电动自行车电池:2",
            "E-BIKE BATTERY:4|EBIKE BATTERY:2|ELECTRIC BIKE BATTERY:1",
            [
                "夜间在家中给{p}充电时突然起火爆燃",
                "{p}在楼道充电时起火，扑救时烧伤",
                "将{p}拿回家充电，充电中突然冒烟爆燃",
                "{p}充电过程中爆炸起火",
                "充电中的{p}起火，逃生时烧伤",
            ],
            [
                "{p} CAUGHT FIRE WHILE CHARGING INDOORS",
                "{p} EXPLODED DURING CHARGING",
                "FIRE FROM CHARGING {p} IN HALLWAY",
            ],
            place="home:4 public_place:1",
            act="vital_activity:2 housework:1 other:1",
            sev=(2, 5, 2.5),
            rel="quality_related:4 uncertain:2 misuse:1",
            burn="flame",
            hazard="HZ04-ebike-battery-fire",
        ),
    ),
    HazardSpec(
        id="HZ05-self-heating-hotpot",
        title="Self-heating hot pots bursting (new product)",
        category="FD01",
        shape="step",
        onset_back=6,
        rate=5.0,
        new_term=True,
        scope="zh_general:3",
        text="Self-heating hot pot (自热火锅) packs burst or spray steam while the heater pack is "
        "working; scalds to hands and face in young adults. The product term never appears "
        "in the data before onset.",
        terms_zh=("自热火锅",),
        terms_en=("SELF-HEATING", "SELF HEATING"),
        brand_zh="辣小宝",
        brand_en="LAXIAOBAO",
        scenario=S(
            "FD01",
            "hz_self_heating_hotpot",
            0,
            "teen:.6 adu:3",
            "burn_scald:3 explosion:1",
            "bu.ul:4 bu.fc:3 bu.tr:1 bu.mu:1",
            "自热火锅:8|麻辣自热火锅:1|自热火锅(小火锅):1",
            "SELF-HEATING HOT POT:5|SELF HEATING HOTPOT:2",
            [
                "吃{p}时盒子突然爆开，热汤溅出",
                "{p}加水后发热包膨胀，盖子炸开",
                "在宿舍吃{p}，透气孔堵塞后爆裂",
                "{p}加热时整盒炸开烫伤",
                "打开正在加热的{p}被喷出的蒸汽烫伤",
                "加热{p}时发热包爆开",
            ],
            [
                "{p} BURST WHILE HEATING, HOT SOUP SPLASHED",
                "{p} EXPLODED, STEAM BURN",
                "OPENED HEATING {p}, SCALDED",
            ],
            place="home:3 school:1 workplace:1",
            act="vital_activity:3 leisure:1",
            sev=(4, 5, 1),
            rel="quality_related:3 misuse:2 uncertain:2",
            hazard="HZ05-self-heating-hotpot",
        ),
    ),
)


def select_hospitals(
    spec: HazardSpec, selected: list[Hospital], narrative_lang: dict[str, str]
) -> list[Hospital]:
    """The hospitals a hazard affects, in registry order (deterministic, never empty)."""
    kind, _, limit_text = spec.scope.partition(":")
    limit = int(limit_text) if limit_text else len(selected)
    children = [h for h in selected if h.type == "children"]
    general = [h for h in selected if h.type == "general_tertiary"]
    if kind == "general_then_children":
        pool = general + children
    elif kind == "children_general":
        pool = [h for h in selected if h.type in ("children", "general_tertiary")]
    elif kind == "children":
        pool = children or general
    elif kind == "zh_general":
        pool = [h for h in selected if h.type != "children" and narrative_lang[h.code] == "zh"]
        pool += [h for h in selected if h.type != "children" and h not in pool]
        if len(pool) < 2:
            pool += [h for h in selected if h not in pool]
    elif kind == "city":
        counts: dict[str, int] = {}
        for h in selected:
            counts[h.region[:4]] = counts.get(h.region[:4], 0) + 1
        best = max(counts.values())
        city = next(h.region[:4] for h in selected if counts[h.region[:4]] == best)
        pool = [h for h in selected if h.region[:4] == city]
    else:
        pool = list(selected)
    pool = pool or list(selected)
    return pool[:limit]
