"""The declared test split (data/gold/splits.json): loaders, CLIs and the repository's declaration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from pipeline.annotation.gold import SPLITS_FILE, load_gold_dir, read_splits
from pipeline.errors import GoldError


def _gold(tmp_path: Path, ids: list[str], test: list[str] | None) -> Path:
    gold, raw = tmp_path / "gold", tmp_path / "raw"
    gold.mkdir()
    raw.mkdir()
    for i in ids:
        text = "今年地区生产总值增长6%左右。"
        (raw / f"{i}.txt").write_text(text, encoding="utf-8")
        rec = {
            "doc_id": i,
            "sent_id": 0,
            "start": 0,
            "end": len(text),
            "category": "综合",
            "targets": [
                {
                    "start": 2,
                    "end": 14,
                    "category": "综合",
                    "value": 6,
                    "unit": "%",
                    "bound": "about",
                    "direction": "up",
                }
            ],
        }
        (gold / f"{i}.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    if test is not None:
        (gold / SPLITS_FILE).write_text(json.dumps({"test": test}), encoding="utf-8")
    return gold


def _ids(gold: Path, split: str) -> list[str]:
    return sorted(d.doc_id for d in load_gold_dir(gold, split=split)[0])


def test_train_and_test_are_disjoint_and_cover_all(tmp_path: Path) -> None:
    gold = _gold(tmp_path, ["a", "b", "c"], ["b"])
    assert _ids(gold, "test") == ["b"]
    assert _ids(gold, "train") == ["a", "c"]
    assert _ids(gold, "all") == ["a", "b", "c"]


def test_no_declaration_means_no_test_split(tmp_path: Path) -> None:
    gold = _gold(tmp_path, ["a", "b"], None)
    assert _ids(gold, "train") == ["a", "b"] and _ids(gold, "test") == []


def test_declared_but_missing_test_document_is_an_error(tmp_path: Path) -> None:
    gold = _gold(tmp_path, ["a"], ["zz"])
    with pytest.raises(GoldError, match="zz"):
        load_gold_dir(gold, split="test")


def test_bad_declaration_and_bad_split_name(tmp_path: Path) -> None:
    gold = _gold(tmp_path, ["a"], None)
    (gold / SPLITS_FILE).write_text('{"test": "a"}', encoding="utf-8")
    with pytest.raises(GoldError, match=SPLITS_FILE):
        read_splits(gold)
    with pytest.raises(ValueError, match="split"):
        load_gold_dir(gold, split="dev")


def test_the_repository_declares_five_test_documents_of_different_governments() -> None:
    test = read_splits(ROOT / "data" / "gold")["test"]
    assert len(test) >= 5
    standoff = {p.stem for p in (ROOT / "data" / "gold" / "standoff").glob("*.jsonl")}
    assert set(test) <= standoff
    readme = (ROOT / "data" / "gold" / "README.md").read_text(encoding="utf-8")
    assert all(f"| {d} |" in readme for d in test), "README's test-split table and splits.json agree"
    governments = {d.split("_", 1)[1].rsplit("_", 1)[0] for d in test}
    assert len(governments) == len(test)
    # Both years of a province on the same side: no other year of a test province's report in training.
    provinces = {d.split("_", 1)[1] for d in test if d.endswith("_province")}
    train = standoff - set(test)
    assert not {d for d in train if d.split("_", 1)[1] in provinces}


def test_evaluate_cli_scores_the_chosen_split(tmp_path: Path) -> None:
    from pipeline.cli import evaluate

    gold = _gold(tmp_path, ["a", "b", "c"], ["b"])
    out = tmp_path / "reports"
    assert (
        evaluate.main(["--gold", str(gold), "--out", str(out), "--resamples", "0", "--split", "test", "--run-id", "t"])
        == 0
    )
    meta = json.loads((out / "t" / "metrics.json").read_text(encoding="utf-8"))["meta"]
    assert meta["gold_documents"] == ["b"] and meta["gold_split"] == "test"
    assert evaluate.main(["--gold", str(gold), "--out", str(out), "--resamples", "0", "--run-id", "d"]) == 0
    meta = json.loads((out / "d" / "metrics.json").read_text(encoding="utf-8"))["meta"]
    assert sorted(meta["gold_documents"]) == ["a", "c"] and meta["gold_split"] == "train"
