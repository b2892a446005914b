"""A small bilingual (Chinese / clerk English) concept lexicon for injury narratives.

Hazard patterns must not split by the language the clerk wrote in: a Chinese and an English
narrative of the same scenario share *concepts* (what happened, which product part, which
circumstance) although they share no characters. Each entry maps Chinese substrings and English
words or phrases to one concept token; the clustering features use the concept tokens next to the
language-specific terms, and pattern labels use the concepts' names in both languages.

The lexicon is general injury-surveillance vocabulary (mechanisms, actions, product parts,
circumstances), the kind of glossary a coding manual carries; it is not a list of known hazards.
English entries are matched as whole words on upper-cased text (a trailing ``*`` matches any
ending), Chinese entries as substrings. Extend it freely: adding a concept changes the feature
space, so rebuild the pattern state (``sentinel patterns refresh --rebuild``) afterwards.
"""

from __future__ import annotations

from typing import NamedTuple


class Concept(NamedTuple):
    key: str
    label_en: str
    label_zh: str
    zh: tuple[str, ...]
    en: tuple[str, ...]


def _c(key: str, label_en: str, label_zh: str, zh: str, en: str) -> Concept:
    return Concept(
        key,
        label_en,
        label_zh,
        tuple(zh.split("|")) if zh else (),
        tuple(en.split("|")) if en else (),
    )


CONCEPTS: tuple[Concept, ...] = (
    # --- what happened (mechanism and action) ---
    _c(
        "fall",
        "fall",
        "摔倒",
        "摔倒|摔伤|跌倒|跌伤|摔下|跌落|坠落|摔落|摔到|跌到|踩空|扑倒|摔出",
        "FELL|FALL|FALLS|FALLING|FELL OFF|FELL FROM|FELL OUT",
    ),
    _c("slip", "slipped", "滑倒", "滑倒|划倒|打滑|路滑|滑落", "SLIPPED|SLIP|SLIPPING"),
    _c("trip", "tripped", "绊倒", "绊倒|绊", "TRIPPED|TRIP"),
    _c(
        "tip_over",
        "tipped over",
        "翻倒",
        "翻倒|倾倒|侧翻|翻车|倾翻|翻落|翻滚|碰翻|打翻|掀翻|倒地",
        "TIPPED|TIP|TIPPING|FLIPPED|OVERTURNED|TOPPLED|KNOCKED OVER|TIPPED OVER|ROLLED OVER",
    ),
    _c("roll_down", "rolled down", "滚落", "滚落|滚下|翻下|冲下|滑到", "ROLLED|ROLLING|DOWN"),
    _c(
        "collapse",
        "collapsed / broke",
        "断裂",
        "断裂|折断|坍塌|塌|散架|断开|破损|断了",
        "COLLAPSED|COLLAPSE|BROKE|BROKEN|SNAPPED|CAVED",
    ),
    _c(
        "detach",
        "came off",
        "脱落",
        "脱落|松脱|脱开|掉落|掉下|脱手",
        "CAME OFF|DETACHED|LOOSE|CAME LOOSE|FELL APART|DROPPED",
    ),
    _c("shatter", "shattered", "碎裂", "碎|破碎|碎裂|炸裂", "SHATTERED|SHATTER|SHATTERING|SHARDS"),
    _c(
        "explode",
        "exploded / burst",
        "爆炸",
        "爆炸|爆燃|炸开|爆开|爆裂|炸伤|炸|爆",
        "EXPLODED|EXPLOSION|EXPLODING|BURST|BLEW UP|POPPED IN",
    ),
    _c(
        "pop_open",
        "popped open",
        "弹开",
        "弹开|冲开|崩开|飞出|弹出|自行弹开",
        "POPPED OPEN|POPPED|FLEW OPEN|BLEW OPEN|BURST OPEN|FLEW OFF",
    ),
    _c(
        "fire",
        "fire",
        "起火",
        "起火|着火|燃烧|引燃|冒火|火焰|失火|烧着|火灾|火",
        "FIRE|IGNITED|FLAME|FLAMES|CAUGHT FIRE|BURNING|BLAZE",
    ),
    _c("smoke", "smoke", "冒烟", "冒烟|烟", "SMOKE|SMOKING|SMOKED"),
    _c(
        "shock",
        "electric shock",
        "触电",
        "触电|漏电|电击|电到",
        "SHOCK|SHOCKED|ELECTROCUTED|ELECTROCUTION|ELECTRIC SHOCK",
    ),
    _c("steam", "steam", "蒸汽", "蒸汽|热气|水汽", "STEAM|STEAMING|VAPOR"),
    _c(
        "hot_liquid",
        "hot liquid",
        "热液",
        "热水|开水|热汤|热粥|米汤|热油|滚烫|热饭|汤|粥|沸水",
        "HOT WATER|BOILING|HOT SOUP|SOUP|PORRIDGE|HOT LIQUID|HOT OIL|HOT CONTENTS|COFFEE|TEA",
    ),
    _c(
        "spray",
        "sprayed / spilled",
        "喷溅",
        "溅|喷出|喷|洒出|泼|洒|溢出",
        "SPLASHED|SPRAYED|SPILLED|SPLATTERED|SPRAY|SPILL|POURED",
    ),
    _c(
        "heat_contact",
        "touched hot surface",
        "接触热物",
        "接触|触碰|碰到|手抓|摸",
        "TOUCHED|CONTACT|GRABBED",
    ),
    _c(
        "overheat",
        "overheated",
        "过热",
        "过热|发热|发烫|温度过高|低温烫伤",
        "OVERHEATED|OVERHEATING|TOO HOT",
    ),
    _c("cut", "cut / pierced", "割刺", "割|划|切|刺|扎|戳", "CUT|SLICED|STABBED|PUNCTURED|PIERCED"),
    _c(
        "sharp",
        "blade / sharp edge",
        "锐器",
        "刀|刀片|刀刃|锋利|边缘|尖",
        "KNIFE|BLADE|BLADES|SHARP|EDGE|RAZOR",
    ),
    _c(
        "pinch",
        "caught / pinched",
        "夹伤",
        "夹|卡住|卡在|挤压|压住|卷入|绞",
        "CAUGHT|PINCHED|JAMMED|CRUSHED|TRAPPED|STUCK|SLAMMED|WEDGED",
    ),
    _c(
        "struck",
        "struck / hit",
        "撞击",
        "砸|撞|碰|击中|打到|打伤|磕|撞上",
        "STRUCK|HIT|BUMPED|KNOCKED|SMASHED|COLLIDED|SLAMMED INTO",
    ),
    _c(
        "swallow",
        "swallowed",
        "误吞",
        "吞|咽|误食|吞食|吃下|含在嘴",
        "SWALLOWED|SWALLOW|INGESTED|INGESTION|ATE|IN MOUTH",
    ),
    _c(
        "choke",
        "choked",
        "呛噎",
        "呛|卡喉|窒息|误吸|噎|吸入",
        "CHOKED|CHOKING|ASPIRATED|ASPIRATION|SUFFOCATED|SUFFOCATION",
    ),
    _c(
        "insert",
        "inserted into body opening",
        "塞入",
        "塞入|塞进|放入耳|放入鼻",
        "INSERTED|PUT IN EAR|PUT IN NOSE|STUCK IN NOSE|STUCK IN EAR",
    ),
    _c("bite", "bite", "咬伤", "咬", "BIT|BITTEN|BITE"),
    _c(
        "poison",
        "poisoning / ingested chemical",
        "中毒",
        "中毒|误饮|误服|喝下",
        "POISONING|DRANK|INGESTED LIQUID|TOXIC",
    ),
    _c(
        "chemical",
        "chemical",
        "化学品",
        "化学|腐蚀|清洁剂|消毒液|漂白",
        "CHEMICAL|BLEACH|CAUSTIC|CORROSIVE|DETERGENT|CLEANER",
    ),
    _c("drown", "drowning", "溺水", "溺水|落水|淹", "DROWN|DROWNED|DROWNING|SUBMERSION|SUBMERGED"),
    _c("entangle", "entangled", "缠绕", "缠绕|缠住|勒|绕颈", "ENTANGLED|TANGLED|WRAPPED|STRANGLED"),
    _c("jump", "jumping", "跳跃", "跳|蹦", "JUMPING|JUMPED|JUMP|BOUNCING"),
    _c("ride", "riding", "骑行", "骑|驾驶|驾|乘坐", "RIDING|RODE|RIDER|DRIVING|DRIVER|PASSENGER"),
    _c(
        "collision",
        "collision",
        "碰撞",
        "相撞|碰撞|撞车|剐蹭|追尾",
        "COLLIDED|COLLISION|CRASH|CRASHED|VS",
    ),
    _c("climb", "climbing", "攀爬", "爬|攀|站在", "CLIMBING|CLIMBED|STANDING ON|STOOD"),
    _c("sudden", "suddenly", "突然", "突然|意外|自行|自动|猛然", "SUDDENLY|SUDDEN|UNEXPECTEDLY"),
    _c(
        "lift_carry", "lifting / carrying", "搬运", "搬|提|抬|端", "LIFTING|CARRYING|LIFTED|CARRIED"
    ),
    _c(
        "open_close",
        "opening / closing",
        "开关",
        "打开|揭开|开盖|揭|关门|关上",
        "OPENED|OPENING|OPEN|CLOSED|CLOSING",
    ),
    _c("pull", "pulled", "拉扯", "拉扯|拽|扯|拉倒|拉下", "PULLED|PULLING|YANKED"),
    _c("play", "playing", "玩耍", "玩|玩耍|嬉戏|打闹", "PLAYING|PLAYED|PLAY"),
    # --- which part of the product, which circumstance ---
    _c(
        "stairs",
        "stairs / steps",
        "楼梯台阶",
        "楼梯|台阶|楼道|阶梯|梯",
        "STAIRS|STEPS|STAIRCASE|STEP|STAIRWAY|FLIGHT",
    ),
    _c("lid", "lid / cover", "盖子", "锅盖|盖子|壶盖|瓶盖|盖板|盖", "LID|LIDS|COVER|CAP"),
    _c("handle", "handle", "把手", "把手|手柄|锅柄|把柄|扶手", "HANDLE|HANDLES|GRIP"),
    _c("cord", "cord / cable", "电源线", "电源线|电线|插线|线缆|数据线", "CORD|WIRE|CABLE|PLUG"),
    _c("socket", "socket / outlet", "插座", "插座|插头|插孔", "OUTLET|SOCKET"),
    _c("battery", "battery", "电池", "电池|电瓶|蓄电池|锂电", "BATTERY|BATTERIES"),
    _c("charging", "charging", "充电", "充电|充电器|插电", "CHARGING|CHARGER|CHARGED|PLUGGED IN"),
    _c("glass", "glass", "玻璃", "玻璃", "GLASS"),
    _c("door", "door / window", "门窗", "门|窗", "DOOR|WINDOW|GATE"),
    _c("wheel", "wheel / brake", "车轮刹车", "轮|刹车|车闸", "WHEEL|WHEELS|BRAKE|BRAKES"),
    _c(
        "furniture_edge", "table / corner", "桌角", "桌角|桌|茶几|柜角|墙角", "TABLE|CORNER|COUNTER"
    ),
    _c("floor", "floor / ground", "地面", "地面|地上|地板|水渍|瓷砖", "FLOOR|GROUND|TILE|WET"),
    _c("bed", "bed", "床", "床", "BED|BUNK|CRIB|BASSINET"),
    _c("water", "water / bath", "水", "水|浴|洗澡", "WATER|BATH|BATHTUB|POOL|SHOWER"),
    _c("ball_bead", "balls / beads", "珠球", "珠|球|颗|粒", "BALL|BALLS|BEAD|BEADS|BUCKYBALLS"),
    _c(
        "several",
        "several pieces",
        "多个",
        "数颗|多颗|多粒|几颗|多枚|数枚|多个|多块",
        "SEVERAL|MULTIPLE|MANY|PIECES",
    ),
    _c("magnet", "magnet", "磁铁", "磁", "MAGNET|MAGNETS|MAGNETIC|BUCKYBALL"),
    _c(
        "small_part",
        "small part",
        "小零件",
        "零件|小部件|纽扣|钉|螺丝",
        "PART|PIECE|SCREW|BUTTON|NAIL",
    ),
    _c(
        "perforation",
        "perforation / surgery",
        "穿孔手术",
        "穿孔|手术|梗阻",
        "PERFORATION|SURGERY|OBSTRUCTION",
    ),
    _c(
        "indoors_night",
        "indoors / at night",
        "室内夜间",
        "夜间|室内|屋内|夜里|晚上",
        "INDOORS|INSIDE|NIGHT|OVERNIGHT",
    ),
    _c("hallway", "hallway / corridor", "楼道", "楼道|走廊|过道", "HALLWAY|CORRIDOR|STAIRWELL"),
    _c(
        "heating",
        "heating / cooking",
        "加热",
        "加热|发热包|煮|烧水|做饭|炒菜|煲|烹饪",
        "HEATING|HEATED|COOKING|COOK|COOKED|BOILING",
    ),
    _c("eye", "eye", "眼", "眼", "EYE|EYES|CORNEAL"),
    _c(
        "bump_head", "head strike", "撞头", "撞到头|磕到头|头撞", "HIT HEAD|STRUCK HEAD|BUMPED HEAD"
    ),
    _c("vent", "vent / valve", "排气", "排气|气孔|阀|透气孔", "VENT|VALVE|RELEASE"),
    _c(
        "inner_pot",
        "inner pot / container",
        "内胆",
        "内胆|容器|盒|罐|瓶",
        "POT|CONTAINER|BOX|CAN|BOTTLE",
    ),
)

CONCEPT_BY_KEY: dict[str, Concept] = {c.key: c for c in CONCEPTS}

# Clinical boilerplate that contains a concept's characters without meaning it (门诊 is not a
# door, 水疱 is a blister, 膝盖 a knee, 远端 "distal"): masked before matching.
MASK_ZH: tuple[str, ...] = (
    "门诊",
    "水疱",
    "水泡",
    "膝盖",
    "远端",
    "角膜",
    "拉伤",
    "眼球",
    "面积约",
    "长约",
    "急诊",
    "转院",
    "入院",
    "出院",
    "离院",
    "来院",
    "就诊",
    "诊断",
    "颗粒",
)
