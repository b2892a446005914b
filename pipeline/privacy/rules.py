"""The scrubber's patterns: one compiled rule per way an identifier is written, each with an
RE2 trigger for the column path, and the coarse gates and trigger groups that path runs.

A rule's ``span`` picks the part of a match to replace (the identifier, not its label word:
"电话[电话]", "其母[姓名]") or refuses the match (a brand, an ordinary word). Placeholders are
typed and follow the language of the text: Chinese in text holding Chinese characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline.privacy import lexicon as L
from pipeline.privacy import names as N

# ---- placeholders --------------------------------------------------------------------------

KINDS: tuple[str, ...] = ("id_number", "phone", "email", "im_id", "address", "name")
# Placeholder by kind: (Chinese, English). "document" is an ID number that is not a resident
# ID (passport, permit, SSN); it counts as id_number.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "id_number": ("[身份证号]", "[ID]"),
    "document": ("[证件号]", "[ID]"),
    "phone": ("[电话]", "[PHONE]"),
    "email": ("[邮箱]", "[EMAIL]"),
    "im_id": ("[社交账号]", "[IM_ID]"),
    "address": ("[地址]", "[ADDRESS]"),
    "name": ("[姓名]", "[NAME]"),
}
ALL_PLACEHOLDERS: tuple[str, ...] = tuple(sorted({p for v in PLACEHOLDERS.values() for p in v}))
ID_MASK, PHONE_MASK, NAME_MASK = "[身份证号]", "[电话]", "[姓名]"

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _words(text: str) -> frozenset[str]:
    """A word list written as one space-separated string (easier to read and extend)."""
    return frozenset(text.split())


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words`` (longest first), factored as a prefix trie so that
    Python's engine sees a branch of literals (fast first-character scan) instead of a long
    list it tries one by one."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            body = "(?:" + body + ")?" if len(branches) > 1 else f"(?:{body})?"
        return body

    return "(?:" + emit(trie) + ")"


# ---- character classes ---------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _d(chars: str) -> str:
    """A digit class that also accepts the full-width forms: _d("3-9") -> [3-9３-９]."""
    return f"[{chars}{chars.translate(_FULLWIDTH)}]"


D = _d("0-9")
NOT_D_BEFORE = r"(?<![0-9０-９])"
NOT_D_AFTER = r"(?![0-9０-９])"
SP = "[ \u00a0\u3000]"  # a space, as written in Chinese and English text (never a newline)
SEP = rf"(?:{SP}?[\-－‐‑–—.．·・]{SP}?|{SP}{{1,2}})?"  # between two digits of one number
ZH_NUM = "[一二三四五六七八九十百千零〇两]"
NUM = rf"(?:{D}+|{ZH_NUM}+)"
RE2_SEP_CHARS = "\\-－‐‑–—.．·・ \u00a0\u3000"


def _more_digits(n: str) -> str:
    return rf"(?:{SEP}{D}){{{n}}}"


# ---- ID and document numbers, phones -------------------------------------------------------

ID18 = NOT_D_BEFORE + _d("1-9") + _more_digits("16") + SEP + "[0-9０-９XxＸｘ]" + NOT_D_AFTER
# 15-19 digits: old 15-digit IDs, bank cards. Not right after a letter, so a hospital case
# number such as BJ001-20260928-0001 survives.
LONG_NUMBER = r"(?<![0-9０-９A-Za-z])" + D + _more_digits("14,18") + NOT_D_AFTER
COUNTRY_CODE = (
    rf"(?:(?:[+＋]|00|００){SP}?(?:86|８６){SEP}|(?:86|８６){SEP}|[(（][+＋]?(?:86|８６)[)）]{SP}?)"
)
# A mobile: 1[3-9] and 9 digits, any separators; not after "+" ("+1 808 ..." is a US number).
MOBILE = (
    rf"{NOT_D_BEFORE}(?:{COUNTRY_CODE}|(?<![+＋]))"
    + rf"{_d('1')}{SEP}{_d('3-9')}"
    + _more_digits("9")
    + NOT_D_AFTER
)
AREA_CODE = rf"{_d('0')}(?:{_d('1')}{_d('0')}|{_d('2')}{D}|{_d('3-9')}{D}{D})"
EXTENSION = rf"(?:{SP}?(?:转|分机|ext\.?|x|X|-|#){SP}?{D}{{1,5}})?"
LANDLINE = (
    NOT_D_BEFORE
    + rf"(?:(?:[+＋]|00){SP}?86{SEP})?"
    + rf"(?:[(（]{SP}?{AREA_CODE}{SP}?[)）]{SP}?|{AREA_CODE}{SEP})"
    + _d("1-9")
    + _more_digits("6,7")
    + EXTENSION
    + NOT_D_AFTER
)
# A Chinese landline written with the country code, the area code without its 0:
# "0086-21-6321 8876", "+86 10 8765 4321".
LANDLINE_CC = (
    NOT_D_BEFORE
    + rf"(?:[+＋]|00|００){SP}?(?:86|８６){SEP}"
    + rf"[(（]?(?:{_d('1')}{_d('0')}|{_d('2')}{D}|{_d('3-9')}{D}{D})[)）]?{SEP}"
    + _d("1-9")
    + _more_digits("6,7")
    + EXTENSION
    + NOT_D_AFTER
)
# A North American number written as ten bare digits ("Mom's #: 5553104478").
US_PLAIN = r"(?<![0-9A-Za-z\-_])[2-9][0-9]{2}[2-9][0-9]{6}(?![0-9A-Za-z])"
US_PHONE = (
    r"(?<![0-9A-Za-z])(?:\+?1[ .\-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .\-])"
    r"[0-9]{3}[ .\-][0-9]{4}(?: ?(?:x|ext\.?) ?[0-9]{1,5})?(?![0-9])"
)
# Other countries' numbers written with their "+" code: +852 9123 4567, +82 10-1234-5678.
INTL_PHONE = r"(?<![0-9A-Za-z+])\+(?!86|1[ .\-(]?[2-9])[0-9]{1,3}[ .\-]?(?:\([0-9]{1,4}\)[ .\-]?)?[0-9]{1,4}(?:[ .\-]?[0-9]{2,4}){1,4}(?![0-9])"
SSN = r"(?<![0-9A-Za-z])[0-9]{3}([\- ])[0-9]{2}\1[0-9]{4}(?![0-9])"
# Chinese passports (E/G + 8 digits, EA + 7, diplomatic D/S/P) and Hong Kong IDs.
PASSPORT = (
    r"(?<![A-Za-z0-9])(?:[EGDSP][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|[A-Z]{1,2}[0-9]{6}\([0-9A]\))"
    r"(?![A-Za-z0-9])"
)
_ID_WORDS = (
    *L.words(
        "身份证号码 身份证号 身份证 证件号码 证件号 护照号码 护照号 护照 通行证号码 通行证号 通行证 "
        "回乡证 台胞证 居住证 社保卡号 医保卡号 银行卡号 卡号"
    ),
    *(
        form
        for word in (
            "passport no.",
            "passport no",
            "passport number",
            "passport #",
            "passport",
            "id no.",
            "id number",
            "id #",
            "id#",
            "ssn",
            "ss#",
            "ss #",
            "social security number",
            "social security no.",
            "social security",
        )
        for form in (word, word.title(), word.upper(), word.capitalize())
    ),  # fmt: skip
    "ID No.",
    "ID no.",
    "ID number",
    "SS#",
)
# A document number after its label: letters and digits, at least 5 digits (checked).
ID_AFTER_WORD = (
    rf"(?P<kw>(?<!\[){_alternation(_ID_WORDS)}[^A-Za-z0-9０-９\n]{{0,6}}?)"
    r"(?P<v>(?<![A-Za-z0-9０-９])[A-Za-z0-9０-９](?:[A-Za-z0-9０-９XxＸｘ]|"
    rf"{SEP}(?=[0-9０-９])){{4,24}})(?![A-Za-z0-9０-９])"
)
_PHONE_WORDS = (
    *L.words(
        "联系电话 电话号码 手机号码 手机号 电话 手机 座机 固话 联系方式 来电 致电 回拨 拨打 打给 号码 "
        "短信"
    ),
    *(
        form
        for word in (
            "tel",
            "phone",
            "cell",
            "mobile",
            "call",
            "called",
            "ph",
            "contact",
            "fax",
            "whatsapp",
            "text",
            "texted",
            "number",
        )
        for form in (word, word.title(), word.upper())
    ),  # fmt: skip
    "WhatsApp",
)
# Any 7-12 digit number right after a phone word (a phone without area code, or a form the
# other patterns do not know); not when a batch/model/barcode word stands in between.
PHONE_AFTER_WORD = (
    rf"(?P<kw>(?<!\[){_alternation(_PHONE_WORDS)}[^0-9０-９\n]{{0,8}}?)"
    rf"(?P<v>{NOT_D_BEFORE}(?:[+＋]{D}{{1,3}}{SEP})?(?:[(（]{D}{{2,4}}[)）]{SP}?)?"
    rf"{D}(?:{SEP}{D}){{6,11}}" + EXTENSION + r")" + NOT_D_AFTER
)
_TAIL_WORDS = (
    *L.words("尾号 后四位 后4位 末四位 末4位 前六位 前6位 后十二位 后12位 后面是 后几位是 开头是"),
    "last four",
    "last 4",
    "Last four",
)
# "尾号5678" / "前6位是140202": part of a phone or an ID number is still an identifier.
TAIL_DIGITS = (
    rf"(?P<kw>{_alternation(_TAIL_WORDS)}[^0-9０-９\n]{{0,12}}?)"
    rf"(?P<v>{NOT_D_BEFORE}{D}(?:{SEP}{D}){{3,17}}[XxＸｘ]?){NOT_D_AFTER}"
)
_NOT_PHONE_GAP = re.compile(
    r"批号|批次|型号|编号|条码|条形码|货号|单号|订单|序列号|住院号|门诊号|病案号|病历号|"
    r"lot|batch|model|serial|barcode|upc|ean|mrn|case|record|ticket|sn\b",
    re.IGNORECASE,
)
_BARCODE_BEFORE = re.compile(
    r"(?:条码|条形码|barcode|upc|ean|gtin|批号|批次|lot|batch|住院号|门诊号|mrn|serial|(?<![a-z])sn)"
    r"[^0-9]{0,4}$",
    re.IGNORECASE,
)

# ---- e-mail and instant-messaging ids ------------------------------------------------------

_TLD = r"(?:com|net|org|edu|gov|cn|io|co|us|uk|ca|hk|tw|jp|de|fr|me|info|biz|au|sg)"
EMAIL = (
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*"
    r"(?:[@＠]|(?: ?[(\[（【] ?(?:at|AT|艾特) ?[)\]）】] ?))"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:[.．][A-Za-z0-9\-]+)*"
    r"(?:[.．]| ?[(\[（【] ?(?:dot|DOT) ?[)\]）】] ?)[A-Za-z]{2,}(?![A-Za-z0-9])"
    # spelled out: "kim.nguyen.mom at gmail dot com"
    r"|(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]* (?:at|AT) [A-Za-z0-9\-]+"
    rf"(?: (?:dot|DOT) [A-Za-z0-9\-]+)* (?:dot|DOT) (?i:{_TLD})(?![A-Za-z0-9])"
)
_IM_WORDS_ZH = L.words(
    "微信号 微信账号 微信ID 微信id 微信名 微信 威信 扣扣号 扣扣 QQ号码 QQ号 qq号 V信 v信"
)
_IM_WORDS_LATIN = L.words("WeChat Wechat wechat WECHAT weixin Weixin WX Wx VX Vx QQ qq wx vx")
IM_ID = (
    rf"(?P<kw>(?:{_alternation(_IM_WORDS_ZH)}|(?<![A-Za-z]){_alternation(_IM_WORDS_LATIN)}"
    rf"(?:(?<=[A-Z]{{2}})|(?![a-z])))"
    rf"{SP}*(?:号码|账号|号|ID|id|Id|number|no\.?|account)?{SP}*[:：]?{SP}*(?:是|为|is|:)?{SP}*)"
    r"(?P<v>(?:[A-Za-z][A-Za-z0-9_\-]{3,24}|[0-9０-９](?:[0-9０-９]| (?=[0-9])){4,13}))"
    r"(?![A-Za-z0-9_\-])"
)
WXID = r"wxid_[A-Za-z0-9_\-]{4,24}"
# An id a few words after the IM word ("加我微信吧，qiaoqiao-mom", "WeChat (ahmed_sayed_90)",
# "Prefers WeChat for contact: meilin_huang", "vxgeming45"): it must look like an id (letters
# with digits, underscores or hyphens), and nothing may end the sentence in between.
IM_NEAR = (
    rf"(?P<kw>(?:{_alternation(_IM_WORDS_ZH)}|(?<![A-Za-z]){_alternation(_IM_WORDS_LATIN)}"
    r"(?![a-z]))(?:[^。；;！!？?\n\[\]]|\[[^\]\n]{1,6}\]){0,24}?"
    r"|(?<![A-Za-z])(?:vx|wx|VX|WX|Vx|Wx)(?=[a-z0-9_]*[0-9_]))"
    r"(?P<v>(?<![A-Za-z0-9_\-@.])[A-Za-z][A-Za-z0-9]*(?:[_\-.][A-Za-z0-9]+)+"
    r"|(?<![A-Za-z0-9_\-@.])[A-Za-z][A-Za-z]*[0-9][A-Za-z0-9_]*"
    r"|(?<=vx|wx|VX|WX|Vx|Wx)[a-z0-9_]{4,24})"
    r"(?![A-Za-z0-9_\-@＠]|[.．][A-Za-z])"
)
# English words that follow an IM word and are not an id ("WeChat group", "微信 follow-up").
_IM_NOT_IDS = frozenset(
    L.words(
        "group groups chat chats message messages call calls video voice follow-up followup "
        "contact contacts account friend friends only please moments pay payment photo photos "
        "picture pictures number user name later instead too also first"
    )
)
_IM_WORD_AT_START = re.compile(
    rf"^(?:{_alternation(_IM_WORDS_ZH)}|{_alternation(_IM_WORDS_LATIN)})"
)
_IM_NEAR_NOT = re.compile(
    r"型号|批号|批次|编号|货号|条码|序列号|model|lot|batch|serial|sn\b|#", re.I
)

# ---- addresses -----------------------------------------------------------------------------

# Characters a Chinese place name is made of: word characters that are not digits, Latin
# letters, or words that stop a place name (verbs and particles around an address).
_PLACE_STOP = (
    "在于住到从往经过去的是与及我他她其将把被位至沿距离旁时了着由让叫给对诉称说患者送骑驶摔倒"
    "跌落伤致撞为址自请家用"
)
PC = rf"[^\W\d_A-Za-zＡ-Ｚａ-ｚ{_PLACE_STOP}]"
PCL = rf"(?:{PC}|[A-Za-z家])"  # estate and building names may hold Latin letters (IFS公寓)
_ADMIN_SUFFIX = L.words(
    "特别行政区 自治区 自治州 自治县 开发区 新区 街道 地区 省 市 州 盟 区 县 旗 镇 乡"
)
_ROAD_SUFFIX = L.words("大道 大街 胡同 路 街 巷 弄 道 里")
_ESTATE_SUFFIX = L.words(
    "小区 花园 公寓 大厦 新村 家园 广场 大楼 商厦 花苑 雅苑 名苑 嘉园 佳园 华庭 山庄 公馆 宿舍 大院 "
    "社区 新城 校区 家属区 家属院 城 苑 府 庭 园 湾 居 坊 阁 邸 里 大学 学院 工业区 工业园 产业园 "
    "科技园 厂区"
)
_VILLAGE_SUFFIX = ("村", "屯", "寨", "庄")
# Atomic: once an administrative unit has matched ("广州市") the engine does not try other ways
# to split the same characters, which keeps long runs of place characters linear.
# 家 stops a place name ("家住…"), but "石家庄市" and "马家沟村" are one name.
_FAMILY_PLACE = f"(?:[{L.SURNAMES_1}]家)?"
ADMIN = rf"(?>{_FAMILY_PLACE}{PC}{{1,7}}?{_alternation(_ADMIN_SUFFIX)})"
ROAD = rf"(?:{PC}{{1,8}}?{_alternation(_ROAD_SUFFIX)}(?:[东西南北中]段|{ZH_NUM}段)?)"
_BLOCK_WORDS = L.words("号楼 号院 栋 幢 座 单元 楼 层 室 房 户 号 # ＃ 组 队 区 社 门 期 舍 塔")
_BLOCK_WORD = _alternation(_BLOCK_WORDS)
BLOCK_PART = rf"(?:{SP}?(?:{NUM}|[A-Za-z]{{1,2}}[0-9]{{0,3}}|[甲乙丙丁东西南北]){SP}?{_BLOCK_WORD})"
DASH_FORM = rf"(?:{SP}?(?:[A-Za-z]|{D}{{1,3}})(?:[\-－]{D}{{1,4}}){{1,3}})"
# A room number written bare at the end ("6栋703", "公寓2808"), not a date, age or count.
BARE_ROOM = (
    rf"(?:{SP}?{D}{{3,4}}(?![0-9０-９])(?!{SP}?[年月日号岁时分秒点个人次元班级届])(?:室|房|户)?)"
)
ESTATE = rf"(?:{PCL}{{1,10}}?{_alternation(_ESTATE_SUFFIX)})"
_STRONG_BLOCK_WORD = "(?:号楼|号院|栋|幢|座|单元|楼|层|室|期|舍|塔)"
# A building named after the house number, before its block number ("88号金域中央3栋1505").
BUILDING = (
    rf"(?:{PCL}{{1,14}}?(?={SP}?(?:{NUM}|[A-Za-z]{{1,2}}[0-9]{{0,3}}){SP}?{_STRONG_BLOCK_WORD}"
    rf"|{DASH_FORM}))"
)
VILLAGE = (
    rf"(?:{_FAMILY_PLACE}{PC}{{1,6}}?{_alternation(_VILLAGE_SUFFIX)}(?:{PC}{{0,3}}?[村组屯])?)"
)
# "11号之二", "174号附12号": a sub-number of the house.
HOUSE = (
    rf"(?:{SP}?(?:{NUM}{SP}?(?:弄|巷|支弄){SP}?)*{NUM}{SP}?[号號](?:院)?"
    rf"(?:之{ZH_NUM}{{1,2}}|附{NUM}{SP}?[号號])?)"
)
_NAMED_ESTATE = L.words(
    "小区 花园 公寓 大厦 新村 家园 山庄 宿舍 大院 花苑 雅苑 名苑 嘉园 佳园 华庭 公馆"
)
ZH_ADDRESS = (
    rf"{ADMIN}{{0,6}}(?:"
    rf"(?P<road>{ROAD}{HOUSE}(?:{BLOCK_PART}|{DASH_FORM})*"
    rf"(?:(?:{BUILDING}|{ESTATE})(?:{BLOCK_PART}|{DASH_FORM})*){{0,2}}"
    rf"{BARE_ROOM}?)"
    rf"|(?P<estate>{ESTATE})(?:(?:{BLOCK_PART}|{DASH_FORM})+{BARE_ROOM}?|{BARE_ROOM})"
    rf"|(?P<village>{VILLAGE})(?:{ESTATE}(?={SP}?(?:{NUM}|[A-Za-z]))?{BLOCK_PART}+)?{BLOCK_PART}*"
    r")"
    # an estate named with its city or district, without building or room
    rf"|{ADMIN}{{1,6}}(?P<named>{PCL}{{1,10}}?{_alternation(_NAMED_ESTATE)})"
)
_STRONG_BLOCK = re.compile(r"号楼|栋|幢|座|单元|室|户|[0-9０-９][\-－][0-9０-９]|[0-9０-９]{3}")
_BLOCK_WORD_RE = re.compile(_BLOCK_WORD)
_ADDRESS_WORDS = L.words(
    "家庭住址 现住址 户籍地址 联系地址 通讯地址 收货地址 寄回地址 送货地址 居住地址 家住 住址 现住 现居 "
    "住在 居住在 居住于 住于 户籍地 户口所在地 暂住 地址 老家 小区名称 所住小区 所在小区 住处 "
    "addr Addr ADDR address Address ADDRESS"
)
ADDRESS_AFTER_WORD = (
    rf"(?P<kw>(?<!\[){_alternation(_ADDRESS_WORDS)}[:：]?{SP}*)"
    r"(?P<v>[^\s，。；,;！!？?\n（()）\[\]【】、]{2,40})"
)
_ADDRESS_MARK = re.compile(
    r"[省市区县镇乡村屯路街巷弄号栋幢园苑府庭]|小区|公寓|大厦|单元|宿舍|大院|新村|[0-9０-９]+室"
)
_NOT_ADDRESS = L.words(
    "农村 城里 城市 乡下 本地 外地 附近 楼上 楼下 隔壁 市区 郊区 县城 城区 同病历 同上 乡村 本村 同村 "
    "该村 全村 邻村 山村 渔村 城中村 新农村 度假村 奥运村 地球村 养老村 村庄 山庄 农庄 饭庄 茶庄 钱庄 "
    "布庄 酒庄 庄园 村寨 山寨 营寨 公园 幼儿园 动物园 游乐园 植物园 校园 果园 菜园 家园 医院"
)
_EN_STREET = L.words(
    "Street St Avenue Ave Road Rd Boulevard Blvd Lane Ln Drive Dr Court Ct Way Place Pl Terrace "
    "Ter Circle Cir Parkway Pkwy Highway Hwy Trail Trl Square Sq Loop Pike Plaza Alley Route "
    "STREET ST AVENUE AVE ROAD RD BOULEVARD BLVD LANE LN DRIVE DR COURT CT WAY PLACE PL TERRACE "
    "CIRCLE PARKWAY PKWY HIGHWAY HWY TRAIL ROUTE"
)
_EN_STREET_RE = _alternation(_EN_STREET)
_EN_CITY_TAIL = (
    r"(?:,[ \t\u00a0]*[A-Z][A-Za-z]+(?:[ \t\u00a0][A-Z][A-Za-z]+){0,2},?[ \t\u00a0]*[A-Z]{2}\b"
    r"(?:[ \t\u00a0]+[0-9]{5}(?:-[0-9]{4})?)?)?"
)
_EN_UNIT = (
    r"(?:,?[ \t\u00a0]*(?:Apt|Apartment|Unit|Suite|Ste|Rm|Room|Fl|Floor|Bldg|APT|UNIT|SUITE|#)"
    r"\.?[ \t\u00a0]*#?[A-Za-z0-9\-]{1,6}\b)?"
)
_EN_ADDRESS_BODY = (
    r",?[ \t\u00a0]+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?[ \t\u00a0]+)?"
    r"(?:(?:[A-Z][A-Za-z'\-]*|[0-9]{1,3}(?:st|nd|rd|th|ST|ND|RD|TH))\.?[ \t\u00a0]+){1,3}"
    rf"{_EN_STREET_RE}\b(?:\.(?=,|[ \t\u00a0]+(?:Apt|Apartment|Unit|Suite|Ste|APT|UNIT|#)))?"
    + _EN_UNIT
    + _EN_CITY_TAIL
)
# A unit or a named building before the house number: "Room 1412, 700 Main St",
# "Wilson Hall Rm 312, 1200 Campus Dr", "Flat 6B, 88 Queen's Road".
_EN_UNIT_BEFORE = (
    r"(?:(?<![A-Za-z])(?:(?:[A-Z][a-z]+[ \t\u00a0]){1,2}(?:Hall|House|Tower|Building|Bldg|Court|"
    r"Residence|Dorm)[ \t\u00a0,]+)?(?:Apt|Apartment|Unit|Suite|Ste|Rm|Room|Flat|FLAT|APT|UNIT)"
    r"\.?[ \t\u00a0]*#?[0-9A-Z][0-9A-Za-z\-]{0,5},?[ \t\u00a0]+)?"
)
# Roads named by a number ("County Road 9", "Route 66") and Hong Kong districts after the
# street ("88 Queen's Road, Central, Hong Kong").
_EN_ROAD_NUMBER = r"(?:(?:(?<=Road)|(?<=Route)|(?<=Highway))[ \t\u00a0][0-9]{1,4}[A-Z]?\b)?"
_HK_TAIL = (
    r"(?:(?:,[ \t\u00a0]*[A-Z][a-z]+(?:[ \t\u00a0][A-Z][a-z]+)?){0,2},[ \t\u00a0]*"
    r"(?:Hong Kong|HK|Kowloon|New Territories|Macau|Macao)\b)?"
)
EN_ADDRESS = (
    rf"{_EN_UNIT_BEFORE}(?<![A-Za-z0-9])[0-9]{{1,6}}[A-Z]?"
    + _EN_ADDRESS_BODY.replace(rf"{_EN_STREET_RE}\b", rf"{_EN_STREET_RE}\b{_EN_ROAD_NUMBER}")
    + _HK_TAIL
)
# Hong Kong flats: "Flat 12B, 8/F, Block 3, Taikoo Shing".
HK_FLAT = (
    r"(?<![A-Za-z])(?:Flat|FLAT|Rm|Room|Unit)\.? ?[0-9A-Z]{1,5},? ?[0-9]{1,2}/F"
    r"(?:,? ?(?:Block|Blk|Tower|Tsuen) ?[0-9A-Z]{1,3})?(?:,? ?[A-Z][a-z]+(?: [A-Z][a-z]+){0,3}){0,3}"
)
PO_BOX = (
    r"(?<![A-Za-z])(?:[Pp]\.? ?[Oo]\.? ?(?:Box|BOX|box)|(?:RR|R\.R\.|Rural Route|HC) ?#?[0-9]{1,4},? "
    r"(?:Box|BOX|box)) ?#?[0-9]{1,6}" + _EN_CITY_TAIL
)

# ---- person names --------------------------------------------------------------------------

SURNAMES_2 = L.SURNAMES_2
SURNAMES_1 = L.SURNAMES_1
GIVEN = L.GIVEN
_SURNAME = _alternation((*SURNAMES_2, *SURNAMES_1))
_GIVEN = f"[{GIVEN}]"
_MINORITY = (
    f"{_alternation(L.MINORITY_NAME_PARTS)}(?:[·•・]?{_alternation(L.MINORITY_NAME_PARTS)})*"
)
_ZH_NAME_SEP = f"(?:{SP}?[:：]{SP}?|{SP}|是|叫|为)?"
_DOT_NAME = r"[\u4e00-\u9fff]{1,6}[·•・][\u4e00-\u9fff]{1,8}"  # 阿里木·吐尔逊
# A name's last character may be any one when the clause ends right after it ("家长蒙德才 身份证",
# "婴儿邓子默，"): uncommon given-name characters.
_CLOSING_CHAR = r"(?![男女])[\u4e00-\u9fff](?=[，,。．；;、\s）)]|$|[男女0-9０-９]|电话|手机|身份|微信|联系|陪同|接听)"
# A name after a role word or a name label: "其母王秀英", "患儿父亲李强", "姓名：诸葛小明",
# "患儿小明", "患儿乐乐", "患者巴特尔". The role word stays, the name goes.
ZH_NAME_AFTER_ROLE = (
    rf"(?P<kw>(?<!\[){_alternation(L.ROLE_WORDS_ZH)}{_ZH_NAME_SEP})"
    rf"(?P<v>{_DOT_NAME}|{_MINORITY}|{_SURNAME}{_GIVEN}(?:{_GIVEN}|{_CLOSING_CHAR})?"
    rf"|{_SURNAME}{_CLOSING_CHAR}|[小阿]{_GIVEN}{{1,2}}"
    rf"|(?P<dup>{_GIVEN})(?P=dup))"
)
# A surname (with or without a given name) and a title: "张阿姨", "王秀英女士", "老刘".
ZH_NAME_WITH_TITLE = (
    rf"(?P<v>{_SURNAME})(?P<given>{_GIVEN}{{0,2}}?)(?P<title>{_alternation(L.TITLES_ZH)})"
    rf"|(?P<old>老[{SURNAMES_1}])(?![\u4e00-\u9fff]{{0,1}}[{GIVEN}])"
)
ZH_COMPOUND_NAME = rf"(?P<v>{_alternation(L.SURNAMES_2_ANYWHERE)}{_GIVEN}{{1,2}}|{_MINORITY})"
# Any 2-4 character name right after an explicit name label, whatever the surname.
ZH_NAME_AFTER_LABEL = (
    rf"(?P<kw>(?<!\[){_alternation(L.NAME_LABELS)}{SP}?[:：]{SP}?)"
    r"(?P<v>[\u4e00-\u9fff]{2,4}(?:[·•][\u4e00-\u9fff]{2,6})?)"
    r"(?=[\s，,。．.；;、：:！!？?（()）]|$|[男女]|[0-9０-９]|电话|手机|身份|联系)"
)
# A name at the start of a clause (or after 与/跟/联系 ...) followed by a verb of speech or
# action: "回访记录：何敏称…", "需与何敏确认", "石磊说…".
ZH_NAME_BEFORE_VERB = (
    rf"(?P<kw>^|(?<=[：:，,。；;、\s“”\"「」（(])|{_alternation(L.BEFORE_NAME)})"
    rf"(?P<v>{_SURNAME}{_GIVEN}{{1,2}}?)(?={_alternation(L.VERBS_AFTER_NAME)})"
)
# A name as the object of 转告/联系/通知…, closed by punctuation: "说会转告黎佳。"
ZH_NAME_AFTER_VERB = (
    rf"(?P<kw>{_alternation(L.BEFORE_NAME)})(?P<v>{_SURNAME}{_GIVEN}{{1,2}})"
    r"(?=[，,。．；;！!？?、\s）)]|$)"
)
# A name standing alone between spaces in shorthand ("双足烫伤 宓红英 老身份证").
ZH_NAME_TOKEN = (
    rf"(?<=[\u4e00-\u9fff0-9A-Za-z] )(?P<v>{_SURNAME}{_GIVEN}{{1,2}})(?= [\u4e00-\u9fff0-9A-Za-z+])"
)
# A nickname opening a note, followed by age or sex: "婷婷 4岁", "龙龙（龙子睿）".
ZH_NICKNAME_OPENING = (
    r"(?P<kw>^|(?<=[。；;\n]))"
    rf"(?P<v>(?P<dup>[{GIVEN}])(?P=dup)|[小阿]{_GIVEN})"
    r"(?=[，,\s]*(?:[0-9０-９]+(?:岁|个月|月龄|月|天)|[男女][，,\s]|（|\())"
)
# "阿强", "阿明": 阿 and a common nickname character is a person wherever it stands.
_A_NICK = "强明华芳红英珍伟杰军勇斌宝妹娟玲梅兰亮峰龙虎东丽秀海平福贵财生顺成文武辉飞霞萍敏静婷娇美仔荣水发"
ZH_A_NICKNAME = rf"(?P<v>阿[{_A_NICK}])(?![{_A_NICK}])"
# A person's name in brackets right after a name already replaced: "[姓名]（龙子睿）".
NAME_IN_BRACKETS = (
    r"(?P<kw>(?:\[姓名\]|\[NAME\])\s?[（(](?:大名|小名|本名|英文名|中文名)?[:：]?\s?)"
    rf"(?P<v>{_SURNAME}{_GIVEN}{{1,2}}|[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){{1,2}})(?=[）)])"
)
# A nickname or English name right before a bracket that holds the person's name or says what
# the word is: "小明（刘子明）", "Mary（王美丽）", "米粒（小名）", "牛牛（大名…）". Runs after the
# name in the bracket was replaced.
_NICK_LABELS = "小名|乳名|大名|昵称|英文名|中文名|本名|学名"
NICKNAME_BEFORE_BRACKET = (
    r"(?:^|(?<=[，,。；;：:\s“\"「（(]))(?P<v>[\u4e00-\u9fff]{2,3}|[A-Z][a-z]+)"
    rf"(?=[（(](?:{_NICK_LABELS})?[:：]?(?:\[姓名\]|\[NAME\])"
    rf"|[（(](?:{_NICK_LABELS})[）)，,])"
)
_EN_NOT_NAMES = L.NOT_NAMES_EN
_FIRST = _alternation(L.FIRST_NAMES)
_FIRST_UPPER = _alternation(n.upper() for n in (*L.FIRST_NAMES, *N.us_first_names()))
# Latin letters with the accents of European names (Öztürk, José), upper and lower case.
_UP, _LO = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_EN_WORD = rf"(?:[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)?(?:['’\-][{_UP}]?[{_LO}]+)?|[{_UP}]['’][{_UP}][{_LO}]+)"
_EN_CAPS = r"(?:[A-Z]{2,}(?:['’\-][A-Z]{2,})?|[A-Z]['’][A-Z]{2,})"
_NICK = r"(?:[ \t\u00a0][\"“'‘][A-Z][a-z]+[\"”'’])?"  # Robert "Bobby" Chen
_EN_TITLES = L.words("Mr Mrs Ms Miss Mx Dr Prof Mister Madam MR MRS MS DR")
EN_NAME_WITH_TITLE = (
    rf"(?P<v>(?<![A-Za-z]){_alternation(_EN_TITLES)}\.?[ \t\u00a0]?"
    rf"(?:(?<=[ \t\u00a0]){_EN_WORD}(?:[ \t\u00a0]{_EN_WORD}){{0,2}}|(?<=[ \t\u00a0]){_EN_CAPS}"
    rf"(?:[ \t\u00a0]{_EN_CAPS}){{0,2}}|{_SURNAME}{_GIVEN}{{0,2}}))"
)
_EN_ROLE = _alternation(
    dict.fromkeys(f for w in L.ROLE_WORDS_EN for f in (w, w.title(), w.upper(), w.capitalize()))
)
# A name after an English role word: "Dad Chris Baker", "MOTHER AMBER COLLINS", "Son Ken".
EN_NAME_AFTER_ROLE = (
    rf"(?P<kw>(?<![A-Za-z]){_EN_ROLE}(?:'s|'S)?(?:,|:| w/)?[ \t\u00a0]\(?(?:(?:to|with|w/|of) )?)"
    rf"(?P<v>{_EN_WORD}{_NICK}(?:[ \t\u00a0](?:[A-Z]\.?[ \t\u00a0])?{_EN_WORD}){{0,2}}"
    rf"|{_FIRST_UPPER}(?:[ \t\u00a0][A-Z]\.?)?(?:[ \t\u00a0]{_EN_CAPS}){{0,2}})"
    r"(?![A-Za-z])"
)
# A first name (of the name lists) and a capitalised word, wherever it stands: "Reached Amber
# Collins at", "Unable to reach Ricky Vasquez"; the span function checks the words.
EN_FULL_NAME = (
    rf"(?P<v>(?<![A-Za-z]){_EN_WORD}{_NICK}(?:[ \t\u00a0][A-Z]\.?)?[ \t\u00a0]{_EN_WORD}"
    rf"(?:[ \t\u00a0]{_EN_WORD}){{0,2}}(?![A-Za-z]))"
)
# Another name joined to a name already replaced: "[NAME] & Bianca", "[NAME] and Olga Petrov".
EN_NAME_AFTER_NAME = (
    r"(?P<kw>\[(?:NAME|姓名)\](?:,| &| and|、|和|与)[ \t\u00a0]?)"
    rf"(?P<v>{_EN_WORD}(?:[ \t\u00a0]{_EN_WORD})?)(?![A-Za-z])"
)
# A first name standing alone in mixed-case text: "child (Emma, 18 mo)", "a Derek in Dayton".
EN_BARE_FIRST = rf"(?<![A-Za-z'’\-.])(?P<v>[{_UP}][{_LO}]+)(?![A-Za-z'’\-])"
# Registration copies: "PARKER, DONNA L", "Holloway, Janet M".
EN_LAST_FIRST = (
    rf"(?P<v>(?<![A-Za-z])(?:{_EN_CAPS},[ \t\u00a0]{_FIRST_UPPER}|{_EN_WORD},[ \t\u00a0]{_FIRST})"
    r"(?:[ \t\u00a0][A-Z]\.?)?(?![A-Za-z]))"
)
# A known first name with a Chinese surname: "Rebecca 陈", "James 林".
EN_FIRST_ZH_SURNAME = (
    rf"(?P<v>(?<![A-Za-z]){_FIRST}[ \t\u00a0]?{_SURNAME}(?:{_GIVEN}{{1,2}})?)(?![\u4e00-\u9fff])"
)
# Chinese or English names after an English role word in either script: "CONTACT 王秀英",
# "患者 Michael Li".
ZH_NAME_AFTER_EN_ROLE = (
    rf"(?P<kw>(?<![A-Za-z]){_EN_ROLE}(?:'s|'S)?[,:]?{SP}?)(?P<v>{_SURNAME}{_GIVEN}{{1,2}})"
)
EN_NAME_AFTER_ZH_ROLE = (
    rf"(?P<kw>{_alternation(L.ROLE_WORDS_ZH)}{_ZH_NAME_SEP})"
    rf"(?P<v>{_EN_WORD}(?:[ \t\u00a0]{_EN_WORD}){{0,2}})(?![A-Za-z])"
)


# ---- rules ---------------------------------------------------------------------------------

Span = Callable[[re.Match[str]], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Rule:
    """A compiled pattern; ``span`` says which part of a match to replace by the placeholder
    of ``kind`` (None: the match is not an identifier after all). ``trigger`` (RE2 syntax,
    no look-around) matches every text in which ``pattern`` can match: a superset."""

    name: str
    kind: str
    pattern: re.Pattern[str]
    trigger: str
    span: Span
    # A rule that is not one pattern (the name model): text, placeholder -> scrubbed text.
    apply: Callable[[str, str], str] | None = None


def _group(name: str | int = 0, keep: Callable[[re.Match[str]], bool] | None = None) -> Span:
    def span(m: re.Match[str]) -> tuple[int, int] | None:
        if keep is not None and keep(m):
            return None
        return m.span(name)

    return span


def _phone_gap_is_other(m: re.Match[str]) -> bool:
    """Digits after a phone word but behind a batch/model/barcode word are not a phone."""
    return bool(_NOT_PHONE_GAP.search(m.group("kw")))


def _is_barcode(m: re.Match[str]) -> bool:
    return bool(_BARCODE_BEFORE.search(m.string[max(0, m.start() - 14) : m.start()]))


_RECORD_BEFORE = re.compile(
    r"(?:证书|编号|3C|CCC|认证|序列号|条码|条形码|批号|批次|住院号|门诊号|病案号|病历号|订单|单号|工单|"
    r"投诉|受理号|serial|s/n|(?<![a-z])sn|barcode|upc|ean|gtin|lot|batch|mrn|case|order|ticket|"
    r"certificate|cert)[^0-9\n]{0,6}$",
    re.IGNORECASE,
)


def _is_record_number(m: re.Match[str]) -> bool:
    """A 15-19 digit number after a certificate/serial/record word is not a person's ID."""
    return bool(_RECORD_BEFORE.search(m.string[max(0, m.start() - 16) : m.start()]))


def _us_plain_is_not(m: re.Match[str]) -> bool:
    """Ten bare digits are a number of another kind after a record or barcode word, and a
    timestamp when they read as a date (2026011512)."""
    value = m.group(0)
    if value[:2] in ("19", "20") and "01" <= value[4:6] <= "12":
        return True
    return _is_record_number(m) or _is_barcode(m)


def _im_near_is_not(m: re.Match[str]) -> bool:
    """An id-looking token near an IM word that is a product code ("XR-2000" after 型号), or
    a hyphenated word without digits ("follow-up") that does not follow the IM word closely."""
    value, gap = m.group("v"), m.group("kw")
    if _IM_NEAR_NOT.search(gap) or (value.isupper() and "-" in value and len(gap) > 8):
        return True
    if re.search(r"[0-9_]", value):
        return False
    between = _IM_WORD_AT_START.sub("", gap)
    return not re.fullmatch(r"[\s，,:：;；（(“\"「吧呀啊是为的]{0,4}", between)


def _not_a_document(m: re.Match[str]) -> bool:
    value = m.group("v")
    return sum(ch.isdigit() for ch in value) < 5 or bool(_BARCODE_BEFORE.search(m.group("kw")))


def _address_is_place(m: re.Match[str]) -> bool:
    """Keep matches that are places, not addresses: an estate with only one weak part
    ("公园3号门"), a village without admin prefix or number ("农村")."""
    if m.group("estate") is not None:
        tail = m.string[m.end("estate") : m.end()]
        if m.start("estate") > m.start():
            return False  # an estate with its city and district
        return not (_STRONG_BLOCK.search(tail) or len(_BLOCK_WORD_RE.findall(tail)) >= 2)
    if m.group("village") is not None:
        village = m.group("village")
        if village in _NOT_ADDRESS or village[-2:] in _NOT_ADDRESS:
            return True
        has_admin = m.start("village") > m.start()
        has_number = m.end() > m.end("village")
        return not (has_admin or has_number or len(village) >= 3)
    return False


# Words a Chinese address pattern may take for the start of a place name: time words and
# labels ("与上月郑州市…", "地点湖北省…", "宿舍成都市…"). They stay in the text.
_ADDRESS_LEAD = re.compile(
    "^(?:"
    + "|".join(
        sorted(
            L.words(
                "上月 本月 当月 上周 本周 去年 今年 前年 昨天 今天 前天 当天 当时 此前 之前 近日 日前 地点 "
                "事发地点 事发地 宿舍 住址 地址 现场 位于 住在 家在 曾在 就在 在 到 回"
            ),
            key=len,
            reverse=True,
        )
    )
    + ")+"
)


def _address_span(m: re.Match[str]) -> tuple[int, int] | None:
    if _address_is_place(m):
        return None
    lead = _ADDRESS_LEAD.match(m.group(0))
    if lead and _ADDRESS_MARK.search(m.group(0)[lead.end() :]):
        return m.start() + lead.end(), m.end()
    return m.span()


def _context_address_is_not(m: re.Match[str]) -> bool:
    value = m.group("v")
    return not _ADDRESS_MARK.search(value) or value in _NOT_ADDRESS


def _in_brand(text: str, start: int, end: int) -> bool:
    """Is text[start:end] part of a brand named after a person (王老吉, 李宁, Dr. Brown's)?"""
    value = text[start:end]
    for brand in L.NAME_BRANDS:
        at = brand.find(value)
        while at >= 0:
            if text[start - at : start - at + len(brand)] == brand:
                return True
            at = brand.find(value, at + 1)
    return False


# Words that end with the first character of a compound surname: in "家长孙阿姨" the name is
# 孙阿姨, not 长孙.
_COMPOUND_OVERLAP = L.words(
    "家长 队长 校长 班长 院长 村长 市长 县长 部长 厂长 社长 组长 所长 站长 局长 处长 科长 园长 店长 船长 "
    "机长 年长 兄长 师长 延长 增长 成长 擅长 生长 专长 特长 细长 老公 外公 主公 向东 往东 朝东 偏东 "
    "向西 往西 朝西 偏西 向南 往南 向北 往北 人民 上司 公司 官司"
)


def _after_overlap(m: re.Match[str], group: str | int) -> int:
    """Start of a name, moved past a compound surname's first character when that character
    ends the word before it."""
    start = m.start(group)
    if start > 0 and m.string[start - 1 : start + 1] in _COMPOUND_OVERLAP:
        return start + 1
    return start


_CLAUSE_END = re.compile(r"$|[，,。．.、；;：:！!？?\s（(）)]|[男女]|[0-9０-９]")


def _zh_name_is_word(m: re.Match[str]) -> bool:
    value = m.group("v")
    kw = (m.groupdict().get("kw") or "").strip(" \u00a0\u3000:：是叫为")
    kin = kw in L.ROLE_WORDS_ZH and kw not in L.WEAK_ROLES_ZH
    # An ordinary word closed by punctuation, sex or age right after a role word is a name
    # ("患者林子，男"); running on into the sentence it is a word ("患者高处坠落").
    closed = kw in L.ROLE_WORDS_ZH and _CLAUSE_END.match(m.string, m.end("v")) is not None
    not_names = L.NOT_NAMES_AFTER_KIN if kin or closed else L.NOT_NAMES
    if value[:2] in not_names or value in L.NOT_NICKNAMES:
        return True
    if _in_brand(m.string, m.start("v"), m.end("v")):
        return True
    return value[0] == "于" and "姓名" not in m.group(0)


# A name found by a rule does not end with the first character of the word after it:
# "其子苟建电话…" is 苟建, not 苟建电.
_WORD_AFTER_NAME = frozenset(
    L.words("电话 手机 微信 邮箱 身份 联系 住址 地址 护照 家住 陪同 接听 来电 本人 夫妇 一家")
)


def _zh_name_span(m: re.Match[str]) -> tuple[int, int] | None:
    if _zh_name_is_word(m):
        return None
    start, end = m.span("v")
    if end - start >= 3 and m.string[end - 1 : end + 1] in _WORD_AFTER_NAME:
        end -= 1
    return start, end


def _nickname_is_word(value: str) -> bool:
    """Role, kinship and ordinary words before a bracket ("患儿（…）", "说老人（…）", "Mom (…)")."""
    return (
        value[-2:] in L.ROLE_WORDS_ZH
        or value[-2:] in N.LEFT_WORDS
        or value in N.LEFT_WORDS
        or value.lower() in L.ROLE_WORDS_EN
        or value in _EN_NOT_NAMES
        or value in L.NOT_NAMES
    )


def _zh_titled_span(m: re.Match[str]) -> tuple[int, int] | None:
    """ "张阿姨" (a surname and a title) is one name; in "王秀英女士" the title stays."""
    if _in_brand(m.string, *m.span(0)):
        return None
    if m.group("old") is not None:
        return None if m.group("old") in L.NOT_NAMES else m.span("old")
    value = m.group("v") + m.group("given")
    if value[:2] in L.NOT_NAMES or (m.group("v") + m.group("title"))[:2] in L.NOT_NAMES:
        return None
    if m.group("given") and len(m.group("title")) == 1:
        return None  # one-character titles only right after a surname: 刘婶, 王姐, 郝总
    if value[0] == "于":
        return None  # 于 is the preposition far more often than the surname
    at = m.start("v")
    if at > 0 and len(m.group("v")) == 1 and N.word_freq(m.string[at - 1 : at + 1]) >= 100:
        # the "surname" ends a word ("班主任金老师", "太阳工业区"): the name, if any, follows
        given = m.group("given")
        if given and given[0] in SURNAMES_1:
            return m.start("given"), m.end(0)
        return None
    start = _after_overlap(m, "v")
    if start > m.start("v"):
        # the compound surname was a word's end: the surname is its second character
        if m.group("given") or start == m.end("v"):
            return None
        return start, m.end(0)
    return (m.start("v"), m.end("given")) if m.group("given") else m.span(0)


_EN_LEADING_ROLES = frozenset(L.ROLE_WORDS_EN) | frozenset(
    L.words("rn lpn cna np pa md do aunt auntie uncle grandma grandpa nana papa")
)


def _en_name_span(m: re.Match[str], weak_needs_first: bool = True) -> tuple[int, int] | None:
    """The name part of an English match, cut before the first word that is not a name
    ("Vivian Tel" -> "Vivian"); None when nothing of it is a name."""
    value = m.group("v")
    start = m.start("v")
    words = list(re.finditer(r"[^\s]+", value))
    kept = []
    for w in words:
        if w.group(0).strip("\"“”'‘’.,") in _EN_NOT_NAMES:
            break
        kept.append(w)
    while kept and kept[0].group(0).strip(",.:").lower() in _EN_LEADING_ROLES:
        kept.pop(0)  # "Guardian Aunt Tasha", "CONTACT RN JANE DOE": the name is what follows
    if not kept:
        return None
    base = start
    start = base + kept[0].start()
    first = kept[0].group(0)
    kw = m.groupdict().get("kw")
    role = (kw or "").strip(" \t\u00a0,:").lower().removesuffix("'s").split()[-1:] or [""]
    if first.isupper() and len(first) > 1 and not N.is_first_name(first):
        return None  # an all-capitals word after a role word is a name only if a first name
    if len(kept) == 1 and first.lower().endswith(("ed", "ing")) and not N.is_first_name(first):
        return None  # "Mother Noticed", "Dad Driving"
    if (
        weak_needs_first
        and role[0] in L.WEAK_ROLES_EN
        and len(kept) < 2
        and not N.is_first_name(first)
    ):
        return None
    if _in_brand(m.string, start, base + kept[-1].end()):
        return None
    return start, base + kept[-1].end()


_BEFORE_PLACE = re.compile(r"(?:St|Saint|San|Santa|Fort|Mount|Mt|Lake|Port|Camp)\.?[ \t\u00a0]$")
_INSTITUTION = L.words(
    "Hospital Medical Center Centre Clinic General Memorial Health Elementary Middle High School "
    "Academy University College Institute Children's Childrens Church Park Street Avenue Road "
    "County City Mall Plaza Hotel Inn Store Company Inc Corp LLC Ltd Collection Brand Beach "
    "Pharmacy Foundation Department Dept Hall Library Stadium Airport Station"
)


def _en_full_name_span(m: re.Match[str]) -> tuple[int, int] | None:
    """A first name followed by a name ("Ricky Vasquez"), after dropping the capitalised
    words before it that are not first names ("Reached Amber Collins")."""
    words = list(re.finditer(r"[^\s]+", m.group("v")))
    while len(words) >= 2 and not N.is_first_name(words[0].group(0)):
        words.pop(0)
    if len(words) < 2 or any(w.group(0) in _INSTITUTION for w in words):
        return None
    start = m.start("v") + words[0].start()
    if _BEFORE_PLACE.search(m.string[max(0, start - 8) : start]):
        return None  # St. Jude, Fort Worth
    kept = [words[0]]
    for w in words[1:]:
        if w.group(0).strip("\"“”'‘’.,") in _EN_NOT_NAMES:
            break
        kept.append(w)
    if len(kept) < 2:
        return None
    first = kept[0].group(0)
    second = kept[1].group(0).strip("\"“”'‘’").removesuffix("'s").removesuffix("’s")
    if not N.is_plain_first_name(first) and not N.is_last_name(second):
        return None  # "Grace Hospital", "Will Call": an ambiguous first name needs a surname
    end = m.start("v") + kept[-1].end()
    if first in _EN_NOT_NAMES or _in_brand(m.string, start, end):
        return None
    return start, end


_BARE_CONTEXT = re.compile(
    r"(?:(?<![A-Za-z])(?:of|old|kids?|named|called|and|with|w/|boy|girl|son|daughter|child|baby|"
    r"toddler|infant|brother|sister|twin|nephew|niece|grandson|granddaughter)|[(&,])[ \t\u00a0]*$",
    re.IGNORECASE,
)
_AGE_AFTER = re.compile(r"[ \t\u00a0]*[,(（][ \t\u00a0]*[0-9]|[ \t\u00a0]*[（(][\[\u4e00-\u9fff]")


_PRODUCT_AFTER = re.compile(
    r"[ \t\u00a0(\-]*(?:brand|furniture|model|store|stores|product|products|toys?|ladders?|"
    r"bikes?|scooters?|appliances?|kitchen|heater|stroller|crib|mattress)\b",
    re.IGNORECASE,
)


def _mostly_upper(text: str) -> bool:
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    return sum(ch.isupper() for ch in letters) > 0.7 * len(letters)


def _en_bare_first_span(m: re.Match[str]) -> tuple[int, int] | None:
    """A first name alone in mixed-case text. A name that is also an ordinary word ("Mason",
    "Will") needs a cue: a kinship word, "of", "named", "(" before it, or an age after it."""
    value, text = m.group("v"), m.string
    if value in _EN_NOT_NAMES or value in L.EN_NOT_BARE or not N.is_first_name(value):
        return None
    if re.match(r"[ \t\u00a0]+[A-Z]", text[m.end() :]):
        return None  # a capitalised word follows: a full name or an institution, not this rule
    before = text[max(0, m.start() - 12) : m.start()]
    if _BEFORE_PLACE.search(before) or re.search(r"(?:Dr|Mr|Mrs|Ms)\.?[ \t\u00a0]*$", before):
        return None
    if _PRODUCT_AFTER.match(text, m.end()):
        return None  # "Werner brand", "Ashley (furniture)"
    plain = N.is_plain_first_name(value)
    cued = bool(_BARE_CONTEXT.search(before) or _AGE_AFTER.match(text, m.end()))
    if not (plain or cued) or _mostly_upper(text) or _in_brand(text, *m.span()):
        return None
    return m.span("v")


def _en_name_after_name_span(m: re.Match[str]) -> tuple[int, int] | None:
    first = m.group("v").split()[0]
    if first in _EN_NOT_NAMES or not N.is_first_name(first):
        return None
    return m.span("v")


def _en_title_span(m: re.Match[str]) -> tuple[int, int] | None:
    value = m.group("v")
    words = value.split()
    if _in_brand(m.string, *m.span("v")) or (len(words) > 1 and words[1] in _EN_NOT_NAMES):
        return None
    cut = [w for w in words[1:] if w.strip(".,") in _EN_NOT_NAMES]
    if cut:
        end = m.start("v") + value.index(cut[0])
        return m.start("v"), end - 1
    return m.span("v")


_ANY = "(?s:.)"
_RE2_SP = "[ \u00a0\u3000\t]"
_NUMBER_TRIGGER = rf"{D}(?:[{RE2_SEP_CHARS}()（）]{{0,3}}{D}){{4}}"
_ZH_NUMERALS = "0-9０-９一二三四五六七八九十百千零〇两"
_CJK_ANY = "[\u4e00-\u9fff]"


def _re2(pattern: str) -> str:
    """Python escapes RE2 spells differently: \\uXXXX -> \\x{XXXX}."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)


def _rule(name: str, kind: str, pattern: str, trigger: str, span: Span | None = None) -> Rule:
    return Rule(name, kind, re.compile(pattern), _re2(trigger), span or _group())


def _model_names(text: str, placeholder: str) -> str:
    """Names the statistical model finds (``names.py``), each replaced by ``placeholder``."""
    spans = N.name_spans(text)
    if not spans:
        return text
    out, pos = [], 0
    for start, end in spans:
        out += [text[pos:start], placeholder]
        pos = end
    out.append(text[pos:])
    return "".join(out)


_ROLES_ZH = _alternation(L.ROLE_WORDS_ZH)
# Name triggers use character classes, not the surname and first-name alternations: RE2's
# automaton for a union of alternations outgrows its memory and falls back to a slow path.
_SURNAME_CHARS = "".join(dict.fromkeys(SURNAMES_1 + "".join(SURNAMES_2)))
_SC = f"[{_SURNAME_CHARS}]"
_SCG = f"[{''.join(dict.fromkeys(_SURNAME_CHARS + GIVEN))}]"
_NAME2 = f"{_SC}{_SCG}"  # superset of a surname and a given-name character
_RE2_WS = "[\\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u001c-\u001f]"
RULES: tuple[Rule, ...] = (
    _rule(
        "email",
        "email",
        EMAIL,
        r"[A-Za-z0-9._%+\-][@＠][A-Za-z0-9]|[(\[（【] ?(?:at|AT|艾特) ?[)\]）】]"
        r"| (?:at|AT) [A-Za-z0-9\-]+ (?:dot|DOT) ",
    ),
    _rule("wxid", "im_id", WXID, "wxid_"),
    _rule(
        "im_id",
        "im_id",
        IM_ID,
        f"{_alternation(_IM_WORDS_ZH)}|{_alternation(_IM_WORDS_LATIN)}",
        _group("v", lambda m: m.group("v").lower() in _IM_NOT_IDS),
    ),
    _rule(
        "im_near",
        "im_id",
        IM_NEAR,
        f"{_alternation(_IM_WORDS_ZH)}|{_alternation(_IM_WORDS_LATIN)}",
        _group("v", _im_near_is_not),
    ),
    _rule("id18", "id_number", ID18, _NUMBER_TRIGGER),
    _rule("passport", "document", PASSPORT, _NUMBER_TRIGGER),
    _rule("ssn", "document", SSN, _NUMBER_TRIGGER),
    _rule(
        "id_after_word",
        "id_number",
        ID_AFTER_WORD,
        _alternation(_ID_WORDS),
        _group("v", _not_a_document),
    ),
    _rule("intl_phone", "phone", INTL_PHONE, _NUMBER_TRIGGER),
    _rule("us_phone", "phone", US_PHONE, _NUMBER_TRIGGER),
    _rule("landline_cc", "phone", LANDLINE_CC, _NUMBER_TRIGGER),
    _rule("mobile", "phone", MOBILE, _NUMBER_TRIGGER),
    _rule("landline", "phone", LANDLINE, _NUMBER_TRIGGER, _group(0, _is_barcode)),
    _rule("us_plain", "phone", US_PLAIN, _NUMBER_TRIGGER, _group(0, _us_plain_is_not)),
    _rule("long_number", "id_number", LONG_NUMBER, _NUMBER_TRIGGER, _group(0, _is_record_number)),
    _rule(
        "phone_after_word",
        "phone",
        PHONE_AFTER_WORD,
        _NUMBER_TRIGGER,
        _group("v", _phone_gap_is_other),
    ),
    _rule("tail_digits", "id_number", TAIL_DIGITS, _alternation(_TAIL_WORDS), _group("v")),
    _rule(
        "zh_address",
        "address",
        ZH_ADDRESS,
        f"[{_ZH_NUMERALS}A-Za-z甲乙丙丁东西南北]{_RE2_SP}?(?:{_BLOCK_WORD}|[号號])"
        f"|[0-9０-９][\\-－][0-9０-９]|{_alternation(_VILLAGE_SUFFIX)}"
        f"|{_alternation(_ESTATE_SUFFIX)}{_RE2_SP}?[0-9０-９]",
        _address_span,
    ),
    _rule(
        "address_after_word",
        "address",
        ADDRESS_AFTER_WORD,
        _alternation(_ADDRESS_WORDS),
        _group("v", _context_address_is_not),
    ),
    _rule(
        "en_address",
        "address",
        EN_ADDRESS,
        f"[0-9][A-Z]?,?[ \t\u00a0]+(?:[A-Za-z0-9'.\\-]+[ \t\u00a0]+){{1,4}}{_EN_STREET_RE}\\b",
    ),
    _rule("hk_flat", "address", HK_FLAT, "[0-9]/F"),
    _rule(
        "po_box",
        "address",
        PO_BOX,
        r"[Pp]\.? ?[Oo]\.? ?(?:Box|BOX|box)|(?:RR|R\.R\.|Rural Route|HC) ?#?[0-9]",
    ),
    _rule(
        "zh_name_after_label",
        "name",
        ZH_NAME_AFTER_LABEL,
        _alternation(L.NAME_LABELS),
        _group("v"),
    ),
    _rule(
        "zh_name_with_title",
        "name",
        ZH_NAME_WITH_TITLE,
        f"{_SC}{_SCG}{{0,3}}{_alternation(L.TITLES_ZH)}|老[{SURNAMES_1}]",
        _zh_titled_span,
    ),
    _rule(
        "zh_name_after_role",
        "name",
        ZH_NAME_AFTER_ROLE,
        f"{_ROLES_ZH}[:： \u00a0\u3000是叫为]{{0,3}}"
        f"(?:[{_SURNAME_CHARS}{GIVEN}阿]{_SCG}|{_SC}{_CJK_ANY}|{_CJK_ANY}{{1,6}}[·•・]|"
        f"{_alternation(L.MINORITY_NAME_PARTS)})",
        _zh_name_span,
    ),
    _rule(
        "zh_compound_name",
        "name",
        ZH_COMPOUND_NAME,
        f"{_alternation(L.SURNAMES_2_ANYWHERE)}{_GIVEN}|{_alternation(L.MINORITY_NAME_PARTS)}",
        _zh_name_span,
    ),
    _rule(
        "zh_name_before_verb",
        "name",
        ZH_NAME_BEFORE_VERB,
        f"{_SC}{_SCG}{{1,3}}{_alternation(L.VERBS_AFTER_NAME)}",
        _zh_name_span,
    ),
    _rule(
        "zh_name_after_verb",
        "name",
        ZH_NAME_AFTER_VERB,
        f"{_alternation(L.BEFORE_NAME)}{_NAME2}",
        _zh_name_span,
    ),
    _rule(
        "zh_name_token",
        "name",
        ZH_NAME_TOKEN,
        f" {_SC}{_SCG}{{1,3}} ",
        _zh_name_span,
    ),
    _rule(
        "zh_nickname_opening",
        "name",
        ZH_NICKNAME_OPENING,
        f"(?:^|[。；;\n])[小阿{GIVEN}]{_GIVEN}[，,]*{_RE2_WS}*(?:[0-9０-９]|[男女][，,]|[男女]{_RE2_WS}|（|\\()",
        _zh_name_span,
    ),
    _rule("zh_a_nickname", "name", ZH_A_NICKNAME, f"阿[{_A_NICK}]", _zh_name_span),
    _rule(
        "zh_name_after_en_role",
        "name",
        ZH_NAME_AFTER_EN_ROLE,
        f"{_EN_ROLE}(?:'s|'S)?[,:]?[ \u00a0\u3000]?{_NAME2}",
        _zh_name_span,
    ),
    _rule(
        "en_first_zh_surname",
        "name",
        EN_FIRST_ZH_SURNAME,
        f"[A-Z][a-z]+{_RE2_SP}?{_SC}",
        _zh_name_span,
    ),
    _rule(
        "en_name_with_title",
        "name",
        EN_NAME_WITH_TITLE,
        f"{_alternation(_EN_TITLES)}\\.?[ \t\u00a0]?(?:[A-Z]|{_SC})",
        _en_title_span,
    ),
    _rule(
        "en_last_first",
        "name",
        EN_LAST_FIRST,
        f"[A-Z],[ \t\u00a0]{_FIRST_UPPER}(?:[^A-Za-z]|$)|[a-z],[ \t\u00a0]{_FIRST}(?:[^A-Za-z]|$)",
        _group("v", lambda m: _in_brand(m.string, *m.span("v"))),
    ),
    _rule(
        "en_name_after_role",
        "name",
        EN_NAME_AFTER_ROLE,
        f"{_EN_ROLE}(?:'s|'S)?(?:,|:| w/)?[ \t\u00a0]\\(?(?:to |with |w/ |of )?"
        f"(?:[{_UP}][{_LO}]|[A-Z]['’][A-Z]|{_FIRST_UPPER}(?:[^A-Za-z]|$))",
        _en_name_span,
    ),
    _rule(
        "en_name_after_zh_role",
        "name",
        EN_NAME_AFTER_ZH_ROLE,
        f"{_ROLES_ZH}[:： \u00a0\u3000是叫为]{{0,3}}[A-Z][a-z]",
        _en_name_span,
    ),
    _rule(
        "en_full_name",
        "name",
        EN_FULL_NAME,
        f"[{_UP}][{_LO}]",
        _en_full_name_span,
    ),
    Rule(
        "zh_name_model",
        "name",
        re.compile(N.trigger(r"\s")),
        _re2(N.trigger(_RE2_WS)),
        _group(),
        _model_names,
    ),
    _rule(
        "en_name_after_name",
        "name",
        EN_NAME_AFTER_NAME,
        f"(?:&| and|、|和|与)[ \t\u00a0]?[{_UP}][{_LO}]",
        _en_name_after_name_span,
    ),
    _rule("en_bare_first", "name", EN_BARE_FIRST, f"[{_UP}][{_LO}]", _en_bare_first_span),
    _rule(
        "nickname_before_bracket",
        "name",
        NICKNAME_BEFORE_BRACKET,
        f"[（(](?:{_NICK_LABELS}|{_NAME2}|[A-Z][a-z]|\\[(?:姓名|NAME)\\])",
        _group("v", lambda m: _nickname_is_word(m.group("v"))),
    ),
    _rule(
        "name_in_brackets",
        "name",
        NAME_IN_BRACKETS,
        f"[（(](?:大名|小名|本名|英文名|中文名)?[:：]?[ \t\u00a0]?(?:{_NAME2}|[A-Z][a-z])",
        _zh_name_span,
    ),
)
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(rule.trigger for rule in RULES))
_RULE_TRIGGER = tuple(TRIGGERS.index(rule.trigger) for rule in RULES)
# Triggers are run over a column in these groups, one Arrow pass per group. A union of all of
# them outgrows RE2's automaton memory and falls back to a path 100x slower; these groups were
# chosen by measuring (sample narratives and hostile texts: a merge was kept only when the
# merged pass cost at most 1.3x its slowest member) and a test keeps them fast.
_GROUPS_BY_RULE = (
    ("zh_name_after_role", "zh_nickname_opening", "zh_name_after_verb", "id18", "im_id",
     "hk_flat"),
    ("zh_name_before_verb", "name_in_brackets", "zh_name_after_label", "tail_digits",
     "zh_address"),
    ("zh_compound_name", "en_address", "en_first_zh_surname", "po_box", "address_after_word",
     "en_full_name"),
    ("zh_name_after_en_role", "en_name_after_role", "email", "zh_a_nickname",
     "en_name_after_name"),
    ("nickname_before_bracket",),
    ("zh_name_with_title",),
    ("en_name_after_zh_role", "wxid"),
    ("en_last_first",),
    ("id_after_word",),
    ("en_name_with_title",),
    ("zh_name_token",),
    ("zh_name_model",),
)  # fmt: skip
# A first, coarse pass: three small automata whose union matches every text any trigger
# matches (a superset, checked by a test). On realistic narratives they let through about a
# quarter of the rows, and only those go through the grouped triggers.
_A = _alternation
GATES: tuple[str, ...] = tuple(
    _re2(gate)
    for gate in (
        "|".join(
            (
                _NUMBER_TRIGGER,
                r"[A-Za-z0-9._%+\-][@＠][A-Za-z0-9]|[(\[（【] ?(?:at|AT|艾特) ?[)\]）】]",
                r" (?:at|AT) [A-Za-z0-9\-]+ (?:dot|DOT) ",
                _A(_IM_WORDS_ZH), _A(_IM_WORDS_LATIN), _A(_TAIL_WORDS), _A(_ID_WORDS),
                _A(_ADDRESS_WORDS), "wxid_", "[0-9]/F",
                r"[Pp]\.? ?[Oo]\.? ?(?:Box|BOX|box)|(?:RR|R\.R\.|Rural Route|HC) ?#?[0-9]",
                next(r.trigger for r in RULES if r.name == "zh_address"),
                next(r.trigger for r in RULES if r.name == "en_address"),
            )
        ),
        "|".join(
            (
                _A(L.NAME_LABELS), f"{_SCG}{_A(L.TITLES_ZH)}", f"老{_SC}", f"阿[{_A_NICK}]",
                _A(L.SURNAMES_2_ANYWHERE), _A(L.MINORITY_NAME_PARTS), "[·•・]",
                next(r.trigger for r in RULES if r.name == "name_in_brackets"),
                f"{_A(L.ROLE_WORDS_ZH)}[:： \u00a0\u3000是叫为]{{0,3}}"
                f"(?:[{_SURNAME_CHARS}{GIVEN}小阿]{_SCG}|{_SC}{_CJK_ANY}|[A-Z][a-z])",
                f"{_SCG}{_A(L.VERBS_AFTER_NAME)}", f"{_A(L.BEFORE_NAME)}{_SC}", f" {_SC}",
                next(r.trigger for r in RULES if r.name == "zh_nickname_opening"),
                next(r.trigger for r in RULES if r.name == "nickname_before_bracket"),
            )
        ),
        "|".join(
            (
                f"{_A(_EN_TITLES)}\\.?[ \t\u00a0]?(?:[A-Z]|{_SC})",
                f"{_EN_ROLE}(?:'s|'S)?(?:,|:| w/)?[ \t\u00a0\u3000]?\\(?(?:to |with |w/ |of )?"
                f"(?:[A-Z]['’][A-Z]|{_FIRST_UPPER}(?:[^A-Za-z]|$)|{_SC})", f"[{_UP}][{_LO}]",
                "[A-Z][a-z]+[ \t\u00a0\\-]+[\"“'‘]?[A-Z]", f"[A-Z][a-z]+[ \t\u00a0]?{_SC}",
                f"[A-Z],[ \t\u00a0]{_FIRST_UPPER}(?:[^A-Za-z]|$)|[a-z],[ \t\u00a0][A-Z][a-z]",
                # the name model's trigger: with the English ones it costs nothing more; in a
                # union with the other name triggers RE2's automaton outgrows its memory and
                # falls back to a path a thousand times slower
                next(r.trigger for r in RULES if r.name == "zh_name_model"),
            )
        ),
    )
)  # fmt: skip
_RULE_BY_NAME = {rule.name: rule for rule in RULES}
TRIGGER_GROUPS: tuple[tuple[int, ...], ...] = tuple(
    tuple(dict.fromkeys(TRIGGERS.index(_RULE_BY_NAME[name].trigger) for name in group))
    for group in _GROUPS_BY_RULE
)
assert sorted(i for g in TRIGGER_GROUPS for i in g) == list(range(len(TRIGGERS)))


def _replacer(rule: Rule, zh: bool) -> Callable[[str], str]:
    """The rule as a function of the text."""
    placeholder = PLACEHOLDERS[rule.kind][0 if zh else 1]
    if rule.apply is not None:
        apply = rule.apply
        return lambda text: apply(text, placeholder)
    span = rule.span

    def replace(m: re.Match[str]) -> str:
        found = span(m)
        if found is None:
            return m.group(0)
        whole, start = m.group(0), m.start()
        return whole[: found[0] - start] + placeholder + whole[found[1] - start :]

    return lambda text: rule.pattern.sub(replace, text)


_REPLACERS: dict[bool, tuple[Callable[[str], str], ...]] = {
    zh: tuple(_replacer(rule, zh) for rule in RULES) for zh in (True, False)
}
