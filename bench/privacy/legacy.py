"""The scrubber as it was before issue 16 (main at 0caf446), kept only as the baseline of
the throughput benchmark: per-row ``scrub_text`` that compiles a regex for each known name.

Original module docstring: Patient identifiers never leave intake in clear.

Names, ID-card numbers and phone numbers are replaced by keyed pseudonyms (HMAC-SHA256 with a
secret from the environment), so the same patient links across submissions without anyone being
able to recover or brute-force the identifier from stored data. Narratives are scrubbed of
ID-card and phone-number patterns and of the patient's own name before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

# 18-digit resident ID (last char may be X), 15-digit legacy ID; mobile 1[3-9]x + 8 digits,
# optionally +86 / spaced / dashed; landlines like 020-12345678.
ID_CARD_RE = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}[0-9]{7}[0-9Xx](?![0-9])"
    r"|(?<![0-9])[1-9][0-9]{14}(?![0-9])"
)
PHONE_RE = re.compile(
    r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])"
    r"|(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])"
)
# "姓名：张三" and "name: John Smith" style mentions.
NAME_LABEL_RE = re.compile(
    r"(?:姓名|患者姓名|患儿姓名|病人姓名)[:：]?\s*[\u4e00-\u9fff·]{2,4}"
    r"|(?i:\b(?:patient name|name)\s*[:：]\s*[A-Za-z][A-Za-z.'\-]*(?:\s+[A-Za-z][A-Za-z.'\-]*){0,2})"
)
# "患者张三，" / "患儿欧阳娜娜。": a name right after the patient's role word, closed by
# punctuation. Only common surnames qualify, so narrative words ("患者跌倒，", "患儿摔伤，") stay;
# surnames that often begin clinical words ("车祸", "查体", "关节", "严重", "包扎") are left out.
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱覃武戴莫孔向汤温施文牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝"
    "宁尚符舒阮柯纪梅童凌毕季裴霍成苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍华喻祁蒲房滕屈饶牟艾尤阳穆农司"
    "卓古吉缪简项芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬卞姬师仇栾隋商刁沙荣巫寇"
    "桑郎甄丛仲虞敖巩明佘池苑迟邝"
)
_SURNAMES_2 = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
    "西门",
    "南宫",
    "独孤",
    "呼延",
    "轩辕",
)
ROLE_NAME_RE = re.compile(
    r"(患者|患儿|病人|病儿|伤者|伤员)"
    rf"(?:{'|'.join(_SURNAMES_2)}|[{_SURNAMES_1}])[\u4e00-\u9fff]{{1,2}}"
    r"(?=[，,。．.；;、：:！!？?\s（(）)]|$)"
)
ID_MASK, PHONE_MASK, NAME_MASK = "[身份证号]", "[电话]", "[姓名]"


def pseudonymise(kind: str, value: str | None, key: bytes) -> str | None:
    """Keyed pseudonym of an identifier; blank stays blank. ``kind`` separates namespaces."""
    if value is None:
        return None
    folded = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value)).upper()
    if not folded:
        return None
    digest = hmac.new(key, f"{kind}:{folded}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:2]}_{digest[:20]}"


def scrub_text(text: str | None, names: tuple[str, ...] = ()) -> str | None:
    """Remove ID-card numbers, phone numbers and the given names from free text."""
    if not text:
        return text
    out = ID_CARD_RE.sub(ID_MASK, text)
    out = PHONE_RE.sub(PHONE_MASK, out)
    out = NAME_LABEL_RE.sub(NAME_MASK, out)
    out = ROLE_NAME_RE.sub(lambda m: m.group(1) + NAME_MASK, out)
    for name in names:
        name = name.strip()
        if len(name) >= 2:
            out = re.sub(re.escape(name), NAME_MASK, out, flags=re.IGNORECASE)
    return out
