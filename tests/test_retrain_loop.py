"""The whole annotation loop on made-up reports, in a temp project:

export with rule predictions → simulated correction (the exported JSON edited in code) →
import into data/gold → retrain a tiny model (cross-validated by document) → evaluate →
reports/history.jsonl gains a line, with the split named honestly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main

REPORT_A = """2025年某区政府工作报告
各位代表：
一、2024年工作回顾
过去一年，地区生产总值增长5.2%。
二、2025年主要目标和重点工作
今年主要预期目标是：地区生产总值增长5%左右，城镇新增就业3万人。
新增金融机构4家，绿色金融规模突破500亿元。
社会消费品零售总额突破800亿元。
建设高标准农田2万亩，空气质量优良天数达到300天。
新认定国家高新技术企业60家，动态清零信访积案。
"""
REPORT_B = """2025年某县政府工作报告
一、2024年工作回顾
过去一年，粮食产量稳定在10万吨。
二、2025年重点工作
全县生产总值增长6%以上。
新增就业岗位2000个，城镇调查失业率控制在5.5%以内。
改造老旧小区12个，新建5G基站300个。
能耗强度下降3%。
"""

#: The corrected annotation (what a careful annotator leaves): per sentence text, its category
#: and its targets as (text, category, value, unit, bound, direction).
TRUTH: dict[str, tuple[str, list[tuple[str, str, float, str | None, str, str | None]]]] = {
    "今年主要预期目标是：地区生产总值增长5%左右，城镇新增就业3万人。": (
        "综合",
        [
            ("地区生产总值增长5%左右", "综合", 5, "%", "about", "up"),
            ("城镇新增就业3万人", "民生", 3, "万人", "exact", None),
        ],
    ),
    "新增金融机构4家，绿色金融规模突破500亿元。": (
        "金融",
        [
            ("新增金融机构4家", "金融", 4, "家", "exact", None),
            ("绿色金融规模突破500亿元", "金融", 500, "亿元", "at_least", None),
        ],
    ),
    "社会消费品零售总额突破800亿元。": (
        "商贸",
        [("社会消费品零售总额突破800亿元", "商贸", 800, "亿元", "at_least", None)],
    ),
    "建设高标准农田2万亩，空气质量优良天数达到300天。": (
        "农业",
        [
            ("建设高标准农田2万亩", "农业", 2, "万亩", "exact", None),
            ("空气质量优良天数达到300天", "生态", 300, "天", "exact", None),
        ],
    ),
    "新认定国家高新技术企业60家，动态清零信访积案。": (
        "科创",
        [
            ("新认定国家高新技术企业60家", "科创", 60, "家", "exact", None),
            ("动态清零信访积案", "安全", 0, None, "exact", None),
        ],
    ),
    "全县生产总值增长6%以上。": ("综合", [("全县生产总值增长6%以上", "综合", 6, "%", "at_least", "up")]),
    "新增就业岗位2000个，城镇调查失业率控制在5.5%以内。": (
        "民生",
        [
            ("新增就业岗位2000个", "民生", 2000, "个", "exact", None),
            ("城镇调查失业率控制在5.5%以内", "民生", 5.5, "%", "at_most", None),
        ],
    ),
    "改造老旧小区12个，新建5G基站300个。": (
        "城建",
        [("改造老旧小区12个", "城建", 12, "个", "exact", None), ("新建5G基站300个", "城建", 300, "个", "exact", None)],
    ),
    "能耗强度下降3%。": ("生态", [("能耗强度下降3%", "生态", 3, "%", "exact", "down")]),
}


def _items(rid: str, label: str, s: int, e: int, text: str, attrs: dict[str, Any]) -> list[dict[str, Any]]:
    geo = {"start": s, "end": e, "text": text}
    out = [{"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "value": {**geo, "labels": [label]}}]
    for name, kind, key in (
        ("category", "choices", "choices"),
        ("bound", "choices", "choices"),
        ("direction", "choices", "choices"),
        ("value", "number", "number"),
        ("unit", "textarea", "text"),
    ):
        if name in attrs and attrs[name] is not None:
            v = attrs[name] if kind == "number" else [attrs[name]]
            out.append({"id": rid, "from_name": name, "to_name": "text", "type": kind, "value": {**geo, key: v}})
    return out


def correct(tasks: list[dict[str, Any]]) -> dict[str, int]:
    """What an annotator does in Label Studio, in code: start from the predictions, fix every
    sentence category and target, submit as an annotation. Returns counts of the edits.

    Offsets are UTF-16 as the file says; these reports are all BMP, so they equal code points."""
    edits = {"kept": 0, "added": 0, "removed": 0, "sentence_fixed": 0, "category_fixed": 0}
    for task in tasks:
        assert task["data"]["offset_unit"] == "utf16"
        text = task["data"]["text"]
        pred = task.pop("predictions")[0]["result"]
        regions: dict[str, list[dict[str, Any]]] = {}
        for r in pred:
            regions.setdefault(r["id"], []).append(r)
        result: list[dict[str, Any]] = []
        truth_for_task = {}
        for rid, items in regions.items():
            lab = next(i for i in items if i["type"] == "labels")
            if lab["value"]["labels"] == ["SENTENCE"]:
                stext = lab["value"]["text"]
                cat, targets = TRUTH.get(stext, (None, []))
                pred_cat = next(i["value"]["choices"][0] for i in items if i["from_name"] == "category")
                cat = cat or pred_cat
                edits["sentence_fixed"] += cat != pred_cat
                result += _items(rid, "SENTENCE", lab["value"]["start"], lab["value"]["end"], stext, {"category": cat})
                truth_for_task.update({t[0]: (lab["value"]["start"], stext, t) for t in targets})
        pred_targets: dict[str, str] = {}  # predicted target text → its predicted category
        for items in regions.values():
            lab = next(i for i in items if i["type"] == "labels")
            if lab["value"]["labels"] == ["TARGET"]:
                pred_targets[lab["value"]["text"]] = next(
                    i["value"]["choices"][0] for i in items if i["from_name"] == "category"
                )
        for k, (ttext, (sstart, _stext, t)) in enumerate(sorted(truth_for_task.items())):
            s = text.index(ttext, sstart)
            attrs = dict(zip(("category", "value", "unit", "bound", "direction"), t[1:]))
            attrs["direction"] = attrs["direction"] or "none"
            result += _items(f"fix{k}", "TARGET", s, s + len(ttext), ttext, attrs)
            edits["kept" if ttext in pred_targets else "added"] += 1
            edits["category_fixed"] += ttext in pred_targets and pred_targets[ttext] != t[1]
        edits["removed"] += len(set(pred_targets) - set(truth_for_task))
        task["annotations"] = [{"result": result, "updated_at": "2026-01-01T00:00:00Z"}]
    return edits


@pytest.mark.slow
def test_annotation_loop(tmp_path: Path) -> None:
    from pipeline.annotation.gold import load_gold_dir
    from pipeline.evaluation.evalrun import TRAIN_SPLIT, EvalConfig, read_history_lines, run_evaluation
    from pipeline.training.loop import TrainConfig, finetune

    proj = tmp_path / "proj"
    (proj / "incoming").mkdir(parents=True)
    gold_dir = proj / "data" / "gold"
    for name, text in (("county-a-2025", REPORT_A), ("county-b-2025", REPORT_B)):
        (proj / "incoming" / f"{name}.txt").write_text(text, encoding="utf-8")

    # 1. export with predictions (rules), one Label Studio file per report
    all_edits = []
    for name in ("county-a-2025", "county-b-2025"):
        tasks_file = proj / f"{name}.tasks.json"
        assert (
            main(["export", str(proj / "incoming" / f"{name}.txt"), "--model", "rules", "--out", str(tasks_file)]) == 0
        )
        assert (proj / f"{name}.tasks.xml").exists()
        tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
        assert all(t["predictions"][0]["model_version"].startswith("rules") for t in tasks)
        # 2. simulated correction
        all_edits.append(correct(tasks))
        tasks_file.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
        # 3. import into the gold set (the raw copy lands inside it, in data/gold/raw: issue 13)
        assert (
            main(
                [
                    "import",
                    str(tasks_file),
                    "--raw",
                    str(proj / "incoming" / f"{name}.txt"),
                    "--out",
                    str(gold_dir / f"{name}.jsonl"),
                ]
            )
            == 0
        )
        assert (gold_dir / "raw" / f"{name}.txt").read_text(encoding="utf-8") == (
            proj / "incoming" / f"{name}.txt"
        ).read_text(encoding="utf-8")
    # The rules give 城镇新增就业 the sentence's category (综合); the annotator makes it 民生.
    assert sum(e["category_fixed"] for e in all_edits) >= 1
    assert sum(e["kept"] + e["added"] for e in all_edits) == sum(len(v[1]) for v in TRUTH.values())

    docs, skipped = load_gold_dir(gold_dir)
    assert not skipped and sorted(d.doc_id for d in docs) == ["county-a-2025", "county-b-2025"]
    gold_targets = {(t.text, t.category, t.value, t.unit, t.bound, t.direction) for d in docs for t in d.targets()}
    assert gold_targets == {t for _, ts in TRUTH.values() for t in ts}
    assert all(t.text == d.raw[t.start : t.end] for d in docs for t in d.targets())

    # 4. retrain: a tiny model, 2-fold CV by document, then the final fit on both documents
    cfg = TrainConfig(
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        intermediate_size=64,
        epochs=2,
        patience=1,
        batch_size=8,
        lr=1e-3,
        fp16=False,
        target_category_source="sentence",
    )
    model_dir = proj / "models" / "loop"
    _, cv = finetune(docs, cfg, model_dir, k=2, by="document", n_resamples=50)
    assert cv is not None and (model_dir / "govtarget.json").exists()
    meta = json.loads((model_dir / "govtarget.json").read_text(encoding="utf-8"))
    assert meta["train_documents"] == ["county-a-2025", "county-b-2025"]

    # The retrained model drives the next selection round (token entropy from the real predictor).
    from pipeline.annotation.select import select
    from pipeline.tagging.tagger import Tagger

    nxt = proj / "incoming" / "county-c-2025.txt"
    nxt.write_text("二、2025年重点工作\n新增养老床位200张。\n加快建设智慧城市，推进数字政府建设。\n", encoding="utf-8")
    sel = select([nxt], Tagger.load(str(model_dir)), n=2, gold_dir=gold_dir)
    assert len(sel.chosen) == 2 and all("token" in c.components for c in sel.chosen)
    assert all(0.0 <= c.uncertainty <= 1.0 for c in sel.chosen)

    # 5. evaluate → reports/history.jsonl gains a line; the model saw this gold: never an accuracy
    reports = proj / "reports"
    res = run_evaluation(
        EvalConfig(gold=str(gold_dir), out=str(reports), system="model", path=str(model_dir), n_resamples=50),
        log=lambda s: None,
    )
    hist = read_history_lines(reports / "history.jsonl")
    assert len(hist) == 1 and hist[0]["run_id"] == res.meta["run_id"]
    assert hist[0]["split"] == TRAIN_SPLIT
    assert (res.run_dir / "metrics.json").exists()
    # A cross-validated rules run on the same gold adds a second line.
    run_evaluation(
        EvalConfig(gold=str(gold_dir), out=str(reports), system="rules", cv=2, cv_by="document", n_resamples=50),
        log=lambda s: None,
    )
    hist = read_history_lines(reports / "history.jsonl")
    assert len(hist) == 2 and hist[1]["split"].startswith("cv (leave-one-document-out")
    assert hist[1]["targets_n_gold"] == len(gold_targets)
