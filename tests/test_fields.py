"""Field normalisation (GUIDELINES 2.3): known hard cases, then properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.fields import CanonicalUnit
from pipeline.fields.parse import canonical_unit, find_numbers, parse_chinese, parse_fields

# (span text, value, unit, bound, direction, value_max)
CASES = [
    ("社会消费品零售总额突破1450亿元", 1450, "亿元", "at_least", None, None),
    ("城镇新增就业4.6万人", 4.6, "万人", "exact", None, None),
    ("能耗强度下降3%", 3, "%", "exact", "down", None),
    ("打造数字化工厂1—2家", 1, "家", "at_least", None, 2),
    ("违法建筑保持零新增", 0, None, "exact", None, None),
    ("动态清零信访积案", 0, None, "exact", None, None),
    ("投资4.4亿元新改扩建城区主次干路4条", 4, "条", "exact", None, None),
    ("升级2个社区养老服务站", 2, "个", "exact", None, None),
    ("地区生产总值增长5%—6%", 5, "%", "at_least", "up", 6),
    ("地区生产总值增长5%-6%", 5, "%", "at_least", "up", 6),
    ("新增两个", 2, "个", "exact", None, None),
    ("建设十二个", 12, "个", "exact", None, None),
    ("一千四百五十亿元", 1450, "亿元", "exact", None, None),
    ("１４５０亿元", 1450, "亿元", "exact", None, None),
    ("提高0.5个百分点", 0.5, "个百分点", "exact", "up", None),
    ("到2027年，数字经济核心产业增加值达到300亿元", 300, "亿元", "exact", None, None),
    ("工业增加值增长6%", 6, "%", "exact", "up", None),
    ("压减一般性支出10%以上", 10, "%", "at_least", "down", None),
    ("城镇调查失业率控制在5.5%以内", 5.5, "%", "at_most", None, None),
    ("居民消费价格涨幅3%左右", 3, "%", "about", None, None),
    ("绿色金融规模超1400亿元", 1400, "亿元", "at_least", None, None),
    ("旅游收入达750亿元", 750, "亿元", "exact", None, None),
    ("新增发明专利不少于300件", 300, "件", "at_least", None, None),
    ("服务企业约200家", 200, "家", "about", None, None),
    ("覆盖近5万人", 5, "万人", "about", None, None),
    ("新增首店首牌50个以上", 50, "个", "at_least", None, None),
    ("群众安全感指数保持97%以上", 97, "%", "at_least", None, None),
    ("粮食产量1.3万亿斤以上", 1.3, "万亿斤", "at_least", None, None),
    ("改造老旧小区四十六万平方米", 46, "万平方米", "exact", None, None),
    ("46万平方米", 46, "万平方米", "exact", None, None),
    ("新增“五夜”消费产品100个", 100, "个", "exact", None, None),
    ("实施“一米关爱”项目46个", 46, "个", "exact", None, None),
    ("建设5G基站200个", 200, "个", "exact", None, None),
    ("PM2.5平均浓度控制在35微克/立方米以内", 35, "微克/立方米", "at_most", None, None),
    ("每千人口拥有3岁以下婴幼儿托位数4.5个", 4.5, "个", "exact", None, None),
    ("引进10亿元以上项目5个", 5, "个", "exact", None, None),
    ("新增就业岗位1,200个", 1200, "个", "exact", None, None),
    ("新增市级以上金融机构5家", 5, "家", "exact", None, None),
    ("农村居民人均可支配收入增长7%", 7, "%", "exact", "up", None),
    ("空气质量优良天数达到300天", 300, "天", "exact", None, None),
    ("新建百场文化活动", 100, "场", "exact", None, None),
    ("降低到2%以下", 2, "%", "at_most", "down", None),
    ("精心修缮老鼓楼衙署遗址等10处历史遗产", 10, "处", "exact", None, None),
    ("培育300余家企业", 300, "家", "exact", None, None),
]


@pytest.mark.parametrize("text,value,unit,bound,direction,value_max", CASES)
def test_known_cases(
    text: str, value: float, unit: str | None, bound: str, direction: str | None, value_max: float | None
) -> None:
    f = parse_fields(text)
    assert f.value == value
    assert type(f.value) is type(value)  # 1450 stays an int, 4.6 a float
    assert f.unit == unit
    assert f.bound == bound
    assert f.direction == direction
    assert f.value_max == value_max


@pytest.mark.parametrize(
    "text,indicator",
    [
        ("社会消费品零售总额突破1450亿元", "社会消费品零售总额"),
        ("城镇新增就业4.6万人", "城镇新增就业"),
        ("能耗强度下降3%", "能耗强度"),
        ("到2027年，数字经济核心产业增加值达到300亿元", "数字经济核心产业增加值"),
        ("违法建筑保持零新增", "违法建筑"),
        ("动态清零信访积案", "信访积案"),
        ("投资4.4亿元新改扩建城区主次干路4条", "新改扩建城区主次干路"),
        ("力争旅游收入达750亿元", "旅游收入"),
        ("赤字率拟按3%安排", "赤字率"),
    ],
)
def test_indicator(text: str, indicator: str) -> None:
    assert parse_fields(text).indicator == indicator


def test_year() -> None:
    assert parse_fields("到2027年，数字经济核心产业增加值达到300亿元").year == 2027
    assert parse_fields("到2027年底建成充电桩500个").value == 500
    assert parse_fields("城镇新增就业4.6万人").year is None


def test_number_offsets_point_into_span() -> None:
    for text, *_ in CASES:
        f = parse_fields(text)
        s, e = f.number_start, f.number_end
        assert text[s:e] == f.number_text
    f = parse_fields("１４５０亿元")
    assert f.number_text == "１４５０" and (f.number_start, f.number_end) == (0, 4)
    f = parse_fields("投资4.4亿元新改扩建城区主次干路4条")
    assert f.number_text == "4" and f.number_start == len("投资4.4亿元新改扩建城区主次干路")


def test_canonical_units_and_values() -> None:
    assert canonical_unit("亿元") == CanonicalUnit("yuan", 10**8)
    assert canonical_unit("万人") == CanonicalUnit("persons", 10**4)
    assert canonical_unit("万平方米") == CanonicalUnit("m2", 10**4)
    assert canonical_unit("%").unit == "percent"
    assert canonical_unit("个百分点").unit == "percentage_point"
    assert canonical_unit("个").unit == "count" and canonical_unit("家").unit == "count"
    assert canonical_unit("千米").unit == "km"  # not 1000 × 米
    assert canonical_unit(None) is None and canonical_unit("斤斤") is None
    assert parse_fields("城镇新增就业4.6万人").value_canonical == 46000  # no 45999.999…
    assert parse_fields("社会消费品零售总额突破1450亿元").value_canonical == 145_000_000_000
    assert parse_fields("能耗强度下降3%").value_canonical == 3
    assert parse_fields("提高0.5个百分点").unit_canonical.unit == "percentage_point"


def test_chinese_numerals_where_cn2an_needs_help() -> None:
    assert parse_chinese("两") == 2
    assert parse_chinese("十二") == 12
    assert parse_chinese("一千四百五十") == 1450
    assert parse_chinese("百") == 100  # cn2an rejects a bare 百
    assert parse_chinese("千") == 1000
    assert parse_chinese("两千") == 2000
    assert parse_chinese("零") == 0
    assert parse_chinese("几") is None


def test_non_quantities_are_not_values() -> None:
    assert parse_fields("焕新升级“11241”现代产业体系").value is None
    assert parse_fields("第四届进博会").value is None
    assert parse_fields("轨道交通18号线").value is None
    assert parse_fields("实施三年行动").value is None
    assert parse_fields("推进5G应用").value is None
    assert parse_fields("社会消费品零售总额").value is None  # 零售 is not zero
    assert parse_fields("建设一批重点项目").value is None


def test_excluded_numbers_are_marked() -> None:
    cands = find_numbers("到2027年建成“6个10分钟公共服务圈”20个")
    reasons = {c.excluded for c in cands}
    assert "year" in reasons and "inside a quoted title" in reasons
    assert [c.value for c in cands if c.excluded is None] == [20]


@given(st.text(max_size=60))
def test_never_raises(text: str) -> None:
    f = parse_fields(text)
    assert f.bound in ("exact", "at_least", "about", "at_most")
    assert f.direction in ("up", "down", None)
    if f.number_text is not None:
        assert text[f.number_start : f.number_end] == f.number_text


@given(st.text(alphabet="0123456789.%—-万亿元个两十百千零清增长下降以上左右约超第“”年号", max_size=30))
def test_never_raises_on_number_soup(text: str) -> None:
    f = parse_fields(text)
    if f.value_max is not None:
        assert f.bound == "at_least" and f.value_max > f.value


@pytest.mark.parametrize(
    "text,direction",
    [
        ("改造提升国际村等老旧小区6个", None),  # 提升 is part of the action, the count is a count
        ("减少碳排放10万吨", "down"),
        ("提高城镇化率到60%", "up"),
        ("人口自然增长率控制在6.8‰以内", None),  # 增长率 is a noun
        ("居民消费价格上涨3%左右", "up"),
        ("新增高新技术企业60家", None),
    ],
)
def test_direction(text: str, direction: str | None) -> None:
    assert parse_fields(text).direction == direction


def test_range_separators() -> None:
    for sep in ("—", "―", "-", "~", "至", "～"):
        f = parse_fields(f"新增省级特色高中3{sep}5所")
        assert (f.value, f.value_max, f.bound, f.unit) == (3, 5, "at_least", "所"), sep


def test_overlong_number_gives_no_value_not_infinity() -> None:
    f = parse_fields("新增" + "9" * 400 + "个")
    assert f.value is None or f.value == f.value and abs(f.value) != float("inf")


def test_coordinated_figures_share_the_verb_and_the_trailing_qualifier() -> None:
    from pipeline.fields.parse import share_coordinated

    s = "城乡居民人均可支配收入分别增长6%和6.5%左右，城镇新增就业85万人。"
    a = s.index("城乡")
    spans = [(a, s.index("和")), (s.index("和") + 1, s.index("，")), (s.index("城镇"), s.index("。"))]
    fields = [parse_fields(s[x:y]) for x, y in spans]
    assert fields[1].direction is None and fields[0].bound == "exact"
    parsed = list(fields)
    fields = share_coordinated(s, spans, fields)
    assert parsed == [parse_fields(s[x:y]) for x, y in spans]  # the parsed records are not changed
    assert [f.direction for f in fields[:2]] == ["up", "up"]
    assert [f.bound for f in fields[:2]] == ["about", "about"]
    assert fields[2] == parse_fields(s[spans[2][0] : spans[2][1]])  # the next clause is its own
    # Without 分别 nothing is shared: two targets of their own.
    t = "新建5G基站100个和充电桩200个。"
    sp = [(0, t.index("和")), (t.index("和") + 1, t.index("。"))]
    fs = [parse_fields(t[x:y]) for x, y in sp]
    assert share_coordinated(t, sp, fs) == fs


def test_chinese_range_shares_its_trailing_multiplier() -> None:
    """一至二万人 is 1–2 万人 (found by the generated-targets property: it read 1 … 20000 人)."""
    from pipeline.fields.parse import parse_fields

    f = parse_fields("城镇新增就业一至二万人")
    assert (f.value, f.value_max, f.unit, f.bound) == (1, 2, "万人", "at_least")
    g = parse_fields("投资十至二十亿元")
    assert (g.value, g.value_max, g.unit) == (10, 20, "亿元")
