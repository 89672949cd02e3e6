"""``python train.py`` end to end, in miniature: pretraining when the masked-LM run is missing,
the recipe's final fit from it, leave-one-document-out CV, and what the directory records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import LINES, _doc, _gold_dir

from pipeline.cli import train
from pipeline.model.load import load_predictor

TINY_ENCODER = dict(hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)


@pytest.mark.slow
def test_retrain_pretrains_when_needed_then_fits_and_cross_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train, "PRETRAIN", dict(max_steps=3, max_minutes=5.0, seed=13, batch_size=4, **TINY_ENCODER))
    gold = _gold_dir(tmp_path, [_doc("county-a"), _doc("county-b")])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(2):
        (corpus / f"r{i}.txt").write_text(
            "二、今年工作安排\n" + "\n".join(t for t, _, _ in LINES) * 3, encoding="utf-8"
        )
    mlm, out, reports = tmp_path / "runs" / "mlm", tmp_path / "models" / "m", tmp_path / "reports"
    recipe = dict(TINY_ENCODER, epochs=2, patience=1, batch_size=8, max_length=48, stride=8, num_threads=1)
    res = train.retrain(
        str(gold),
        str(out),
        reports=str(reports),
        recipe=recipe,
        final_epochs=2,
        n_resamples=20,
        mlm_dir=str(mlm),
        pretrain_corpus=str(corpus),
    )

    log = json.loads((mlm / "mlm_log.json").read_text(encoding="utf-8"))
    assert log["steps"] == 3  # a fixed step count, not a wall-clock budget
    meta = json.loads((out / "govtarget.json").read_text(encoding="utf-8"))
    assert meta["mlm_init"]["steps"] == 3 and len(meta["mlm_init"]["weights_sha256"]) == 64
    assert meta["train_args"]["init"] == str(mlm) and meta["train_args"]["select_decoding"] is True
    assert meta["rule_prior"] == train.FINAL_DECODING["rule_prior"]
    assert meta["cv_protocol"].startswith("cv (leave-one-document-out")
    assert res["rules_same_folds"]["targets_n_gold"] == res["model_cv"]["targets_n_gold"] == 10
    assert len(meta["cv_per_fold"]["per_fold"]) == len(meta["cv_per_fold"]["baseline_per_fold"]) == 2
    lines = (reports / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    load_predictor(out)  # the directory passes every load-time check

    # A second run reuses the masked-LM encoder instead of pretraining again.
    before = (mlm / "model.safetensors").stat().st_mtime_ns
    train.retrain(
        str(gold),
        str(tmp_path / "models" / "m2"),
        reports=str(reports),
        recipe=recipe,
        final_epochs=1,
        n_resamples=20,
        mlm_dir=str(mlm),
        pretrain_corpus=str(corpus),
    )
    assert (mlm / "model.safetensors").stat().st_mtime_ns == before
