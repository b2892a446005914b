"""Issue 16, probe 9, at the scrubber: each identifier that survived on main is removed."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.privacy import scrub_series, scrub_text

PROBES = [
    ("身份证110105 19491231 0031，", "110105 19491231 0031"),
    ("手机１３７１２３４５６７８", "１３７１２３４５６７８"),
    ("电话136.2222.3333", "136.2222.3333"),
    ("座机(020)87654321转12", "87654321"),
    ("邮箱wang.xiuying@163.com", "wang.xiuying@163.com"),
    ("加微信号wxy_19880101联系", "wxy_19880101"),
    ("家住北京市朝阳区建国路88号院3号楼1单元502室。", "建国路88号"),
    ("其母王秀英诉患儿在家中玩耍", "王秀英"),
    ("邻居诸葛小明发现后送医", "诸葛小明"),
    ("护士端木蓉予包扎", "端木蓉"),
    ("医生慕容复建议随访", "慕容复"),
    ("分诊：上官婉儿来电反映", "上官婉儿"),
    ("欧阳娜娜 13812345678", "欧阳娜娜"),
]


@pytest.mark.parametrize(("text", "secret"), PROBES)
def test_probe9_identifier_is_removed(text, secret):
    assert secret not in scrub_text(text)
    assert secret not in scrub_series(pd.Series([text] * 70)).iloc[0]  # the column path too


def test_a_brand_equal_to_the_patients_name_is_removed():
    out = scrub_series(pd.Series(["王秀英", "格力"]), pd.Series(["王秀英", "王秀英"]))
    assert out.tolist() == ["[姓名]", "格力"]
