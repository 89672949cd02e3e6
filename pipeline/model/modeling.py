"""Stage: the joint BERT model, its predictor, and the model directory (save / load / checks).

``JointModel``: one encoder (any BERT-family checkpoint via ``AutoModel``, or a small BERT built
from ``BertConfig`` over the project's own character vocabulary, ``pipeline.model.vocab``) and heads:

* token head: BIO over TARGET (``schema.BIO_TAGS``) plus, on the same tokens, one logit per
  category (``schema.CATEGORIES``); a target's own category is the mean of these over its
  tokens (= a linear head on the mean-pooled span);
* sentence head: ``[CLS]`` and mean-pooled states → category.

``JointModel.forward(input_ids, attention_mask, token_type_ids)`` returns ``(token_logits,
sentence_logits)`` with ``token_logits[..., :3]`` the BIO logits and ``[..., 3:]`` the per-token
category logits. That step is the only thing an inference backend replaces
(``pipeline.model.backends.make_runner(model_dir, backend)`` returns a callable with this signature).

A model directory holds ``config.json``, ``model.safetensors``, the tokenizer files,
``govtarget.json`` (schema version, label maps, target-category source, training arguments,
seed, hash of the gold data, cross-validated metrics, library versions, file hashes, creation
time) and ``MODEL_CARD.md`` (``pipeline.model.model_dir``). ``load_model_dir`` checks all of it
and raises ``ModelLoadError`` naming the file, never giving wrong output; ``pipeline.model.load``
puts a directory and a backend together into a ``ModelPredictor``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pipeline.errors import DeviceError, ModelLoadError
from pipeline.fingerprint import rules_sha256
from pipeline.model.encoding import EncodedSentence, context_text, decode_many, encode_many, rule_context
from pipeline.model.model_dir import (
    CARD_FILE,
    WEIGHTS_FILE,
    check_files,
    file_hashes,
    read_meta,
    write_meta,
)
from pipeline.predict import SentenceInput, SentencePrediction, SpanPrediction
from pipeline.schema import BIO_TAGS, CATEGORIES, SCHEMA_VERSION

N_TAGS = len(BIO_TAGS)
N_CATS = len(CATEGORIES)
Runner = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[Any, Any]]


def check_device(device: str) -> None:
    """Raise DeviceError unless torch can put tensors on ``device``."""
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"--device {device}: no CUDA device is available to this torch ({torch.__version__}); use --device cpu"
        )
    if str(device) not in ("cpu",) and not str(device).startswith("cuda"):
        try:
            torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise DeviceError(f"--device {device}: not a device torch knows ({e})") from e


def small_bert_config(
    vocab_size: int,
    hidden_size: int = 256,
    num_hidden_layers: int = 4,
    num_attention_heads: int = 4,
    intermediate_size: int = 1024,
    max_position_embeddings: int = 512,
    type_vocab_size: int = 2,
) -> Any:
    """The small BERT trained here (no weights can be downloaded)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=type_vocab_size,
        pad_token_id=0,
    )


class JointModel(nn.Module):
    """Encoder + token head (BIO and per-token category) + sentence-category head."""

    def __init__(self, encoder: nn.Module, n_tags: int = N_TAGS, n_cats: int = N_CATS, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        enc_config: Any = encoder.config  # a transformers config (nn.Module attributes are untyped)
        hidden = int(enc_config.hidden_size)
        self.n_tags, self.n_cats = n_tags, n_cats
        self.dropout = nn.Dropout(dropout)
        self.token_head = nn.Linear(hidden, n_tags + n_cats)
        self.sentence_head = nn.Linear(2 * hidden, n_cats)

    @property
    def config(self) -> Any:
        return self.encoder.config

    @classmethod
    def from_config(cls, config: Any) -> JointModel:
        from transformers import AutoModel

        return cls(AutoModel.from_config(config, add_pooling_layer=False))

    @classmethod
    def from_pretrained_encoder(cls, name_or_path: str) -> JointModel:
        """A hub name (``bert-base-chinese``, ``hfl/chinese-roberta-wwm-ext``) or a local folder
        (e.g. an MLM run of ``pipeline.training.pretrain``)."""
        from transformers import AutoModel

        return cls(AutoModel.from_pretrained(name_or_path, add_pooling_layer=False))

    def widen_token_types(self, n: int) -> None:
        """Grow the token-type embeddings to ``n`` rows (rule features need 4; Hugging Face
        BERT checkpoints have 2). New rows start as copies of row 0 (plain sentence tokens), so
        the widened model behaves exactly like the original until it learns otherwise; the
        config is updated, so the saved directory loads through ``from_pretrained``."""
        embeddings: Any = self.encoder.embeddings  # nn.Module attributes are untyped
        emb = embeddings.token_type_embeddings
        old = emb.weight.shape[0]
        if old >= n:
            return
        new = nn.Embedding(n, emb.weight.shape[1]).to(emb.weight.device, emb.weight.dtype)
        with torch.no_grad():
            new.weight[:old] = emb.weight
            new.weight[old:] = emb.weight[0]
        embeddings.token_type_embeddings = new
        enc_config: Any = self.encoder.config
        enc_config.type_vocab_size = n
        # BERT keeps a registered all-zero token_type_ids buffer; its values stay valid.

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        h = self.dropout(h)
        token_logits = self.token_head(h)
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        sentence_logits = self.sentence_head(torch.cat([h[:, 0], mean], dim=-1))
        return token_logits, sentence_logits


# --------------------------------------------------------------------------- batching


def pad_batch(windows: list[Any], pad_id: int, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Pad a list of ``encoding.Window`` to the longest one (batches are length-sorted)."""
    lengths = [len(w) for w in windows]
    n = max(lengths)
    # Padded Python lists, one numpy conversion each (cheaper than a slice assignment per window).
    ids = np.array([[*w.input_ids, *[pad_id] * (n - k)] for w, k in zip(windows, lengths)], dtype=np.int64)
    tt = np.array([[*w.token_type_ids, *[0] * (n - k)] for w, k in zip(windows, lengths)], dtype=np.int64)
    am = (np.arange(n)[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    return {
        "input_ids": torch.from_numpy(ids).to(device),
        "attention_mask": torch.from_numpy(am).to(device),
        "token_type_ids": torch.from_numpy(tt).to(device),
    }


#: Padded tokens per forward pass on CUDA (``token_budget_batches``): 32 k tokens of a bert-base
#: forward in fp16 take ~1.5 GB of activations, far below any current GPU's memory.
CUDA_TOKEN_BUDGET = 32_768


def token_budget_batches(lengths: list[int], budget: int, max_batch: int | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` slices of ``lengths`` (sorted ascending) whose padded size
    ``(end - start) × lengths[end - 1]`` stays within ``budget`` tokens (and ``max_batch`` rows).

    A window longer than the budget gets a batch of its own; every index is in exactly one batch.
    """
    if budget < 1:
        raise ValueError(f"token budget must be positive, got {budget}")
    out: list[tuple[int, int]] = []
    start = 0
    for i, n in enumerate(lengths):
        if i > start and ((i + 1 - start) * n > budget or (max_batch is not None and i - start >= max_batch)):
            out.append((start, i))
            start = i
    if start < len(lengths):
        out.append((start, len(lengths)))
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


# --------------------------------------------------------------------------- predictor


class ModelPredictor:
    """``pipeline.predict.Predictor`` backed by a ``JointModel`` (or a backend runner)."""

    def __init__(
        self,
        model: JointModel | None,
        tokenizer: Any,
        meta: dict[str, Any] | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        runner: Runner | None = None,
        name: str = "model",
        token_budget: int | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.meta: dict[str, Any] = dict(meta or {})
        self.device = torch.device(device)
        if model is not None:
            model.to(self.device).eval()
        self.runner = runner
        self.name = name
        self.batch_size = batch_size
        #: Batches by padded tokens instead of ``batch_size`` sentences (default on CUDA, where
        #: a few long windows must not set the batch size for all); ``None``: fixed batch size.
        self.token_budget = (
            token_budget if token_budget is not None else (CUDA_TOKEN_BUDGET if self.device.type == "cuda" else None)
        )
        #: Mixed precision on CUDA (``torch.autocast`` fp16: matmuls in half, softmax and
        #: layer norm in fp32); CPU runs stay fp32, so their output is unchanged.
        self.autocast = self.device.type == "cuda"
        self.max_length = int(self.meta.get("max_length", 128))
        self.stride = int(self.meta.get("stride", 32))
        self.target_category_source: str = self.meta.get("target_category_source", "sentence")
        self.use_context = bool(self.meta.get("use_context", True))
        #: Stacking: rule spans as token types, rule category in the context (see encoding).
        self.rule_features = bool(self.meta.get("rule_features", False))
        #: Weight of the rules' category distribution averaged into the sentence head's (0 = off).
        self.rule_category_weight = float(self.meta.get("rule_category_weight", 0.0) or 0.0)
        #: β of ``encoding.decode``: how strongly the rule spans are preferred (0 = off).
        self.rule_prior = float(self.meta.get("rule_prior", 0.0) or 0.0)
        #: Keep the model's departures from the rule spans only where they hold numerals.
        self.reconcile_edits = bool(self.meta.get("reconcile_edits", False))
        #: Snap every span to clause boundaries (``fields.clauses.snap_to_clauses``); on unless a model
        #: directory says otherwise (only for measuring what the snapping changes).
        self.snap_clauses = bool(self.meta.get("snap_clauses", True))

    # -- the separable forward step ------------------------------------------------------
    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[np.ndarray, np.ndarray]:
        """Token logits ``(B, T, 3 + C)`` and sentence logits ``(B, C)`` as numpy arrays."""
        if self.runner is not None:
            tl, sl = self.runner(input_ids, attention_mask, token_type_ids)
        else:
            assert self.model is not None
            with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.float16, enabled=self.autocast):
                tl, sl = self.model(
                    input_ids.to(self.device), attention_mask.to(self.device), token_type_ids.to(self.device)
                )
        return _numpy(tl), _numpy(sl)

    def encode_inputs(
        self, sentences: list[SentenceInput], hints: list[SentencePrediction] | None = None
    ) -> list[EncodedSentence]:
        if self.rule_features and hints is None:
            hints = rule_hints(sentences)
        items: list[tuple[str, str, list[tuple[int, int]] | None]] = []
        where: dict[tuple[str, tuple[str, ...]], str] = {}  # sentences of a section share it
        for i, s in enumerate(sentences):
            ctx = ""
            if self.use_context:
                key = (s.part, s.section_path)
                ctx = where[key] if key in where else where.setdefault(key, context_text(s.part, s.section_path))
            rule_spans = None
            if self.rule_features and hints is not None:
                ctx = rule_context(hints[i].category, ctx)
                rule_spans = [(sp.start, sp.end) for sp in hints[i].spans]
            items.append((s.text, ctx, rule_spans))
        # One tokenizer call for all sentences (the same windows as ``encode`` one by one).
        return encode_many(self.tokenizer, items, max_length=self.max_length, stride=self.stride)

    def forward_encoded(self, encoded: list[EncodedSentence]) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
        """Run every window of ``encoded`` through the model; per sentence, the token logits of
        each window and the sentence-category probabilities (softmax of the windows' mean logits)."""
        token_logits, probs = self.forward_windows(encoded)
        return token_logits, list(probs)

    def forward_windows(self, encoded: list[EncodedSentence]) -> tuple[list[list[np.ndarray]], np.ndarray]:
        """``forward_encoded`` with the sentence probabilities as one ``(sentences, C)`` float64
        array: one softmax over all sentences (row by row the values of one sentence's)."""
        first = np.cumsum([0] + [len(e.windows) for e in encoded])
        flat = [(i, w) for i, e in enumerate(encoded) for w in range(len(e.windows))]
        # Sorted by length: batches carry almost no padding (PITFALLS: 963 vs 360 tokens/s).
        flat.sort(key=lambda iw: len(encoded[iw[0]].windows[iw[1]]))
        tok_out: list[np.ndarray | None] = [None] * len(flat)
        sent_out: np.ndarray | None = None
        pad_id = int(self.tokenizer.pad_token_id or 0)
        if self.token_budget is not None:
            lengths = [len(encoded[i].windows[w]) for i, w in flat]
            slices = token_budget_batches(lengths, self.token_budget)
        else:
            slices = [(b, min(b + self.batch_size, len(flat))) for b in range(0, len(flat), self.batch_size)]
        for b0, b1 in slices:
            chunk = flat[b0:b1]
            wins = [encoded[i].windows[w] for i, w in chunk]
            batch = pad_batch(wins, pad_id)
            tl, sl = self.forward(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            at = [int(first[i]) + w for i, w in chunk]
            for k, j in enumerate(at):
                tok_out[j] = tl[k, : len(wins[k])]
            if sent_out is None:
                sent_out = np.empty((len(flat), sl.shape[-1]), dtype=sl.dtype)
            sent_out[at] = sl
        token_logits = [[tok_out[j] for j in range(first[i], first[i + 1])] for i in range(len(encoded))]
        if sent_out is None:  # no sentences
            return [], np.zeros((0, len(CATEGORIES)))
        mean = sent_out[first[:-1]]  # one window: its logits (the mean of one row is the row)
        for i, e in enumerate(encoded):
            if len(e.windows) > 1:
                mean[i] = np.mean([sent_out[j] for j in range(first[i], first[i + 1])], axis=0)
        return token_logits, _softmax(mean.astype(np.float64))  # type: ignore[return-value]

    def predict(self, sentences: list[SentenceInput]) -> list[SentencePrediction]:
        """Sentences of ONE document in order (the rule features depend on preceding sentences)."""
        if not sentences:
            return []
        hints = rule_hints(sentences) if self.rule_features or self.rule_category_weight > 0 else None
        encoded = self.encode_inputs(sentences, hints)
        token_logits, sentence_probs = self.forward_windows(encoded)
        if hints is not None:
            sentence_probs = mix_rule_category(
                sentence_probs, [h.category_probs for h in hints], self.rule_category_weight
            )
        best = np.argmax(sentence_probs, axis=1).tolist()
        decoded = decode_many(
            encoded,
            [[t[:, :N_TAGS] for t in tls] for tls in token_logits],
            [[t[:, N_TAGS:] for t in tls] for tls in token_logits],
            rule_prior=self.rule_prior if self.rule_features else 0.0,
            reconcile=self.reconcile_edits,
            snap=self.snap_clauses,
        )
        preds = []
        for i, (spans_i, probs) in enumerate(zip(decoded, sentence_probs.tolist())):
            cat = CATEGORIES[best[i]]
            spans = []
            rule_cat = (
                {(r.start, r.end): r.category or hints[i].category for r in hints[i].spans} if hints is not None else {}
            )
            for d in spans_i:
                sp = SpanPrediction(start=d.start, end=d.end, score=round(d.score, 4))
                if self.target_category_source == "rule" and (d.start, d.end) in rule_cat:
                    sp.category = rule_cat[(d.start, d.end)]
                elif self.target_category_source == "span" and d.category_logits is not None:
                    cp = _softmax(d.category_logits)
                    sp.category = CATEGORIES[int(np.argmax(cp))]
                    sp.category_score = float(cp.max())
                spans.append(sp)
            preds.append(
                SentencePrediction(
                    category=cat,
                    category_probs={c: float(p) for c, p in zip(CATEGORIES, probs)},
                    spans=spans,
                )
            )
        return preds

    # -- model directory -----------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str], fp16: bool = True, card: str | None = None) -> Path:
        """Write the complete model directory (atomically enough: files written, then hashed)."""
        assert self.model is not None, "a runner-only predictor cannot be saved"
        self.meta["target_category_source"] = self.target_category_source
        self.meta.setdefault("max_length", self.max_length)
        self.meta.setdefault("stride", self.stride)
        self.meta.setdefault("use_context", self.use_context)
        self.meta["rule_features"] = self.rule_features
        self.meta["rule_category_weight"] = self.rule_category_weight
        self.meta["rule_prior"] = self.rule_prior
        self.meta["reconcile_edits"] = self.reconcile_edits
        self.meta["snap_clauses"] = self.snap_clauses
        if self.rule_features or self.rule_category_weight > 0:
            self.meta["rules_sha256"] = rules_sha256()
        return save_model_dir(self.model, self.tokenizer, folder, self.meta, fp16=fp16, card=card)


def mix_rule_category(
    probs: np.ndarray, rule_probs: dict[str, float] | list[dict[str, float] | None] | None, weight: float
) -> np.ndarray:
    """The category ensemble: ``(1 − w)·model + w·rules`` (the rules' distribution normalised;
    uniform where they give none). ``w = 0`` or no rule distribution: the model's unchanged.

    One sentence (``probs`` of shape ``(C,)``, one dict) or many (``(N, C)``, a list of N dicts,
    mixed row by row: each row's values are those of the one-sentence call)."""
    if weight <= 0 or rule_probs is None:
        return probs
    one = isinstance(rule_probs, dict)
    rows: list[dict[str, float] | None] = [rule_probs] if isinstance(rule_probs, dict) else rule_probs
    rp = np.array([[(r or {}).get(c, 0.0) for c in CATEGORIES] for r in rows], dtype=np.float64)
    total = rp.sum(axis=1, keepdims=True)
    rp = np.where(total > 0, rp / np.where(total > 0, total, 1.0), 1.0 / len(CATEGORIES))
    mixed = (1 - weight) * probs + weight * (rp[0] if one else rp)
    if not one:  # a sentence without a rule distribution keeps the model's
        mixed = np.where(np.array([r is None for r in rows])[:, None], probs, mixed)
    return np.asarray(mixed)


def rule_hints(sentences: list[SentenceInput]) -> list[SentencePrediction]:
    """The rule baseline's predictions on one document's sentences (in order: its category
    context carries over from preceding sentences)."""
    from pipeline.rules.baseline import RulePredictor

    return RulePredictor().predict(list(sentences))


def library_versions() -> dict[str, str]:
    import tokenizers
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
    }


def save_model_dir(
    model: JointModel,
    tokenizer: Any,
    folder: str | os.PathLike[str],
    meta: dict[str, Any],
    fp16: bool = True,
    card: str | None = None,
) -> Path:
    from safetensors.torch import save_file

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    enc_config: Any = model.encoder.config
    enc_config.save_pretrained(d)
    tokenizer.save_pretrained(d)
    # transformers 5 saves only tokenizer.json; vocab.txt is the readable, checkable source.
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    if [i for _, i in vocab] != list(range(len(vocab))):
        raise ValueError("tokenizer vocabulary ids are not contiguous")
    (d / "vocab.txt").write_text("".join(t + "\n" for t, _ in vocab), encoding="utf-8")
    # fp16 halves the directory (the shipped model must stay under 25 MB); loading upcasts.
    state = {
        k: (v.detach().to("cpu").half() if fp16 and v.is_floating_point() else v.detach().to("cpu")).contiguous()
        for k, v in model.state_dict().items()
    }
    save_file(state, str(d / WEIGHTS_FILE), metadata={"format": "pt"})
    full = dict(meta)
    full.update(
        schema_version=SCHEMA_VERSION,
        bio_tags=list(BIO_TAGS),
        categories=list(CATEGORIES),
        weights_dtype="float16" if fp16 else "float32",
        library_versions=library_versions(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        n_parameters=sum(p.numel() for p in model.parameters()),
    )
    full.setdefault("target_category_source", "sentence")
    full["files_sha256"] = file_hashes(d)
    write_meta(d, full)
    (d / CARD_FILE).write_text(card or default_card(full), encoding="utf-8")
    return d


def default_card(meta: dict[str, Any]) -> str:
    cv = meta.get("cv_metrics") or {}
    lines = [
        "# govtarget model",
        "",
        f"Created {meta.get('created')}; schema version {meta.get('schema_version')}; "
        f"{meta.get('n_parameters', 0) / 1e6:.1f}M parameters ({meta.get('weights_dtype')}).",
        f"Encoder: {meta.get('encoder', '?')}; target category from: {meta.get('target_category_source')}.",
        f"Fine-tuned on gold data with sha256 {meta.get('train_gold_sha256', '?')} "
        f"({meta.get('train_documents', '?')}).",
        "",
        "Cross-validated metrics (out-of-fold predictions, never training data):",
        "",
    ]
    for k, v in sorted(cv.items()):
        if isinstance(v, (int, float)):
            lines.append(f"- {k}: {v:.4f}" if isinstance(v, float) else f"- {k}: {v}")
    lines += ["", "See models/README.md for the full model card.", ""]
    return "\n".join(lines)


def check_tokenizer_matches_vocab(tokenizer: Any, d: Path) -> None:
    """Raise ModelLoadError unless the loaded tokenizer maps every token of ``vocab.txt`` to its
    line number and nothing else: catches an edited ``tokenizer.json`` even in a model saved before
    its sha256 was recorded."""
    lines = (d / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    want = {tok: i for i, tok in enumerate(lines)}
    got = tokenizer.get_vocab()
    if len(want) != len(lines):
        raise ModelLoadError.at(d / "vocab.txt", "repeats a token")
    # Tokens added on top of vocab.txt (special tokens) must come after it.
    wrong = [t for t, i in want.items() if got.get(t) != i]
    extra = [t for t, i in got.items() if t not in want and i < len(lines)]
    if wrong or extra:
        name = "tokenizer.json" if (d / "tokenizer.json").exists() else "vocab.txt"
        sample = ", ".join(repr(t) for t in (wrong + extra)[:3])
        raise ModelLoadError.at(
            d / name, f"token ids differ from vocab.txt for {len(wrong) + len(extra)} token(s) ({sample})"
        )


def load_model_dir(
    folder: str | os.PathLike[str], device: str = "cpu", load_weights: bool = True
) -> tuple[JointModel | None, Any, dict[str, Any]]:
    """Load and check a model directory. Raises ``ModelLoadError`` naming the bad file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, BertTokenizerFast  # type: ignore[attr-defined]

    from pipeline.model.vocab import check_tokenizer

    d = Path(folder)
    meta = read_meta(d)
    check_files(d, meta)
    try:
        config = AutoConfig.from_pretrained(str(d))
    except Exception as e:  # transformers raises several types for a bad config
        raise ModelLoadError.at(d / "config.json", f"unreadable ({e})") from e
    try:
        tokenizer = BertTokenizerFast.from_pretrained(str(d))
        check_tokenizer(tokenizer, d)
    except Exception as e:
        raise ModelLoadError.at(d / "vocab.txt", f"tokenizer does not load or fails its checks ({e})") from e
    check_tokenizer_matches_vocab(tokenizer, d)
    if len(tokenizer) > config.vocab_size:
        raise ModelLoadError.at(
            d / "vocab.txt", f"{len(tokenizer)} tokens but the model has {config.vocab_size} embeddings"
        )
    try:
        state = load_file(str(d / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelLoadError.at(d / WEIGHTS_FILE, f"corrupted ({e})") from e
    tw = state.get("token_head.weight")
    sw = state.get("sentence_head.weight")
    if tw is None or sw is None:
        raise ModelLoadError.at(d / WEIGHTS_FILE, "lacks the token/sentence heads")
    if tw.shape[0] != N_TAGS + N_CATS or sw.shape[0] != N_CATS:
        raise ModelLoadError.at(
            d / WEIGHTS_FILE,
            f"head sizes {tw.shape[0]} / {sw.shape[0]} do not match the label maps "
            f"({N_TAGS} tags + {N_CATS} categories / {N_CATS} categories)",
        )
    if not load_weights:
        return None, tokenizer, meta
    model = JointModel(AutoModel.from_config(config, add_pooling_layer=False))
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
    except RuntimeError as e:
        raise ModelLoadError.at(d / WEIGHTS_FILE, f"weights do not fit config.json ({str(e)[:300]})") from e
    model.to(device).eval()
    return model, tokenizer, meta


def model_size_bytes(folder: str | os.PathLike[str]) -> int:
    return sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())
