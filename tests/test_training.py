"""Training: examples, config checks, gold hash, early stopping, CV wiring, masked-LM pretraining."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from helpers import LINES, TINY_TRAIN, _doc

from pipeline.model.encoding import B, I, O
from pipeline.model.model_dir import CATEGORY_SOURCES
from pipeline.model.modeling import JointModel
from pipeline.model.vocab import build_vocab, load_tokenizer, save_vocab
from pipeline.training.loop import (
    CATEGORY_WEIGHT_GRID,
    RULE_PRIOR_GRID,
    TrainConfig,
    build_model,
    cross_validate_model,
    examples_from_docs,
    featurize,
    finetune,
    gold_sha256,
    joint_loss,
    rule_tag_onehot,
    select_decoding,
    train_model,
)
from pipeline.training.pretrain import PretrainConfig, mask_tokens, pack, pretrain

TINY = TINY_TRAIN


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="target_category_source"):
        TrainConfig(target_category_source="paragraph")
    with pytest.raises(ValueError, match="stride"):
        TrainConfig(max_length=32, stride=16)
    with pytest.raises(ValueError, match="dev_fraction"):
        TrainConfig(dev_fraction=0.7)


def test_examples_are_sentence_relative_with_context() -> None:
    doc = _doc()
    ex = examples_from_docs([doc])
    assert len(ex) == len(LINES)
    for e, s in zip(ex, doc.sentences):
        assert e.text == s.text
        for (a, b), t in zip(e.spans, s.targets):
            assert e.text[a:b] == t.text
    assert "工作安排" in ex[0].context


def test_gold_hash_tracks_labels() -> None:
    a, b = _doc(), _doc()
    assert gold_sha256([a]) == gold_sha256([b])
    b.sentences[0].category = "综合"
    assert gold_sha256([a]) != gold_sha256([b])


def test_early_stopping_keeps_best_epoch() -> None:
    doc = _doc()
    ex = examples_from_docs([doc])
    pred, res = train_model(ex[:4], ex[4:], TrainConfig(**TINY, epochs=4, patience=1), vocab_texts=[doc.raw])
    assert 1 <= len(res.history) <= 4
    assert res.best_epoch in [int(h["epoch"]) for h in res.history]
    assert {"span_f", "sent_acc", "loss"} <= set(res.history[0])
    assert pred.meta["best_epoch"] == res.best_epoch


def test_cross_validation_scores_both_category_sources() -> None:
    docs = [_doc("a"), _doc("b")]
    cv = cross_validate_model(docs, TrainConfig(**TINY, epochs=2, patience=1, dev_fraction=0.2), k=2, n_resamples=0)
    assert set(cv.by_source) == {"span", "sentence"}
    assert cv.chosen_source in CATEGORY_SOURCES
    for m in cv.by_source.values():
        assert m["n_sentences"] == 2 * len(LINES)  # every gold sentence predicted exactly once
        assert 0.0 <= m["targets_strict_f"] <= 1.0
    assert len(cv.best_epochs) == 2


def test_masking_never_touches_specials() -> None:
    tok_dir = Path(__file__).parent  # unused; vocabulary built below
    assert tok_dir.exists()
    vocab = build_vocab(["增长新增就业"])
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        save_vocab(vocab, d)
        tok = load_tokenizer(d)
    seqs = pack([["增长5%。" * 30, "新增就业。"]], tok, 32)
    assert all(len(s) <= 32 for s in seqs)
    assert sum(len(s) - 2 for s in seqs) == len(
        tok("增长5%。" * 30 + "新增就业。", add_special_tokens=False)["input_ids"]
    )
    ids = torch.tensor([s + [tok.pad_token_id] * (32 - len(s)) for s in seqs])
    am = (ids != tok.pad_token_id).long()
    inp, lab = mask_tokens(ids, am, tok, 0.15, torch.Generator().manual_seed(0))
    special = (ids == tok.cls_token_id) | (ids == tok.sep_token_id) | (am == 0)
    assert bool((lab[special] == -100).all())
    share = float((lab != -100).sum()) / float((~special).sum())
    assert 0.05 < share < 0.3


@pytest.mark.slow
def test_pretrain_then_finetune_from_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(2):
        (corpus / f"r{i}.txt").write_text("\n".join(t for t, _, _ in LINES) * 3, encoding="utf-8")
    out = tmp_path / "mlm"
    res = pretrain(
        corpus,
        out,
        PretrainConfig(
            hidden_size=32,
            num_layers=1,
            num_heads=2,
            intermediate_size=64,
            max_length=32,
            batch_size=4,
            max_steps=6,
            log_every=2,
        ),
    )
    assert res["steps"] == 6 and (out / "mlm_log.json").exists() and (out / "mlm_loss.png").exists()
    assert res["final_heldout_loss"] is not None
    enc = JointModel.from_pretrained_encoder(str(out))
    assert enc.config.hidden_size == 32
    doc = _doc()
    pred, _ = train_model(
        examples_from_docs([doc]), [], TrainConfig(**{**TINY, "hidden_size": 999}, init=str(out), fixed_epochs=1)
    )
    assert pred.model is not None and pred.model.config.hidden_size == 32  # taken from the MLM folder


def test_init_from_model_dir_and_attach_cv(tmp_path: Path) -> None:
    from pipeline.model.load import load_predictor
    from pipeline.training.loop import attach_cv

    doc = _doc()
    ex = examples_from_docs([doc])
    first, _ = train_model(ex, [], TrainConfig(**TINY, fixed_epochs=1), vocab_texts=[doc.raw])
    first.meta["train_gold_sha256"] = gold_sha256([doc])
    first.save(tmp_path / "m")
    # A govtarget model directory as init: encoder and heads carry over (same vocabulary).
    second, _ = train_model(ex, [], TrainConfig(**TINY, init=str(tmp_path / "m"), fixed_epochs=1))
    assert second.tokenizer.get_vocab() == first.tokenizer.get_vocab()
    report = {
        "chosen_target_category_source": "span",
        "span": {"targets_strict_f": 0.5},
        "sentence": {"targets_strict_f": 0.4},
        "gold_sha256": gold_sha256([doc]),
        "folds": 3,
        "by": "paragraph",
    }
    attach_cv(tmp_path / "m", [doc], report)
    loaded = load_predictor(tmp_path / "m")
    assert loaded.target_category_source == "span"
    assert loaded.meta["cv_metrics"] == {"targets_strict_f": 0.5}
    other = _doc()
    other.sentences[0].category = "综合"
    with pytest.raises(ValueError, match="gold hash"):
        attach_cv(tmp_path / "m", [other], report)


def test_decoding_is_chosen_on_dev_parts_and_carried_to_the_final_fit(tmp_path: Path) -> None:
    """Rule-prior β and category-ensemble weight come from each fold's dev part; the final fit
    takes the median of the folds' choices, and the saved directory carries it."""
    docs = [_doc("a"), _doc("b")]
    cfg = TrainConfig(**TINY, epochs=2, patience=1, dev_fraction=0.3, rule_features=True, select_decoding=True)
    pred, cv = finetune(docs, cfg, tmp_path / "m", k=2, n_resamples=0)
    assert cv is not None and len(cv.decoding) == 2
    for d in cv.decoding:
        assert d["rule_prior"] in RULE_PRIOR_GRID and d["rule_category_weight"] in CATEGORY_WEIGHT_GRID
    final = cv.final_decoding()
    assert pred.rule_prior == final["rule_prior"] and pred.rule_category_weight == final["rule_category_weight"]
    meta = json.loads((tmp_path / "m" / "govtarget.json").read_text(encoding="utf-8"))
    assert meta["rule_prior"] == final["rule_prior"]
    assert meta["cv_summary"]["decoding_per_fold"] == cv.decoding
    # Sensitivity variants are scored from the same fold models, never used for a choice.
    assert {f"sentence@prior{b:g}" for b in RULE_PRIOR_GRID} <= set(cv.by_source)
    assert {"span", "sentence", "rule"} <= set(cv.by_source) and cv.chosen_source in CATEGORY_SOURCES


def test_select_decoding_prefers_the_middle_on_ties() -> None:
    doc = _doc()
    ex = examples_from_docs([doc])
    pred, _ = train_model(ex, [], TrainConfig(**TINY, fixed_epochs=1, rule_features=True), vocab_texts=[doc.raw])
    sel = select_decoding(pred, ex)
    scores = {r["value"]: r["score"] for r in sel["rule_prior_dev"]}
    best = max(scores.values())
    assert scores[sel["rule_prior"]] == best
    tied = [v for v, s in scores.items() if s == best]
    mid = RULE_PRIOR_GRID[len(RULE_PRIOR_GRID) // 2]
    assert abs(RULE_PRIOR_GRID.index(sel["rule_prior"]) - RULE_PRIOR_GRID.index(mid)) == min(
        abs(RULE_PRIOR_GRID.index(v) - RULE_PRIOR_GRID.index(mid)) for v in tied
    )


def test_rule_tag_onehot_reads_the_rule_token_types() -> None:
    tt = torch.tensor([[0, 1, 2, 3, 3, 0, 2]])
    assert rule_tag_onehot(tt).argmax(-1).tolist() == [[O, O, B, I, I, O, B]]


def test_residual_training_starts_from_the_rules() -> None:
    """With the rule prior inside the loss, a fresh model already agrees with the rules, so its
    loss on gold that the rules get right is far lower than without the prior."""
    doc = _doc()
    ex = examples_from_docs([doc])
    assert all(e.rule_spans == e.spans for e in ex)  # the toy lines are ones the rules get right
    base = TrainConfig(**TINY, rule_features=True, sentence_loss_weight=0.0, span_category_loss_weight=0.0)
    model, tok = build_model(base, [doc.raw])
    feats, _ = featurize(ex, tok, base)
    with torch.no_grad():
        plain = float(joint_loss(model.eval(), feats, 0, base, torch.device("cpu")))
        residual = float(joint_loss(model, feats, 0, replace(base, rule_prior_train=6.0), torch.device("cpu")))
    assert residual < 0.1 < plain
