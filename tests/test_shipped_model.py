"""The shipped default model (issue 4): loads offline, is small, carries its cross-validated
figures next to the rule baseline's, and never tags the review of the past year."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.model.modeling import model_size_bytes
from pipeline.tagging.tagger import Tagger
from pipeline.text.reader import read_report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "models" / "default"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.load(str(DEFAULT))


def test_size_and_recorded_provenance() -> None:
    assert model_size_bytes(DEFAULT) <= 25 * 1024 * 1024
    meta = json.loads((DEFAULT / "govtarget.json").read_text(encoding="utf-8"))
    for key in ("train_args", "library_versions", "train_gold_sha256", "cv_metrics", "rule_baseline_cv", "cv_protocol"):
        assert meta.get(key), key
    assert meta["rule_features"] is True and "rules_sha256" in meta
    # The CV figures and the rules' figures are on the same sentences.
    assert meta["cv_metrics"]["n_sentences"] == meta["rule_baseline_cv"]["n_sentences"]
    assert meta["cv_metrics"]["targets_n_gold"] == meta["rule_baseline_cv"]["targets_n_gold"]


def _check(tagger: Tagger, doc_id: str, raw: str) -> tuple[int, int]:
    n_review = n_targets = 0
    for rec in tagger(raw, doc_id).sentences:
        if rec.extra["part"] == "review":
            n_review += 1
            assert rec.targets == [], f"{doc_id}: a target in the review: {rec.text}"
        for t in rec.targets:
            assert raw[t.start : t.end] == t.text
            n_targets += 1
    return n_review, n_targets


REPORT = (
    "政府工作报告\n"
    "一、2023年工作回顾\n"
    "过去一年，全区地区生产总值增长6.1%，城镇新增就业4.6万人，社会消费品零售总额突破1450亿元。\n"
    "新建5G基站1200个，完成老旧小区改造36个，空气质量优良天数达到320天。\n"
    "二、2024年工作安排\n"
    "今年主要预期目标是：地区生产总值增长6%左右，城镇新增就业4万人以上，能耗强度下降3%。\n"
    "新增市级以上金融机构5家，建设高标准农田5万亩。\n"
)


def test_no_targets_in_the_review_and_offsets_exact(tagger: Tagger) -> None:
    n_review, n_targets = _check(tagger, "synthetic", REPORT)
    assert n_review >= 2 and n_targets >= 3  # the check looked at something
    _, seed_targets = _check(tagger, "seed", (ROOT / "data" / "raw" / "yuzhong-2024.txt").read_text(encoding="utf-8"))
    assert seed_targets > 50


@pytest.mark.slow
@pytest.mark.corpus
def test_no_targets_in_corpus_reviews(tagger: Tagger, corpus_files: list[Path]) -> None:
    counts = [_check(tagger, f.stem, read_report(f).text) for f in corpus_files[:4]]
    assert sum(r for r, _ in counts) > 50 and sum(t for _, t in counts) > 10
