"""Panel dataset: metadata, indicator codes, fields around a span, tables and files (issue 16).

Batch outputs are built by hand here (records in the gold format), so every test states exactly
what the panel receives."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.fields import Fields
from pipeline.panel.indicators import figure_kind, load_indicators, match_indicator
from pipeline.panel.metadata import ManifestError, apply_manifest, extract_metadata, read_manifest
from pipeline.panel.tables import (
    HardnessRule,
    PanelError,
    build_panel,
    find_hedge,
    hardness,
    plot_indicator,
    target_year,
    write_panel,
)
from pipeline.records import SentenceRecord, Target

# --------------------------------------------------------------------------- hand-built batches

HEBEI_2020 = (
    "标题：政府工作报告——2020年1月7日在河北省第十三届人民代表大会第三次会议上\n"
    "发文单位：河北省人民政府\n\n各位代表：\n一、2019年工作回顾\n过去一年，全省生产总值增长6.8%。\n"
    "二、2020年工作安排\n"
)


def _doc(
    doc_id: str, header: str, plan_sentences: list[tuple[str, list[tuple[str, dict[str, object]]]]]
) -> tuple[str, list[SentenceRecord]]:
    """Raw text = header + plan sentences; records with targets at their true raw offsets."""
    raw = header
    records = []
    for i, (sent, targets) in enumerate(plan_sentences):
        s0 = len(raw)
        raw += sent + "\n"
        ts = []
        for piece, fields in targets:
            start = raw.index(piece, s0)
            ns = next(k for k, c in enumerate(piece) if c.isdigit())
            ts.append(
                Target(start, start + len(piece), piece, "综合", fields=Fields(**fields, number_start=ns, parsed=True))
            )
        records.append(
            SentenceRecord(
                doc_id, i, s0, s0 + len(sent), sent, "综合", ts, extra={"part": "plan", "section": "二、2020年工作安排"}
            )
        )
    for r in records:
        for t in r.targets:
            assert raw[t.start : t.end] == t.text
    return raw, records


def _write_batch(tmp: Path, docs: dict[str, tuple[str, list[SentenceRecord]]], failed: tuple[str, ...] = ()) -> Path:
    src, out = tmp / "src", tmp / "batch"
    src.mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    detail = []
    for doc_id, (raw, recs) in docs.items():
        f = src / f"{doc_id}.txt"
        f.write_text(raw, encoding="utf-8")
        (out / f"{doc_id}.jsonl").write_text(
            "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in recs), encoding="utf-8"
        )
        detail.append({"doc_id": doc_id, "source": str(f), "status": "ok"})
    for doc_id in failed:
        detail.append(
            {"doc_id": doc_id, "source": str(src / f"{doc_id}.txt"), "status": "failed", "reason": "not a report"}
        )
    (out / "summary.json").write_text(json.dumps({"documents_detail": detail}, ensure_ascii=False), encoding="utf-8")
    return out


GDP = {"value": 6.5, "unit": "%", "bound": "about", "direction": "up"}


@pytest.fixture()
def batch(tmp_path: Path) -> Path:
    hebei = _doc(
        "2020_hebei_province",
        HEBEI_2020,
        [
            (
                "今年主要预期目标是：全省生产总值增长6.5%左右，确保城镇调查失业率5.5%以内、城镇登记失业率4.5%以内。",
                [
                    ("全省生产总值增长6.5%左右", GDP),
                    ("城镇调查失业率5.5%以内", {"value": 5.5, "unit": "%", "bound": "at_most"}),
                    ("城镇登记失业率4.5%以内", {"value": 4.5, "unit": "%", "bound": "at_most"}),
                ],
            ),
            (
                "力争进出口增长3%，出口增长5%，进口增长2%。",
                [
                    ("进出口增长3%", {"value": 3, "unit": "%", "direction": "up"}),
                    ("出口增长5%", {"value": 5, "unit": "%", "direction": "up"}),
                    ("进口增长2%", {"value": 2, "unit": "%", "direction": "up"}),
                ],
            ),
            (
                "规上工业增加值增长6%，居民消费价格涨幅3%—3.5%。",
                [
                    ("规上工业增加值增长6%", {"value": 6, "unit": "%", "direction": "up"}),
                    ("居民消费价格涨幅3%—3.5%", {"value": 3, "value_max": 3.5, "unit": "%", "bound": "at_least"}),
                ],
            ),
            (
                "城镇居民人均可支配收入和农村居民人均可支配收入分别增长6%和7%。",
                [
                    (
                        "城镇居民人均可支配收入和农村居民人均可支配收入分别增长6%",
                        {"value": 6, "unit": "%", "direction": "up"},
                    ),
                    ("7%", {"value": 7, "unit": "%"}),
                ],
            ),
        ],
    )
    # The same report given twice (a second copy with fewer targets): reported, not doubled.
    copy = _doc(
        "2020_hebei_province_copy",
        HEBEI_2020,
        [
            ("全省生产总值增长6.5%左右。", [("全省生产总值增长6.5%左右", GDP)]),
        ],
    )
    # A national report that names economic growth but states no target for it (like 2020).
    national = _doc(
        "2020_national_state_council",
        "各位代表：\n现在，我代表国务院，向大会报告政府工作。\n",
        [
            (
                "今年没有提出全年经济增速具体目标，城镇新增就业900万人以上。",
                [("城镇新增就业900万人以上", {"value": 900, "unit": "万人", "bound": "at_least"})],
            ),
        ],
    )
    return _write_batch(
        tmp_path,
        {
            d: x
            for d, x in (
                ("2020_hebei_province", hebei),
                ("2020_hebei_province_copy", copy),
                ("2020_national_state_council", national),
            )
        },
        failed=("2021_broken",),
    )


# --------------------------------------------------------------------------- metadata


def test_metadata_from_title_and_meeting_line_with_sources() -> None:
    m = extract_metadata(HEBEI_2020, "2020_hebei_province.txt")
    assert (m.government, m.level, m.province, m.report_year, m.plan_year) == (
        "河北省",
        "province",
        "河北省",
        2020,
        2020,
    )
    assert m.sources["government"] == "text:meeting_line"
    assert m.sources["report_year"] == "text:meeting_line"
    assert m.sources["plan_year"] == "text:plan_heading"


def test_metadata_county_compound_name_and_filename() -> None:
    m = extract_metadata(
        "工作报告\n保定市满城区2021年政府工作报告\n各位代表：\n一、2020年工作回顾\n", "2021_baoding_mancheng.txt"
    )
    assert (m.government, m.parent, m.level, m.province) == ("满城区", "保定市", "county", "河北省")
    assert m.plan_year == 2021 and m.sources["plan_year"] == "text:review_heading"
    n = extract_metadata("各位代表：\n现在，我代表国务院，向大会报告政府工作。\n", "2019_national_state_council.txt")
    assert (n.government, n.level, n.report_year) == ("国务院", "national", 2019)
    assert n.sources["report_year"] == "filename" and n.sources["plan_year"] == "derived:report_year"


def test_metadata_unknown_stays_empty() -> None:
    m = extract_metadata("各位代表：\n我们要坚定信心。\n", "report.txt")
    assert (m.government, m.level, m.province, m.report_year, m.plan_year) == ("", "", "", None, None)
    assert m.sources == {}


def test_metadata_text_beats_filename_and_notes_the_disagreement() -> None:
    text = "标题：2018年河北省政府工作报告\n二〇一九年一月十四日在河北省第十三届人民代表大会第二次会议上\n一、2018年工作回顾\n"
    m = extract_metadata(text, "2018_hebei_province.txt")
    assert m.report_year == 2019 and m.plan_year == 2019
    assert any("2018" in n for n in m.notes)


def test_manifest_overrides_and_bad_manifest_names_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "m.csv"
    good.write_text(
        "file,government,level,plan_year\nsrc/2020_hebei_province.txt,河北,province,2021\n", encoding="utf-8"
    )
    man = read_manifest(good)
    m = apply_manifest(extract_metadata(HEBEI_2020, "2020_hebei_province.txt"), man)
    assert (m.government, m.plan_year) == ("河北", 2021)
    assert m.sources["government"] == "manifest" and m.sources["province"] == "places"
    bad = tmp_path / "bad.csv"
    bad.write_text("doc_id,level\na,national\nb,city\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"bad\.csv: line 3: level 'city'"):
        read_manifest(bad)


# --------------------------------------------------------------------------- indicators


def _code(prefix: str, unit: str | None = "%", unit_c: str | None = "percent") -> str | None:
    m = match_indicator(prefix, unit, unit_c)
    return m.code if m else None


def test_indicator_table_is_data_with_at_least_30_ascii_codes() -> None:
    t = load_indicators()
    assert len(t.indicators) >= 30
    assert all(i.code.isascii() and len(i.code) <= 24 for i in t.indicators)


@pytest.mark.parametrize(
    "prefix",
    [
        "地区生产总值增长",
        "全市生产总值增长",
        "全省生产总值增长",
        "全区生产总值增长",
        "全县生产总值增长",
        "国内生产总值增长",
        "经济增长预期目标为",
        "GDP增长",
    ],
)
def test_gdp_variants_share_one_code(prefix: str) -> None:
    assert _code(prefix) == "gdp_growth"


def test_longest_alias_wins_and_pairs_are_kept_apart() -> None:
    assert {_code(p) for p in ("规上工业增加值增长", "规模以上工业增加值增长", "规模工业增加值增长")} == {
        "industrial_va_above_size"
    }
    assert _code("工业增加值增长") == "industrial_va"
    assert _code("城镇调查失业率控制在") == "unemployment_surveyed"
    assert _code("城镇登记失业率控制在") == "unemployment_registered"
    assert _code("失业率控制在") is None  # which series is not said
    assert (_code("进出口增长"), _code("出口增长"), _code("进口增长")) == ("trade_total", "exports", "imports")
    assert _code("单位GDP能耗下降") == "energy_intensity"
    assert _code("人均地区生产总值增长") == "gdp_per_capita"
    assert _code("金融业增加值占全省生产总值的比重达到") is None  # the denominator is not the indicator


def test_figure_kind_picks_the_code_and_refuses_a_wrong_kind() -> None:
    assert _code("地区生产总值突破", "亿元", "yuan") == "gdp"
    assert figure_kind("城镇调查失业率", "%") == "share" and figure_kind("增长", "%") == "growth"
    assert figure_kind("提高", "个百分点") == "pp"
    m = match_indicator("新增规上工业企业", "家", "count")
    assert m is not None and m.code is None and "count" in m.note


# --------------------------------------------------------------------------- fields around a span


def test_hedge_before_span_at_clause_start_and_not_a_noun() -> None:
    s = "力争进出口增长3%，出口增长5%。"
    assert find_hedge(s, s.index("进出口"), "进出口增长") == "力争"
    assert find_hedge(s, s.index("出口增长5"), "出口增长") == ""
    s2 = "确保城镇调查失业率5.5%以内、城镇登记失业率4.5%以内。"
    assert find_hedge(s2, s2.index("城镇登记"), "城镇登记失业率") == "确保"
    assert find_hedge("经济增长预期目标为5%左右", 0, "经济增长预期目标为") == ""
    s3 = "争取资金5亿元"
    assert find_hedge(s3, 0, "争取资金") == ""


def test_target_year_explicit_five_year_plan_and_plan_year() -> None:
    s = "到2027年，数字经济核心产业增加值占比达到12%。"
    assert target_year(s, s.index("数字"), "数字经济核心产业增加值占比达到12%", "", 2024) == (2027, "text:sentence", "")
    s = "“十四五”时期地区生产总值年均增长6%。"
    assert target_year(s, s.index("地区"), "地区生产总值年均增长6%", "", 2021) == (2025, "five_year_plan", "2021-2025")
    assert target_year("地区生产总值年均增长6%。", 0, "地区生产总值年均增长6%", "", 2021) == (None, "", "")
    assert target_year("地区生产总值增长6%。", 0, "地区生产总值增长6%", "", 2021) == (2021, "plan_year", "")


def test_hardness_is_a_configurable_convention() -> None:
    assert hardness("确保", "about", False) == "hard"
    assert hardness("力争", "at_least", False) == "soft"
    assert hardness("", "at_least", False) == "hard" and hardness("", "about", False) == "soft"
    assert hardness("", "at_least", True) == "soft"  # a range
    mine = [HardnessRule("*", "about", "*", "hard"), HardnessRule("*", "*", "*", "soft")]
    assert hardness("", "about", False, mine) == "hard" and hardness("确保", "exact", False, mine) == "soft"


# --------------------------------------------------------------------------- the panel


def test_long_table_codes_hedges_ranges_and_coordination(batch: Path) -> None:
    p = build_panel(batch)
    rows = {r["text"]: r for r in p.long}
    gdp = rows["全省生产总值增长6.5%左右"]
    assert (gdp["government"], gdp["level"], gdp["plan_year"], gdp["indicator_code"], gdp["headline"]) == (
        "河北省",
        "province",
        2020,
        "gdp_growth",
        1,
    )
    assert gdp["hardness"] == "soft" and gdp["hedge"] == ""
    assert rows["城镇登记失业率4.5%以内"]["hedge"] == "确保"
    assert rows["城镇登记失业率4.5%以内"]["indicator_code"] == "unemployment_registered"
    assert rows["进出口增长3%"]["hedge"] == "力争" and rows["出口增长5%"]["indicator_code"] == "exports"
    cpi = rows["居民消费价格涨幅3%—3.5%"]
    assert (cpi["indicator_code"], cpi["value"], cpi["value_max"]) == ("cpi", 3, 3.5)  # both ends, no midpoint
    assert rows["城镇居民人均可支配收入和农村居民人均可支配收入分别增长6%"]["indicator_code"] == "income_urban"
    assert rows["7%"]["indicator_code"] == "income_rural"


def test_duplicates_are_reported_not_doubled(batch: Path) -> None:
    p = build_panel(batch)
    assert [(d["kept_doc"], d["dropped_doc"]) for d in p.duplicates] == [
        ("2020_hebei_province", "2020_hebei_province_copy")
    ]
    gdp = [r for r in p.long if r["indicator_code"] == "gdp_growth" and r["government"] == "河北省"]
    assert len(gdp) == 1


def test_coverage_tells_no_target_from_not_found(batch: Path) -> None:
    p = build_panel(batch, indicator="gdp_growth")
    status = {c["doc_id"]: c["status"] for c in p.coverage}
    assert status == {
        "2020_hebei_province": "target",
        "2020_hebei_province_copy": "duplicate",
        "2020_national_state_council": "mentioned_no_target",
        "2021_broken": "failed",
    }
    assert all(r["indicator_code"] == "gdp_growth" for r in p.long)
    jobs = build_panel(batch, indicator="new_urban_jobs")
    assert {c["doc_id"]: c["status"] for c in jobs.coverage}["2020_hebei_province"] == "no_target"
    with pytest.raises(PanelError, match="unknown indicator code"):
        build_panel(batch, indicator="gdp_growht")


def test_files_csv_parquet_and_stata_round_trip(batch: Path, tmp_path: Path) -> None:
    import pandas as pd

    p = build_panel(batch)
    out = tmp_path / "panel"
    write_panel(p, out)
    raw = (out / "panel_long.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for Chinese
    with open(out / "panel_long.csv", encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(p.long)
    pq = pd.read_parquet(out / "panel_long.parquet")
    assert len(pq) == len(p.long) and set(pq["government"]) == {"河北省", "国务院"}
    assert pq.loc[pq["text"] == "居民消费价格涨幅3%—3.5%", "value_max"].iloc[0] == 3.5
    dta = pd.read_stata(out / "panel_long.dta")
    assert list(dta.columns) == list(pq.columns)
    assert all(c.isascii() and len(c) <= 32 for c in dta.columns)
    assert set(dta["government"]) == {"河北省", "国务院"}
    with pd.io.stata.StataReader(out / "panel_long.dta") as r:
        labels = r.variable_labels()
    assert labels["government"] == "政府" and labels["value_max"] == "目标值上限（区间）"
    wide = pd.read_stata(out / "panel_wide.dta")
    assert wide.loc[wide["government"] == "河北省", "y2020"].iloc[0] == 6.5
    with pd.io.stata.StataReader(out / "panel_wide.dta") as r:
        assert r.variable_labels()["y2020"] == "2020年目标值"
    docs = list(csv.DictReader(open(out / "panel_documents.csv", encoding="utf-8-sig")))
    assert {d["doc_id"]: d["government_source"] for d in docs}["2020_national_state_council"] == "text:speech"


def test_plot_file_written(batch: Path, tmp_path: Path) -> None:
    f = plot_indicator(build_panel(batch), "gdp_growth", tmp_path / "gdp.png")
    assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_panel_writes_the_files_and_refuses_a_non_batch(
    batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p"
    assert main(["panel", str(batch), "--out", str(out), "--indicator", "gdp_growth", "--plot"]) == 0
    for name in (
        "panel_long.csv",
        "panel_long.parquet",
        "panel_long.dta",
        "panel_wide.csv",
        "panel_wide.parquet",
        "panel_wide.dta",
        "panel_coverage.csv",
        "panel_duplicates.csv",
        "panel_gdp_growth.png",
    ):
        assert (out / name).exists(), name
    assert "duplicate: 河北省 2020" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["panel", str(empty), "--out", str(out)]) == 2
    assert "not a govtarget batch folder" in capsys.readouterr().err


def test_score_metadata_accuracy_per_field_and_errors() -> None:
    from pipeline.panel.metadata import score_metadata

    gold = {
        "a": {
            "government": "河北省",
            "level": "province",
            "province": "河北省",
            "report_year": "2020",
            "plan_year": "2021",
        }
    }
    s = score_metadata([("a", HEBEI_2020, "2020_hebei_province.txt"), ("unscored", "", "x.txt")], gold)
    assert s["n"] == 1 and s["government_acc"] == 1.0 and s["plan_year_acc"] == 0.0
    assert s["errors"] == [
        {"doc_id": "a", "field": "plan_year", "gold": "2021", "extracted": "2020", "source": "text:plan_heading"}
    ]


def test_score_codes_counts_none_as_a_code_and_scores_coded_targets() -> None:
    from pipeline.panel.indicators import score_codes

    gold = {("d", 0, 5): "gdp_growth", ("d", 6, 9): "", ("d", 10, 14): "cpi", ("d", 20, 25): ""}
    pred = {("d", 0, 5): "gdp_growth", ("d", 6, 9): "cpi", ("d", 10, 14): ""}  # one missing: no code
    m = score_codes(pred, gold)
    assert m["n"] == 4 and m["accuracy"] == 0.5
    assert m["gold_coded"] == 2 and m["pred_coded"] == 2
    assert m["coded_p"] == 0.5 and m["coded_r"] == 0.5


def test_read_gold_codes_names_the_bad_line(tmp_path: Path) -> None:
    from pipeline.panel.indicators import IndicatorTableError, read_gold_codes

    f = tmp_path / "indicators.csv"
    f.write_text("doc_id,start,end,indicator_code\nd,0,5,gdp_growth\nd,x,9,\n", encoding="utf-8")
    with pytest.raises(IndicatorTableError, match=":3:"):
        read_gold_codes(f)
