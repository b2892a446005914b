"""Text normalisation for clinical injury narratives (Chinese and English).

What a clerk, a nurse or a patient writes varies in ways that do not change the product:
full-width letters (ＲＩＣＥ), traditional characters (電飯鍋), plurals (FIREWORKS / FIREWORK),
inflections (JUMPING / JUMPED), clinical shorthand (PT, 3YOM, DX, LAC, FX, S/P, W/) and numbers
(ages, counts, doses). ``normalise`` maps them to one form, so the model and the product lexicon
see the same text whatever the style:

- NFKC (full-width -> half-width), lower case, whitespace collapsed;
- traditional -> simplified Chinese, character by character (a table of the characters common
  in injury narratives and product names; ambiguous one-to-many cases map to the usual
  simplified form);
- clinical shorthand expanded to plain words (``SHORTHAND``), ages ``3YOM`` -> ``yo male``;
- English words reduced to a light stem: plural and ``-ing`` / ``-ed`` endings removed
  (``batteries`` -> ``battery``, ``knives`` -> ``knife``, ``jumping`` -> ``jump``);
- every number masked as ``0`` (ages, counts, doses, model numbers carry no product).

The function is pure and deterministic; ``normalise_model_text`` applies it to the two parts of
the model's ``product | narrative`` text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Traditional -> simplified, pairs of characters (traditional first). Written from the standard
# correspondence (通用规范汉字表 / 繁简对照); only characters that differ are listed.
_TRAD_SIMP_PAIRS = (
    "電电飯饭鍋锅車车傷伤燙烫兒儿腦脑頭头醫医診诊斷断從从樓楼邊边時时間间後后來来們们個个這这"
    "為为對对說说開开關关門门爐炉氣气熱热壺壶機机腳脚輪轮燒烧煙烟鞭鞭誤误鐵铁顆颗彈弹槍枪嬰婴"
    "學学櫃柜鏡镜廚厨飲饮藥药劑剂潔洁淨净蟲虫殺杀膠胶鈕钮寶宝線线視视戲戏蓄蓄騎骑輛辆滾滚"
    "襪袜褲裤裝装墊垫蓆席發发髮发風风燈灯盤盘壓压榨榨熨熨斗斗乾干蓋盖觸触擊击噎噎嗆呛腫肿"
    "脫脱縫缝針针處处創创夾夹擠挤墜坠階阶陽阳臺台檯台欄栏護护廁厕蓮莲輕轻歲岁週周貨货買买"
    "賣卖網网購购廠厂產产質质題题號号動动體体齒齿臉脸頸颈頰颊額额顱颅盪荡臟脏腸肠鏈链鎖锁"
    "鑰钥錢钱幣币環环項项鐲镯飾饰紙纸筆笔釘钉書书槳桨漿浆爺爷媽妈孫孙親亲鄰邻區区現现無无"
    "與与於于並并雖虽還还過过裡里裏里麼么會会當当應应該该點点幾几兩两隻只條条張张塊块側侧"
    "雙双鋁铝鋼钢銅铜釣钓錘锤鋸锯鑽钻絲丝鉗钳剷铲鏟铲鋤锄園园藝艺鞦秋韆千樂乐場场籃篮躍跃"
    "鍊炼練练鈴铃槓杠鍵键螢萤顯显遙遥錄录聲声響响啟启閃闪爍烁蠟蜡燭烛灶灶沖冲衝冲飛飞艙舱"
    "載载駕驾駛驶擋挡剎刹轉转彎弯醉醉煤煤罐罐瓶瓶鍋锅碗碗筷筷杯杯爆爆炸炸玩玩磁磁珠珠"
    "壞坏損损裂裂撕撕擦擦溺溺摔摔跌跌撞撞碰碰燙烫灼灼觸触窒窒嚥咽吞吞誤误服服劃划割割刺刺"
    "紮扎紥扎傢家俱俱櫥橱櫈凳凳凳鞋鞋靴靴帶带縄绳繩绳簾帘窗窗緣缘邊边欄栏桿杆護护牆墙磚砖"
    "瓷瓷磁磁鉤钩釦扣鈎钩錶表鐘钟響响鬧闹聽听嬰婴孩孩紙纸尿尿褲裤軟软硬硬貼贴類类種种樣样"
    "實实際际專专業业經经濟济價价錯错誌志標标準准規规範范術术歷历檢检驗验險险隊队陰阴陽阳"
    "簡简單单複复雜杂華华麗丽龍龙鳥鸟魚鱼馬马驢驴豬猪貓猫狗狗咬咬蜂蜂蟄蛰螫螫傷伤嚴严猛猛"
    "歡欢樂乐戲戏遊游樂乐蕩荡鞦秋韆千溜溜滑滑梯梯攀攀爬爬蹦蹦床床墊垫彈弹簧簧籠笼櫥橱闆板"
    "擺摆設设備备儀仪器器療疗養养護护醫医師师院院診诊療疗藥药膏膏劑剂瓶瓶罐罐裝装貯贮儲储"
    "燈灯飾饰燭烛蠟蜡柴柴煤煤炭炭氣气罐罐閥阀門门錶表軟软管管爐炉頭头噴喷燃燃燒烧爆爆竹竹"
    "鍾钟鐵铁銀银錫锡鉛铅鋅锌鎳镍鋰锂鈷钴錳锰電电池池充充電电寶宝線线纜缆插插頭头座座開开"
    "關关螢萤幕幕機机遙遥控控響响視视訊讯話话筆笔記记腦脑盤盘鍵键鼠鼠標标聽听講讲讀读寫写"
    "壓压鍋锅鑊镬煲煲蒸蒸煮煮炒炒烤烤烘烘焗焗爐炉灶灶廚厨櫃柜檯台洗洗碗碗機机淨净濾滤漿浆"
    "熱热涼凉冷冷溫温暖暖風风扇扇冷冷氣气調调節节濕湿乾干燥燥吹吹髮发捲卷燙烫夾夹剃剃鬚须"
    "輛辆車车轎轿卡卡貨货運运輸输駕驾駛驶乘乘騎骑摩摩托托滑滑板板輪轮鞋鞋單单雙双踏踏腳脚"
    "剎刹煞煞擋挡轉转彎弯撞撞壓压輾碾碾碾傾倾翻翻側侧滾滚摔摔落落墜坠跌跌絆绊滑滑倒倒"
    "級级傷伤勢势較较嚴严輕轻微微劇剧烈烈痛痛腫肿脹胀淤淤瘀瘀紅红癢痒燙烫灼灼焦焦黑黑"
    "鬆松緊紧脫脱臼臼錯错位位縫缝合合針针包包紮扎敷敷換换藥药觀观察察住住院院轉转診诊"
    "們们媽妈爸爸爺爷奶奶姥姥孫孙叔叔姨姨舅舅鄰邻居居師师傅傅員员學学生生護护士士醫医生生"
    "誰谁甚甚麼么哪哪裡里這这那那個个些些點点兒儿塊块條条張张隻只顆颗粒粒枚枚瓶瓶罐罐盒盒"
)
_TRAD_SIMP = {
    _TRAD_SIMP_PAIRS[i]: _TRAD_SIMP_PAIRS[i + 1]
    for i in range(0, len(_TRAD_SIMP_PAIRS) - 1, 2)
    if _TRAD_SIMP_PAIRS[i] != _TRAD_SIMP_PAIRS[i + 1]
}
TRAD_TO_SIMP = str.maketrans(_TRAD_SIMP)

# Clinical shorthand of English emergency-department narratives -> plain words. Keys are
# lower-case tokens (after NFKC); slashes are part of the token (s/p, w/, c/o).
SHORTHAND = {
    "pt": "patient",
    "pts": "patient",
    "dx": "diagnosis",
    "dxd": "diagnosis",
    "lac": "laceration",
    "lacs": "laceration",
    "fx": "fracture",
    "fxs": "fracture",
    "fx'd": "fracture",
    "chi": "closed head injury",
    "s/p": "status post",
    "w/": "with",
    "w/o": "without",
    "c/o": "complains of",
    "b/c": "because",
    "b/l": "bilateral",
    "bil": "bilateral",
    "l": "left",
    "lt": "left",
    "r": "right",
    "rt": "right",
    "inj": "injury",
    "abr": "abrasion",
    "abrs": "abrasion",
    "cont": "contusion",
    "contu": "contusion",
    "fb": "foreign body",
    "loc": "loss of consciousness",
    "etoh": "alcohol",
    "hx": "history",
    "tx": "treatment",
    "txd": "treated",
    "sts": "states",
    "st": "states",
    "pta": "prior to arrival",
    "mvc": "motor vehicle crash",
    "mva": "motor vehicle crash",
    "ams": "altered mental status",
    "sob": "short of breath",
    "ingst": "ingestion",
    "ingstd": "ingested",
    "strn": "strain",
    "sprn": "sprain",
    "hematoma": "hematoma",
    "htn": "hypertension",
    "yo": "year old",
    "y/o": "year old",
    "yr": "year",
    "yrs": "year",
    "mo": "month",
    "mos": "month",
    "wk": "week",
    "wks": "week",
    "hr": "hour",
    "hrs": "hour",
    "yom": "year old male",
    "yof": "year old female",
    "mom": "month old male",
    "mof": "month old female",
    "wom": "week old male",
    "wof": "week old female",
    "dom": "day old male",
    "dof": "day old female",
    "m": "male",
    "f": "female",
    "&": "and",
    "+": "and",
    "@": "at",
    "approx": "approximately",
    "bldg": "building",
    "dept": "department",
    "ed": "emergency department",
    "er": "emergency department",
    "uri": "upper respiratory infection",
    "sz": "seizure",
    "pn": "pain",
    "bk": "back",
    "ft": "foot",
    "fingr": "finger",
    "fngr": "finger",
    "hd": "head",
    "kn": "knee",
    "shldr": "shoulder",
    "wrst": "wrist",
    "ank": "ankle",
    "elb": "elbow",
    "frm": "from",
    "thru": "through",
    "amt": "amount",
}

# Words the stemmer must leave alone (a stem would merge them with an unrelated word or
# produce a non-word that splits a product name).
_KEEP = frozenset(
    [
        "glass",
        "gas",
        "bus",
        "dress",
        "mattress",
        "press",
        "grass",
        "boss",
        "class",
        "less",
        "lens",
        "chess",
        "canvas",
        "plus",
        "this",
        "his",
        "its",
        "was",
        "has",
        "is",
        "us",
        "yes",
        "news",
        "bonus",
        "virus",
        "series",
        "species",
        "scissors",
        "pants",
        "jeans",
        "shorts",
        "tongs",
        "pliers",
        "tweezers",
        "clothes",
        "goggles",
        "stairs",
        "glasses",
        "binoculars",
        "diabetes",
        "measles",
        "herpes",
        "sepsis",
        "always",
        "perhaps",
        "upstairs",
        "downstairs",
        "nothing",
        "something",
        "anything",
        "everything",
        "ceiling",
        "string",
        "ring",
        "king",
        "wing",
        "swing",
        "sling",
        "spring",
        "thing",
        "bring",
        "during",
        "morning",
        "evening",
        "ing",
        "bedding",
        "railing",
        "siding",
        "clothing",
        "building",
        "flooring",
        "roofing",
        "bowling",
        "boxing",
        "skiing",
        "fencing",
        "diving",
        "sledding",
        "snowboarding",
        "skateboarding",
        "surfing",
        "wrestling",
        "shed",
        "bed",
        "sled",
        "red",
        "wed",
        "need",
        "speed",
        "seed",
        "feed",
        "weed",
        "bleed",
        "breed",
        "steed",
        "deed",
        "hundred",
        "bred",
        "fled",
        "led",
        "shred",
    ]
)
_IRREGULAR = {
    "knives": "knife",
    "wives": "wife",
    "lives": "life",
    "leaves": "leaf",
    "shelves": "shelf",
    "wolves": "wolf",
    "halves": "half",
    "children": "child",
    "men": "man",
    "women": "woman",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
    "fell": "fall",
    "fallen": "fall",
    "cut": "cut",
    "hit": "hit",
    "burnt": "burn",
    "bit": "bite",
    "bitten": "bite",
    "swallowed": "swallow",
    "dice": "die",
    "lit": "light",
}
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stem: plural, ``-ing`` and ``-ed`` endings removed (rule based; no
    dictionary). Short words and the listed exceptions are kept."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or word in _KEEP:
        return word
    w = word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")) or w.endswith("oes") and len(w) > 4:
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is", "'s")):
        w = w[:-1]
    elif w.endswith("'s"):
        w = w[:-2]
    if w.endswith("ing") and len(w) > 5:
        w = _undouble(w[:-3])
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ed") and len(w) > 4:
        w = _undouble(w[:-2])
    return w


def _undouble(w: str) -> str:
    """``jumpp`` no, ``runn`` -> ``run``, ``slid`` stays; ``burn`` stays; ``lik`` -> ``like``
    is not attempted (a stem only has to be consistent, not a word)."""
    if len(w) >= 3 and w[-1] == w[-2] and w[-1] not in "lsz" and w[-1] not in _VOWELS:
        return w[:-1]
    return w


# expansions in stem form, so "sts" and "states" give the same token
_SHORTHAND_STEMMED = {k: " ".join(stem(w) for w in v.split()) for k, v in SHORTHAND.items()}
_AGE_SEX = re.compile(r"\b(\d+(?:\.\d+)?)\s*(y/?o|yr|yrs|mo|mos|wk|wks|d)\s*/?\s*([mf])\b")
_AGE_TAIL = re.compile(r"\b\d+(?:\.\d+)?\s*(yom|yof|mom|mof|wom|wof|dom|dof|yo|y/o)\b")
_TOKEN = re.compile(r"[a-z][a-z'/&]*[a-z/]|[a-z]|[&+@]")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_SPACES = re.compile(r"\s+")
_AGE_UNIT = {"y/o": "yo", "yo": "yo", "yr": "yo", "yrs": "yo", "mo": "mo", "mos": "mo"}
_AGE_UNIT.update({"wk": "wo", "wks": "wo", "d": "do"})


def _age_sex(m: re.Match) -> str:
    unit = _AGE_UNIT[m.group(2)]
    return f" {unit}{m.group(3)} "


def _word(m: re.Match) -> str:
    token = m.group(0)
    expanded = _SHORTHAND_STEMMED.get(token)
    if expanded is not None:
        return expanded
    if "/" in token:  # a/b written without spaces: each side on its own
        return " ".join(_word_plain(t) for t in token.split("/") if t)
    return _word_plain(token)


def _word_plain(token: str) -> str:
    token = token.removesuffix("'s").strip("'")
    expanded = _SHORTHAND_STEMMED.get(token)
    if expanded is not None:
        return expanded
    return stem(token)


def _normalise_cached(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().translate(TRAD_TO_SIMP)
    text = _AGE_SEX.sub(_age_sex, text)  # "3 y/o m", "3yo/m" -> "yom"
    text = _AGE_TAIL.sub(r" \1 ", text)  # "3yom" -> "yom"
    text = _TOKEN.sub(_word, text)
    text = _NUMBER.sub("0", text)
    return _SPACES.sub(" ", text).strip()


def normalise(text: object) -> str:
    """The normalised form of a narrative or product name (``""`` for a missing value)."""
    if not isinstance(text, str) or not text:
        return ""
    return _normalise_cached(text)


def normalise_model_text(text: str) -> str:
    """``normalise`` applied to each side of a model text ``product | narrative``."""
    name, sep, narrative = text.partition(" | ")
    if not sep:
        return normalise(text)
    return f"{normalise(name)} | {normalise(narrative)}"
