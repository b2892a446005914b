"""Synthetic patient identifiers: Chinese names, 18-digit resident ID numbers, mobile numbers.

All values are fake but valid-looking: ID numbers carry a real district code, the birth date
implied by the patient's age, an odd/even sequence digit for sex and the GB 11643 check digit.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_M = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆晨阳子轩宇航博文睿泽浩然梓豪一鸣思远天佑"
GIVEN_F = "芳娜敏静丽艳娟霞秀英慧婷雪琳晶燕玲丹萍红梅颖欣怡佳琪梓涵诗雨可馨欣妍紫萱雨桐若曦思彤"
PHONE_PREFIX = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(value: str) -> bool:
    return (
        len(value) == 18
        and value[:17].isdigit()
        and id_check_digit(value[:17]) == value[17].upper()
    )


def person_name(rnd: random.Random, sex: str) -> str:
    pool = GIVEN_M if sex == "male" else GIVEN_F if sex == "female" else GIVEN_M + GIVEN_F
    given = rnd.choice(pool)
    if rnd.random() < 0.7:
        given += rnd.choice(pool)
    return rnd.choice(SURNAMES) + given


def birth_date(rnd: random.Random, visit: date, age: int, unit: str) -> date:
    if unit == "days":
        return visit - timedelta(days=age)
    if unit == "months":
        return visit - timedelta(days=int(age * 30.44) + rnd.randint(0, 29))
    return visit - timedelta(days=int(age * 365.25) + rnd.randint(0, 364))


def id_number(rnd: random.Random, region: str, birth: date, sex: str) -> str:
    seq = rnd.randint(0, 99) * 10 + rnd.choice(
        (1, 3, 5, 7, 9) if sex == "male" else (0, 2, 4, 6, 8)
    )
    first = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first + id_check_digit(first)


def phone(rnd: random.Random) -> str:
    return rnd.choice(PHONE_PREFIX) + f"{rnd.randint(0, 99_999_999):08d}"
