"""The rule baseline: GUIDELINES examples as hand-built sentences, then properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.predict import SentenceInput
from pipeline.rules.baseline import RulePredictor, categorize, find_target_spans
from pipeline.schema import CATEGORIES

RULES = RulePredictor()


def spans(text: str, part: str = "plan") -> list[str]:
    pred = RULES.predict([SentenceInput(text, part)])[0]
    return [text[s.start : s.end] for s in pred.spans]


@pytest.mark.parametrize(
    "sentence,expected",
    [
        ("力争缔结友好城市2个、新增驻渝总领事馆2个。", ["缔结友好城市2个", "新增驻渝总领事馆2个"]),
        ("本外币存款余额、保费收入增长12%左右。", ["本外币存款余额、保费收入增长12%左右"]),
        ("焕新升级“11241”现代产业体系，打造经济高地。", []),
        (
            "新增“五夜”消费产品100个、丰富夜间经济“味蕾”、守护“舌尖上的安全”。",
            ["新增“五夜”消费产品100个"],
        ),
        ("违法建筑保持零新增。", ["违法建筑保持零新增"]),
        ("动态清零信访积案。", ["动态清零信访积案"]),
        ("新增国际知名品牌20个、首店首牌50个以上。", ["新增国际知名品牌20个", "首店首牌50个以上"]),
        ("改造提升国际村等老旧小区6个、46万平方米。", ["改造提升国际村等老旧小区6个", "46万平方米"]),
        ("置换纯电公交车、出租车300辆。", ["置换纯电公交车、出租车300辆"]),
        ("投资4.4亿元新改扩建城区主次干路4条。", ["投资4.4亿元新改扩建城区主次干路4条"]),
        ("到2027年，数字经济核心产业增加值达到300亿元。", ["数字经济核心产业增加值达到300亿元"]),
        ("实施“一米关爱”项目46个。", ["实施“一米关爱”项目46个"]),
        (
            "加快重医生命健康前沿技术交叉研究院等16个重点创新平台建设。",
            ["加快重医生命健康前沿技术交叉研究院等16个重点创新平台建设"],
        ),
        ("联动42家文博场馆建设“博物馆之城”。", ["联动42家文博场馆建设“博物馆之城”"]),
        ("精心修缮老鼓楼衙署遗址等10处历史遗产。", ["精心修缮老鼓楼衙署遗址等10处历史遗产"]),
        ("争取实现税收收入增长5%，争取上级资金10亿元。", ["实现税收收入增长5%", "争取上级资金10亿元"]),
        ("确保城镇新增就业4.6万人。", ["城镇新增就业4.6万人"]),
        ("新增两个驻渝机构，建设十二个站点。", ["新增两个驻渝机构", "建设十二个站点"]),
        ("地区生产总值增长5%—6%。", ["地区生产总值增长5%—6%"]),
        ("⑨新增公共停车位100个以上；", ["新增公共停车位100个以上"]),
    ],
)
def test_guideline_examples(sentence: str, expected: list[str]) -> None:
    assert spans(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "做好科技金融、绿色金融、普惠金融、养老金融、数字金融五篇大文章。",
        "落实“6个10分钟公共服务圈”。",
        "打造“三大地标商圈”。",
        "承办第四届中国西部国际投资贸易洽谈会。",
        "加快轨道交通18号线建设。",
        "实施城市更新三年行动。",
        "有效满足800亿元资金需求。",
        "去年地区生产总值增长5.2%。",
        "建成软信产教融合示范基地。",
        "推进5G网络建设。",
        "更好地利用国内外两个市场。",
        "按照市委七届六次全会部署。",
        "建设一批重点项目。",
        "完善“一表一图一榜一报告”机制。",
        "扩大社会消费品零售规模。",
        "为60岁以上老年人提供服务。",
    ],
)
def test_not_targets(sentence: str) -> None:
    assert spans(sentence) == []


def test_review_part_gives_no_spans() -> None:
    assert spans("城镇新增就业4.6万人。", part="review") == []
    assert spans("城镇新增就业4.6万人。", part="plan") == ["城镇新增就业4.6万人"]


def test_hedges_and_zhengqu() -> None:
    assert spans("力争旅游收入达750亿元。") == ["旅游收入达750亿元"]
    assert spans("争取达到300天。") == ["达到300天"]
    assert spans("争取上级资金10亿元。") == ["争取上级资金10亿元"]  # 争取 + noun stays in


def test_ascii_comma_in_number_does_not_split() -> None:
    assert spans("新增就业岗位1,200个，建设站点3个。") == ["新增就业岗位1,200个", "建设站点3个"]


def test_categories() -> None:
    pred = RULES.predict([SentenceInput("新增市级以上金融机构5家。")])[0]
    assert pred.category == "金融"
    assert set(pred.category_probs) == set(CATEGORIES)
    assert abs(sum(pred.category_probs.values()) - 1) < 1e-9
    assert 0.3 < pred.category_probs["金融"] < 1.0  # a distribution, not a one-hot
    assert RULES.predict([SentenceInput("城镇新增就业4.6万人。")])[0].category == "民生"
    assert RULES.predict([SentenceInput("能耗强度下降3%。")])[0].category == "生态"
    assert RULES.predict([SentenceInput("地区生产总值增长6%以上。")])[0].category == "综合"
    assert RULES.predict([SentenceInput("各位代表！")])[0].category == "综合"


def test_section_breaks_ties() -> None:
    # 品牌 (商贸) vs 旅游 (文旅) once each: the section heading decides.
    s = "打造旅游品牌10个。"
    assert max(categorize(s, ("(三)繁荣文化旅游",)).items(), key=lambda kv: kv[1])[0] == "文旅"
    assert max(categorize(s, ("(二)扩大消费，建设商圈",)).items(), key=lambda kv: kv[1])[0] == "商贸"


def test_target_category_follows_clause_when_clear() -> None:
    pred = RULES.predict([SentenceInput("深化国企改革，新认定国家高新技术企业90家。", section_path=("(六)深化改革",))])[
        0
    ]
    assert len(pred.spans) == 1
    assert pred.spans[0].category in (None, "科创")
    cat = pred.spans[0].category or pred.category
    assert cat == "科创"


TEXT = st.text(
    alphabet=st.sampled_from(
        list("新增建设企业亿元万人个家%以上左右，,、；。：“”零清两十三五1234567890.年第号力争确保争取实现增长下降 ")
    ),
    max_size=80,
)


@given(TEXT, st.sampled_from(["plan", "review", "other"]))
def test_spans_valid_nonoverlapping_deterministic(text: str, part: str) -> None:
    a = RULES.predict([SentenceInput(text, part)])[0]
    b = RULES.predict([SentenceInput(text, part)])[0]
    assert [(s.start, s.end) for s in a.spans] == [(s.start, s.end) for s in b.spans]
    assert a.category == b.category
    last = 0
    for s in a.spans:
        assert last <= s.start < s.end <= len(text)
        assert text[s.end - 1] not in "，,、；;。：: " and text[s.start] not in "，,、；;。：: "
        last = s.end
    if part == "review":
        assert a.spans == []


@given(st.text(max_size=80))
def test_never_raises(text: str) -> None:
    find_target_spans(text)
    RULES.predict([SentenceInput(text)])


@pytest.mark.parametrize(
    "sentence",
    [
        "〔23〕1个“美丽街区”：指建成美丽街区1个。",
        "“18”是指生物医药健康、汽车等18个重点产业链。",
        "启动县城110千伏变电站线路迁建。",
        "争创百亿级特色产业集群。",
        "污染严重的城市力争退出全国空气质量后10位。",
    ],
)
def test_glossary_ratings_specs_are_not_targets(sentence: str) -> None:
    assert spans(sentence) == []


def test_level_cap_is_a_target() -> None:
    assert spans("区属国企管理层级控制在3级以内。") == ["区属国企管理层级控制在3级以内"]
    assert spans("建设二级以上医院。") == []


def test_run_in_heading_gives_context() -> None:
    # The second sentence names no category of its own; its run-in heading does.
    sents = [
        SentenceInput("拓展国际交往。", section_path=("(二)",)),
        SentenceInput("落地机构3个。", section_path=("(二)",)),
    ]
    preds = RULES.predict(sents)
    assert preds[1].category == "开放"
    # Alone, or in another section, it does not inherit the context.
    assert RULES.predict([sents[1]])[0].category != "开放"
    other = SentenceInput("落地机构3个。", section_path=("(三)",))
    assert RULES.predict([sents[0], other])[1].category != "开放"


def test_doubling_targets() -> None:
    assert spans("实现地区生产总值比2010年翻一番。") == ["实现地区生产总值比2010年翻一番"]


def test_lexicon_keywords_belong_to_one_category() -> None:
    from pipeline.rules.baseline import LEXICON

    seen: dict[str, str] = {}
    for cat, words in LEXICON.items():
        assert cat in CATEGORIES
        for w in words:
            assert seen.setdefault(w, cat) == cat, f"{w} in {seen[w]} and {cat}"
