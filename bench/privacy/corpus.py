"""The project's own labelled privacy corpus: identifier-bearing texts built from templates.

    python -m bench.privacy.corpus [--records 700] [--seed 20261205] [--out FILE.jsonl]

Each record is ``{"id", "lang", "field", "style", "text", "spans": [{"start", "end", "kind",
"value"}], "known_name", "source"}`` (the format of the independent corpus, plus the record's
own patient name where the template says the intake would know it). Templates are Chinese,
English (clinical and NEISS upper-case) and mixed narratives, follow-up notes, triage reasons
and product fields; identifiers are generated in every written form the scrubber claims to
handle, and every record also carries negatives that must survive (brands with surname
characters, places, hospitals, vital signs, models, batches, barcodes, standards, dates, case
numbers). Spans follow the independent corpus's labelling rules: the identifier only, never
its label word; a surname with a title ("张阿姨", "Mrs. Garcia") is one name span.

Same seed, same corpus, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

SEED = 20261205

# ---- people --------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
RARE_SURNAMES = "冼佘禤佴訾谯谌邝亓宓蔺芮滕阙"
COMPOUND = ("欧阳", "诸葛", "端木", "慕容", "上官", "司马", "司徒", "皇甫", "夏侯", "令狐", "公孙",
            "宇文", "独孤", "呼延", "澹台", "公冶")  # fmt: skip
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬飞鹏辉斌宇浩凯健俊帆晨"
    "阳子轩睿泽然梓豪一鸣思远佑婷雪琳晶燕丹梅颖欣怡佳琪涵诗雨可馨妍紫萱桐若曦彤建国志海东"
    "林峰亮成龙云春凤洁珍莉荣淑香琴素翠莲美花菊德福贵生祥宝山江松青清新立中正武兵庆全安永"
)
NICKNAMES = ("小明", "小宝", "豆豆", "乐乐", "欢欢", "婷婷", "阿强", "小虎", "安安", "朵朵", "阿明",
             "贝贝", "小雨", "童童")  # fmt: skip
TITLES_BARE = (
    "阿姨",
    "师傅",
    "先生",
    "女士",
    "老师",
    "大爷",
    "奶奶",
    "经理",
    "主任",
    "叔叔",
    "大姐",
)
FIRST = ("John", "Mary", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David",
         "Elizabeth", "Daniel", "Susan", "Kevin", "Karen", "Brian", "Nancy", "Jason", "Lisa",
         "Aiden", "Olivia", "Ethan", "Sophia", "Noah", "Emma", "Carlos", "Maria", "Wei", "Priya",
         "Ahmed", "Fatima", "Kenji", "Yuki", "Sean", "Siobhan", "Tyrone", "Latoya")  # fmt: skip
LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor",
        "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
        "Robinson", "Walker", "Young", "Allen", "King", "Nguyen", "Patel", "Kim", "O'Brien",
        "McCarthy", "Chen", "Wang", "Okafor", "Schmidt", "Price-Whitman")  # fmt: skip

# ---- negatives -----------------------------------------------------------------------------

BRANDS_ZH = ("王老吉", "小米", "格力", "美的", "九阳", "苏泊尔", "长城", "金龙鱼", "周大福", "海尔",
             "公牛", "雅迪", "好孩子", "老板电器", "方太", "华为", "小熊", "贝恩施", "爱玛", "飞利浦",
             "李宁", "张小泉")  # fmt: skip
PRODUCTS_ZH = ("电饭煲", "电热水壶", "电动自行车", "充电宝", "儿童滑板车", "取暖器", "电热毯", "婴儿学步车",
               "燃气灶", "高压锅", "蹦床", "折叠梯", "玻璃茶几", "电风扇", "吹风机", "磁力片玩具",
               "儿童安全座椅", "空气炸锅", "破壁机", "暖风机")  # fmt: skip
EVENTS_ZH = (
    "在家中从床上跌落，额部血肿，CT未见异常",
    "使用{product}时外壳破裂，右手背烫伤，Ⅱ度约1%",
    "玩耍时误吞{product}小零件，腹部X线见异物",
    "骑电动自行车与三轮车相撞，右胫腓骨骨折",
    "被{product}割伤左手示指，缝合3针",
    "{product}充电时起火，双手烧伤，吸入性损伤待排",
    "在客厅被{product}绊倒，左腕肿痛，X线示桡骨远端骨折",
    "在小区门口骑{product}摔倒，下颌裂伤2cm",
    "在幼儿园滑梯上摔下，头皮血肿",
    "在学校操场被倒下的篮球架砸伤左足",
    "于卫生间使用{product}时感觉麻电，心电图正常",
    "手指被{product}夹伤，右中指甲床损伤",
)
VITALS = ("体温38.5℃", "血压120/80mmHg", "心率110次/分", "SpO2 97%", "血糖6.8mmol/L", "体温36.8℃")
HOSPITALS_ZH = ("北京儿童医院", "上海市第六人民医院", "中山大学附属第一医院", "四川大学华西医院",
                "浙江大学医学院附属儿童医院")  # fmt: skip
MODELS = ("KFR-35GW/BP3DN8Y-PH400(B3)", "XR-2000", "CFXB40FC8028-75", "HB-3", "JYL-Y912",
          "MJ-DFS01", "TDA-1800W", "A5-Pro")  # fmt: skip
STANDARDS = ("GB 6675-2014", "GB 4706.1-2005", "GB 17761-2018", "GB 28007-2011")
PLACES_ZH = ("家中", "客厅", "卧室", "小区门口", "小区楼下", "幼儿园", "学校操场", "超市")
EVENTS_EN = (
    "fell from a step ladder while changing a light bulb, L wrist fx",
    "scald burn to R forearm when the {product} lid opened, 2% TBSA",
    "swallowed a coin-cell battery from a {product}",
    "lac to L index finger from a {product} blade, 4 sutures",
    "{product} caught fire while charging, burns to both hands",
    "tripped over a {product} cord at home, hip contusion",
    "finger caught in {product} hinge, nail bed injury",
)
NEISS_EVENTS = (
    "FELL OFF BED AT HOME, DX: CHI",
    "CUT HAND ON BROKEN GLASS TABLE, DX: LAC L HAND",
    "SCALDED BY ELECTRIC KETTLE, DX: BURN R FOOT",
    "STRUCK BY FALLING TV, DX: CONTUSION HEAD",
    "TRIPPED ON STAIRS @ HOME, DX: SPRAIN L ANKLE",
)
PRODUCTS_EN = ("pressure cooker", "space heater", "e-scooter", "hair dryer", "blender", "recliner",
               "light-up shoe", "trampoline", "rice cooker", "power bank")  # fmt: skip
BRANDS_EN = ("Little Giant", "Conair", "Hamilton Beach", "Black+Decker", "Fisher-Price",
             "Instant Pot", "Vitamix", "Dr. Brown's", "Mr. Coffee")  # fmt: skip
CITIES_US = (("Dayton", "OH", "45429"), ("Ames", "IA", "50010"), ("Newark", "NJ", "07102"),
             ("Knoxville", "TN", "37919"), ("Sacramento", "CA", "95823"), ("Austin", "TX", "78701"))  # fmt: skip
STREETS_US = ("Oak", "Main", "Elm", "Maple", "Lincoln", "Sunnyside", "Riverside", "Cedar", "Park",
              "Washington")  # fmt: skip
SUFFIX_US = ("St", "Street", "Ave", "Avenue", "Rd", "Dr", "Lane", "Blvd", "Way", "Ct")
PROVINCES = (("广东省", "广州市", ("天河区", "越秀区", "荔湾区")), ("浙江省", "杭州市", ("西湖区", "拱墅区")),
             ("湖北省", "武汉市", ("洪山区", "江汉区")), ("四川省", "成都市", ("锦江区", "武侯区")),
             ("山东省", "潍坊市", ("奎文区",)), ("河北省", "沧州市", ("献县", "运河区")),
             ("", "北京市", ("朝阳区", "海淀区")), ("", "上海市", ("徐汇区", "浦东新区")))  # fmt: skip
ROADS = ("天河路", "中山八路", "珞喻路", "建国路", "人民南路", "解放大道", "胜利东街", "和平路", "学院路",
         "文三路", "幸福巷", "长寿里")  # fmt: skip
ESTATES = (
    "华林小区",
    "金域中央",
    "幸福花园",
    "翠湖天地嘉园",
    "阳光公寓",
    "西湖新村",
    "锦绣家园",
    "紫荆苑",
)
TOWNS = (
    ("清苑区", "东闾乡", "南王庄村"),
    ("献县", "陌南镇", "韩村"),
    ("颍上县", "谢桥镇", "杜庄村"),
)
ZH_NUMBERS = "零一二三四五六七八九"
FULLWIDTH = str.maketrans("0123456789-@", "０１２３４５６７８９－＠")
REGIONS = ("110105", "310106", "440104", "420106", "510104", "370702", "130922", "330106")


class Gen:
    """Identifier and negative generators over one seeded random source."""

    def __init__(self, rnd: random.Random) -> None:
        self.r = rnd

    def pick(self, seq):
        return self.r.choice(seq)

    # names
    def name_zh(self) -> str:
        x = self.r.random()
        surname = (
            self.pick(COMPOUND) if x < 0.1 else self.pick(RARE_SURNAMES) if x < 0.17
            else self.pick(SURNAMES)
        )  # fmt: skip
        given = self.pick(GIVEN) + (self.pick(GIVEN) if self.r.random() < 0.7 else "")
        return surname + given

    def name_title(self) -> str:
        return self.pick(SURNAMES) + self.pick(TITLES_BARE)

    def nickname(self) -> str:
        return self.pick(NICKNAMES)

    def name_en(self) -> str:
        return f"{self.pick(FIRST)} {self.pick(LAST)}"

    def name_en_caps(self) -> str:
        return self.name_en().upper()

    def name_en_title(self) -> str:
        return f"{self.pick(('Mr.', 'Mrs.', 'Ms.', 'Mr', 'Mrs', 'Dr.'))} {self.pick(LAST)}"

    def name_lastfirst(self) -> str:
        return f"{self.pick(LAST).upper()}, {self.pick(FIRST).upper()} {self.pick('ABCDJKLMR')}"

    # numbers
    def digits(self, n: int) -> str:
        return "".join(self.pick("0123456789") for _ in range(n))

    def mobile_digits(self) -> str:
        return "1" + self.pick("3456789") + self.digits(9)

    def mobile(self) -> str:
        d = self.mobile_digits()
        forms = (
            d, f"{d[:3]} {d[3:7]} {d[7:]}", f"{d[:3]}-{d[3:7]}-{d[7:]}", f"{d[:3]}.{d[3:7]}.{d[7:]}",
            f"+86 {d}", f"+86 {d[:3]} {d[3:7]} {d[7:]}", f"+86-{d[:3]}-{d[3:7]}-{d[7:]}",
            f"0086-{d}", f"(+86){d}", d.translate(FULLWIDTH),
            f"{d[:3]} {d[3:7]} {d[7:]}".translate(FULLWIDTH), f"{d[:5]} {d[5:8]} {d[8:]}",
            f"{d[:4]}-{d[4:8]}-{d[8:]}",
        )  # fmt: skip
        return self.pick(forms)

    def landline(self) -> str:
        area = self.pick(("010", "020", "021", "0755", "0731", "0571", "0512", "0938", "0769"))
        local = self.pick("23456789") + self.digits(7 if len(area) == 3 else self.r.choice((6, 7)))
        half = len(local) // 2
        forms = (
            f"({area}){local}", f"{area}-{local}", f"{area} {local[:half]} {local[half:]}",
            f"{area}-{local[:half]}-{local[half:]}", f"({area}) {local}", f"{area}{local}",
            f"{area}-{local}转{self.digits(3)}", f"{area}-{local}-{self.digits(3)}",
            f"{area}-{local}".translate(FULLWIDTH),
        )  # fmt: skip
        return self.pick(forms)

    def us_phone(self) -> str:
        a, b, c = self.pick(("555", "303", "212", "617", "740", "808")), "555", self.digits(4)
        forms = (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}",
                 f"{a} {b} {c}", f"({a}) {b}-{c} x{self.digits(3)}", f"1-{a}-{b}-{c}")  # fmt: skip
        return self.pick(forms)

    def id_number(self) -> str:
        year = self.r.randint(1940, 2022)
        d = (
            self.pick(REGIONS) + f"{year}{self.r.randint(1, 12):02d}{self.r.randint(1, 28):02d}"
            + self.digits(3) + self.pick("0123456789X")
        )  # fmt: skip
        forms = (
            d, d.lower(), f"{d[:6]} {d[6:14]} {d[14:]}", f"{d[:6]}-{d[6:14]}-{d[14:]}",
            " ".join(d[i : i + 4] for i in range(0, 18, 4)), d.translate(FULLWIDTH),
            f"{d[:6]} {d[6:14]} {d[14:]}".translate(FULLWIDTH),
        )  # fmt: skip
        return self.pick(forms)

    def id_old(self) -> str:
        return (
            self.pick(REGIONS)
            + f"{self.r.randint(40, 99)}{self.r.randint(1, 12):02d}"
            + (f"{self.r.randint(1, 28):02d}{self.digits(3)}")
        )

    def passport(self) -> str:
        return self.pick(("E", "G", "EA", "EB")) + self.digits(8 if self.r.random() < 0.5 else 7)

    def ssn(self) -> str:
        a, b, c = self.digits(3), self.digits(2), self.digits(4)
        return self.pick((f"{a}-{b}-{c}", f"{a} {b} {c}"))

    def email(self) -> str:
        local = self.pick(("zhang.wei", "liuyang88", "wen.chao", "naomi.fischer", "kid_safety",
                           "huangfuting", "j.smith+er", "lily_mama", "1837465920", "CHEN.LI"))  # fmt: skip
        domain = self.pick(("163.com", "qq.com", "gmail.com", "126.com", "outlook.com",
                            "sjsu.edu", "foxmail.com", "yahoo.com", "sina.cn"))  # fmt: skip
        form = self.r.random()
        if form < 0.1:
            return f"{local}＠{domain}"
        return f"{local}{self.digits(2)}@{domain}" if form < 0.5 else f"{local}@{domain}"

    def wechat(self) -> str:
        return self.pick(("zhouhai_", "lily-", "mama_", "wx", "sgl_", "chen")) + (
            self.pick(("1986", "88", "bj", "2020_sz", "abc")) + self.digits(2)
        )

    def qq(self) -> str:
        return self.pick("123456789") + self.digits(self.r.randint(5, 9))

    def address_zh(self) -> str:
        province, city, districts = self.pick(PROVINCES)
        district = self.pick(districts)
        road = self.pick(ROADS)
        number = str(self.r.randint(1, 2000))
        if self.r.random() < 0.15:
            number = "".join(ZH_NUMBERS[int(c)] for c in number) if len(number) < 3 else number
        kind = self.r.random()
        head = (province if self.r.random() < 0.6 else "") + city + district
        if kind < 0.35:
            return f"{head}{road}{number}号"
        if kind < 0.7:
            tail = self.pick(
                ("{b}栋{u}单元{r}室", "{b}号楼{r}", "{b}幢{r}室", "{b}-{u}-{r}", "{b}栋{r}")
            )
            tail = tail.format(
                b=self.r.randint(1, 30), u=self.r.randint(1, 6), r=self.r.randint(101, 2808)
            )
            return f"{head}{road}{number}号{self.pick(ESTATES)}{tail}"
        if kind < 0.85:
            return f"{self.pick(ESTATES)}{self.r.randint(1, 30)}栋{self.r.randint(101, 1806)}室"
        county, town, village = self.pick(TOWNS)
        return f"{province or '河北省'}{county}{town}{village}" + (
            f"{self.r.randint(1, 9)}组" if self.r.random() < 0.5 else ""
        )

    def address_en(self) -> str:
        city, state, zipc = self.pick(CITIES_US)
        street = f"{self.r.randint(10, 9999)} {self.pick(('', 'W ', 'N '))}{self.pick(STREETS_US)} "
        street += self.pick(SUFFIX_US)
        unit = self.pick(("", "", f" Apt {self.r.randint(1, 20)}", f", Unit {self.pick('ABC5')}"))
        tail = self.pick(("", f", {city}, {state} {zipc}"))
        if self.r.random() < 0.1:
            return f"PO Box {self.r.randint(100, 9999)}, {city}, {state} {zipc}"
        return street + unit + tail

    # negatives
    def product(self) -> str:
        return self.pick(PRODUCTS_ZH)

    def event(self) -> str:
        return self.pick(EVENTS_ZH).format(product=self.product())

    def event_en(self) -> str:
        return self.pick(EVENTS_EN).format(product=self.pick(PRODUCTS_EN))

    def batch(self) -> str:
        return self.pick((f"2026{self.r.randint(1, 12):02d}{self.r.randint(1, 28):02d}A3",
                          f"B2025-{self.digits(4)}", f"Lot {self.digits(2)}A{self.digits(4)}",
                          f"JY{self.digits(4)}-{self.digits(3)}"))  # fmt: skip

    def barcode(self) -> str:
        return "69" + self.digits(11)


# ---- templates -----------------------------------------------------------------------------

# {KEY} = an identifier (kind from IDENTIFIERS), {key} = a negative or filler.
IDENTIFIERS: dict[str, tuple[str, str]] = {
    "NAME": ("name", "name_zh"),
    "TITLED": ("name", "name_title"),
    "NICK": ("name", "nickname"),
    "EN_NAME": ("name", "name_en"),
    "EN_CAPS": ("name", "name_en_caps"),
    "EN_TITLED": ("name", "name_en_title"),
    "LASTFIRST": ("name", "name_lastfirst"),
    "MOBILE": ("phone", "mobile"),
    "LANDLINE": ("phone", "landline"),
    "US_PHONE": ("phone", "us_phone"),
    "ID": ("id_number", "id_number"),
    "ID_OLD": ("id_number", "id_old"),
    "PASSPORT": ("id_number", "passport"),
    "SSN": ("id_number", "ssn"),
    "EMAIL": ("email", "email"),
    "WECHAT": ("im_id", "wechat"),
    "QQ": ("im_id", "qq"),
    "ADDR": ("address", "address_zh"),
    "EN_ADDR": ("address", "address_en"),
}


def _fillers(g: Gen) -> dict[str, Callable[[], str]]:
    return {
        "sex": lambda: g.pick(("男", "女")),
        "age": lambda: str(g.r.randint(1, 85)),
        "event": g.event,
        "event_en": g.event_en,
        "neiss": lambda: g.pick(NEISS_EVENTS),
        "product": g.product,
        "product_en": lambda: g.pick(PRODUCTS_EN),
        "brand": lambda: g.pick(BRANDS_ZH),
        "brand_en": lambda: g.pick(BRANDS_EN),
        "vitals": lambda: g.pick(VITALS),
        "hospital": lambda: g.pick(HOSPITALS_ZH),
        "model": lambda: g.pick(MODELS),
        "batch": g.batch,
        "barcode": g.barcode,
        "standard": lambda: g.pick(STANDARDS),
        "place": lambda: g.pick(PLACES_ZH),
        "date": lambda: f"2026-{g.r.randint(1, 12):02d}-{g.r.randint(1, 28):02d}",
        "time": lambda: f"{g.r.randint(0, 23):02d}:{g.r.randint(0, 59):02d}",
        "case": lambda: (
            f"{g.pick(('BJ001', 'GZ002', 'SH001'))}-202609{g.r.randint(10, 28)}-{g.digits(4)}"
        ),
        "inpatient": lambda: "100" + g.digits(8),
        "n": lambda: str(g.r.randint(2, 12)),
        "mf": lambda: g.pick(("M", "F")),
        "role": lambda: g.pick(
            (
                "其母",
                "其父",
                "患儿母亲",
                "患儿父亲",
                "家属",
                "奶奶",
                "丈夫",
                "妻子",
                "女儿",
                "儿子",
                "邻居",
                "联系人",
            )
        ),  # fmt: skip
        "role_en": lambda: g.pick(
            (
                "Mom",
                "Dad",
                "mother",
                "father",
                "Wife",
                "Son",
                "daughter",
                "Grandpa",
                "neighbor",
                "Caregiver",
            )
        ),  # fmt: skip
        "dob": lambda: (
            f"{g.r.randint(1, 12):02d}/{g.r.randint(1, 28):02d}/{g.r.randint(1940, 2010)}"
        ),
    }


TEMPLATES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # (lang, field, style) -> templates
    "zh": (
        (
            "narrative",
            "nurse_note",
            "患儿{NAME}，{sex}，{age}岁，{event}。{role}{NAME}，电话{MOBILE}。",
        ),
        (
            "narrative",
            "doctor_note",
            "患者{NAME}，{sex}，{age}岁，{event}。{vitals}。身份证{ID}，手机{MOBILE}。",
        ),
        (
            "narrative",
            "doctor_note",
            "患者{NAME}，{sex}，{age}岁，使用{brand}{product}时{event}。住址：{ADDR}。",
        ),
        (
            "narrative",
            "nurse_note",
            "{NICK}，{age}岁，{event}。家长{TITLED}陪同，联系方式{MOBILE}。",
        ),
        ("narrative", "nurse_note", "家住{ADDR}，{event}。联系人：{NAME}，{LANDLINE}。"),
        (
            "narrative",
            "doctor_note",
            "{event}，{vitals}。邮箱{EMAIL}，微信{WECHAT}。患者{NAME}，{age}岁。",
        ),
        (
            "narrative",
            "registration_copy",
            "姓名：{NAME} 身份证：{ID} 电话：{MOBILE} 住址：{ADDR} 主诉：{event}。",
        ),
        ("narrative", "nurse_note", "{event}。邻居{TITLED}发现后送医，{role}{NAME}（QQ {QQ}）。"),
        ("narrative", "clerk_shorthand", "{sex} {age} {product}伤 {role}{NAME} {MOBILE}"),
        (
            "narrative",
            "doctor_note",
            "住院号{inpatient}，{hospital}急诊。患儿{NAME}，{event}，{vitals}。{role}{NAME} {MOBILE}。",
        ),
        ("narrative", "nurse_note", "患者{NAME}，护照号{PASSPORT}，{event}。座机{LANDLINE}。"),
        ("narrative", "doctor_note", "患者{NAME}，老身份证{ID_OLD}，{event}。家住{ADDR}。"),
        (
            "narrative",
            "nurse_note",
            "病例号{case}。{place}{event}。{role}{NAME}，微信号：{WECHAT}，手机{MOBILE}。",
        ),
        (
            "followup_note",
            "followup_call",
            "电话回访：{NAME}接听，{MOBILE}，{product}为“{brand}”牌，型号{model}，批号{batch}。",
        ),
        (
            "followup_note",
            "followup_call",
            "电话回访：{role}{NAME}说{product}是网购的，已过保。扣扣{QQ}。",
        ),
        (
            "followup_note",
            "followup_wechat",
            "微信回访：加了家长微信{WECHAT}，对方发来{product}照片，条码{barcode}。",
        ),
        (
            "followup_note",
            "followup_onsite",
            "现场核查：{ADDR}，{product}外壳变形，物业{TITLED}在场。",
        ),
        (
            "followup_note",
            "followup_call",
            "回访：号码{LANDLINE}为村委会电话，{TITLED}说会转告{NAME}。",
        ),
        (
            "triage_reason",
            "analyst_note",
            "确认：{product}相关损伤本月{n}例，病例联系人{NAME}，电话{MOBILE}。",
        ),
        (
            "triage_reason",
            "analyst_note",
            "请求随访：需与{NAME}确认购买渠道，地址{ADDR}，邮箱{EMAIL}。",
        ),
        (
            "triage_reason",
            "analyst_note",
            "继续观察：{product}不符合{standard}，{role}{NAME}反映已投诉。",
        ),
        ("product_name", "form_entry", "{product}（患者{NAME}自购）"),
        ("brand", "form_entry", "无品牌，家属{NAME}说是集市买的"),
        ("model", "form_entry", "型号不详，照片在家长微信{WECHAT}里"),
        ("batch", "form_entry", "批号：{batch}；家属电话{MOBILE}（同病历）"),
    ),
    "en": (
        (
            "narrative",
            "nurse_note",
            "Pt {EN_NAME} {age}{mf}, {event_en}. {role_en} {EN_NAME} {US_PHONE}.",
        ),
        ("narrative", "neiss_style", "{age}YO{mf} {neiss}. MOTHER {EN_CAPS} {US_PHONE}."),
        (
            "narrative",
            "registration_copy",
            "REG {LASTFIRST} DOB {dob} SS# {SSN} {EN_ADDR} {US_PHONE}. {event_en}.",
        ),
        (
            "narrative",
            "doctor_note",
            "Pt {EN_TITLED} {age}{mf}, {event_en}. Lives at {EN_ADDR}. Email {EMAIL}.",
        ),
        (
            "narrative",
            "nurse_note",
            "{event_en} ({brand_en}). Pt {EN_NAME}, SSN {SSN}, cell {US_PHONE}.",
        ),
        (
            "narrative",
            "doctor_note",
            "Pt {EN_NAME}, passport {PASSPORT}, {event_en}. WeChat {WECHAT}.",
        ),
        (
            "followup_note",
            "followup_call",
            "F/u: reached {EN_NAME} at {US_PHONE}; {brand_en} {product_en}, model {model}. Email {EMAIL}.",
        ),
        (
            "followup_note",
            "followup_call",
            "Spoke w/ {EN_TITLED}: {product_en} bought 2015. Mail to {EN_ADDR}.",
        ),
        (
            "triage_reason",
            "analyst_note",
            "Confirm: {n} cases of {product_en} injuries; contact {EN_NAME}, {EMAIL}.",
        ),
        (
            "triage_reason",
            "analyst_note",
            "Request follow-up: pt {EN_NAME}, address {EN_ADDR}, phone {US_PHONE}.",
        ),
        ("product_name", "form_entry", "{product_en} - {role_en} {EN_NAME}"),
        ("brand", "form_entry", "{brand_en} - per pt's daughter {EN_NAME} {US_PHONE}"),
    ),
    "mixed": (
        (
            "narrative",
            "doctor_note",
            "Pt {NAME} {age}y/o {mf}，{event}。Mom {EN_NAME} Tel {MOBILE}，WeChat {WECHAT}。",
        ),
        (
            "narrative",
            "clerk_shorthand",
            "{age}YO{mf} 误服 detergent pod，父 {NAME} {MOBILE} addr {ADDR}",
        ),
        (
            "followup_note",
            "followup_call",
            "电话 f/u：{LANDLINE} 为 office，{EN_NAME} 出差，email {EMAIL} 联系。",
        ),
        ("narrative", "nurse_note", "患者 {EN_NAME}，{age}{mf}，{event}。身份证 {ID}，QQ {QQ}。"),
    ),
}
# Records whose text is the patient's own name (a brand equal to the patient's name, probe 9 of
# issue 16): only the known name from the record can catch it.
KNOWN_NAME_TEMPLATES = (
    ("zh", "brand", "form_entry", "{KNOWN}"),
    ("zh", "product_name", "form_entry", "{KNOWN}的{product}"),
    ("zh", "narrative", "nurse_note", "{KNOWN}带孩子来诊，{event}。"),
    ("en", "narrative", "nurse_note", "{KNOWN} came in after {event_en}."),
)
NEGATIVE_TEMPLATES = (
    ("zh", "narrative", "nurse_note", "患儿{sex}，{age}岁，{event}。{vitals}，{hospital}转入。"),
    ("zh", "brand", "form_entry", "{brand}"),
    ("zh", "model", "form_entry", "{model}"),
    ("zh", "batch", "form_entry", "条码{barcode} 批次{batch}"),
    ("zh", "narrative", "doctor_note", "{date} {time} {place}{event}，产品执行标准{standard}。"),
    (
        "en",
        "narrative",
        "nurse_note",
        "Pt {age}{mf}, {event_en}. BP 130/85, HR 96. Declined to give info.",
    ),
    ("en", "brand", "form_entry", "{brand_en}"),
)

_KEY = re.compile(r"\{([A-Za-z_]+)\}")


def render(template: str, g: Gen, known: str | None = None) -> tuple[str, list[dict]]:
    """Fill a template; returns the text and its identifier spans."""
    fillers = _fillers(g)
    text, spans, pos = [], [], 0
    for i, piece in enumerate(_KEY.split(template)):
        if i % 2 == 0:
            value, kind = piece, None
        elif piece == "KNOWN":
            value, kind = known or g.name_zh(), "name"
        elif piece in IDENTIFIERS:
            kind, method = IDENTIFIERS[piece]
            value = getattr(g, method)()
        else:
            value, kind = fillers[piece](), None
        if kind is not None:
            spans.append({"start": pos, "end": pos + len(value), "kind": kind, "value": value})
        text.append(value)
        pos += len(value)
    return "".join(text), spans


def build(records: int = 700, seed: int = SEED) -> list[dict]:
    """``records`` identifier-bearing records plus known-name and identifier-free ones."""
    rnd = random.Random(seed)
    g = Gen(rnd)
    weights = {"zh": 0.55, "en": 0.35, "mixed": 0.10}
    out: list[dict] = []

    def add(lang: str, field: str, style: str, text: str, spans: list, known: str | None) -> None:
        out.append(
            {
                "id": f"T{len(out) + 1:04d}",
                "lang": lang,
                "field": field,
                "style": style,
                "text": text,
                "spans": spans,
                "known_name": known,
                "source": "templates",
            }
        )

    for _ in range(records):
        lang = rnd.choices(list(weights), weights=list(weights.values()))[0]
        field, style, template = rnd.choice(TEMPLATES[lang])
        text, spans = render(template, g)
        add(lang, field, style, text, spans, None)
    for _ in range(max(1, records // 20)):
        lang, field, style, template = rnd.choice(KNOWN_NAME_TEMPLATES)
        known = g.name_zh() if lang == "zh" else g.name_en()
        text, spans = render(template, g, known)
        add(lang, field, style, text, spans, known)
    for _ in range(max(1, records // 10)):
        lang, field, style, template = rnd.choice(NEGATIVE_TEMPLATES)
        text, spans = render(template, g)
        add(lang, field, style, text, spans, None)
    for record in out:  # the builder's own check, as the independent corpus does
        for span in record["spans"]:
            assert record["text"][span["start"] : span["end"]] == span["value"], record
    return out


def write(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=700)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path("privacy_templates.jsonl"))
    args = parser.parse_args(argv)
    records = build(args.records, args.seed)
    write(args.out, records)
    spans = sum(len(r["spans"]) for r in records)
    print(f"{len(records)} records, {spans} spans -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
