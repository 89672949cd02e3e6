"""Stage: fine-tune the joint model on gold documents; cross-validation and early stopping.

Data flow: ``GoldDocument``s → ``Example``s (sentence text, context, sentence-relative spans,
categories, weight) → ``encoding.Window``s with labels → ``JointModel`` → ``ModelPredictor``.

* ``train_predictor(train_docs, dev_docs, config)`` trains one model, early-stopping on the
  dev documents (strict span F1 of the dev sentences, then sentence accuracy) and returns a
  ``ModelPredictor``; ``evaluate.py`` uses it to retrain per fold.
* ``cross_validate_model(docs, config, k)`` runs ``pipeline.training.cv.cross_validate`` with a dev part
  carved (by paragraph) out of every training fold; out-of-fold predictions are scored both with
  the target category from the span and from the sentence.
* ``finetune(docs, config, out, k)``: CV, then a final fit on all gold data for the mean best
  epoch of the folds, saved as a model directory with the CV metrics.

Review sentences of the gold are kept (their gold has no targets), so the model learns
"no target" from them as well; silver examples (rule predictions on corpus plan sentences)
can be mixed in with a lower weight.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pipeline.annotation.gold import gold_sha256  # noqa: F401  (re-exported for train.py and tests)
from pipeline.evaluation.metrics import Metrics
from pipeline.model.encoding import (
    IGNORE,
    RULE_TAG_OF_TYPE,
    RULE_TYPE_VOCAB,
    EncodedSentence,
    O,
    Window,
    context_text,
    decode,
    encode,
    rule_context,
)
from pipeline.model.model_dir import CARD_FILE, CATEGORY_SOURCES, META_FILE, read_meta, write_meta
from pipeline.model.modeling import (
    N_CATS,
    N_TAGS,
    JointModel,
    ModelPredictor,
    mix_rule_category,
    pad_batch,
    small_bert_config,
)
from pipeline.records import GoldDocument
from pipeline.schema import CATEGORIES, CATEGORY2ID

log = logging.getLogger(__name__)

SMALL = "small"


@dataclass
class TrainConfig:
    """Fine-tuning arguments. Stored in every model directory (``govtarget.json``)."""

    #: "small" (project vocabulary + small BertConfig) or a hub name / local checkpoint.
    encoder: str = SMALL
    #: MLM-pretrained folder (``train.py pretrain``) to start the small model from.
    init: str | None = None
    # The small BERT (same shape as pipeline.training.pretrain.PretrainConfig); 128-wide because 2 CPU cores.
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    epochs: int = 40
    #: Epochs without dev improvement before stopping.
    patience: int = 6
    batch_size: int = 16
    lr: float = 5e-4
    encoder_lr: float | None = None
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_length: int = 128
    stride: int = 32
    sentence_loss_weight: float = 1.0
    span_category_loss_weight: float = 0.5
    dropout: float = 0.1
    seed: int = 13
    device: str = "cpu"
    dev_fraction: float = 0.15
    #: "span", "sentence", "rule" (rule-feature models: the rules' category on spans they found
    #: too), or "auto" (decided by cross-validation in ``finetune``).
    target_category_source: str = "auto"
    use_context: bool = True
    #: Weight of silver (rule-labelled) examples relative to gold.
    silver_weight: float = 0.3
    fp16: bool = True
    #: Fixed epoch count (final fit): no dev, no early stopping.
    fixed_epochs: int | None = None
    #: torch CPU threads (None: torch's default). On shared cores 1 thread avoids OpenMP
    #: spin-waiting behind other processes (measured: 17 s vs 27 s per step at load 9).
    num_threads: int | None = None
    #: Stacking: the rule baseline's spans as token types 2/3 and its sentence category in the
    #: context segment (``pipeline.model.encoding``); computed per document, also at inference.
    rule_features: bool = False
    #: Weight of the rules' category probabilities averaged into the model's (0 = off).
    rule_category_weight: float = 0.0
    #: β of the rule-span prior in decoding (``encoding.decode``; 0 = off; rule features only).
    rule_prior: float = 0.0
    #: Residual training (rule features only): the same prior added to the tag logits inside
    #: the loss, so the model starts out agreeing with the rules and learns only where to
    #: depart from them. Decode with ``rule_prior`` equal to it (or let the dev part choose).
    rule_prior_train: float = 0.0
    #: Decoding keeps the model's departures from the rule spans only where every resulting
    #: span holds a numeral (``encoding.reconcile_with_rules``); needs a rule prior.
    reconcile_edits: bool = False
    #: Weight multiplier of training sentences whose gold spans differ from the rules' (the
    #: only places a rule-feature model can learn to improve on the rules; boosting-like).
    disagreement_weight: float = 1.0
    #: Snap every decoded span to clause boundaries (``fields.clauses.snap_to_clauses``): no span
    #: starts or ends inside a word. On for every model; off only to measure what it changes.
    snap_clauses: bool = True
    #: After early stopping, choose ``rule_prior`` and ``rule_category_weight`` on the dev part
    #: (``select_decoding``); the chosen values are stored in the predictor's metadata.
    select_decoding: bool = False

    def __post_init__(self) -> None:
        if self.target_category_source not in ("span", "sentence", "rule", "auto"):
            raise ValueError(
                f"target_category_source must be span, sentence, rule or auto, not {self.target_category_source!r}"
            )
        if self.stride >= self.max_length // 2:
            raise ValueError("stride (window overlap) must be less than half of max_length")
        if not 0 <= self.dev_fraction < 0.5:
            raise ValueError("dev_fraction must be in [0, 0.5)")


@dataclass
class Example:
    text: str
    context: str
    spans: list[tuple[int, int]]
    span_categories: list[int]
    category: int
    weight: float = 1.0
    #: The rule baseline's spans and sentence category on this sentence (stacking features).
    rule_spans: list[tuple[int, int]] | None = None
    rule_category: str | None = None
    #: The rule baseline's category distribution (for the category ensemble on dev parts).
    rule_category_probs: dict[str, float] | None = None

    def model_context(self, config: TrainConfig) -> str:
        ctx = self.context if config.use_context else ""
        if config.rule_features and self.rule_category is not None:
            ctx = rule_context(self.rule_category, ctx)
        return ctx


@dataclass
class TrainResult:
    best_epoch: int
    best_dev: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def set_seed(seed: int) -> None:
    """Seed first: Python, numpy, torch (transformers.set_seed does all three)."""
    from transformers import set_seed as hf_set_seed

    hf_set_seed(seed)
    # Deterministic kernels where cheap (CPU); warn-only so unsupported ops don't crash on CUDA.
    torch.use_deterministic_algorithms(True, warn_only=True)


# --------------------------------------------------------------------------- examples


def examples_from_docs(docs: Sequence[GoldDocument], weight: float = 1.0) -> list[Example]:
    """One example per gold sentence, with part and heading context from ``pipeline.text.segment``."""
    import bisect

    from pipeline.model.modeling import rule_hints
    from pipeline.predict import SentenceInput
    from pipeline.text.segment import segment

    out = []
    for d in docs:
        seg = segment(d.raw).sentences
        starts = [s.start for s in seg]
        inputs = []
        for s in d.sentences:
            i = bisect.bisect_right(starts, s.start) - 1
            if i >= 0 and seg[i].end > s.start:
                inputs.append(SentenceInput(s.text, seg[i].part, seg[i].section_path))
            else:
                inputs.append(SentenceInput(s.text, "other", ()))
        # Per document, in order: the rules' category context depends on preceding sentences.
        hints = rule_hints(inputs)
        for s, inp, h in zip(d.sentences, inputs, hints):
            ctx = context_text(inp.part, inp.section_path)
            spans = [(t.start - s.start, t.end - s.start) for t in s.targets]
            out.append(
                Example(
                    text=s.text,
                    context=ctx,
                    spans=spans,
                    span_categories=[CATEGORY2ID[t.category] for t in s.targets],
                    category=CATEGORY2ID[s.category],
                    weight=weight,
                    rule_spans=[(sp.start, sp.end) for sp in h.spans],
                    rule_category=h.category,
                    rule_category_probs=dict(h.category_probs),
                )
            )
    return out


@dataclass
class Feature:
    window: Window
    category: int
    weight: float


def featurize(examples: Sequence[Example], tokenizer: Any, config: TrainConfig) -> tuple[list[Feature], int]:
    """Windows with labels; returns ``(features, misaligned gold boundaries)``."""
    feats: list[Feature] = []
    misaligned = 0
    for ex in examples:
        enc = encode(
            tokenizer,
            ex.text,
            ex.model_context(config),
            spans=ex.spans,
            span_categories=ex.span_categories,
            max_length=config.max_length,
            stride=config.stride,
            rule_spans=ex.rule_spans if config.rule_features else None,
        )
        misaligned += enc.misaligned
        feats.extend(Feature(w, ex.category, ex.weight) for w in enc.windows)
    return feats, misaligned


def _batches(feats: list[Feature], batch_size: int, rng: random.Random) -> list[list[Feature]]:
    # Shuffle, then sort within chunks by length so that batches carry little padding.
    idx = list(range(len(feats)))
    rng.shuffle(idx)
    chunk = batch_size * 20
    batches = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: len(feats[i].window))
        batches.extend([[feats[i] for i in part[b : b + batch_size]] for b in range(0, len(part), batch_size)])
    rng.shuffle(batches)
    return batches


def _labels(feats: list[Feature], n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    tags = torch.full((len(feats), n), IGNORE, dtype=torch.long)
    cats = torch.full((len(feats), n), IGNORE, dtype=torch.long)
    for i, f in enumerate(feats):
        w = f.window
        tags[i, : len(w)] = torch.tensor(w.tag_labels)
        if w.cat_labels is not None:
            cats[i, : len(w)] = torch.tensor(w.cat_labels)
    return tags.to(device), cats.to(device)


def rule_tag_onehot(token_type_ids: torch.Tensor) -> torch.Tensor:
    """One-hot BIO tag of the rule baseline per token, read from the rule token types (the
    tensor twin of ``encoding.rule_tags``; context/special tokens get O, their loss is ignored)."""
    tag = torch.full_like(token_type_ids, O)
    for token_type, rule_tag in RULE_TAG_OF_TYPE.items():
        tag[token_type_ids == token_type] = rule_tag
    return nn.functional.one_hot(tag, N_TAGS).to(torch.float32)


def joint_loss(
    model: JointModel, feats: list[Feature], pad_id: int, config: TrainConfig, device: torch.device
) -> torch.Tensor:
    batch = pad_batch([f.window for f in feats], pad_id, device)
    tl, sl = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    tags, cats = _labels(feats, tl.shape[1], device)
    if config.rule_features and config.rule_prior_train > 0:
        tl = torch.cat(
            [tl[..., :N_TAGS] + config.rule_prior_train * rule_tag_onehot(batch["token_type_ids"]), tl[..., N_TAGS:]],
            dim=-1,
        )
    weights = torch.tensor([f.weight for f in feats], dtype=tl.dtype, device=device)
    ce = nn.CrossEntropyLoss(ignore_index=IGNORE, reduction="none")
    # Per-token losses weighted by their example's weight (silver < gold), averaged over real tokens.
    tok = ce(tl[..., :N_TAGS].reshape(-1, N_TAGS), tags.reshape(-1)).view(tags.shape)
    tmask = (tags != IGNORE).to(tl.dtype)
    tw = tmask * weights[:, None]
    loss = (tok * tw).sum() / tw.sum().clamp(min=1.0)
    sent = ce(sl, torch.tensor([f.category for f in feats], device=device))
    loss = loss + config.sentence_loss_weight * (sent * weights).sum() / weights.sum()
    cmask = (cats != IGNORE).to(tl.dtype)
    if cmask.sum() > 0:
        ctok = ce(tl[..., N_TAGS:].reshape(-1, N_CATS), cats.reshape(-1)).view(cats.shape)
        cw = cmask * weights[:, None]
        loss = loss + config.span_category_loss_weight * (ctok * cw).sum() / cw.sum().clamp(min=1.0)
    return loss


# --------------------------------------------------------------------------- model building


#: The repository root: relative ``init`` paths recorded in a model directory (``runs/mlm``)
#: resolve against the working directory first, then against it.
REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve_init(init: str) -> Path:
    """The folder ``TrainConfig.init`` names; a clear error when it is missing."""
    for p in (Path(init), REPO_ROOT / init):
        if p.is_dir():
            return p
    raise FileNotFoundError(
        f"{init}: the encoder to start from is missing. For the masked-LM run of the shipped recipe: "
        "python train.py pretrain --corpus ../shared/corpus --out runs/mlm"
    )


def build_model(config: TrainConfig, vocab_texts: Sequence[str]) -> tuple[JointModel, Any]:
    """Encoder + tokenizer: from ``config.init`` / a hub checkpoint, or a fresh small BERT."""
    from transformers import AutoTokenizer

    from pipeline.model.vocab import build_vocab, check_tokenizer, load_tokenizer, save_vocab

    init = resolve_init(config.init) if config.init else None
    if config.encoder != SMALL:
        tok = AutoTokenizer.from_pretrained(config.encoder)
        check_tokenizer(tok, config.encoder)
        model = JointModel.from_pretrained_encoder(config.encoder)
    elif init and (init / META_FILE).exists():
        # A govtarget model directory (e.g. the silver stage): encoder and heads carry over.
        from pipeline.model.modeling import load_model_dir

        loaded, tok, _ = load_model_dir(init)
        assert loaded is not None
        model = loaded
    elif init:
        tok = load_tokenizer(init)
        model = JointModel.from_pretrained_encoder(str(init))
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            save_vocab(build_vocab(vocab_texts), tmp)
            tok = load_tokenizer(tmp)
        model = JointModel.from_config(
            small_bert_config(
                len(tok),
                hidden_size=config.hidden_size,
                num_hidden_layers=config.num_layers,
                num_attention_heads=config.num_heads,
                intermediate_size=config.intermediate_size,
                type_vocab_size=RULE_TYPE_VOCAB if config.rule_features else 2,
            )
        )
    if config.rule_features:
        model.widen_token_types(RULE_TYPE_VOCAB)  # HF checkpoints and MLM runs have 2 types
    if config.dropout != 0.1:
        model.dropout.p = config.dropout
    return model, tok


def _predictor(model: JointModel, tok: Any, config: TrainConfig, meta: dict[str, Any] | None = None) -> ModelPredictor:
    m = {
        "max_length": config.max_length,
        "stride": config.stride,
        "use_context": config.use_context,
        "rule_features": config.rule_features,
        "rule_category_weight": config.rule_category_weight,
        "rule_prior": config.rule_prior,
        "reconcile_edits": config.reconcile_edits,
        "snap_clauses": config.snap_clauses,
        "target_category_source": (
            config.target_category_source if config.target_category_source in CATEGORY_SOURCES else "sentence"
        ),
        "encoder": config.encoder
        if config.encoder != SMALL
        else f"small BERT ({config.num_layers}x{config.hidden_size})"
        + (
            f" initialised from {'silver-stage model' if (Path(config.init) / 'govtarget.json').exists() else 'MLM'} "
            f"{config.init}"
            if config.init
            else ""
        ),
        "train_args": asdict(config),
        "seed": config.seed,
    }
    m.update(meta or {})
    return ModelPredictor(model, tok, m, device=config.device, name="model")


#: Grids searched on the dev part (``TrainConfig.select_decoding``): β of the rule-span prior
#: (20 ≈ the rule spans) and the weight of the rules' category distribution.
RULE_PRIOR_GRID = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 20.0)
CATEGORY_WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class DevOutputs:
    """Model outputs on dev examples, computed once and decoded under several settings."""

    examples: list[Example]
    encoded: list[EncodedSentence]
    token_logits: list[list[np.ndarray]]
    sentence_probs: list[np.ndarray]


def dev_outputs(predictor: ModelPredictor, examples: Sequence[Example]) -> DevOutputs:
    # Examples carry their context string already, so they are encoded here rather than via
    # SentenceInput; the public predict() path is what the Tagger uses in CV.
    cfg = TrainConfig(use_context=predictor.use_context, rule_features=predictor.rule_features)
    encoded = [
        encode(
            predictor.tokenizer,
            e.text,
            e.model_context(cfg),
            max_length=predictor.max_length,
            stride=predictor.stride,
            rule_spans=e.rule_spans if predictor.rule_features else None,
        )
        for e in examples
    ]
    tls, sps = predictor.forward_encoded(encoded)
    return DevOutputs(list(examples), encoded, tls, sps)


def dev_scores(
    predictor: ModelPredictor,
    examples: Sequence[Example] | DevOutputs,
    rule_prior: float | None = None,
    category_weight: float | None = None,
) -> dict[str, float]:
    """Strict span F1, span-category and sentence-category accuracy on dev examples (early
    stopping, decoding selection); ``rule_prior`` / ``category_weight`` default to the predictor's."""
    out = examples if isinstance(examples, DevOutputs) else dev_outputs(predictor, examples)
    if not out.examples:
        return {}
    beta = predictor.rule_prior if rule_prior is None else rule_prior
    w = predictor.rule_category_weight if category_weight is None else category_weight
    tp = n_pred = n_gold = cat_ok = span_cat_ok = sent_on_span_ok = 0
    for ex, enc, tls, sp in zip(out.examples, out.encoded, out.token_logits, out.sentence_probs):
        cat = int(np.argmax(mix_rule_category(sp, ex.rule_category_probs, w)))
        spans = [
            (d.start, d.end, int(np.argmax(d.category_logits)) if d.category_logits is not None else cat)
            for d in decode(
                enc,
                [t[:, :N_TAGS] for t in tls],
                [t[:, N_TAGS:] for t in tls],
                rule_prior=beta if predictor.rule_features else 0.0,
                reconcile=predictor.reconcile_edits,
                snap=predictor.snap_clauses,
            )
        ]
        gold = {sp_: c for sp_, c in zip(ex.spans, ex.span_categories)}
        n_gold += len(gold)
        n_pred += len(spans)
        for s, e, c in spans:
            if (s, e) in gold:
                tp += 1
                span_cat_ok += int(c == gold[(s, e)])
                sent_on_span_ok += int(cat == gold[(s, e)])
        cat_ok += int(cat == ex.category)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "span_f": f,
        "span_p": p,
        "span_r": r,
        "sent_acc": cat_ok / len(out.examples),
        "span_cat_acc": span_cat_ok / tp if tp else 0.0,
        "sentence_cat_on_spans_acc": sent_on_span_ok / tp if tp else 0.0,
        "span_tp": float(tp),
    }


def select_category_source(predictor: ModelPredictor, dev_examples: Sequence[Example] | DevOutputs) -> dict[str, Any]:
    """Choose where a target's category comes from, ``span`` (the per-token category head) or
    ``sentence`` (the sentence category), by target-category accuracy on the dev part's strictly
    matched spans, decoded with the predictor's settings. Both are learned; the rules' category
    (``rule``) is never a candidate. Ties, and a dev part with no matched span, go to ``sentence``."""
    sc = dev_scores(predictor, dev_examples)
    span_acc, sent_acc = sc.get("span_cat_acc", 0.0), sc.get("sentence_cat_on_spans_acc", 0.0)
    source = "span" if sc.get("span_tp", 0.0) > 0 and span_acc > sent_acc else "sentence"
    return {
        "target_category_source": source,
        "span": span_acc,
        "sentence": sent_acc,
        "dev_matched_spans": int(sc.get("span_tp", 0.0)),
    }


def select_decoding(predictor: ModelPredictor, dev_examples: Sequence[Example]) -> dict[str, Any]:
    """Choose β (rule-span prior) by dev strict span F1 and the rule-category weight by dev
    sentence accuracy, on the dev part only (never on test folds). Ties go to the value nearest
    the middle of the grid (neither the model alone nor the rules alone), so an uninformative
    dev part does not swing the choice to an extreme."""
    out = dev_outputs(predictor, dev_examples)

    def pick(grid: tuple[float, ...], score: Any) -> tuple[float, list[dict[str, float]]]:
        rows = [{"value": v, "score": score(v)} for v in grid]
        mid = grid[len(grid) // 2]
        best = max(rows, key=lambda r: (round(r["score"], 9), -abs(grid.index(r["value"]) - grid.index(mid))))
        return float(best["value"]), rows

    beta, beta_rows = pick(RULE_PRIOR_GRID, lambda v: dev_scores(predictor, out, rule_prior=v)["span_f"])
    w, w_rows = pick(CATEGORY_WEIGHT_GRID, lambda v: dev_scores(predictor, out, category_weight=v)["sent_acc"])
    return {
        "rule_prior": beta,
        "rule_category_weight": w,
        "rule_prior_dev": beta_rows,
        "rule_category_weight_dev": w_rows,
        "dev_sentences": len(out.examples),
    }


# --------------------------------------------------------------------------- training


def train_model(
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    config: TrainConfig,
    vocab_texts: Sequence[str] = (),
) -> tuple[ModelPredictor, TrainResult]:
    """Train one model; early stopping on ``dev_examples`` unless ``config.fixed_epochs``."""
    set_seed(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    t0 = time.time()
    device = torch.device(config.device)
    model, tok = build_model(config, vocab_texts or [e.text for e in train_examples])
    if config.disagreement_weight != 1.0:
        train_examples = [
            replace(e, weight=e.weight * config.disagreement_weight)
            if e.rule_spans is not None and sorted(e.rule_spans) != sorted(e.spans)
            else e
            for e in train_examples
        ]
    model.to(device)
    feats, mis = featurize(train_examples, tok, config)
    if mis:
        log.warning("%d gold boundaries fall inside a word piece (labels follow first characters)", mis)
    pad_id = int(tok.pad_token_id or 0)
    epochs = config.fixed_epochs or config.epochs
    steps_per_epoch = max(1, math.ceil(len(feats) / config.batch_size))
    total = steps_per_epoch * epochs
    enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.")]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.AdamW(
        [{"params": enc_params, "lr": config.encoder_lr or config.lr}, {"params": head_params, "lr": config.lr}],
        weight_decay=config.weight_decay,
    )
    warm = max(1, int(total * config.warmup_ratio))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm))
    )
    predictor = _predictor(model, tok, config)
    rng = random.Random(config.seed)
    use_dev = bool(dev_examples) and config.fixed_epochs is None
    best_key: tuple[float, float] = (-1.0, -1.0)
    best_state: dict[str, torch.Tensor] | None = None
    result = TrainResult(best_epoch=epochs, best_dev={})
    bad = 0
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        for batch in _batches(feats, config.batch_size, rng):
            loss = joint_loss(model, batch, pad_id, config, device)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        row: dict[str, float] = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else 0.0}
        if use_dev:
            model.eval()
            # The model's own quality (its training-time rule prior, no category ensemble) decides the epoch.
            row.update(dev_scores(predictor, dev_examples, rule_prior=config.rule_prior_train, category_weight=0.0))
            # Both tasks count: a lexicographic key froze on an epoch-1 span F1 of 1.0 on a small
            # dev part while sentence accuracy was still 0.22.
            key = (row["span_f"] + row["sent_acc"], row["span_f"])
            if key > best_key:
                best_key, bad = key, 0
                best_state = copy.deepcopy(model.state_dict())
                result.best_epoch, result.best_dev = epoch, dict(row)
            else:
                bad += 1
        result.history.append(row)
        log.info("epoch %d %s", epoch, {k: round(v, 4) for k, v in row.items()})
        if use_dev and bad >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    if use_dev and config.select_decoding and config.rule_features:
        sel = select_decoding(predictor, dev_examples)
        predictor.rule_prior, predictor.rule_category_weight = sel["rule_prior"], sel["rule_category_weight"]
        predictor.meta["decoding_selection"] = sel
        log.info(
            "dev selection: rule_prior %s, rule_category_weight %s", sel["rule_prior"], sel["rule_category_weight"]
        )
    if use_dev and config.target_category_source == "auto":
        # After the decoding choice: the sentence source depends on the category weight chosen there.
        csel = select_category_source(predictor, dev_examples)
        predictor.target_category_source = csel["target_category_source"]
        predictor.meta["target_category_source"] = csel["target_category_source"]
        predictor.meta["category_source_selection"] = csel
        log.info(
            "dev selection: target category from %s (dev accuracy on matched spans: span %.3f, sentence %.3f)",
            csel["target_category_source"],
            csel["span"],
            csel["sentence"],
        )
    result.seconds = time.time() - t0
    predictor.meta["best_epoch"] = result.best_epoch
    predictor.meta["train_history"] = result.history
    return predictor, result


def train_predictor(
    train_docs: Sequence[GoldDocument],
    dev_docs: Sequence[GoldDocument],
    config: TrainConfig,
    silver: Sequence[Example] = (),
) -> ModelPredictor:
    """Train on gold ``train_docs`` (+ silver examples), early-stopping on ``dev_docs``."""
    train_ex = examples_from_docs(train_docs) + list(silver)
    dev_ex = examples_from_docs(dev_docs)
    vocab_texts = [d.raw for d in train_docs]
    predictor, _ = train_model(train_ex, dev_ex, config, vocab_texts=vocab_texts)
    return predictor


# --------------------------------------------------------------------------- silver labels


def silver_examples(
    corpus_dir: str | Path, weight: float, max_sentences: int = 4000, seed: int = 0, exclude: Sequence[str] = ()
) -> list[Example]:
    """Rule-baseline predictions on the plan sentences of corpus reports (weak supervision).

    ``exclude``: file names to leave out (the sources of gold documents, so that no gold test
    text is seen with silver labels).
    """
    from pipeline.predict import SentenceInput
    from pipeline.rules.baseline import RulePredictor
    from pipeline.text.reader import read_report
    from pipeline.text.segment import segment

    rules = RulePredictor()
    inputs: list[SentenceInput] = []
    skip = {Path(x).name for x in exclude}
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        if path.name in skip:
            continue
        try:
            text = read_report(path).text
        except Exception as e:  # one unreadable report must not stop the run
            log.warning("silver: skipped %s (%s)", path, e)
            continue
        for s in segment(text).sentences:
            if s.part == "plan" and len(s.text) >= 4:
                inputs.append(SentenceInput(s.text, s.part, s.section_path))
    random.Random(seed).shuffle(inputs)
    preds = rules.predict(inputs)
    # Half the sample (at most) from sentences with a rule target: most plan sentences have none.
    pos = [(i, p) for i, p in zip(inputs, preds) if p.spans]
    neg = [(i, p) for i, p in zip(inputs, preds) if not p.spans]
    n_pos = min(len(pos), max_sentences // 2)
    chosen = pos[:n_pos] + neg[: max_sentences - n_pos]
    random.Random(seed + 1).shuffle(chosen)
    out = []
    for inp, pred in chosen:
        spans = sorted((sp.start, sp.end, sp.category or pred.category) for sp in pred.spans)
        out.append(
            Example(
                text=inp.text,
                context=context_text(inp.part, inp.section_path),
                spans=[(s, e) for s, e, _ in spans],
                span_categories=[CATEGORY2ID[c] for _, _, c in spans],
                category=CATEGORY2ID[pred.category],
                weight=weight,
                rule_spans=[(s, e) for s, e, _ in spans],
                rule_category=pred.category,
            )
        )
    return out


# --------------------------------------------------------------------------- cross-validation


@dataclass
class ModelCV:
    """Cross-validated figures of one configuration (pooled out-of-fold predictions)."""

    by_source: dict[str, Metrics]
    per_fold: dict[str, list[dict[str, Any]]]
    best_epochs: list[int]
    chosen_source: str
    seconds: float
    #: Per fold: the decoding settings its dev part chose (``select_decoding``).
    decoding: list[dict[str, Any]] = field(default_factory=list)

    def final_decoding(self) -> dict[str, Any]:
        """Settings for a final fit on all data: the median of the folds' dev choices."""
        if not self.decoding:
            return {}
        return {k: float(np.median([d[k] for d in self.decoding])) for k in ("rule_prior", "rule_category_weight")}

    def summary(self) -> dict[str, Any]:
        from pipeline.evaluation.scoring import summary

        out: dict[str, Any] = {
            "chosen_target_category_source": self.chosen_source,
            "best_epochs": self.best_epochs,
            "decoding_per_fold": self.decoding,
            "final_decoding": self.final_decoding(),
        }
        for src, m in self.by_source.items():
            s = summary(m)
            s["targets_strict_f_ci"] = m.get("targets_strict_f_ci")
            out[src] = s
        return out


def tag_docs(predictor: Any, docs: Sequence[GoldDocument]) -> dict[str, list[Any]]:
    from pipeline.tagging.tagger import Tagger

    tagged = Tagger(predictor).tag_many([(d.doc_id, d.raw) for d in docs])
    return {t.doc_id: t.sentences for t in tagged}


def cross_validate_model(
    docs: Sequence[GoldDocument],
    config: TrainConfig,
    k: int = 5,
    seed: int = 0,
    by: str = "paragraph",
    silver: Sequence[Example] = (),
    n_resamples: int = 1000,
) -> ModelCV:
    """k-fold CV; one model per fold; out-of-fold predictions scored with both category sources."""
    from pipeline.training.cv import cross_validate, train_fold

    t0 = time.time()
    cache: dict[int, ModelPredictor] = {}
    best_epochs: list[int] = []
    decoding: list[dict[str, Any]] = []

    def predictor_for(fold: Any) -> ModelPredictor:
        if fold.index not in cache:
            p = train_fold(fold, config, lambda tr, dv, c: train_predictor(tr, dv, c, silver=silver), seed=seed)
            best_epochs.append(int(p.meta.get("best_epoch", 0)))
            if "decoding_selection" in p.meta:
                sel = p.meta["decoding_selection"]
                decoding.append(
                    {
                        "fold": fold.index,
                        "rule_prior": sel["rule_prior"],
                        "rule_category_weight": sel["rule_category_weight"],
                    }
                )
            log.info("fold %d: best epoch %s", fold.index, p.meta.get("best_epoch"))
            cache[fold.index] = p
        return cache[fold.index]

    by_source: dict[str, Metrics] = {}
    per_fold: dict[str, list[dict[str, Any]]] = {}
    # Also scored, from the same fold models: other decoding settings (inference only). They
    # show the sensitivity to β and to the category-ensemble weight; they are never used to
    # choose anything (the dev parts do that, ``select_decoding``).
    variants: list[tuple[str, str, dict[str, float]]] = [("span", "span", {}), ("sentence", "sentence", {})]
    if config.rule_features:
        variants.append(("rule", "rule", {}))
        variants += [(f"sentence@prior{b:g}", "sentence", {"rule_prior": b}) for b in RULE_PRIOR_GRID]
        variants += [(f"sentence@ens{w:g}", "sentence", {"rule_category_weight": w}) for w in CATEGORY_WEIGHT_GRID]
    for key, source, overrides in variants:

        def predict_fold(
            fold: Any, source: str = source, overrides: dict[str, float] = overrides
        ) -> dict[str, list[Any]]:
            p = predictor_for(fold)
            saved = {a: getattr(p, a) for a in overrides}
            p.target_category_source = source
            for a, v in overrides.items():
                setattr(p, a, v)
            try:
                return tag_docs(p, fold.test)
            finally:
                for a, v in saved.items():
                    setattr(p, a, v)

        # Sensitivity variants are point figures: no bootstrap for them.
        res = cross_validate(
            docs,
            predict_fold,
            k=k,
            seed=seed,
            by=by,  # type: ignore[arg-type]
            n_resamples=0 if overrides else n_resamples,
        )
        by_source[key] = res.pooled
        per_fold[key] = res.per_fold
    chosen = choose_category_source(by_source)
    return ModelCV(by_source, per_fold, best_epochs, chosen, time.time() - t0, decoding=decoding)


def choose_category_source(by_source: Mapping[str, Mapping[str, Any]]) -> str:
    """The source with the highest typed (span + category) F1; ties go to the sentence (simpler)."""
    typed = {src: by_source[src].get("targets_typed_f", -1.0) for src in CATEGORY_SOURCES if src in by_source}
    best = max(typed.values(), default=-1.0)
    return "sentence" if typed.get("sentence") == best else max(typed, key=lambda s: typed[s])


def finetune(
    docs: Sequence[GoldDocument],
    config: TrainConfig,
    out: str | Path,
    k: int = 5,
    seed: int = 0,
    by: str = "paragraph",
    silver: Sequence[Example] = (),
    n_resamples: int = 1000,
    cv_report: dict[str, Any] | None = None,
) -> tuple[ModelPredictor, ModelCV | None]:
    """CV (if k ≥ 2), then a final fit on all gold data; saves the model directory to ``out``.

    ``cv_report`` (the JSON of ``train.py cv`` for the same configuration and gold) replaces
    running the CV again: its best epochs, category source and pooled metrics are used.
    """
    cv: ModelCV | None = None
    cfg = config
    if cv_report is not None:
        source = (
            cv_report["chosen_target_category_source"]
            if config.target_category_source == "auto"
            else config.target_category_source
        )
        epochs = max(1, round(float(np.mean(cv_report["best_epochs"]))))
        cfg = replace(
            config, fixed_epochs=epochs, target_category_source=source, **(cv_report.get("final_decoding") or {})
        )
        predictor, result = train_model(
            examples_from_docs(docs) + list(silver), [], cfg, vocab_texts=[d.raw for d in docs]
        )
        if cv_report.get("gold_sha256") not in (None, gold_sha256(docs)):
            raise ValueError("the CV report was computed on other gold data")
        predictor.meta.update(
            target_category_source=source,
            train_args=asdict(cfg),
            seed=cfg.seed,
            train_gold_sha256=gold_sha256(docs),
            train_documents=sorted(d.doc_id for d in docs),
            train_sentences=sum(len(d.sentences) for d in docs),
            silver_examples=len(silver),
            cv_metrics=cv_report[source],
            cv_summary={k: v for k, v in cv_report.items() if k not in ("per_fold", "config")},
            cv_protocol=(
                f"{cv_report.get('folds')}-fold by {cv_report.get('by')}, seed {cv_report.get('cv_seed')}; "
                "dev part of each training fold (whole paragraphs) for early stopping; "
                "pooled out-of-fold predictions"
            ),
            final_fit_seconds=round(result.seconds, 1),
        )
        predictor.target_category_source = source
        predictor.save(out, fp16=cfg.fp16)
        return predictor, None
    if k >= 2:
        cv = cross_validate_model(docs, config, k=k, seed=seed, by=by, silver=silver, n_resamples=n_resamples)
        source = cv.chosen_source if config.target_category_source == "auto" else config.target_category_source
        epochs = max(1, round(float(np.mean(cv.best_epochs)))) if cv.best_epochs else config.epochs
        # The final fit has no dev part: it takes the median of the folds' dev-chosen decoding.
        cfg = replace(config, fixed_epochs=epochs, target_category_source=source, **cv.final_decoding())
    else:
        src = "sentence" if config.target_category_source == "auto" else config.target_category_source
        cfg = replace(config, fixed_epochs=config.fixed_epochs or config.epochs, target_category_source=src)
    predictor, result = train_model(examples_from_docs(docs) + list(silver), [], cfg, vocab_texts=[d.raw for d in docs])
    predictor.meta.update(
        target_category_source=cfg.target_category_source,
        train_args=asdict(cfg),
        seed=cfg.seed,
        train_gold_sha256=gold_sha256(docs),
        train_documents=sorted(d.doc_id for d in docs),
        train_sentences=sum(len(d.sentences) for d in docs),
        silver_examples=len(silver),
        cv_metrics=_flat_cv(cv) if cv else None,
        cv_summary=cv.summary() if cv else None,
        cv_protocol=(
            f"{k}-fold by {by}, seed {seed}; dev part ({config.dev_fraction:.0%} of each training fold, "
            "whole paragraphs) for early stopping; pooled out-of-fold predictions"
        )
        if cv
        else None,
        final_fit_seconds=round(result.seconds, 1),
    )
    predictor.target_category_source = cfg.target_category_source
    predictor.save(out, fp16=cfg.fp16)
    return predictor, cv


#: The cross-validated figures a model directory records (``cv_metrics``, ``rule_baseline_cv``).
FLAT_METRIC_KEYS = (
    "targets_strict_p",
    "targets_strict_r",
    "targets_strict_f",
    "targets_partial_f",
    "targets_typed_f",
    "sentcat_accuracy",
    "sentcat_macro_f1",
    "fields_all_acc",
    "targets_n_gold",
    "n_sentences",
)


def flat_metrics(m: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded subset of a scoring result, with the strict-F1 interval when there is one."""
    flat = {k: m[k] for k in FLAT_METRIC_KEYS if k in m}
    if "targets_strict_f_ci" in m:
        flat["targets_strict_f_ci"] = m["targets_strict_f_ci"]
    return flat


def _flat_cv(cv: ModelCV) -> dict[str, Any]:
    return flat_metrics(cv.by_source[cv.chosen_source])


__all__ = [
    "CATEGORIES",
    "Example",
    "ModelCV",
    "TrainConfig",
    "cross_validate_model",
    "examples_from_docs",
    "finetune",
    "train_model",
    "train_predictor",
]


def attach_cv(model_dir: str | Path, docs: Sequence[GoldDocument], cv_report: dict[str, Any]) -> dict[str, Any]:
    """Record a CV report in an already trained model directory (and pick its category source).

    Refuses a report computed on other gold data than the model was fitted on.
    """
    from pipeline.model.modeling import default_card

    d = Path(model_dir)
    meta = read_meta(d)
    sha = gold_sha256(docs)
    if meta.get("train_gold_sha256") != sha or cv_report.get("gold_sha256") not in (None, sha):
        raise ValueError(f"{d}: model, CV report and gold data do not share one gold hash")
    source = cv_report["chosen_target_category_source"]
    meta.update(
        target_category_source=source,
        cv_metrics=cv_report[source],
        cv_summary={k: v for k, v in cv_report.items() if k not in ("per_fold", "config")},
        cv_protocol=(
            f"{cv_report.get('folds')}-fold by {cv_report.get('by')}, seed {cv_report.get('cv_seed')}; "
            "dev part of each training fold (whole paragraphs) for early stopping; pooled out-of-fold "
            "predictions; CV config = final config except the final fit's fixed epoch count"
        ),
        cv_config=cv_report.get("config"),
    )
    write_meta(d, meta)
    (d / CARD_FILE).write_text(default_card(meta), encoding="utf-8")
    return meta


def rule_baseline_scores(docs: Sequence[GoldDocument], n_resamples: int = 1000) -> Metrics:
    """The rule baseline on every gold sentence (it has no training, so no folds are needed)."""
    from pipeline.evaluation.scoring import score
    from pipeline.rules.baseline import RulePredictor

    return score(docs, tag_docs(RulePredictor(), docs), n_resamples=n_resamples)
