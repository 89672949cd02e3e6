"""Annotator B: an independent second annotation of the seed report, and its agreement with the gold.

Quality control for issue 7. The spec below was written BLIND (without reading the project's gold,
its spec, its audit or its decision log), sentence by sentence, under the shared
GUIDELINES.md version 1.4. Each entry is keyed by a prefix of its sentence text and lists its
targets as exact strings; offsets are computed here (``str.find``, failing loudly), so every span
points into the raw text. The spec is frozen as the blind annotation: adjudication happens in the
gold spec (``data/gold/specs/yuzhong-2024.spec.json``), never here, so the agreement figures in
``data/agreement/README.md`` stay the honest inter-annotator ones.

    govtarget annotator-b                 # write data/agreement/yuzhong-2024.annotator-b.jsonl
    govtarget annotator-b --check         # the file is up to date and valid
    govtarget annotator-b --agree data/gold/yuzhong-2024.jsonl [--json out.json]

(formerly ``scripts/annotate_seed_b.py``; the command is ``pipeline.cli.annotator_b``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.records import GoldDocument, SentenceRecord, Target
from pipeline.schema import CATEGORY2ID, CLAUSE_DELIMITERS, HEDGE_ZHENGQU_BEFORE, HEDGES

#: The repository root (the raw seed, the output and the shared guidelines are beside it in a checkout).
ROOT = Path(__file__).resolve().parents[2]

DOC_ID = "yuzhong-2024"
RAW = ROOT / "data" / "raw" / f"{DOC_ID}.txt"
OUT = ROOT / "data" / "agreement" / f"{DOC_ID}.annotator-b.jsonl"
SHARED_GUIDELINES = ROOT.parent / "shared" / "annotation" / "GUIDELINES.md"


@dataclass(frozen=True)
class T:
    """One target as annotator B wrote it: exact text and fields; ``category`` None = the sentence's."""

    text: str
    value: float | int | None
    unit: str | None
    bound: str = "exact"
    direction: str | None = None
    category: str | None = None
    value_max: float | int | None = None


@dataclass(frozen=True)
class S:
    """One kept sentence: a prefix of its text, its category and its targets, in document order."""

    prefix: str
    category: str
    targets: tuple[T, ...] = ()


def s(prefix: str, category: str, *targets: T) -> S:
    return S(prefix, category, tuple(targets))


# fmt: off
# The blind annotation. One entry per kept sentence of pipeline.text.segment.segment(raw), in order.
# Comments give the rule (GUIDELINES section) behind non-obvious calls.
SPEC: tuple[S, ...] = (
    s("拓展国际交往。", "开放"),  # 0
    s("加强国际化友好合作。", "开放"),  # 1
    s("依托外国领馆、涉外机构集", "开放",  # 2: hedge 力争 stripped; 、 split, both sides numbered (2.2)
      T("缔结友好城市2个", 2, "个"),
      T("新增驻渝总领事馆2个", 2, "个")),
    s("丰富国际文化交流氛围。", "开放"),  # 3: international exchange (3)
    s("深挖开放历史文化资源底蕴", "开放",  # 4: 2.2 example; 渝中行 is a name
      T("高质量承接举办全球性、区域性峰会论坛等30场", 30, "场")),
    s("优化国际化服务环境。", "开放"),  # 5
    s("优化完善国际化人居环境、", "开放",  # 6
      T("建成重庆国际交往示范基地3个", 3, "个")),
    s("(三)焕新升级“1124", "产业"),  # 7: “11241” is a name (2.1)
    s("推动生产性服务业向专业化", "产业"),  # 8
    s("巩固支柱产业基本盘。", "产业"),  # 9
    s("聚焦打造西部金融中心主承", "金融"),  # 10
    s("提升金融集聚度,深入实施", "金融",  # 11: 市级以上 qualifies the institutions, not the 5; 五篇大文章 is a name
      T("新增市级以上金融机构5家", 5, "家"),
      T("金融业增加值占全市比重保持在15%左右", 15, "%", "about"),
      T("本外币存款余额、保费收入增长12%左右", 12, "%", "about", "up")),
    s("增强金融服务实效性,支持", "金融",  # 12: quoted name inside a real target (2.1, 一米关爱 rule)
      T("开展“金桥行动”30次", 30, "次"),
      T("绿色金融规模超1400亿元", 1400, "亿元", "at_least")),
    s("扩大金融影响力,精心办好", "金融"),  # 13
    s("聚力建设国际消费中心城市", "商贸"),  # 14
    s("打造主客共享的“三大地标", "商贸",  # 15: 三大地标商圈 / 四首经济 are names
      T("新增国际知名品牌20个", 20, "个"),
      T("首店首牌50个以上", 50, "个", "at_least"),
      T("举办首发首秀精品活动50场以上", 50, "场", "at_least")),
    s("塑造特色融合的“五张消费", "商贸",  # 16: 2.2 example; 渝味360碗 is a quoted name
      T("新增“五夜”消费产品100个", 100, "个")),
    s("增强扩容提质的“多元消费", "商贸"),  # 17
    s("社会消费品零售总额突破1", "商贸",  # 18
      T("社会消费品零售总额突破1450亿元", 1450, "亿元", "at_least")),
    s("增强新兴产业带动力。", "产业"),  # 19
    s("文旅文创服务业。", "文旅"),  # 20: run-in heading of the cultural-industry block
    s("深入推进国家全域旅游示范", "文旅"),  # 21
    s("深化与喜马拉雅、哩哩哩等", "文旅"),  # 22
    s("提质产业载体、落地产业基", "文旅",  # 23: digital culture/tourism firms (文旅: cultural industry)
      T("孵化引进链主型、头部型企业3家以上", 3, "家", "at_least")),
    s("提速国家级对外文化贸易基", "文旅",  # 24
      T("打造飞虎城市文化会客厅等特色产业园5个", 5, "个")),
    s("产业增加值超150亿元。", "文旅",  # 25: the 文旅文创 industry's value added (run-in heading 20)
      T("产业增加值超150亿元", 150, "亿元", "at_least")),
    s("软信服务业。", "产业"),  # 26
    s("深化重庆软件天地建设,全", "产业"),  # 27
    s("深入实施“满天星”计划,", "产业"),  # 28: 1146 / 四链 / 五名 are names
    s("高质量办好第四届中国工业", "产业"),  # 29: ordinal
    s("建成软信产教融合示范基地", "产业"),  # 30: 2.1 example, no number
    s("引育人工智能、数据服务等", "产业",  # 31: talent is 科创 (3), the firms are the software industry
      T("引育人工智能、数据服务等新赛道链主企业50家", 50, "家"),
      T("新增中高端人才4000名", 4000, "名", category="科创")),
    s("新归集产业载体10万平方", "产业",  # 32: 、 split, both numbered
      T("新归集产业载体10万平方米", 10, "万平方米"),
      T("打造“满天星”示范楼宇2栋", 2, "栋"),
      T("示范企业20家", 20, "家")),
    s("软件业务收入突破500亿", "产业",  # 33
      T("软件业务收入突破500亿元", 500, "亿元", "at_least"),
      T("规上营业收入增长40%以上", 40, "%", "at_least", "up")),
    s("培育潜力产业增长极。", "产业"),  # 34
    s("专业服务业。", "产业"),  # 35
    s("深化国家会计服务示范基地", "产业"),  # 36
    s("推动会计评估、人力资源、", "产业"),  # 37
    s("规上企业营业收入增长15", "产业",  # 38
      T("规上企业营业收入增长15%", 15, "%", "exact", "up")),
    s("交通运输业。", "产业"),  # 39
    s("支持重庆长航整合武汉长江", "产业"),  # 40: transport business (3: 产业)
    s("推动“两江游”资源整合、", "产业"),  # 41
    s("鼓励民生轮船公司、重庆公", "产业",  # 42
      T("新开发货运航线6条", 6, "条")),
    s("新增3艘豪华游轮。", "产业",  # 43
      T("新增3艘豪华游轮", 3, "艘")),
    s("建成投用化龙桥邮件处理中", "产业",  # 44
      T("邮政业务总量增长25%", 25, "%", "exact", "up")),
    s("健康服务业。", "产业"),  # 45
    s("全力支持重医附一院、儿童", "产业"),  # 46: health-industry block; two fit (民生/产业) -> section
    s("大力发展高端医美、健康管", "产业",  # 47
      T("产业规模突破350亿元", 350, "亿元", "at_least")),
    s("建筑业。", "产业"),  # 48
    s("支持行业龙头拓展业务,引", "产业",  # 49: left of 、 has no number -> one span
      T("引育装配式建筑龙头企业、智能建造等示范企业5家", 5, "家")),
    s("合理安排八县办等地块出让", "产业",  # 50: 八县办 is a place name; sales of the construction block
      T("高品质商品房销售面积20万平方米", 20, "万平方米")),
    s("楼宇工业。", "产业"),  # 51
    s("对接楼宇工业196个细分", "产业",  # 52: 196 门类 is background (2.1 example)
      T("建成工业上楼试点项目2个以上", 2, "个", "at_least")),
    s("树牢楼宇经济、总部经济标", "产业"),  # 53
    s("系统集成", "综合"),  # 54: a page-jump fragment that names no area
    s("建设,扩大“文明实践+”", "文旅"),  # 55: civility campaign (page jump from 文明实践中心)
    s("建好西部国际传播中心,推", "文旅"),  # 56: city communication / culture
    s("拓展国家公共文化服务体系", "文旅"),  # 57: public culture; 一批 is not a number
    s("促进文商旅城深度融合。", "文旅"),  # 58
    s("以文为魂强底蕴、以旅为媒", "文旅"),  # 59
    s("繁荣发展文化产业,大力发", "文旅"),  # 60
    s("培育壮大文化娱乐,提速打", "文旅"),  # 61
    s("文化赋能文旅发展,开发印", "文旅"),  # 62
    s("推进文旅金融融合,创新推", "文旅"),  # 63: 文旅贷 serves tourism; block 文商旅城 -> 文旅
    s("串珠成链做优12条文旅精", "文旅",  # 64: the manner phrase 串珠成链 stays (only listed hedges go)
      T("串珠成链做优12条文旅精品路线", 12, "条")),
    s("旅游收入达750亿元。", "文旅",  # 65: 达 is no bound word -> exact
      T("旅游收入达750亿元", 750, "亿元")),
    s("(四)坚持以城市更新为主", "城建"),  # 66
    s("强化城市运营能力,坚持深", "城建"),  # 67
    s("融通大资金。", "城建"),  # 68: funding of urban renewal
    s("坚持“投融建管运”一体,", "城建"),  # 69: 800亿元资金需求 is background (2.1 example)
    s("加强有限财力与政府性投资", "城建"),  # 70: cut by a line break inside 长滨|沿线
    s("沿线等3个重大项目,全力", "城建",  # 71: 全力 stripped; 争取 stays (not before 实现/达到/完成)
      T("沿线等3个重大项目", 3, "个"),
      T("争取各类资金30亿元以上", 30, "亿元", "at_least"),
      T("完成固定资产投资220亿元", 220, "亿元")),
    s("增强经济证券化能力,通过", "城建",  # 72: securitisation (金融) for urban-renewal funding; two fit -> section
      T("通过股权投资、REITs、CMBS等渠道融通资金20亿元", 20, "亿元")),
    s("吸引腾讯电竞等品牌运营商", "城建"),  # 73
    s("启动大片区。", "城建"),  # 74
    s("统筹推进“五大片区”。", "城建"),  # 75: name
    s("上清寺—大溪沟—两路口片", "城建"),  # 76
    s("大坪片区,提速金银湾、煤", "城建"),  # 77
    s("序时推进解放碑—朝天门片", "城建"),  # 78
    s("提速大项目。", "城建"),  # 79
    s("分步实施“十大项目”。", "城建"),  # 80: name (2.1 example)
    s("中山三路项目,突出宜游导", "城建"),  # 81
    s("大坪正街项目,聚焦动漫电", "城建"),  # 82
    s("全面提速重大基建项目,加", "城建"),  # 83: 18号线 / 27号线 identifiers
    s("化解大难题。", "城建"),  # 84
    s("下大决心做好“保交楼”必", "城建"),  # 85
    s("重庆中心一期、恒大云邸2", "城建"),  # 86: 一期 / 2号楼 identifiers
    s("泛华大厦,完成装修投用。", "城建"),  # 87
    s("重庆塔,支持金融机构实施", "城建"),  # 88: 年内 is a time frame
    s("鼎好·世纪星城四期,服务", "城建"),  # 89
    s("恒大解放碑中心、协和城,", "城建"),  # 90
    s("(五)全面融入长江经济带", "生态"),  # 91
    s("牢记绿水青山就是金山银山", "生态"),  # 92
    s("巩固碧水蓝天生态圈。", "生态"),  # 93
    s("持续深入打好蓝天、碧水、", "生态"),  # 94
    s("完成“两江游”船舶尾气治", "生态",  # 95
      T("空气质量优良天数达到300天", 300, "天")),
    s("启动两江渝中段市级幸福河", "生态",  # 96
      T("完成雨污分流改造54公里", 54, "公里")),
    s("常态开展餐饮油烟、噪声扰", "生态"),  # 97
    s("深化无废城市建设,全面推", "生态"),  # 98
    s("扎实做好第三轮中央环境保", "生态"),  # 99: ordinal
    s("构建绿色低碳生产圈。", "生态"),  # 100
    s("加快产业、建筑、交通、能", "生态"),  # 101
    s("厚植绿色金融先发优势,深", "生态",  # 102: green-industry revenue in the low-carbon block
      T("绿色产业收入超300亿元", 300, "亿元", "at_least")),
    s("倡导绿色出行,优化小巷公", "生态",  # 103
      T("优化小巷公交5条", 5, "条")),
    s("全面推广装配式建筑。", "生态"),  # 104
    s("置换纯电公交车、出租车3", "生态",  # 105: 2.2 example, one span
      T("置换纯电公交车、出租车300辆", 300, "辆")),
    s("能耗强度下降3%。", "生态",  # 106
      T("能耗强度下降3%", 3, "%", "exact", "down")),
    s("打造畅洁靓美生活圈。", "生态"),  # 107
    s("深化全域旅游景区精细化管", "生态"),  # 108: city management block
    s("常态化落实“五长制”“门", "生态"),  # 109: names
    s("开展垃圾分类先锋示范创建", "生态"),  # 110: 十大专项行动 is a name
    s("路灯节能改造达到100%", "生态",  # 111
      T("路灯节能改造达到100%", 100, "%")),
    s("治理一批交通拥堵点,畅通", "城建"),  # 112: road network is infrastructure (3); 生态 does not fit
    s("违法建筑保持零新增。", "生态",  # 113: 零 = 0, no unit written after it
      T("违法建筑保持零新增", 0, None)),
    s("精致雕琢山城花境3处、口", "生态",  # 114
      T("精致雕琢山城花境3处", 3, "处"),
      T("口袋公园4个", 4, "个")),
    s("精心管护滨江岸线、城市家", "生态"),  # 115
    s("(六)持续厚植人文渝中优", "文旅"),  # 116
    s("擦亮人文底色,进一步推动", "文旅"),  # 117
    s("传承母城优秀历史文脉。", "文旅"),  # 118
    s("赓续红色血脉,连片保护“", "文旅",  # 119: 红色三岩 is a name inside a real target
      T("连片保护“红色三岩”8处革命文物", 8, "处")),
    s("延续巴渝文脉,精心修缮老", "文旅",  # 120: 2.2 example
      T("精心修缮老鼓楼衙署遗址等10处历史遗产", 10, "处")),
    s("传承母城记忆,建成4家非", "文旅",  # 121: 、 split, both numbered; 联动… is a 2.2 example
      T("建成4家非遗工坊", 4, "家"),
      T("3个研学基地", 3, "个"),
      T("联动42家文博场馆建设“博物馆之城”", 42, "家")),
    s("全面提升城区文明程度。", "文旅"),  # 122: civility campaigns
    s("擦亮全国文明城区金字招牌", "文旅"),  # 123
    s("深化拓展新时代文明实践中", "文旅"),  # 124: cut by a page jump
    s("医疗等公共服务资源数字化", "改革"),  # 125: page-jump fragment; digital public services (改革)
    s("抓好“住改仓”安全监管、", "改革"),  # 126: “一件事” pilots (digital government services)
    s("深化重点领域改革带动发展", "改革"),  # 127
    s("打赢国企改革攻坚战。", "改革"),  # 128
    s("实施国企提质增能行动,“", "改革"),  # 129
    s("着力推动决策、运营、考核", "改革",  # 130: 控制在…以内 -> at_most
      T("区属国企管理层级控制在3级以内", 3, "级", "at_most")),
    s("国企资产规模突破600亿", "改革",  # 131
      T("国企资产规模突破600亿元", 600, "亿元", "at_least")),
    s("打赢园区开发区改革攻坚战", "改革"),  # 132
    s("聚焦强化发展产业、服务企", "改革",  # 133: development zones are 改革
      T("园区规上服务业企业营收达到350亿元", 350, "亿元"),
      T("增加值增长5%以上", 5, "%", "at_least", "up")),
    s("打赢政企分离改革攻坚战。", "改革"),  # 134
    s("着眼构建责权利明确的政企", "改革",  # 135: 实现 alone is no hedge
      T("实现经营性国有资产100%集中统一监管", 100, "%")),
    s("全力推动国有资产盘活。", "改革"),  # 136
    s("加速清产核资,完善资产管", "改革",  # 137: last clause one span (left of 、 has no number)
      T("符合确权条件的未确权房屋土地资产属登记比例达到80%", 80, "%"),
      T("盘活国有资产占可盘活国有资产总额15%以上", 15, "%", "at_least"),
      T("国有资产收益、资产收益增长10%", 10, "%", "exact", "up")),
    s("扎实推进重点专项改革落地", "改革"),  # 138
    s("高质量完成机构改革。", "改革"),  # 139
    s("实施重点区域负面业态清查", "改革"),  # 140
    s("奋力推动科技创新引领发展", "科创"),  # 141
    s("积极融入全市“416”科", "科创"),  # 142: name
    s("深入实施“双倍增”行动,", "科创",  # 143
      T("新认定国家高新技术企业90家", 90, "家"),
      T("市级科技型企业260家", 260, "家"),
      T("专精特新企业20家", 20, "家")),
    s("新增创新孵化平台2家以上", "科创",  # 144
      T("新增创新孵化平台2家以上", 2, "家", "at_least")),
    s("更好发挥基金作用撬动产业", "科创",  # 145: the fund amount is what is acted upon (2: act upon);
      # funds fit 金融 and the innovation block fits 科创 -> section. Expected to be contested.
      T("整合好10.6亿元区级引导基金", 10.6, "亿元")),
    s("加快重医生命健康前沿技术", "科创",  # 146: 2.2 example
      T("加快重医生命健康前沿技术交叉研究院等16个重点创新平台建设", 16, "个")),
    s("全社会研发投入12亿元,", "科创",  # 147
      T("全社会研发投入12亿元", 12, "亿元"),
      T("新增发明专利300件", 300, "件")),
    s("让创新人才与渝中“双向奔", "科创"),  # 148
    s("深化青年发展型城市建设,", "科创"),  # 149: 黄金十二条 / 青创十条 are names
    s("精准链接校、企、产、才供", "科创",  # 150
      T("新增高层次人才100名", 100, "名"),
      T("急需紧缺优秀人才300名", 300, "名")),
    s("(九)加强基础性、普惠性", "民生"),  # 151
    s("进一步优化“6个10分钟", "民生"),  # 152: name (2.1 example)
    s("让就业社保更精准有效。", "民生"),  # 153
    s("千方百计促进就业增收。", "民生"),  # 154
    s("以产业带就业、创业促就业", "民生",  # 155
      T("城镇新增就业4.6万人", 4.6, "万人")),
    s("扎实开展“渝中无欠薪”行", "民生"),  # 156
    s("全面落实共同富裕政策措施", "民生"),  # 157
    s("用心尽力强化社会保障。", "民生"),  # 158
    s("推进参保扩面提质,确保养", "民生",  # 159: 确保 stripped; left of 、 has no number
      T("养老、医疗保险参保率稳定在97%以上", 97, "%", "at_least")),
    s("深入实施“八大人生关怀”", "民生"),  # 160: name
    s("健全分层分类救助体系,全", "民生"),  # 161: 十条措施 is a name
    s("接续开展“百千万惠残行动", "民生"),  # 162: name
    s("认真落实退役军人优待政策", "民生"),  # 163: 七连冠 is a name
    s("让教育发展更优质均衡。", "民生"),  # 164
    s("全面建设教育强区。", "民生"),  # 165
    s("唱响“15年高品质教育在", "民生"),  # 166: quoted slogan
    s("推进优质幼儿园扩面、优质", "民生"),  # 167
    s("争创全国学前教育普及普惠", "民生"),  # 168
    s("加快建成全国一流基础教育", "民生"),  # 169
    s("办好人民满意教育。", "民生"),  # 170
    s("深化“双减”“大思政课”", "民生"),  # 171
    s("发挥优质教育资源集聚优势", "民生"),  # 172
    s("落地新一轮中小学、幼儿园", "民生",  # 173: projects acted upon, counted (2: act upon)
      T("提速14个校园建设项目", 14, "个")),
    s("让健康服务更便捷可及。", "民生"),  # 174
    s("提高医疗服务品质。", "民生"),  # 175
    s("围绕打造整合型医疗卫生服", "民生"),  # 176: 三甲 is a grade name
    s("融入全市“智慧健康”建设", "民生"),  # 177
    s("强化区属医疗机构基础能力", "民生"),  # 178: 二期 ordinal
    s("家庭医生签约覆盖率达36", "民生",  # 179
      T("家庭医生签约覆盖率达36%以上", 36, "%", "at_least")),
    s("提升居民健康水平。", "民生"),  # 180
    s("深入实施健康中国渝中行动", "民生"),  # 181
    s("稳妥推进职工医保门诊共济", "民生"),  # 182
    s("高标准通过国家慢性病综合", "民生"),  # 183
    s("提速区全民健身中心建设,", "民生",  # 184
      T("培养社会体育指导员80名", 80, "名")),
    s("让民生实事更顺预期。", "民生"),  # 185
    s("办好15件重点民生实事。", "民生",  # 186: 15 concrete deliverables, not N+abstract noun. Contested.
      T("办好15件重点民生实事", 15, "件")),
    s("聚焦“住有宜居”。", "民生"),  # 187
    s("改造提升国际村等老旧小区", "民生",  # 188: 2.2 example
      T("改造提升国际村等老旧小区6个", 6, "个"),
      T("46万平方米", 46, "万平方米")),
    s("完成住宅加装电梯30台,", "民生",  # 189
      T("完成住宅加装电梯30台", 30, "台"),
      T("老旧小区安全隐患整治30台", 30, "台")),
    s("聚焦“幼有善育”。", "民生"),  # 190
    s("深化全国儿童友好城市试点", "民生",  # 191: 2.1 example
      T("实施“一米关爱”项目46个", 46, "个")),
    s("保持学龄前3年毛入园率1", "民生",  # 192: 3年 / 3岁以下 are modifiers inside one-target clauses
      T("保持学龄前3年毛入园率100%", 100, "%"),
      T("普惠性幼儿园覆盖率91.3%以上", 91.3, "%", "at_least"),
      T("千人拥有3岁以下婴幼儿托位数3.5个以上", 3.5, "个", "at_least")),
    s("聚焦“老有颐养”。", "民生"),  # 193
    s("构建居家社区机构相协调、", "民生",  # 194
      T("升级2个社区养老服务站", 2, "个"),
      T("新增5个社区老年食堂", 5, "个"),
      T("560张家庭养老床位", 560, "张"),
      T("提供居家上门服务3万人次", 3, "万人次")),
    s("(十)全力守护城市安全、", "安全"),  # 195
    s("坚定扛起特殊区位赋予的特", "安全"),  # 196
    s("更深层次创新基层治理。", "安全"),  # 197
    s("夯实基层智治体系。", "安全"),  # 198
    s("巩固全国市域社会治理现代", "安全"),  # 199: 一中心四板块一网格 is a name
    s("发挥自治强基作用。", "安全"),  # 200
    s("迭代升级“三上三清两提升", "安全"),  # 201: names
    s("提档升级“渝中怡家”服务", "安全"),  # 202
    s("推动法治德治并进。", "安全"),  # 203
    s("推进“八五”普法中期评估", "安全"),  # 204: 八五 identifies the plan period
    s("坚持居民公约等创新实践,", "安全"),  # 205
    s("更严要求守护群众安全。", "安全"),  # 206
    s("全心守牢“生产安全”。", "安全"),  # 207
    s("以深化国家安全发展示范城", "安全"),  # 208: names; 三年行动 time frame
    s("全力守住“舌尖安全”。", "安全"),  # 209
    s("强化粮食安全应急供应保障", "安全"),  # 210
    s("优化食品药品智慧监管体系", "安全"),  # 211
    s("扎实开展城市公共消防安全", "安全"),  # 212
    s("提速消防“两站一中心”建", "安全"),  # 213: name
    s("全面完成居民户内燃气安全", "安全"),  # 214
    s("规范室内装饰装修,严管项", "安全"),  # 215
    s("实施桥隧结构健康智慧化监", "安全"),  # 216
    s("狠抓洪崖洞等景区景点除险", "安全"),  # 217
    s("更大力度守好和谐氛围。", "安全"),  # 218
    s("加强风险防控。", "安全"),  # 219
    s("健全风险研判预警,突发问", "安全"),  # 220
    s("打好房地产、金融、地方债", "安全"),  # 221
    s("筑牢意识形态安全“防火墙", "安全"),  # 222
    s("维护信访稳定。", "安全"),  # 223
    s("发扬新时代“枫桥经验”,", "安全",  # 224: 清零 = 0 (2.2); reaching a level, no direction word
      T("动态清零信访积案", 0, None)),
    s("深化平安建设。", "安全"),  # 225
    s("强化全国社会治安防控体系", "安全",  # 226
      T("群众安全感指数保持97%以上", 97, "%", "at_least")),
    s("三、全面加强政府自身建设", "政府"),  # 227
    s("各位代表!", "综合"),  # 228: address to deputies (3 example)
    s("面对新形势新任务,必须坚", "政府"),  # 229
    s("旗帜鲜明讲政治,以忠诚本", "政府"),  # 230
    s("坚持用习近平新时代中国特", "政府"),  # 231: names
    s("坚持看渝中首先要从政治上", "政府"),  # 232
    s("依法依规重法治,以政府善", "政府"),  # 233
    s("全过程依法决策,严格规范", "政府"),  # 234
    s("全环节依法执法,严管执法", "政府"),  # 235: 三项制度 is a name
    s("全方位公开透明,自觉接受", "政府"),  # 236
    s("巩固拓展全国法治政府建设", "政府"),  # 237
    s("坚定不移提效能,以工作提", "政府"),  # 238
    s("注重系统前瞻,增强对政策", "政府"),  # 239
    s("注重务实高效,积极推行“", "政府"),  # 240
    s("注重创新突破,敢于拉高标", "政府"),  # 241
    s("驰而不息优作风,以管理从", "政府"),  # 242
    s("强化“廉”的作风,压实全", "政府"),  # 243: 四风 is a name
    s("强化“严”的要求,逗硬预", "政府",  # 244: 3 example
      T("压减一般性支出10%以上", 10, "%", "at_least", "down")),
    s("强化“实”的担当,坚持靠", "政府"),  # 245: 三项重点任务 / 一表一图一榜一报告 are names (2.1)
    s("各位代表!", "综合"),  # 246
    s("志不求易者成,事不避难者", "综合"),  # 247: overall framing
    s("让我们更加紧密地团结在以", "综合"),  # 248: closing call, serves no single area
)
# fmt: on

_BEFORE_OK = set(CLAUSE_DELIMITERS) | {"、"}


class SpecError(ValueError):
    """The spec does not fit the text or breaks a mechanical span rule; the message names the sentence."""


def lint_span(sentence: str, start: int, end: int) -> list[str]:
    """Mechanical GUIDELINES 2.2 checks on a span at ``sentence[start:end]``; empty when clean.

    The span must start at a clause start (sentence start, a delimiter or ``、``, possibly after a
    stripped hedge), must not start with a hedge, must end at a clause end or ``、``, and must not
    hold a clause delimiter or trailing punctuation.
    """
    errs: list[str] = []
    span = sentence[start:end]
    for h in HEDGES:
        if span.startswith(h):
            errs.append(f"starts with hedge {h!r}")
    if span.startswith("争取") and span[2:4] in HEDGE_ZHENGQU_BEFORE:
        errs.append("starts with hedge 争取")
    if any(c in CLAUSE_DELIMITERS for c in span):
        errs.append("holds a clause delimiter")
    head = sentence[:start]
    for h in (*HEDGES, "争取"):
        if head.endswith(h):
            head = head[: -len(h)]
            break
    if head and head[-1] not in _BEFORE_OK:
        errs.append(f"does not start a clause (preceded by {head[-1]!r})")
    if end < len(sentence) and sentence[end] not in _BEFORE_OK:
        errs.append(f"does not end a clause (followed by {sentence[end]!r})")
    return errs


def build_records(raw: str, spec: tuple[S, ...] = SPEC) -> list[SentenceRecord]:
    """The spec as gold records over ``raw``. Raises SpecError on any mismatch (never skips)."""
    from pipeline.text.segment import segment

    sents = segment(raw).sentences
    if len(sents) != len(spec):
        raise SpecError(f"spec has {len(spec)} entries, the segmenter keeps {len(sents)} sentences")
    records: list[SentenceRecord] = []
    for sent, entry in zip(sents, spec):
        where = f"sentence {sent.sent_id} {sent.text[:20]!r}"
        if not sent.text.startswith(entry.prefix):
            raise SpecError(f"{where}: spec prefix {entry.prefix!r} does not match")
        if entry.category not in CATEGORY2ID:
            raise SpecError(f"{where}: unknown category {entry.category!r}")
        targets: list[Target] = []
        for t in entry.targets:
            i = sent.text.find(t.text)
            if i < 0:
                raise SpecError(f"{where}: target {t.text!r} not found")
            if sent.text.find(t.text, i + 1) >= 0:
                raise SpecError(f"{where}: target {t.text!r} occurs twice; lengthen it")
            problems = lint_span(sent.text, i, i + len(t.text))
            if problems:
                raise SpecError(f"{where}: target {t.text!r}: {'; '.join(problems)}")
            cat = t.category or entry.category
            if cat not in CATEGORY2ID:
                raise SpecError(f"{where}: target {t.text!r}: unknown category {cat!r}")
            start = sent.start + i
            assert raw[start : start + len(t.text)] == t.text
            targets.append(
                Target(start, start + len(t.text), t.text, cat, t.value, t.unit, t.bound, t.direction, t.value_max)
            )
        targets.sort(key=lambda x: x.start)
        records.append(SentenceRecord(DOC_ID, sent.sent_id, sent.start, sent.end, sent.text, entry.category, targets))
    return records


def render(records: list[SentenceRecord]) -> str:
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)


def _doc(records: list[SentenceRecord], raw: str) -> GoldDocument:
    return GoldDocument(DOC_ID, raw, records, source=str(RAW))


def disagreements(gold: GoldDocument, other: GoldDocument) -> list[dict[str, Any]]:
    """Every difference between two annotations of one report, one dict per case, in text order.

    Kinds: ``sentence_category``; ``boundary`` (overlapping spans that differ); ``gold_only`` /
    ``b_only`` (a span with no overlapping partner); ``field`` (same span, a field differs; one
    entry per field: category, value, unit, bound, direction, value_max).
    """
    by_start = {r.start: r for r in other.sentences}
    out: list[dict[str, Any]] = []
    for g in gold.sentences:
        b = by_start.get(g.start)
        if b is None or b.end != g.end:
            out.append({"kind": "sentence_mismatch", "sent_id": g.sent_id, "text": g.text})
            continue
        if g.category != b.category:
            out.append(
                {"kind": "sentence_category", "sent_id": g.sent_id, "text": g.text, "gold": g.category, "b": b.category}
            )
        used: set[int] = set()
        for gt in g.targets:
            partners = [j for j, bt in enumerate(b.targets) if bt.start < gt.end and gt.start < bt.end]
            if not partners:
                out.append({"kind": "gold_only", "sent_id": g.sent_id, "gold": gt.text, "b": None})
                continue
            used.update(partners)
            same = [j for j in partners if (b.targets[j].start, b.targets[j].end) == (gt.start, gt.end)]
            if not same:
                out.append(
                    {
                        "kind": "boundary",
                        "sent_id": g.sent_id,
                        "gold": gt.text,
                        "b": " | ".join(b.targets[j].text for j in partners),
                    }
                )
            bt = b.targets[same[0]] if same else b.targets[partners[0]] if len(partners) == 1 else None
            if bt is None:
                continue
            for f in ("category", "value", "unit", "bound", "direction", "value_max"):
                gv, bv = getattr(gt, f), getattr(bt, f)
                if gv != bv and not (
                    isinstance(gv, (int, float)) and isinstance(bv, (int, float)) and float(gv) == float(bv)
                ):
                    out.append(
                        {
                            "kind": "field",
                            "field": f,
                            "sent_id": g.sent_id,
                            "gold_span": gt.text,
                            "b_span": bt.text,
                            "gold": gv,
                            "b": bv,
                        }
                    )
        for j, bt in enumerate(b.targets):
            if j not in used:
                out.append({"kind": "b_only", "sent_id": g.sent_id, "gold": None, "b": bt.text})
    return out


def strict_f1(a: set[tuple[int, int]], b: set[tuple[int, int]]) -> float:
    """Span F1 under exact (start, end) match; symmetric in a and b; 1.0 when both are empty."""
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def guideline_examples(path: Path = SHARED_GUIDELINES) -> set[str]:
    """Every back-quoted string of the shared guidelines (many are verbatim seed targets)."""
    import re

    return set(re.findall(r"`([^`]+)`", path.read_text(encoding="utf-8"))) if path.exists() else set()


def agreement_report(gold: GoldDocument, other: GoldDocument, examples: set[str] | None = None) -> dict[str, Any]:
    """pipeline.evaluation.scoring.agreement's figures, strict F1 without the guidelines' own examples, all disagreements.

    The seed is the report the guidelines quote their examples from, so agreement on those
    targets is given, not earned; ``strict_f_non_examples`` leaves out every target whose text is
    a back-quoted example of the shared guidelines (in either annotation).
    """
    from pipeline.evaluation.scoring import agreement

    m = agreement([gold], [other])
    metrics: dict[str, Any] = {k: v for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if "targets_strict_f_ci" in m:
        metrics["targets_strict_f_ci"] = list(m["targets_strict_f_ci"])
    ex = guideline_examples() if examples is None else examples
    sa = {(t.start, t.end) for t in gold.targets() if t.text not in ex}
    sb = {(t.start, t.end) for t in other.targets() if t.text not in ex}
    metrics["targets_n_examples_a"] = sum(t.text in ex for t in gold.targets())
    metrics["targets_n_non_examples_a"] = len(sa)
    metrics["targets_n_non_examples_b"] = len(sb)
    metrics["targets_strict_f_non_examples"] = strict_f1(sa, sb)
    diffs = disagreements(gold, other)
    counts: dict[str, int] = {}
    for d in diffs:
        k = d["kind"] + (f":{d['field']}" if d["kind"] == "field" else "")
        counts[k] = counts.get(k, 0) + 1
    return {"metrics": metrics, "counts": counts, "disagreements": diffs}
