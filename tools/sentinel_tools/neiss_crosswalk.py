"""Rebuild the NEISS crosswalk CSVs from the CPSC NEISS code-set file (stdlib only).

Usage::

    .venv/bin/python -m sentinel_tools.neiss_crosswalk [path/to/neiss_format_codes.tsv]

The default input is the copy shipped with the tools, ``sentinel_tools/data/
neiss_format_codes.tsv`` (public-domain US CPSC data, see ``data/SOURCE.md``). The script
writes ``neiss_product_crosswalk.csv`` and ``neiss_codeset_crosswalk.csv`` into the library's
reference data (``pipeline/reference/data/``).
It is deterministic (same input, same bytes out). The CSVs are the source of truth at runtime;
rerun this only when the NEISS code list, the taxonomy or the rules below change.

Product codes: every PROD row of the input has start == end (one code per row), so the
crosswalk has exactly one row per input row, keyed by that code and sorted by it. Each code is
resolved, in order, by (1) an explicit override, (2) an unmapped code block (farm equipment,
NEISS study codes; professional medical devices 2400-2499), (3) the first matching keyword rule
on the NEISS label. A code nothing matches is an error (add a rule or an override), and every
mapped category must be an active taxonomy code.

Code sets: one row per NEISS code of BDYPT, DIAG, DISP, LOC, GENDER and AGELTTWO; the AGELTTWO
range 2..120 is expanded to one row per age so any NEISS age value can be looked up.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import NamedTuple

from pipeline.reference import DATA_DIR as REFERENCE_DATA_DIR

DATA_DIR = REFERENCE_DATA_DIR
DEFAULT_TSV = Path(__file__).resolve().parent / "data" / "neiss_format_codes.tsv"

# Reasons for codes that deliberately get no category.
NOT_CONSUMER = "not a consumer product: "
NO_PRODUCT = "no product involved: "
OUT_OF_SCOPE = "outside the product-safety scope: "
GENERIC = "too generic: "

# (low, high, reason): whole code blocks left unmapped.
UNMAPPED_RANGES: list[tuple[int, int, str]] = [
    (1001, 1062, NOT_CONSUMER + "farm machinery, farm buildings or agricultural supplies"),
    (1597, 1599, NO_PRODUCT + "NEISS special study code for child deaths"),
    (9000, 9200, NO_PRODUCT + "NEISS administrative or special study code"),
]

# Explicit decisions, applied before the keyword rules. A value starting with "!" is the
# reason for leaving the code unmapped; otherwise it is a taxonomy category code.
OVERRIDES: dict[int, str] = {
    # household appliances and kitchen
    136: "HA18",
    139: "OT05",
    204: "FL03",
    212: "HA18",
    213: "HA18",
    218: "KW03",
    222: "HA14",
    223: "HA13",
    224: "HA13",
    232: "KW04",
    240: "HA18",
    250: "KW09",
    257: "FL03",
    259: "HA14",
    260: "FL03",
    262: "FL03",
    267: "HA14",
    268: "HA18",
    273: "HA14",
    279: "FL03",
    280: "HA14",
    281: "HA14",
    235: "HA14",
    905: "CH06",
    1334: "TY09",
    1335: "TY09",
    1553: "CP10",
    1557: "CP08",
    1682: "PC04",
    1858: "BM05",
    1879: "BM05",
    1880: "BM05",
    4072: "FU01",
    5021: "TY11",
    # heating and cooling
    308: "BM11",
    309: "FL07",
    312: "HA08",
    346: "HA08",
    365: "HA18",
    366: "FL11",
    367: "FL07",
    368: "FL11",
    369: "HA08",
    370: "HA08",
    379: "BM11",
    381: "HA18",
    386: "FL11",
    388: "HA08",
    390: "HA18",
    393: "HA08",
    394: "FL11",
    399: "FL11",
    # housewares
    405: "KW09",
    408: "OT05",
    413: "OT04",
    419: "OT05",
    427: "KW09",
    429: "KW09",
    431: "KW08",
    432: "KW09",
    434: "BM05",
    438: "OT05",
    443: "KW08",
    452: "KW09",
    454: "KW09",
    459: "OT05",
    462: "KW01",
    463: "FL08",
    469: "KW03",
    471: "HA15",
    474: "KW09",
    477: "OT05",
    480: "OT05",
    481: "HA18",
    482: "HA18",
    # home entertainment
    514: "SP09",
    519: "FU09",
    529: "OT05",
    532: "SP09",
    533: "SP09",
    550: "EL01",
    557: "EL02",
    564: "OT02",
    565: "OT05",
    566: "OT05",
    569: "OT02",
    570: "OT05",
    571: "OT02",
    572: "EL08",
    # home furnishings and fixtures
    601: "FU01",
    604: "FU09",
    606: "OT05",
    609: "BM07",
    610: "BM09",
    611: "BM09",
    617: "TX07",
    620: "TL03",
    623: "FL05",
    624: "BM08",
    627: "HA19",
    628: "HA19",
    639: "HA19",
    648: "BM09",
    649: "BM09",
    650: "TX07",
    651: "TX07",
    652: "OT05",
    653: "OT05",
    654: "OT05",
    657: "BM11",
    662: "FU01",
    663: "BM11",
    666: "TX07",
    669: "OT05",
    670: "FU06",
    671: "FU04",
    672: "OT05",
    680: "FU06",
    684: "EL09",
    687: "FU04",
    692: "FU10",
    693: "FU09",
    698: "SP07",
    699: "BM09",
    # home safety equipment
    701: "OT05",
    702: "EL11",
    704: "EL11",
    706: "BM11",
    707: "TL06",
    709: "OT05",
    710: "EL09",
    711: "BM11",
    712: "EL11",
    713: "BM11",
    # workshop
    814: "TL06",
    815: "TL06",
    819: "TL06",
    820: "TL06",
    821: "VE02",
    822: "TL02",
    823: "TL02",
    833: "CH06",
    834: "TL01",
    835: "TL06",
    836: "TL05",
    837: "TL06",
    845: "TL01",
    852: "OT05",
    854: "TL06",
    859: "TL06",
    868: "TL06",
    869: "TL02",
    874: "TL06",
    877: "HA19",
    880: "TL01",
    883: "EL03",
    884: "EL05",
    885: "TL06",
    886: "TL06",
    887: "TL02",
    888: "TL06",
    889: "VE02",
    890: "TL06",
    891: "EL05",
    892: "EL05",
    893: "TL06",
    # chemicals and fuels
    910: "FL01",
    914: "CH06",
    915: "CH06",
    917: "FL07",
    920: "BM11",
    925: "TL06",
    927: "CH05",
    934: "CH01",
    940: "FL10",
    941: "FL06",
    943: "CH03",
    955: "CH06",
    962: "FL01",
    963: "FL10",
    964: "FL10",
    965: "FL10",
    971: "TL02",
    980: "FL10",
    981: "FL01",
    982: "CH06",
    983: "PC01",
    # containers and packaging
    1102: "KW07",
    1103: "FD03",
    1114: "OT05",
    1116: "FD03",
    1124: "OT05",
    1127: "FD03",
    1128: "OT05",
    1131: "OT03",
    1132: "OT05",
    1133: "CH06",
    1135: "FD02",
    1136: "FD02",
    1137: "OT05",
    1138: "OT05",
    1139: "FD05",
    1142: "OT05",
    1144: "OT05",
    1145: "OT05",
    # sports and recreation
    1200: "SP09",
    1213: "VE11",
    1232: "FL08",
    1234: "SP06",
    1237: "!" + OUT_OF_SCOPE + "air, gas or spring-operated guns (regulated weapons)",
    1240: "OT05",
    1247: "FL08",
    1255: "FL06",
    1271: "SP09",
    1272: "SP09",
    1277: "SP07",
    1278: "SP07",
    1283: "SP09",
    1285: "FL08",
    1290: "VE11",
    1293: "SP06",
    1294: "SP09",
    # toys
    1301: "TY01",
    1306: "TY11",
    1313: "FL09",
    1329: "VE08",
    1333: "SP02",
    1342: "TY11",
    1346: "TY11",
    1350: "TY03",
    1353: "FU09",
    1354: "TY03",
    1356: "FL10",
    1365: "TY11",
    1376: "TY08",
    1389: "TY11",
    1392: "TY11",
    1394: "TY02",
    # lawn and garden
    1413: "TL04",
    1417: "OT05",
    1426: "TL01",
    1432: "TL06",
    1445: "CH06",
    1451: "!" + NOT_CONSUMER + "seeds (not a manufactured product)",
    1452: "HA19",
    1460: "HA18",
    1462: "TL06",
    1465: "OT05",
    1466: "OT05",
    # nursery
    1502: "CP11",
    1510: "CP11",
    1511: "CP11",
    1515: "CP11",
    1517: "TY11",
    1518: "CP05",
    1520: "CP10",
    1524: "CP11",
    1526: "CP04",
    1528: "CP11",
    1531: "CP11",
    1533: "HA19",
    1534: "CP06",
    1535: "CP11",
    1536: "CP09",
    1539: "CP11",
    1542: "CP04",
    1550: "CP10",
    1551: "CP01",
    1554: "OT05",
    # personal use
    1604: "FL08",
    1605: "PC05",
    1609: "PC05",
    1612: "ME05",
    1613: "HA18",
    1622: "OT01",
    1623: "OT05",
    1625: "PC05",
    1634: "HA19",
    1641: "OT05",
    1650: "OT02",
    1654: "OT02",
    1659: "PC05",
    1660: "OT05",
    1662: "PC05",
    1669: "OT05",
    1671: "OT05",
    1678: "PC05",
    1679: "OT05",
    1680: "TL06",
    1681: "PC05",
    1683: "PC03",
    1684: "OT05",
    # miscellaneous
    1701: "OT05",
    1705: "OT05",
    1708: "ME05",
    1710: "ME05",
    1711: "HA19",
    1712: "OT05",
    1714: "OT05",
    1715: "OT05",
    1718: "FL09",
    1719: "FD05",
    1720: "TY11",
    1724: "EL11",
    1725: "EL08",
    1726: "FU09",
    1727: "!" + NOT_CONSUMER + "traffic control device (public infrastructure)",
    1729: "OT05",
    1732: "!" + NOT_CONSUMER + "tombstones or grave markers",
    1733: "!" + NOT_CONSUMER + "vending machines (commercial equipment)",
    1734: "OT05",
    1735: "!" + NOT_CONSUMER + "coin-operated car-washing equipment",
    1736: "HA19",
    1737: "!" + NOT_CONSUMER + "houseplants (not a manufactured product)",
    1738: "!" + GENERIC + "public use items, not elsewhere classified",
    1741: "OT05",
    1742: "ME05",
    1744: "VE11",
    # home structures and construction
    1803: "BM11",
    1808: "BM11",
    1811: "BM11",
    1812: "BM11",
    1816: "!" + NOT_CONSUMER + "scaffolding (construction equipment)",
    1817: "BM11",
    1818: "BM11",
    1819: "TL06",
    1820: "BM05",
    1821: "OT05",
    1829: "BM06",
    1830: "BM11",
    1838: "BM11",
    1841: "BM11",
    1854: "BM11",
    1855: "OT05",
    1857: "BM03",
    1863: "BM11",
    1864: "BM11",
    1865: "BM11",
    1866: "!" + NO_PRODUCT + "general home or room involvement in fires (no specific product)",
    1871: "BM11",
    1876: "BM11",
    1884: "BM11",
    1885: "BM11",
    1887: "BM11",
    1888: "BM02",
    1895: "SP09",
    1898: "!" + NO_PRODUCT + "gas fumes or vapours of unknown origin",
    1899: "!" + NO_PRODUCT + "carbon monoxide poisoning, source unknown",
    # products outside the CPSC jurisdiction
    1901: "VE01",
    1902: "!" + OUT_OF_SCOPE + "trains (rail transport)",
    1903: "!" + OUT_OF_SCOPE + "alcoholic beverages (food)",
    1906: "!" + OUT_OF_SCOPE + "aircraft",
    1909: "!" + OUT_OF_SCOPE + "tobacco products",
    1910: "VE06",
    1913: "PC01",
    1926: "CH03",
    1933: "!" + OUT_OF_SCOPE + "foods (food safety, not product safety)",
    1934: "!" + NO_PRODUCT + "hot tap water, source appliance not identified",
    1935: "!" + OUT_OF_SCOPE + "gunpowder or ammunition (regulated weapons)",
    1936: "!" + OUT_OF_SCOPE + "BBs or pellets for air guns (regulated weapons)",
    1937: "VE02",
    1939: "!" + OUT_OF_SCOPE + "illegal drugs",
    1940: "PC05",
    # non-product codes
    2000: "!" + NO_PRODUCT + "code has no label in the NEISS file",
    2001: "!" + NO_PRODUCT + "animal-induced injury",
    2002: "!" + NO_PRODUCT + "plants, trees and shrubs",
    2003: "!" + NO_PRODUCT + "insect-induced injury",
    2200: "!" + NOT_CONSUMER + "industrial equipment",
    2288: "!" + NO_PRODUCT + "occupational injury without a product",
    2300: "!" + GENERIC + "school equipment",
    # medical devices: home-use items mapped, professional devices not
    2400: "ME05",
    2404: "ME05",
    2406: "ME05",
    2415: "ME05",
    2420: "PC05",
    2425: "ME05",
    2429: "ME05",
    2435: "ME05",
    2439: "ME05",
    2440: "ME05",
    2462: "ME05",
    2475: "ME05",
    2477: "ME05",
    2478: "!" + NO_PRODUCT + "code has no label in the NEISS file",
    # cosmetics
    2640: "PC05",
    2630: "PC05",
    2631: "PC05",
    # sports (3200 block)
    3202: "VE10",
    3203: "!" + OUT_OF_SCOPE + "skeet shooting (firearms)",
    3211: "SP07",
    3215: "VE03",
    3218: "FL07",
    3224: "!" + OUT_OF_SCOPE + "guns or firearms (regulated weapons)",
    3229: "HA14",
    3230: "FL10",
    3233: "FL07",
    3245: "SP04",
    3247: "SP08",
    3248: "FL03",
    3249: "FL07",
    3250: "SP09",
    3252: "SP09",
    3253: "!" + OUT_OF_SCOPE + "guns, not specified (regulated weapons)",
    3258: "VE06",
    3259: "VE11",
    3279: "SP07",
    3285: "VE11",
    3286: "VE11",
    3287: "VE11",
    3288: "VE11",
    3292: "VE11",
    3295: "SP06",
    3296: "VE11",
    3298: "VE11",
    3299: "!" + NO_PRODUCT + "exercise activity without equipment",
    # 4000 block
    4004: "OT05",
    4005: "!" + GENERIC + "filters (product type not identifiable)",
    4030: "BM09",
    4043: "OT05",
    4045: "TX07",
    4047: "OT02",
    4055: "BM11",
    4056: "FU09",
    4058: "FU11",
    4059: "OT05",
    4060: "FL10",
    4065: "OT05",
    4066: "OT05",
    4067: "OT05",
    4068: "OT05",
    4069: "FU01",
    4073: "FU01",
    4075: "FU01",
    4082: "CP04",
    4084: "BM08",
    4802: "TL06",
    # 5000 block
    5010: "OT02",
    5011: "OT05",
    5013: "TY11",
    5015: "TY07",
    5016: "SP04",
    5017: "SP09",
    5029: "SP09",
    5031: "SP08",
    5032: "SP03",
    5035: "VE06",
    5036: "VE06",
    5037: "SP09",
    5038: "EL11",
    5042: "VE09",
    5044: "VE11",
    # catch-all codes
    5555: "!" + NO_PRODUCT + "poisoning placeholder code without a product",
    6666: "!" + NO_PRODUCT + "inhaled or abused substance",
    7001: "TL06",
    7777: "OT05",
    7878: "!" + NO_PRODUCT + "no product involved or product not listed",
    8888: "!" + NO_PRODUCT + "no product",
    9999: "OT05",
}


class Rule(NamedTuple):
    """Keyword rule: regex on the upper-case label, optionally limited to a code block."""

    pattern: str
    category: str
    lo: int = 0
    hi: int = 99999


WORKSHOP = (800, 899)
CHEMICALS = (900, 999)
GARDEN = (1400, 1499)
COSMETICS = (2500, 2699)

# Keyword rules on the upper-case NEISS label (without the "NNNN - " prefix); first match wins.
RULES: list[Rule] = [
    # appliances
    Rule(r"^WASHING MACHINES|^WRINGER|^WASHER-DRYER|CLOTHES DRYERS", "HA10"),
    Rule(r"MANGLE IRON|\bIRONS\b|CLOTHING IRONS|CLOTHES STEAMERS", "HA16"),
    Rule(r"ELECTRIC HEATING PADS", "HA17"),
    Rule(
        r"SEWING MACHINE|FLOOR BUFFER|RUG SHAMPOO|VACUUM CLEANER|ELECTRIC BROOM|WATER SOFTENER",
        "HA18",
    ),
    Rule(r"GAS WATER HEATER", "FL04"),
    Rule(r"WATER HEATER", "HA05"),
    Rule(r"PROPANE, LP OR BUTANE GAS TANKS", "FL02"),
    Rule(r"^ELECTRIC BLANKET", "HA09"),
    Rule(r"AUTOMATIC (GARAGE )?DOORS|GARAGE DOORS", "BM05"),
    Rule(r"ELECTRIC COUNTER-MOUNTED", "HA13"),
    Rule(r"DISHWASHERS|ICE MAKERS|ICE CREAM|GARBAGE DISPOSER|TRASH COMPACTOR|FOOD WARMERS", "HA18"),
    Rule(r"FREEZERS|REFRIGERATORS|HUMIDIFIER|VAPORIZER", "HA18"),
    Rule(r"BLENDERS|MIXERS|JUICERS|FOOD PROCESSORS|ICE CRUSHERS", "HA15"),
    Rule(r"MICROWAVE", "HA12"),
    Rule(r"OVENS|TOASTER|WAFFLE|ROTISSERIE|DEEP FRYER|BROILER", "HA14"),
    Rule(r"ELECTRIC COFFEE MAKERS|ELECTRIC KETTLE", "HA06"),
    Rule(r"AIR PURIFIER", "HA03"),
    Rule(r"FURNACE|FIREPLACE|THERMOSTAT|DUCTWORK|CHIMNEY|PIPES", "BM11"),
    Rule(r"PORTABLE ELECTRIC HEATERS", "HA08"),
    Rule(r"GAS OR LP .*HEATERS", "FL11"),
    Rule(r"\bFANS\b", "HA11"),
    # housewares
    Rule(
        r"CAN OPENERS|CORKSCREW|BOTTLE OPENER|KNIFE SHARPENER|KITCHEN GADGET|MIXING BOWL|POTHOLDER",
        "KW09",
    ),
    Rule(r"PRESSURE COOKER", "KW02"),
    Rule(r"FLATWARE", "KW08"),
    Rule(r"SCISSORS", "KW04"),
    Rule(r"GLASS DRINKING GLASSES|DRINKING GLASSES", "KW05"),
    Rule(r"COOKWARE", "KW01"),
    Rule(r"KNIVES", "KW03"),
    # home entertainment and electronics
    Rule(r"TELEVISION", "EL08"),
    Rule(
        r"PHONOGRAPH|RECORDING|RADIOS?\b|STEREO|PROJECTOR|ANTENNA|TAPE RECORDER|RECORD PLAYER",
        "EL11",
    ),
    Rule(
        r"PHOTOGRAPHIC EQUIPMENT|LASER POINTER|COAXIAL|REMOTE CONTROL|COMPACT DISCS|VIDEO PLAYERS",
        "EL11",
    ),
    # furnishings
    Rule(r"HIGH ?CHAIR", "CP05"),
    Rule(r"CRUTCHES|WHEELCHAIRS", "ME04"),
    Rule(r"\bRUGS\b|CARPET", "TX07"),
    Rule(r"LADDER", "TL03"),
    Rule(r"WINDOW SHADES|VENETIAN BLINDS", "BM10"),
    Rule(r"BUNK BEDS", "FU02"),
    Rule(r"BEDSPREADS|BLANKETS|PILLOWS|SHEETS|BEDDING", "TX02"),
    Rule(r"SOFAS|FUTONS|RECLINER", "FU06"),
    Rule(r"EXTENSION CORDS|CORDS, ELECTRICAL|SURGE SUPPRESSORS|POWER STRIPS", "EL09"),
    Rule(r"MATTRESSES", "FU03"),
    Rule(r"BEDS|BEDFRAMES|BEDSPRINGS", "FU01"),
    Rule(r"STOOLS|CHAIRS|OTTOMANS|BENCHES", "FU04"),
    Rule(r"TABLES", "FU07"),
    Rule(r"FURNITURE", "FU11"),
    Rule(r"\bLAMPS\b|LIGHTING EQUIPMENT|LIGHT BULBS", "HA19"),
    Rule(r"ELECTRIC OUTLETS|ELECTRIC WIRE|PANELBOARDS", "BM08"),
    # workshop
    Rule(r"WELDING|SOLDERING", "TL06", *WORKSHOP),
    Rule(
        r"HAMMERS|SCREWDRIVERS|MANUAL DRILLS|HAND SAWS|HACKSAWS|PLIERS|REAMERS|FILING|AWLS",
        "TL01",
        *WORKSHOP,
    ),
    Rule(r"LEVELS|VISES|MANUAL WORKSHOP", "TL01", *WORKSHOP),
    Rule(
        r"POWER|SAWS|ROUTERS|LATHES|JOINTERS|SHAPERS|NAIL GUNS|DRILLS|GRINDERS", "TL02", *WORKSHOP
    ),
    # chemicals
    Rule(r"ADHESIVE", "CH05", *CHEMICALS),
    Rule(
        r"DRAIN CLEANER|AMMONIA|OVEN CLEANER|DISINFECTANT|LAUNDRY SOAP|TOILET BOWL|FABRIC TREATMENT",
        "CH01",
        *CHEMICALS,
    ),
    Rule(
        r"ABRASIVE CLEANER|HOUSEHOLD CLEANER|BLEACHES|CAUSTIC|LYE|WALLPAPER CLEANER|DETERGENTS",
        "CH01",
        *CHEMICALS,
    ),
    Rule(r"SPOT REMOVER|DISHWASHING LIQUID", "CH01", *CHEMICALS),
    Rule(
        r"POLISH|WAX|THINNER|LUBRICANT|CHEMICALS|TURPENTINE|ACIDS|RUST|DYES|PAINT|ANTIFREEZE",
        "CH06",
        *CHEMICALS,
    ),
    Rule(r"WINDSHIELD|DEODORIZER|SOLVENT", "CH06", *CHEMICALS),
    # containers
    Rule(r"GLASS .*BOTTLES", "FD02"),
    Rule(r"PLASTIC BAGS", "OT03"),
    Rule(r"CONTAINERS|BUCKETS", "OT04"),
    # sports
    Rule(r"BICYCLE", "VE07"),
    Rule(r"TRAMPOLINE", "SP01"),
    Rule(r"SKATEBOARD", "SP02"),
    Rule(r"ROLLER SKATING|IN-LINE SKATING|SKATING \(ACTIVITY, APPAREL OR EQUIPMENT\) NOT", "SP03"),
    Rule(
        r"ICE SKATING|SLEDS|TOBOGGAN|SNOW DISK|SNOW TUBING|SNOW SKIING|SNOWBOARD|ICE HOCKEY|CURLING",
        "SP08",
    ),
    Rule(r"SWIMMING|WADING POOL|SCUBA|DIVING|WATER SLIDES|HOT TUBS", "SP07"),
    Rule(r"SLIDES OR SLIDING|SEE-SAW|MONKEY BARS|PLAYGROUND|SWINGS", "SP06"),
    Rule(r"EXERCISE EQUIPMENT|WEIGHT LIFTING", "SP05"),
    Rule(
        r"BASEBALL|BASKETBALL|FOOTBALL|SOCCER|VOLLEYBALL|BADMINTON|TENNIS|BALL SPORTS|SOFTBALL",
        "SP04",
    ),
    Rule(
        r"BOWLING|CROQUET|GOLF|LACROSSE|HANDBALL|RUGBY|SQUASH|FIELD HOCKEY|TETHERBALL|HOCKEY",
        "SP04",
    ),
    Rule(r"\(ACTIVITY|ACTIVITY, APPAREL|\(ACT\.|DARTS|CAMPING", "SP09"),
    # toys
    Rule(r"TOY WEAPONS \(PROJECTILE\)|TOY GUNS|TOY BOWS|SLINGSHOT|TOY WEAPONS, NOT", "TY07"),
    Rule(r"BALLOONS", "TY06"),
    Rule(r"BLOCKS|BUILDING SETS", "TY10"),
    Rule(r"RIDING TOYS|WAGONS \(CHILDREN", "TY01"),
    Rule(r"ELECTRIC TRAINS|ELECTRIC TOY", "TY09"),
    Rule(r"FIREWORKS", "FL09"),
    Rule(
        r"TOY|KITES|POGO|ROCKETRY|MODELS|MOLDING SETS|PLAY TENTS|STILTS|WOODBURNING|CHEMISTRY SETS",
        "TY11",
    ),
    Rule(r"GAMES OR GAME PARTS|DOLL HOUSES|PRETEND", "TY11"),
    # lawn and garden
    Rule(
        r"MOWER|TRIMMER|EDGER|TILLER|GARDEN|SNOW|LEAF|CHAIN SAWS|WHEELBARROW|SPREADERS",
        "TL04",
        *GARDEN,
    ),
    Rule(r"MULCHER|LAWN|LOG SPLITTER|BRUSHCUTTER|PRUNING|HEDGE|PLOWS", "TL04", *GARDEN),
    # nursery
    Rule(r"BABY CARRIAGES|BABY STROLLERS", "CP03"),
    Rule(r"BABY GATES|PLAYPENS", "CP09"),
    Rule(r"BABY WALKERS", "CP02"),
    Rule(r"BABY BOTTLES|PACIFIERS", "CP07"),
    Rule(r"DIAPERS", "CP01"),
    Rule(r"CAR SEATS", "CP06"),
    Rule(r"CRIBS|BASSINETS", "CP04"),
    Rule(r"BABY BATH", "CP08"),
    Rule(r"BABY CARRIERS", "CP11"),
    Rule(r"BOUNCER", "CP10"),
    # personal use
    Rule(r"HAIR DRYERS", "HA07"),
    Rule(r"EYEGLASSES|CONTACT LENSES|PROTECTION DEVICES|HEARING AIDS|DENTURES|ORTHODONTIC", "ME05"),
    Rule(r"MASSAGE", "ME03"),
    Rule(r"TOOTHBRUSH|ORAL IRRIGATOR|TEETH CLEANING|COMBS|HAIRBRUSHES", "PC05"),
    Rule(r"FOOTWEAR", "TX05"),
    Rule(r"JEWELRY|COINS|KEYS", "OT01"),
    Rule(r"NIGHTWEAR|DAY WEAR|OUTERWEAR|CLOTHING", "TX04"),
    Rule(r"RAZORS", "PC03"),
    Rule(r"CURLING IRONS", "PC04"),
    Rule(r"PENS AND PENCILS|DESK SUPPLIES", "OT02"),
    Rule(r"LIGHTERS", "FL08"),
    Rule(r"MATCHES|MATCHBOOKS", "FL08"),
    Rule(r"ASHTRAYS|CHRISTMAS", "OT05"),
    Rule(r"HYPODERMIC|ORTHOPEDIC BRACES", "ME05"),
    Rule(r"THERMOMETERS, MEDICAL", "ME02"),
    # structures
    Rule(r"FLOORS", "BM03"),
    Rule(r"ELEVATORS|ESCALATORS|MOVING WALKS", "BM12"),
    Rule(r"GLASS DOORS|DOORS WITH GLASS|DOORS OR PANELS|GLASS PANELS", "BM01"),
    Rule(r"DOORS|DOOR SILLS", "BM05"),
    Rule(r"WINDOW", "BM02"),
    Rule(r"STAIRS|RAMPS", "BM04"),
    Rule(r"FENCES|WALLPAPER|WOOD PANELING|SHEDS|GARAGES", "BM11"),
    # drugs and medicines
    Rule(r"DRUGS|MEDICATIONS|MEDICINES|ASPIRIN|ANTIHISTAMINE|LINIMENT|IRON SALTS", "ME01"),
    # cosmetics
    Rule(
        r"HAIR DYES|HAIR COLORING|HAIR LIGHTENERS|HAIR WAVING|HAIR GROOMING|HAIR SPRAYS|SHAMPOO",
        "PC02",
        *COSMETICS,
    ),
    Rule(
        r"ANTIPERSPIRANT|BATH PRODUCTS|BUBBLE BATH|DEPILATOR|EYE|FACE|FRAGRANCE|CREAMS|MAKE-UP",
        "PC01",
        *COSMETICS,
    ),
    Rule(r"GENITAL|POWDER PREP|SHAVING PREP|SOAPS|SUNTAN|SUNSCREEN", "PC01", *COSMETICS),
]

# Medical devices (2400 block) not overridden above are professional devices.
MEDICAL_DEVICE_REASON = NOT_CONSUMER + "professional medical device"

# NEISS code sets -> Sentinel code sets. Empty target = no equivalent.
CODESET_MAP: dict[str, tuple[str, dict[str, str]]] = {
    "BDYPT": (
        "body_region",
        {
            "0": "other",
            "30": "upper_limb",
            "31": "trunk",
            "32": "upper_limb",
            "33": "upper_limb",
            "34": "upper_limb",
            "35": "lower_limb",
            "36": "lower_limb",
            "37": "lower_limb",
            "38": "trunk",
            "75": "head",
            "76": "face",
            "77": "face",
            "78": "trunk",
            "79": "trunk",
            "80": "upper_limb",
            "81": "lower_limb",
            "82": "upper_limb",
            "83": "lower_limb",
            "84": "multiple",
            "85": "whole_body",
            "86": "other",
            "87": "",
            "88": "face",
            "89": "neck",
            "90": "upper_limb",
            "91": "lower_limb",
            "92": "upper_limb",
            "93": "lower_limb",
            "94": "head",
        },
    ),
    "DIAG": (
        "injury_nature",
        {
            "41": "foreign_body",
            "42": "foreign_body",
            "46": "burn",
            "47": "burn",
            "48": "burn",
            "49": "burn",
            "50": "other",
            "51": "burn",
            "52": "concussion",
            "53": "bruise",
            "54": "other",
            "55": "sprain",
            "56": "foreign_body",
            "57": "fracture",
            "58": "bruise",
            "59": "cut",
            "60": "other",
            "61": "other",
            "62": "organ_injury",
            "63": "cut",
            "64": "sprain",
            "65": "other",
            "66": "other",
            "67": "other",
            "68": "poisoning",
            "69": "other",
            "70": "other",
            "71": "other",
            "72": "cut",
            "73": "burn",
            "74": "other",
        },
    ),
    "DISP": (
        "outcome",
        {
            "0": "",
            "1": "treated_released",
            "2": "transferred",
            "4": "admitted",
            "5": "observed",
            "6": "other",
            "8": "died",
            "9": "",
        },
    ),
    "LOC": (
        "place",
        {
            "0": "unknown",
            "1": "home",
            "2": "farm",
            "3": "home",
            "4": "road",
            "5": "public_place",
            "6": "home",
            "7": "workplace",
            "8": "school",
            "9": "sports_area",
        },
    ),
    "GENDER": ("sex", {"0": "unknown", "1": "male", "2": "female"}),
    "AGELTTWO": ("age_unit", {}),  # filled in by _age_unit()
}


def _age_unit(code: int) -> str:
    """NEISS Age: 0 = unknown (no unit), 2..120 = years, 201..223 = months."""
    if code == 0:
        return ""
    return "months" if code >= 200 else "years"


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Read the NEISS format file (tab-separated, quoted header)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        return [
            {
                "format": r[0].strip(),
                "start": r[1].strip(),
                "end": r[2].strip(),
                "label": r[3].strip(),
            }
            for r in reader
            if r
        ]


def _strip_prefix(code: int, label: str) -> str:
    return re.sub(rf"^{code}\s*-\s*", "", label).strip()


def map_product(code: int, label: str, valid: set[str]) -> tuple[str, str, str]:
    """Return (category_code, status, reason) for one NEISS product code."""
    if code in OVERRIDES:
        target = OVERRIDES[code]
    else:
        target = ""
        for lo, hi, reason in UNMAPPED_RANGES:
            if lo <= code <= hi:
                target = "!" + reason
                break
        if not target and 2400 <= code < 2500:
            target = "!" + MEDICAL_DEVICE_REASON
        if not target:
            text = _strip_prefix(code, label).upper()
            for rule in RULES:
                if rule.lo <= code <= rule.hi and re.search(rule.pattern, text):
                    target = rule.category
                    break
    if not target:
        raise ValueError(f"NEISS product {code} ({label!r}) matches no rule; add one")
    if target.startswith("!"):
        return "", "unmapped", target[1:]
    if target not in valid:
        raise ValueError(f"NEISS product {code} maps to unknown category {target}")
    return target, "mapped", ""


def build(tsv: Path, out_dir: Path = DATA_DIR) -> tuple[int, int]:
    """Write both crosswalk CSVs; return (mapped, unmapped) product counts."""
    rows = read_tsv(tsv)
    with (out_dir / "product_taxonomy.csv").open(encoding="utf-8", newline="") as fh:
        valid = {r["category_code"] for r in csv.DictReader(fh) if not r["valid_to"]}

    prod = sorted((r for r in rows if r["format"] == "PROD"), key=lambda r: int(r["start"]))
    counts = {"mapped": 0, "unmapped": 0}
    with (out_dir / "neiss_product_crosswalk.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["neiss_code", "neiss_label", "category_code", "status", "reason"])
        for r in prod:
            if r["start"] != r["end"]:
                raise ValueError(f"PROD range {r['start']}..{r['end']} is not a single code")
            code = int(r["start"])
            label = _strip_prefix(code, r["label"])
            category, status, reason = map_product(code, r["label"], valid)
            counts[status] += 1
            w.writerow([code, label, category, status, reason])

    with (out_dir / "neiss_codeset_crosswalk.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["neiss_format", "neiss_code", "neiss_label", "codeset", "code"])
        for fmt, (codeset, mapping) in CODESET_MAP.items():
            fmt_rows = sorted(
                (r for r in rows if r["format"] == fmt), key=lambda r: int(r["start"])
            )
            for r in fmt_rows:
                start, end = int(r["start"]), int(r["end"])
                for code in range(start, end + 1):
                    label = re.sub(r"^\d+\s*-\s*", "", r["label"]).strip()
                    target = _age_unit(code) if fmt == "AGELTTWO" else mapping[str(code)]
                    w.writerow([fmt, code, label, codeset, target])
    return counts["mapped"], counts["unmapped"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    tsv = Path(args[0]) if args else DEFAULT_TSV
    mapped, unmapped = build(tsv)
    print(f"NEISS products: {mapped} mapped, {unmapped} unmapped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
