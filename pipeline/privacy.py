"""Patient identifiers never leave intake in clear.

Two tools:

* ``pseudonymise``: names, ID-card numbers and phone numbers in the identifier columns are
  replaced by keyed pseudonyms (HMAC-SHA256 with a secret from the environment), so the same
  patient links across submissions without anyone being able to recover or brute-force the
  identifier from stored data.
* ``scrub_series`` (a whole column) / ``scrub_text`` (one value): free text loses every
  identifier it carries, each replaced by a typed placeholder (``[电话]`` / ``[PHONE]``) so a
  reader knows something was removed: ID and document numbers, phones in every common written
  form (mobiles, landlines with area codes and extensions, +86/0086, full-width digits, US
  numbers), e-mail addresses, WeChat/QQ ids, street addresses (Chinese and US) and person
  names (after role and kinship words, with titles, after name labels, compound surnames, and
  the record's own known names by literal matching). Placeholders are Chinese in text that
  holds Chinese characters, English otherwise.

Speed (a column of a million narratives): every pattern is compiled once at import. Each
rule also has a trigger in RE2 syntax that matches every text the rule can match (a
superset, checked by a property test). ``scrub_series`` runs the union of the triggers over
the whole column in Arrow (C++, no Python per row), then each rule's own trigger over the few
rows flagged, and runs a Python rule only on the rows its trigger flagged. Known names are
removed by plain substring replacement, never by compiling a pattern per name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
MOBILE = (
    NOT_D_BEFORE + rf"{COUNTRY_CODE}?{_d('1')}{SEP}{_d('3-9')}" + _more_digits("9") + NOT_D_AFTER
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
US_PHONE = (
    r"(?<![0-9A-Za-z])(?:\+?1[ .\-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .\-])"
    r"[0-9]{3}[ .\-][0-9]{4}(?: ?(?:x|ext\.?) ?[0-9]{1,5})?(?![0-9])"
)
SSN = r"(?<![0-9A-Za-z])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])"
# Chinese passports (E/G + 8 digits, EA + 7, diplomatic D/S/P) and Hong Kong IDs.
PASSPORT = (
    r"(?<![A-Za-z0-9])(?:[EGDSP][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|[A-Z]{1,2}[0-9]{6}\([0-9A]\))"
    r"(?![A-Za-z0-9])"
)
_ID_WORDS = (
    "身份证号码",
    "身份证号",
    "身份证",
    "证件号码",
    "证件号",
    "护照号码",
    "护照号",
    "护照",
    "通行证号码",
    "通行证号",
    "通行证",
    "回乡证",
    "台胞证",
    "passport no.",
    "passport no",
    "passport number",
    "passport #",
    "passport",
    "Passport",
    "PASSPORT",
    "ID no.",
    "ID No.",
    "ID number",
    "ID Number",
    "ID #",
    "ID#",
    "SSN",
    "social security number",
    "Social Security Number",
    "Social Security number",
)
# A document number after its label: letters and digits, at least 6 digits in all.
ID_AFTER_WORD = (
    rf"(?P<kw>{_alternation(_ID_WORDS)}[^A-Za-z0-9０-９\n]{{0,6}}?)"
    rf"(?P<v>(?<![A-Za-z0-9０-９])[A-Za-z]{{0,2}}{D}(?:{SEP}{D}){{5,17}}[XxＸｘ]?)"
    r"(?![A-Za-z0-9０-９])"
)
_PHONE_WORDS = (
    "联系电话",
    "电话号码",
    "手机号码",
    "手机号",
    "电话",
    "手机",
    "座机",
    "固话",
    "联系方式",
    "来电",
    "致电",
    "回拨",
    "拨打",
    "打给",
    "号码",
    *(
        w
        for base in ("tel", "phone", "cell", "mobile", "call", "called", "ph", "contact", "fax")
        for w in (base, base.title(), base.upper())
    ),
)
# Any 7-12 digit number right after a phone word (a phone without area code, or a form the
# other patterns do not know); not when a batch/model/barcode word stands in between.
PHONE_AFTER_WORD = (
    rf"(?P<kw>{_alternation(_PHONE_WORDS)}[^0-9０-９\n]{{0,8}}?)"
    rf"(?P<v>{NOT_D_BEFORE}(?:[(（]{D}{{3,4}}[)）]{SP}?)?{D}(?:{SEP}{D}){{6,11}})"
    + EXTENSION
    + NOT_D_AFTER
)
_TAIL_WORDS = ("尾号", "后四位", "后4位", "末四位", "末4位", "last four", "last 4", "Last four")
# "尾号5678" / "后四位0031": the tail of a phone or an ID is still an identifier.
TAIL_DIGITS = (
    rf"(?P<kw>{_alternation(_TAIL_WORDS)}[^0-9０-９\n]{{0,12}}?)"
    rf"(?P<v>{NOT_D_BEFORE}{D}{{4}}[XxＸｘ]?){NOT_D_AFTER}"
)
_NOT_PHONE_GAP = re.compile(
    r"批号|批次|型号|编号|条码|条形码|货号|单号|订单|序列号|lot|batch|model|serial|barcode|upc|ean",
    re.IGNORECASE,
)
_BARCODE_BEFORE = re.compile(
    r"(?:条码|条形码|barcode|upc|ean|gtin|批号|批次|lot|batch)[^0-9]{0,4}$", re.IGNORECASE
)

# ---- e-mail and instant-messaging ids ------------------------------------------------------

EMAIL = (
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*"
    r"(?:[@＠]|(?: ?[(\[（【] ?(?:at|AT|艾特) ?[)\]）】] ?))"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:[.．][A-Za-z0-9\-]+)*"
    r"(?:[.．]| ?[(\[（【] ?(?:dot|DOT) ?[)\]）】] ?)[A-Za-z]{2,}(?![A-Za-z0-9])"
)
_IM_WORDS = (
    ("微信号", "微信账号", "微信ID", "微信id", "微信", "扣扣")
    + tuple(
        w
        for base in ("wechat id", "wechat ID", "wechat", "weixin", "wx", "vx", "qq")
        for w in {base, base.title(), base.upper(), base.capitalize()}
    )
    + ("WeChat", "WeChat ID", "WeChat id", "V信", "v信")
)
IM_ID = (
    rf"(?P<kw>(?<![A-Za-z]){_alternation(_IM_WORDS)}(?![a-z]){SP}*(?:号码|账号|号|ID|id|number|no\.?|account)?{SP}*"
    rf"[:：]?{SP}*(?:是|为|is)?{SP}*)"
    r"(?P<v>(?<![A-Za-z0-9_\-])(?:[A-Za-z][A-Za-z0-9_\-]{3,24}|[0-9０-９]{5,12}))"
    r"(?![A-Za-z0-9_\-])"
)
WXID = r"wxid_[A-Za-z0-9_\-]{4,24}"

# ---- addresses -----------------------------------------------------------------------------

# Characters a Chinese place name is made of: word characters that are not digits, Latin
# letters, or words that stop a place name (verbs and particles around an address).
_PLACE_STOP = (
    "在于住到从往经过去的是与及我他她其将把被位至沿距离旁时了着由让叫给对诉称说患者送骑驶摔倒"
    "跌落伤致撞为址自请家"
)
PC = rf"[^\W\d_A-Za-zＡ-Ｚａ-ｚ{_PLACE_STOP}]"
_ADMIN_SUFFIX = (
    "特别行政区", "自治区", "自治州", "自治县", "开发区", "新区", "街道", "地区",
    "省", "市", "州", "盟", "区", "县", "旗", "镇", "乡",
)  # fmt: skip
_ROAD_SUFFIX = ("大道", "大街", "胡同", "路", "街", "巷", "弄", "道", "里")
_ESTATE_SUFFIX = (
    "小区", "花园", "公寓", "大厦", "新村", "家园", "广场", "大楼", "商厦", "花苑", "雅苑", "名苑",
    "嘉园", "佳园", "华庭", "山庄", "公馆", "宿舍", "大院", "社区", "新城", "城", "苑", "府", "庭",
    "园", "湾", "居", "坊", "阁", "邸", "里",
)  # fmt: skip
_VILLAGE_SUFFIX = ("村", "屯", "寨", "庄")
ADMIN = rf"(?:{PC}{{1,7}}?{_alternation(_ADMIN_SUFFIX)})"
ROAD = rf"(?:{PC}{{1,8}}?{_alternation(_ROAD_SUFFIX)}(?:[东西南北中]段|{ZH_NUM}段)?)"
_BLOCK_WORDS = ("号楼", "号院", "栋", "幢", "座", "单元", "楼", "层", "室", "房", "户", "号", "#",
                "＃", "组", "队", "区")  # fmt: skip
_BLOCK_WORD = _alternation(_BLOCK_WORDS)
BLOCK_PART = rf"(?:{SP}?(?:{NUM}|[A-Za-z]{{1,2}}[0-9]{{0,3}}|[甲乙丙丁东西南北]){SP}?{_BLOCK_WORD})"
DASH_FORM = rf"(?:{SP}?{D}{{1,3}}(?:[\-－]{D}{{1,4}}){{1,3}})"
BARE_ROOM = rf"(?:(?<=单元){SP}?{D}{{3,4}}{NOT_D_AFTER})"
ESTATE = rf"(?:{PC}{{1,10}}?{_alternation(_ESTATE_SUFFIX)})"
VILLAGE = rf"(?:{PC}{{1,6}}?{_alternation(_VILLAGE_SUFFIX)})"
HOUSE = rf"(?:{SP}?(?:{NUM}{SP}?(?:弄|巷|支弄){SP}?)*{NUM}{SP}?[号號](?:院)?)"
ZH_ADDRESS = (
    rf"{ADMIN}{{0,6}}(?:"
    rf"(?P<road>{ROAD}{HOUSE}(?:{ESTATE})?(?:{BLOCK_PART}|{DASH_FORM})*{BARE_ROOM}?)"
    rf"|(?P<estate>{ESTATE}(?:{BLOCK_PART}|{DASH_FORM})+{BARE_ROOM}?)"
    rf"|(?P<village>{VILLAGE}){BLOCK_PART}*"
    r")"
)
_STRONG_BLOCK = re.compile(r"号楼|栋|幢|座|单元|室|户|[0-9０-９][\-－][0-9０-９]")
_BLOCK_WORD_RE = re.compile(_BLOCK_WORD)
_ADDRESS_WORDS = (
    "家庭住址", "现住址", "户籍地址", "联系地址", "通讯地址", "收货地址", "居住地址", "家住", "住址",
    "现住", "现居", "住在", "居住在", "居住于", "住于", "户籍地", "户口所在地", "暂住", "地址",
)  # fmt: skip
ADDRESS_AFTER_WORD = (
    rf"(?P<kw>{_alternation(_ADDRESS_WORDS)}[:：]?{SP}*)"
    r"(?P<v>[^\s，。；,;！!？?\n（()）\[\]【】、]{2,40})"
)
_ADDRESS_MARK = re.compile(r"[省市区县镇乡村屯路街巷弄号栋幢楼室苑园府庭]|小区|花园|公寓|大厦|单元")
_NOT_ADDRESS = _words("农村 城里 城市 乡下 本地 外地 附近 楼上 楼下 隔壁 市区 郊区 县城 城区 老家")
_EN_STREET = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln", "Drive",
    "Dr", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Ter", "Circle", "Cir", "Parkway",
    "Pkwy", "Highway", "Hwy", "Trail", "Trl", "Square", "Sq", "Loop", "Pike", "Plaza", "Alley",
    "STREET", "ST", "AVENUE", "AVE", "ROAD", "RD", "BOULEVARD", "BLVD", "LANE", "LN", "DRIVE",
    "DR", "COURT", "CT", "WAY", "PLACE", "PL", "TERRACE", "CIRCLE", "PARKWAY", "PKWY",
    "HIGHWAY", "HWY", "TRAIL",
)  # fmt: skip
_EN_STREET_RE = _alternation(_EN_STREET)
_EN_ADDRESS_BODY = (
    r",?[ \t\u00a0]+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?[ \t\u00a0]+)?"
    r"(?:(?:[A-Z][A-Za-z'\-]*|[0-9]{1,3}(?:st|nd|rd|th|ST|ND|RD|TH))\.?[ \t\u00a0]+){1,3}"
    rf"{_EN_STREET_RE}\b\.?"
    r"(?:,?[ \t\u00a0]*(?:Apt|Apartment|Unit|Suite|Ste|Rm|Room|Fl|Floor|Bldg|APT|UNIT|SUITE|#)"
    r"\.?[ \t\u00a0]*#?[A-Za-z0-9\-]{1,6}\b)?"
    r"(?:,[ \t\u00a0]*[A-Z][A-Za-z]+(?:[ \t\u00a0][A-Z][A-Za-z]+){0,2},?[ \t\u00a0]*[A-Z]{2}\b"
    r"(?:[ \t\u00a0]+[0-9]{5}(?:-[0-9]{4})?)?)?"
)
EN_ADDRESS = rf"(?<![A-Za-z0-9])[0-9]{{1,6}}[A-Z]?{_EN_ADDRESS_BODY}"
PO_BOX = r"(?<![A-Za-z])[Pp]\.? ?[Oo]\.? ?(?:Box|BOX|box) ?#?[0-9]{1,6}"

# ---- person names --------------------------------------------------------------------------

SURNAMES_2: tuple[str, ...] = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "西门", "南宫", "独孤", "呼延", "轩辕", "澹台", "公冶", "宗政", "濮阳",
    "太叔", "申屠", "钟离", "闻人", "赫连", "万俟", "单于", "左丘", "东郭", "百里", "拓跋", "完颜",
    "纳兰", "司空", "乐正", "公羊", "鲜于", "闾丘", "仲孙", "叔孙", "东门", "第五", "谷梁", "漆雕",
)  # fmt: skip
# Compound surnames that do not start ordinary words: a name with one of these is removed
# wherever it stands ("上官婉儿来电反映").
SURNAMES_2_ANYWHERE: tuple[str, ...] = (
    "欧阳", "司马", "上官", "诸葛", "皇甫", "尉迟", "慕容", "宇文", "司徒", "夏侯", "令狐", "端木",
    "独孤", "呼延", "轩辕", "澹台", "公冶", "濮阳", "申屠", "赫连", "拓跋", "完颜", "纳兰", "鲜于",
    "闾丘",
)  # fmt: skip
# Single-character surnames (about the 300 most common, plus rarer ones seen in records).
SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤温施文牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘"
    "祝宁尚符舒阮柯纪梅童凌毕季裴霍成苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍华喻祁蒲房滕屈饶牟艾尤阳穆农"
    "司卓古吉缪简项芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬卞姬师仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池苑迟邝车包关查单井全伏竺鄢隆应蔺练郁"
)
# Characters of given names and nicknames: after a role word, a name is a surname and one or
# two of these, so "患者高处坠落" or "患儿左手" are not names.
GIVEN = "".join(
    dict.fromkeys(
        "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆晨阳子轩航博文睿泽然梓豪一鸣思远天佑"
        "芳娜敏静丽艳娟霞秀英慧婷雪琳晶燕玲丹萍红梅颖欣怡佳琪涵诗雨可馨妍紫萱桐若曦彤建国志海东"
        "林峰亮成龙云春兰凤洁玉珍莉桂荣淑香琴素娥翠莲美花菊敬德福贵生祥财宝山江河湖松柏青清新伦"
        "立中正武兵庆全安永长友发民利胜旺兴顺忠义仁礼信智勤俭泉源洪宏鸿彬坤鹤翔瑞祺琦琛瑶璐露蕾"
        "蓉薇菲倩茜媛嫣婉婕娴妮姗悦乐朵甜蓓蕊晓小凡晗昊昕晟曜煜熙烨炎焱森楠柯栋梁楷桦杨柳毅铭锋"
        "钢铁锦镇钧锐澄沛淼润溪渊潇洋浪滨澜沐添诚诺谦逸遥达迪进运道邦郁坚培基堂增墨壮家宁宗定宜"
        "容富寒尧峻崇嵩巍川州帅希年庭康廷弘彦彪影心忆念怀恒恩惠意振捷斐旭昌晋晖景曼月朗朝枫栩"
        "桢梦棠楚榕欢歌毓水汉沁治泓泰津淳深溢滢漫潮灵炜烁焕照熠爽玮环珊珠琅琼瑜瑾璇璟甫田男畅百"
        "皓盈益真瞳石硕祖禹秋程稳童竹笑策简米纯纪经维绮缘羽翊翰耀聪舒良艺芝芬芸芮苗茂茹荷莎莹菁"
        "萌蒙蓝蔚蕙虹融衡誉语豪贝贤赋起越路辰迅郎锡闻阔隆雁雅雄雯霖霏靖韬韵颂飘驰骏魁麟黎鼎齐晴"
        "冰冬凌凝初剑励勋卉卫卿厚双叶君咏品哲唯善嘉园圣城奇奕奎姣姿威娇婧婵媚嫦孝孟学守实宣宸宾"
        "宽寅尚岚峥巧幸庄弦彩征微惜慈慕懿承拓持敦斯旋昀昭晔暄本朴杉杭杏杞果柔树栗桃桥梧棋椿榆樱"
        "檀泊法洲浚涓淇渝湘滔澈灿炫炳烈烽燃爱牧献玥珂珏珺琬瑗瑛璧甄由盛眉知研碧祎福秦稼穆端笛筱"
        "精纬绍绪继绿缨羡翼耕聆育胤腾舟芃芊芙芷苑苹茗荔莺菡萧葳蔓蕴薰虎蝶裕谊谨豫贞贺赛赫跃轶迎"
        "连通醇钦钰铃银镜闰阁陶雍霄非顾飒馥驹骞鸥鹰麒黛龄儿丫妞娃蛋豆宝贝芹庚辛壬癸甲乙丙丁二三"
        "四五六七八九大少老会来复兆玲琳俊杏蓬韩贤"
    )
)
# Two-character words made of a surname and a given-name character that are ordinary words.
_NOT_NAMES = _words(
    "白天 白云 白色 高大 高兴 高中 高新 高明 高温 高速 高压 高层 高楼 高度 江南 江湖 马上 马力 金色 "
    "金子 金属 石子 方便 方向 温和 温柔 齐全 安全 安静 成年 成人 成功 成都 华丽 黄金 黄色 常年 明亮 "
    "明天 明年 明星 明显 明确 文明 文化 向阳 龙头 牛奶 毛巾 童年 童车 田园 阳光 宁静 平安 平时 平常 "
    "平静 平衡 平台 平地 平路 水平 和平 史上 左右 左边 左侧 右侧 于是 于今 向前 向后 向下 向上 雷雨 "
    "周一 周二 周三 周四 周五 周六 周日 周天 周末 周岁 周边 周围 周年 丁香 余生 余下 夏天 秋天 冬天 "
    "春天 冷水 冷天 冷静 凌晨 游乐 游玩 甘心 申明 卫生 单元 单人 单一 车道 车上 车子 车里 全家 全身 "
    "全天 全程 关节 关心 关东 查明 查体 包子 包里 项目 项链 景区 房间 房子 房东 房门 沙子 商场 商家 "
    "米饭 米粉 古代 吉祥 柏油 苗子 麦子 谷子 花生 简单 艾草 池子 池塘 钱包 钱币 席子 桂花 师傅 师生 "
    "盛夏 蓝天 蓝色 柴火 鲍鱼 曲线 毕业 井水 应急 应该 应当 宫颈 冉冉 隆起 隆冬 练习 仇人 荣誉 严重 "
    "严格 严实 严冬 农家 农田 农民 司机 卓越 霍乱 党员 朱红 红色 文具 石头 孔洞 乔木 叶子 胡子 杨树 "
    "柳树 林子 梁上 虎口 童装 童鞋 万一 万能 东西 连续 连接 通道 明火 易燃 易碎 易拉 曾经 符合 尚未 "
    "莫名 甘蔗 蒙古 顾客 钟表 钟点 武术 武器 戴着 陆续 舒服 舒适 舒张 房屋 巩固 温度 温水 施工 时间 "
    "江边 阳台 黎明 万家 杜鹃 梅花 兰花 菊花 桃花 牛仔 马路 马桶 马甲 马达 石膏 石板 金鱼 金龙 季节 "
    "季度 成长 成品 华为 向日 向着 向来 宁可 毛衣 毛毯 车轮 车门 车窗 包装 包扎 全部 全新 关上 关门 "
    "查看 单车 单手 单脚 余热 孙子 孙女 老人 老师 老家 小孩 小区 小便 小腿 小时 小学 小心 小米 小儿 "
    "阿姨 高处 高空 明白 文字 成年 应用 雷电 古老 简易 管道 苏醒 曲奇 冷冻 冷藏 冷却 热水"
)
_ROLE_WORDS_ZH = (
    "患者家属", "患儿父亲", "患儿母亲", "患儿家长", "主治医师", "主治医生", "接诊医生", "值班医生",
    "值班护士", "责任护士", "患者", "患儿", "病人", "病儿", "伤者", "伤员", "孩子", "小孩", "其母亲",
    "其父亲", "其母", "其父", "其妻", "其夫", "其子", "其女", "其兄", "其姐", "其弟", "其妹", "其祖父",
    "其祖母", "其外公", "其外婆", "其爷爷", "其奶奶", "其家属", "其监护人", "母亲", "父亲", "妈妈",
    "爸爸", "家长", "家属", "监护人", "联系人", "丈夫", "妻子", "老公", "老婆", "爱人", "儿子",
    "女儿", "孙子", "孙女", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "哥哥", "姐姐", "弟弟",
    "妹妹", "叔叔", "伯伯", "舅舅", "舅妈", "姑姑", "婶婶", "嫂子", "邻居", "同事", "朋友", "同学",
    "室友", "保姆", "护工", "老师", "班主任", "教练", "护士", "医生", "医师", "大夫", "报告人",
    "填报人", "陪同人", "陪护", "司机", "店主", "店员", "老板", "工友", "目击者", "证人", "肇事者",
    "车主", "房东", "租客", "回访人", "受访人", "接听人", "被访者", "名叫", "叫做", "名为", "名字叫",
    "名字是", "姓名", "患者姓名", "患儿姓名", "病人姓名", "家属姓名", "联系人姓名", "监护人姓名",
    "分诊护士", "主管护士", "管床医生",
)  # fmt: skip
_SURNAME = _alternation((*SURNAMES_2, *SURNAMES_1))
_GIVEN = f"[{GIVEN}]"
_TITLES_ZH = (
    "先生", "女士", "小姐", "太太", "老师", "医生", "医师", "大夫", "护士", "师傅", "阿姨", "叔叔",
    "伯伯", "大爷", "大妈", "大娘", "大伯", "奶奶", "爷爷", "婆婆", "阿婆", "同学", "老人", "大哥",
    "大姐", "律师", "警官", "经理", "主任", "老板", "师父", "阿公",
)  # fmt: skip
_ZH_NAME_SEP = f"(?:{SP}?[:：]{SP}?|{SP}|是|叫|为)?"
# A name after a role word or a name label: "其母王秀英", "患儿父亲李强", "姓名：诸葛小明",
# "患儿小明", "患儿乐乐". The role word stays, the name goes.
ZH_NAME_AFTER_ROLE = (
    rf"(?P<kw>{_alternation(_ROLE_WORDS_ZH)}{_ZH_NAME_SEP})"
    rf"(?P<v>{_SURNAME}{_GIVEN}{{1,2}}|[小阿]{_GIVEN}{{1,2}}|(?P<dup>{_GIVEN})(?P=dup))"
)
# A surname (with or without a given name) and a title: "张阿姨", "王秀英女士", "李老师".
ZH_NAME_WITH_TITLE = rf"(?P<v>{_SURNAME}{_GIVEN}{{0,2}}{_alternation(_TITLES_ZH)})"
ZH_COMPOUND_NAME = rf"(?P<v>{_alternation(SURNAMES_2_ANYWHERE)}{_GIVEN}{{1,2}})"
_NAME_LABELS = (
    "患者姓名",
    "患儿姓名",
    "病人姓名",
    "家属姓名",
    "联系人姓名",
    "监护人姓名",
    "姓名",
    "联系人",
)
# Any 2-4 character name right after an explicit name label, whatever the surname.
ZH_NAME_AFTER_LABEL = (
    rf"(?P<kw>{_alternation(_NAME_LABELS)}{SP}?[:：]{SP}?)"
    r"(?P<v>[\u4e00-\u9fff]{2,4}(?:[·•][\u4e00-\u9fff]{2,6})?)"
    r"(?=[\s，,。．.；;、：:！!？?（()）]|$|[男女]|[0-9０-９]|电话|手机|身份|联系)"
)
_EN_NOT_NAMES = _words(
    "The This That These Those He She It His Her Hers They Them Their We You Who Was Is Are Has "
    "Had Have And But Or Not To From With Without At In On Of For By As After Before When While "
    "States Stated Reports Reported Says Said Presented Presents Came Comes Brought Fell Found "
    "Called Calls Noted Notes Denies Denied Arrived Unknown None Other Patient Mother Father "
    "Emergency Department Hospital Home School Street Avenue Road Today Yesterday Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday January February March April May June July August "
    "September October November December Also Then Later Nurse Doctor Parent Guardian Caller "
    "Contact Name Number Phone Address Email Via Per Re Left Right Both Cell Tel Injury Injured "
    "Burn Fracture Laceration Product Brand Model Batch Lot Serial Unit Apt Suite Floor Room "
    "Police Fire Was Were Will Would Could Should Did Does Stated Took Takes Tried Went Got Is "
    "Had Here There Now Not No Yes Okay Ok Please Thanks Thank Sorry Mom Dad"
)
_EN_WORD = r"(?:[A-Z][a-z]+(?:['’\-][A-Z][a-z]+)?|[A-Z]['’][A-Z][a-z]+)"
_EN_CAPS = r"(?:[A-Z]{2,}(?:['’\-][A-Z]{2,})?)"
_EN_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Mister", "Madam", "MR", "MRS",
              "MS", "DR")  # fmt: skip
EN_NAME_WITH_TITLE = (
    rf"(?P<v>(?<![A-Za-z]){_alternation(_EN_TITLES)}\.?[ \t\u00a0](?:{_EN_WORD}(?:[ \t\u00a0]{_EN_WORD}){{0,2}}|{_EN_CAPS}"
    rf"(?:[ \t\u00a0]{_EN_CAPS}){{0,2}}))"
)
_EN_ROLES = (
    "patient", "pt", "mother", "mom", "mum", "father", "dad", "parent", "guardian", "son",
    "daughter", "wife", "husband", "brother", "sister", "grandmother", "grandma", "grandfather",
    "grandpa", "granddaughter", "grandson", "aunt", "uncle", "cousin", "neighbor", "neighbour",
    "friend", "nurse", "caregiver", "babysitter", "nanny", "teacher", "coach", "boyfriend",
    "girlfriend", "roommate", "witness", "caller", "contact", "spouse", "partner", "sibling",
    "child", "toddler", "infant", "boy", "girl", "owner", "landlord", "driver", "named",
    "called", "name is", "name", "informant", "reporter", "stepmother", "stepfather", "niece",
    "nephew", "fiance", "fiancee", "classmate", "coworker", "co-worker", "employer",
)  # fmt: skip
_EN_ROLE_FORMS = tuple(dict.fromkeys(f for w in _EN_ROLES for f in (w, w.title(), w.upper())))
_EN_ROLE = _alternation(_EN_ROLE_FORMS)
EN_NAME_AFTER_ROLE = (
    rf"(?P<kw>(?<![A-Za-z]){_EN_ROLE}(?:'s|'S)?(?:,|:)?[ \t\u00a0])"
    rf"(?P<v>{_EN_WORD}(?:[ \t\u00a0]{_EN_WORD}){{0,2}})"
    r"(?![A-Za-z])"
)
# Chinese names in English text after an English role word: "CONTACT 王秀英".
ZH_NAME_AFTER_EN_ROLE = (
    rf"(?P<kw>(?<![A-Za-z]){_EN_ROLE}(?:'s|'S)?[,:]?{SP}?)(?P<v>{_SURNAME}{_GIVEN}{{1,2}})"
)


# ---- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A compiled pattern whose group ``group`` is replaced by the placeholder of ``kind``
    unless ``keep`` says the match is not an identifier after all. ``trigger`` (RE2 syntax,
    no look-around) matches every text in which ``pattern`` can match: a superset."""

    name: str
    kind: str
    pattern: re.Pattern[str]
    trigger: str
    group: str | int = 0
    keep: Callable[[re.Match[str]], bool] | None = None


def _phone_gap_is_other(m: re.Match[str]) -> bool:
    """Digits after a phone word but behind a batch/model/barcode word are not a phone."""
    return bool(_NOT_PHONE_GAP.search(m.group("kw")))


def _is_barcode(m: re.Match[str]) -> bool:
    return bool(_BARCODE_BEFORE.search(m.string[max(0, m.start() - 14) : m.start()]))


def _address_is_place(m: re.Match[str]) -> bool:
    """Keep matches that are places, not addresses: an estate with only one weak part
    ("公园3号门"), a village without admin prefix or number ("农村")."""
    if m.group("estate") is not None:
        tail = m.string[m.end("estate") : m.end()]
        return not (_STRONG_BLOCK.search(tail) or len(_BLOCK_WORD_RE.findall(tail)) >= 2)
    if m.group("village") is not None:
        has_admin = m.start("village") > m.start()
        has_number = m.end() > m.end("village")
        return not (has_admin or has_number) or m.group("village") in _NOT_ADDRESS
    return False


def _context_address_is_not(m: re.Match[str]) -> bool:
    value = m.group("v")
    return not _ADDRESS_MARK.search(value) or value in _NOT_ADDRESS


def _zh_name_is_word(m: re.Match[str]) -> bool:
    value = m.group("v")
    return value[:2] in _NOT_NAMES or (value[0] == "于" and "姓名" not in m.group(0))


_EN_WEAK_ROLES = _words(
    "child boy girl son daughter toddler infant contact caller owner driver partner friend "
    "called name"
)


def _en_name_is_word(m: re.Match[str]) -> bool:
    words = m.group("v").split()
    if words[0] in _EN_NOT_NAMES:
        return True
    role = m.group("kw").strip(" ,:\t\u00a0").lower().removesuffix("'s")
    # After a weak role word ("boy", "friend"), one capitalised word is usually not a name.
    return role in _EN_WEAK_ROLES and len(words) < 2


# RE2 triggers. Python's \s and \w are Unicode-wide and RE2's are ASCII, so the triggers spell
# out the characters; (?s:.) stands for "any character" where a rule allows a few.
_ANY = "(?s:.)"
_RE2_SP = "[ \u00a0\u3000\t]"
_NUMBER_TRIGGER = rf"{D}(?:[{RE2_SEP_CHARS}()（）]{{0,3}}{D}){{5}}"
_ZH_NUMERALS = "0-9０-９一二三四五六七八九十百千零〇两"
_DUPS = "|".join(ch + ch for ch in GIVEN)


def _re2(pattern: str) -> str:
    """Python escapes RE2 spells differently: \\uXXXX -> \\x{XXXX}."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)


def _rule(name, kind, pattern, trigger, group=0, keep=None) -> Rule:
    return Rule(name, kind, re.compile(pattern), _re2(trigger), group, keep)


RULES: tuple[Rule, ...] = (
    _rule(
        "email",
        "email",
        EMAIL,
        r"[A-Za-z0-9._%+\-][@＠][A-Za-z0-9]|[(\[（【] ?(?:at|AT|艾特) ?[)\]）】]",
    ),
    _rule("wxid", "im_id", WXID, "wxid_"),
    _rule("im_id", "im_id", IM_ID, _alternation(_IM_WORDS), "v"),
    _rule("id_after_word", "id_number", ID_AFTER_WORD, _NUMBER_TRIGGER, "v"),
    _rule("id18", "id_number", ID18, _NUMBER_TRIGGER),
    _rule("passport", "document", PASSPORT, _NUMBER_TRIGGER),
    _rule("ssn", "document", SSN, _NUMBER_TRIGGER),
    _rule("mobile", "phone", MOBILE, _NUMBER_TRIGGER),
    _rule("landline", "phone", LANDLINE, _NUMBER_TRIGGER, keep=_is_barcode),
    _rule("us_phone", "phone", US_PHONE, _NUMBER_TRIGGER),
    _rule("long_number", "id_number", LONG_NUMBER, _NUMBER_TRIGGER),
    _rule("phone_after_word", "phone", PHONE_AFTER_WORD, _NUMBER_TRIGGER, "v", _phone_gap_is_other),
    _rule("tail_digits", "id_number", TAIL_DIGITS, _alternation(_TAIL_WORDS), "v"),
    _rule(
        "zh_address",
        "address",
        ZH_ADDRESS,
        f"[{_ZH_NUMERALS}A-Za-z甲乙丙丁东西南北]{_RE2_SP}?(?:{_BLOCK_WORD}|[号號])"
        f"|[0-9０-９][\\-－][0-9０-９]|{_alternation(_VILLAGE_SUFFIX)}",
        keep=_address_is_place,
    ),
    _rule(
        "address_after_word",
        "address",
        ADDRESS_AFTER_WORD,
        _alternation(_ADDRESS_WORDS),
        "v",
        _context_address_is_not,
    ),
    _rule(
        "en_address",
        "address",
        EN_ADDRESS,
        f"[0-9][A-Z]?{_EN_ADDRESS_BODY}",
    ),
    _rule("po_box", "address", PO_BOX, "[Pp]\\.? ?[Oo]\\.? ?(?:Box|BOX|box)"),
    _rule("zh_name_after_label", "name", ZH_NAME_AFTER_LABEL, _alternation(_NAME_LABELS), "v"),
    _rule(
        "zh_name_with_title",
        "name",
        ZH_NAME_WITH_TITLE,
        f"{_SURNAME}{_GIVEN}{{0,2}}{_alternation(_TITLES_ZH)}",
        "v",
        _zh_name_is_word,
    ),
    _rule(
        "zh_name_after_role",
        "name",
        ZH_NAME_AFTER_ROLE,
        f"{_alternation(_ROLE_WORDS_ZH)}[:： \u00a0\u3000是叫为]{{0,3}}"
        f"(?:{_SURNAME}{_GIVEN}|[小阿]{_GIVEN}|{_DUPS})",
        "v",
        _zh_name_is_word,
    ),
    _rule(
        "zh_compound_name",
        "name",
        ZH_COMPOUND_NAME,
        f"{_alternation(SURNAMES_2_ANYWHERE)}{_GIVEN}",
        "v",
    ),
    _rule(
        "zh_name_after_en_role",
        "name",
        ZH_NAME_AFTER_EN_ROLE,
        f"{_EN_ROLE}{_ANY}{{0,4}}{_SURNAME}{_GIVEN}",
        "v",
        _zh_name_is_word,
    ),
    _rule(
        "en_name_with_title",
        "name",
        EN_NAME_WITH_TITLE,
        f"{_alternation(_EN_TITLES)}\\.?[ \t\u00a0][A-Z]",
        "v",
    ),
    _rule(
        "en_name_after_role",
        "name",
        EN_NAME_AFTER_ROLE,
        f"{_EN_ROLE}{_ANY}{{1,4}}[A-Z](?:[a-z]|['’][A-Z])",
        "v",
        _en_name_is_word,
    ),
)
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(rule.trigger for rule in RULES))
_RULE_TRIGGER = tuple(TRIGGERS.index(rule.trigger) for rule in RULES)
# The union of the triggers in two parts: one RE2 automaton for all of them outgrows RE2's
# DFA cache and runs several times slower than two (identifiers, then names).
_NAME_RULES = {i for i, rule in enumerate(RULES) if rule.kind == "name"}
TRIGGER_GROUPS: tuple[str, ...] = tuple(
    "|".join(f"(?:{t})" for t in dict.fromkeys(RULES[i].trigger for i in group))
    for group in (
        [i for i in range(len(RULES)) if i not in _NAME_RULES],
        sorted(_NAME_RULES),
    )
)


def _replacer(rule: Rule, zh: bool) -> Callable[[re.Match[str]], str]:
    placeholder = PLACEHOLDERS[rule.kind][0 if zh else 1]
    group, keep = rule.group, rule.keep

    def replace(m: re.Match[str]) -> str:
        if keep is not None and keep(m):
            return m.group(0)
        if group == 0:
            return placeholder
        whole, start = m.group(0), m.start()
        return whole[: m.start(group) - start] + placeholder + whole[m.end(group) - start :]

    return replace


_REPLACERS: dict[bool, tuple[tuple[re.Pattern[str], Callable], ...]] = {
    zh: tuple((rule.pattern, _replacer(rule, zh)) for rule in RULES) for zh in (True, False)
}


# ---- known names ---------------------------------------------------------------------------

_NOT_A_NAME = _words("不详 未知 无名 匿名 无 不明 空 unknown none n/a na null anonymous")


def _name_forms(names: Iterable[str]) -> list[str]:
    """The literal forms of known names to remove, longest first: the name as written (NFKC,
    inner spaces dropped for Chinese), a Chinese name's given name of 2+ characters, and each
    part of 3+ letters of a Latin-script name."""
    forms: set[str] = set()
    for raw in names:
        name = unicodedata.normalize("NFKC", raw).strip()
        if len(name) < 2 or name.lower() in _NOT_A_NAME:
            continue
        if _CJK.search(name):
            compact = "".join(name.split())
            forms.add(compact)
            surname = 2 if compact[:2] in SURNAMES_2 and len(compact) >= 4 else 1
            if len(compact) - surname >= 2:
                forms.add(compact[surname:])
        else:
            forms.add(" ".join(name.split()))
            forms.update(p for p in re.split(r"[\s.,]+", name) if len(p) >= 3)
    return sorted(forms, key=len, reverse=True)


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and not _CJK.match(ch)


def _remove_known_names(text: str, names: Sequence[str], placeholder: str) -> str:
    """Literal removal of the record's own names: Chinese forms as written, Latin forms
    case-insensitively and only as whole words ("Li" does not hit "Lily")."""
    for form in _name_forms(names):
        if _CJK.search(form):
            text = text.replace(form, placeholder)
            continue
        lowered, needle = text.lower(), form.lower()
        if needle not in lowered:
            continue
        if len(lowered) != len(text):  # lower() changed the length: a regex keeps offsets
            word = r"(?<![^\W\d_])" + re.escape(form) + r"(?![^\W\d_])"
            text = re.sub(word, placeholder, text, flags=re.IGNORECASE)
            continue
        out, pos, hit = [], 0, lowered.find(needle)
        while hit >= 0:
            end = hit + len(needle)
            inside_word = (hit > 0 and _is_latin_letter(text[hit - 1])) or (
                end < len(text) and _is_latin_letter(text[end])
            )
            if not inside_word:
                out += [text[pos:hit], placeholder]
                pos = end
            hit = lowered.find(needle, hit + 1 if inside_word else end)
        out.append(text[pos:])
        text = "".join(out)
    return text


def _may_hold(text: str, names: Sequence[str]) -> bool:
    """Cheap pre-check (a superset of what ``_remove_known_names`` removes): may a form of a
    known name occur in ``text``?"""
    lowered = None
    for name in names:
        if name.isascii():
            lowered = lowered if lowered is not None else text.lower()
            parts = name.lower().split()
            if " ".join(parts) in lowered or any(len(p) >= 3 and p in lowered for p in parts):
                return True
        elif not _CJK.search(name):
            return True  # other scripts (full-width, accents): let the exact pass decide
        else:
            compact = "".join(name.split())
            if compact in text or (len(compact) >= 3 and compact[-2:] in text):
                return True
            if unicodedata.normalize("NFKC", compact) != compact:
                return True
    return False


# ---- public API ----------------------------------------------------------------------------


def pseudonymise(kind: str, value: str | None, key: bytes) -> str | None:
    """Keyed pseudonym of an identifier; blank stays blank. ``kind`` separates namespaces."""
    if value is None:
        return None
    folded = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value)).upper()
    if not folded:
        return None
    digest = hmac.new(key, f"{kind}:{folded}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:2]}_{digest[:20]}"


def _scrub_one(text: str, names: Sequence[str], rules: Iterable[int]) -> str:
    zh = bool(_CJK.search(text))
    replacers = _REPLACERS[zh]
    for i in rules:
        pattern, replace = replacers[i]
        text = pattern.sub(replace, text)
    if names and _may_hold(text, names):
        text = _remove_known_names(text, names, PLACEHOLDERS["name"][0 if zh else 1])
    return text


_ALL_RULES = tuple(range(len(RULES)))


def scrub_text(text: str | None, names: Iterable[str] = ()) -> str | None:
    """Remove identifiers (and the given known names of the record) from one text."""
    if not text:
        return text
    return _scrub_one(text, tuple(n for n in names if isinstance(n, str)), _ALL_RULES)


_CHUNK = 200_000  # rows per Arrow call: bounds the copy of a large column
_SMALL = 64  # fewer texts than this: run every rule (compiling the triggers costs more)
_DUCKDB_FROM = 20_000  # this many rows or more: the known-name pre-check runs in DuckDB


def _flags(texts: pa.Array, pattern: str) -> np.ndarray:
    hits = pc.fill_null(pc.match_substring_regex(texts, pattern), False)
    return hits.to_numpy(zero_copy_only=False)


def _rules_for_chunk(chunk: pa.Array) -> dict[int, tuple[int, ...]]:
    """Row (within ``chunk``) -> indices of the rules whose trigger matches it."""
    hit = np.zeros(len(chunk), dtype=bool)
    for group in TRIGGER_GROUPS:
        hit |= _flags(chunk, group)
    rows = np.flatnonzero(hit)
    if not len(rows):
        return {}
    flagged = chunk.take(pa.array(rows))
    per_trigger = np.stack([_flags(flagged, t) for t in TRIGGERS])  # triggers x rows
    return {
        int(row): tuple(i for i, t in enumerate(_RULE_TRIGGER) if column[t])
        for row, column in zip(rows, per_trigger.T, strict=True)
    }


def rules_to_run(texts: pa.Array | Sequence[str | None]) -> dict[int, tuple[int, ...]]:
    """Row -> indices (in ``RULES``) of the rules that may match it; rows absent need none."""
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), type=pa.large_string())
    out: dict[int, tuple[int, ...]] = {}
    for start in range(0, len(texts), _CHUNK):
        found = _rules_for_chunk(texts.slice(start, _CHUNK))
        out.update({start + row: rules for row, rules in found.items() if rules})
    return out


# DuckDB version of ``_may_hold`` (a vectorised per-row "contains"): printable-ASCII names
# by their lower-case parts, names of Chinese characters and spaces by the name and its last
# two characters; any other name is a candidate and the exact Python pass decides.
_KNOWN_NAME_SQL = r"""
SELECT i FROM (
  SELECT i, t, trim(n) AS n FROM texts WHERE t IS NOT NULL AND n IS NOT NULL
) WHERE n <> '' AND CASE
  WHEN regexp_full_match(n, '[\x20-\x7E]+') THEN
    contains(lower(t), array_to_string(string_split_regex(lower(n), ' +'), ' '))
    OR coalesce(list_bool_or(list_transform(string_split_regex(lower(n), ' +'),
                                            lambda p: length(p) >= 3 AND contains(lower(t), p))), false)
  WHEN regexp_full_match(n, '[\x{4e00}-\x{9fff} ]+') THEN
    contains(t, replace(n, ' ', ''))
    OR (length(replace(n, ' ', '')) >= 3 AND contains(t, right(replace(n, ' ', ''), 2)))
  ELSE true
END
ORDER BY i
"""


def known_name_rows(texts: pa.Array, names: pa.Array) -> list[int]:
    """Rows whose text may contain a form of the row's known name (a superset)."""
    if len(texts) < _DUCKDB_FROM:
        pairs = zip(texts.to_pylist(), names.to_pylist(), strict=True)
        return [
            i
            for i, (text, name) in enumerate(pairs)
            if text and name and name.strip() and _may_hold(text, (name,))
        ]
    import duckdb  # only for large columns; keeps ``import pipeline.privacy`` light

    table = pa.table({"i": pa.array(np.arange(len(texts))), "t": texts, "n": names})
    con = duckdb.connect()
    try:
        con.register("texts", table)
        found = con.sql(_KNOWN_NAME_SQL).fetchnumpy()["i"]
    finally:
        con.close()
    return [int(i) for i in found]


def _as_arrow(values: pd.Series) -> pa.Array:
    """A column as an Arrow string array (zero-copy when pandas already holds it in Arrow);
    anything that is not a string becomes null."""
    if isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type):
            return arr
    return pa.array(
        [v if isinstance(v, str) else None for v in values.tolist()], type=pa.large_string()
    )


def scrub_series(texts: pd.Series, known_names: pd.Series | None = None) -> pd.Series:
    """Scrub a whole column: identifiers the rules find, and each row's known name
    (``known_names``: the record's own name, aligned with ``texts`` by position; missing
    where unknown). Returns a copy; values that are not text stay as they are; index, name
    and dtype are kept."""
    if known_names is not None and len(known_names) != len(texts):
        raise ValueError(f"known_names has {len(known_names)} rows, texts {len(texts)}")
    arr = _as_arrow(texts)
    names = _as_arrow(known_names) if known_names is not None else None
    if len(arr) < _SMALL:
        rules = {i: _ALL_RULES for i in range(len(arr)) if arr[i].is_valid}
    else:
        rules = rules_to_run(arr)
    candidates = set(rules)
    if names is not None:
        candidates.update(known_name_rows(arr, names))
    out = texts.copy()
    if not candidates:
        return out
    rows = sorted(candidates)
    taken = pa.array(rows, type=pa.int64())
    row_texts = arr.take(taken).to_pylist()
    row_names = names.take(taken).to_pylist() if names is not None else [None] * len(rows)
    changed: dict[int, str] = {}
    for i, text, name in zip(rows, row_texts, row_names, strict=True):
        if not text:
            continue
        scrubbed = _scrub_one(text, (name,) if name and name.strip() else (), rules.get(i, ()))
        if scrubbed != text:
            changed[i] = scrubbed
    if changed:
        out.iloc[list(changed)] = list(changed.values())
    return out
