"""Stage: sentences ↔ model features. Char↔token alignment, BIO encode/decode, windows.

Everything goes through the fast tokenizer's ``offset_mapping``, never through token counts:
WordPiece splits digit strings (``1450`` → ``145 ##0``), one ``[UNK]`` can cover several
characters, and whitespace/U+200B/U+FEFF produce no token at all.

* The model sees ``textnorm.normalize(text)``, a same-length copy, so offsets are identical.
* Encoding: a token takes the BIO label of its first character; a gold boundary that falls
  inside a word piece is counted in ``EncodedSentence.misaligned`` and warned about, never
  silently shifted.
* Sentences longer than the window become overlapping windows (tokenizer ``stride`` is the
  overlap); the windows are checked to cover every token, so nothing is truncated silently.
* Decoding merges the windows (probabilities of a token seen twice are averaged), then reads
  spans from the argmax tags: an ``I`` without a ``B`` starts a span, spans never overlap, and
  a predicted token label covers every character the token spans.

BIO tags exist only inside this module and the model; everything outside sees ``(start, end)``.

Rule features (stacking, ``rule_spans``): sentence tokens get token type 0 (outside any rule
span), 2 (first token of a rule span) or 3 (inside one), from the rule baseline's spans on the
same sentence (first character decides, like labels); context tokens keep type 1. The rule
baseline's sentence category is prepended to the context text (``rule_context``).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerFast

from pipeline.fields.clauses import NUMERAL as _NUMERAL
from pipeline.fields.clauses import snap_to_clauses
from pipeline.schema import TAG2ID
from pipeline.text.textnorm import normalize

log = logging.getLogger(__name__)

O, B, I = TAG2ID["O"], TAG2ID["B-TARGET"], TAG2ID["I-TARGET"]  # noqa: E741 (BIO names)
#: Ignored by the cross-entropy losses (special tokens, context tokens, no gold).
IGNORE = -100
#: Longest heading context (characters) given to the model after the sentence.
MAX_CONTEXT_CHARS = 24
#: Token types: sentence, context, first token of a rule span, inside a rule span.
TYPE_SENT, TYPE_CTX, TYPE_RULE_B, TYPE_RULE_I = 0, 1, 2, 3
#: The rule baseline's BIO tag a rule token type stands for (every other type: O).
RULE_TAG_OF_TYPE = {TYPE_RULE_B: B, TYPE_RULE_I: I}
#: Type vocabulary a rule-feature model needs.
RULE_TYPE_VOCAB = 4
#: Room for the rule category prefix (``民生｜``) in front of the heading context.
_PREFIX_CHARS = 6
_PART_WORDS = {"review": "回顾", "plan": "部署", "other": "其他"}


@dataclass
class Window:
    """One model input. ``offsets[t]`` is the sentence char range of token ``t`` or ``None``
    for special and context tokens."""

    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]
    tag_labels: list[int] | None = None
    cat_labels: list[int] | None = None

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class EncodedSentence:
    text: str
    windows: list[Window]
    #: Gold span boundaries that fall strictly inside a token (reported, not shifted).
    misaligned: int = 0
    misaligned_examples: list[str] = field(default_factory=list)


@dataclass
class DecodedSpan:
    start: int
    end: int
    #: Mean probability of the chosen tag over the span's tokens.
    score: float
    min_score: float
    #: Mean of the per-token category logits over the span (``None`` without a category head).
    category_logits: np.ndarray | None = None


def context_text(part: str = "plan", section_path: tuple[str, ...] = ()) -> str:
    """Second segment given to the model: where the sentence sits (part + innermost heading)."""
    heading = section_path[-1][:MAX_CONTEXT_CHARS] if section_path else ""
    return f"{_PART_WORDS.get(part, '其他')}：{heading}"


def rule_context(rule_category: str, context: str) -> str:
    """Context segment with the rule baseline's sentence category in front (``民生｜部署：…``)."""
    return f"{rule_category}｜{context}"


def char_tags(n_chars: int, spans: list[tuple[int, int]]) -> list[int]:
    """BIO tag per character for half-open spans (sentence-relative)."""
    tags = [O] * n_chars
    for s, e in sorted(spans):
        if not (0 <= s < e <= n_chars):
            raise ValueError(f"span [{s}, {e}) outside a sentence of {n_chars} characters")
        if any(t != O for t in tags[s:e]):
            raise ValueError(f"span [{s}, {e}) overlaps another span")
        tags[s] = B
        for i in range(s + 1, e):
            tags[i] = I
    return tags


def _boundary_problems(text: str, offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[str]:
    probs = []
    for s, e in spans:
        for ts, te in offsets:
            for b, name in ((s, "start"), (e, "end")):
                if ts < b < te:
                    probs.append(f"span {text[s:e]!r} {name} {b} inside token {text[ts:te]!r} [{ts}, {te})")
    return probs


def encode(
    tokenizer: PreTrainedTokenizerFast,
    text: str,
    context: str = "",
    spans: list[tuple[int, int]] | None = None,
    span_categories: list[int] | None = None,
    max_length: int = 128,
    stride: int = 32,
    rule_spans: list[tuple[int, int]] | None = None,
) -> EncodedSentence:
    """Encode one sentence (with optional gold spans and their category ids) into windows.

    ``rule_spans`` (sentence-relative, from the rule baseline) set token types 2/3 on the
    sentence tokens they cover; ``None`` keeps the plain 0/1 types. ``encode_many`` is the same
    for many sentences without gold spans, in one tokenizer call.
    """
    if not tokenizer.is_fast:
        raise ValueError("a fast tokenizer is required (offsets, and slow ones order overflow windows differently)")
    context = _check_room(tokenizer, context, max_length, stride)
    norm = normalize(text)
    enc = tokenizer(
        norm,
        context if context else None,
        truncation="only_first" if context else True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_token_type_ids=True,
    )
    pieces = [
        (
            enc["input_ids"][w],
            enc["token_type_ids"][w],
            _sentence_offsets(enc["offset_mapping"][w], enc.sequence_ids(w)),
        )
        for w in range(len(enc["input_ids"]))
    ]
    ctags = char_tags(len(text), spans) if spans is not None else None
    ccats: list[int] | None = None
    if spans is not None and span_categories is not None:
        ccats = [IGNORE] * len(text)
        for (s, e), c in zip(spans, span_categories):
            for i in range(s, e):
                ccats[i] = c
    windows, covered = _windows(pieces, text, rule_spans, ctags, ccats)
    full = tokenizer(norm, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    full_offs = [(int(s), int(e)) for s, e in full if e > s]
    _check_covered(text, full_offs, covered)
    out = EncodedSentence(text=text, windows=windows)
    if spans:
        probs = _boundary_problems(text, full_offs, spans)
        if probs:
            out.misaligned = len(probs)
            out.misaligned_examples = probs[:3]
            log.warning("gold boundary inside a word piece: %s", "; ".join(probs[:3]))
    return out


def encode_many(
    tokenizer: PreTrainedTokenizerFast,
    items: list[tuple[str, str, list[tuple[int, int]] | None]],
    max_length: int = 128,
    stride: int = 32,
) -> list[EncodedSentence]:
    """``[encode(tokenizer, text, context, max_length=…, stride=…, rule_spans=r) for text,
    context, r in items]``, identical windows (tests/test_speedups.py), at a fraction of the cost:
    one call of the Rust tokenizer for all sentences and one for the distinct contexts (private
    copies of the backend tokenizer with the truncation ``tokenizer(...)`` would set, so the
    caller's tokenizer is not touched), windows put together by the backend's post-processing
    (or, for BERT's template and a sentence that fits one window, by ``_assembled``), and the
    coverage check on sentences that were split into windows (a sentence without overflowing
    windows was not truncated, so its one window holds every token)."""
    if not tokenizer.is_fast:
        raise ValueError("a fast tokenizer is required (offsets, and slow ones order overflow windows differently)")
    if not items:
        return []
    backends = _backends(tokenizer, max_length, stride)
    room: dict[str, str] = {}  # a report has a few hundred distinct contexts among its sentences
    contexts = [
        room[c] if c in room else room.setdefault(c, _check_room(tokenizer, c, max_length, stride)) for _, c, _ in items
    ]
    norms = [normalize(t) for t, _, _ in items]
    plain = backends["plain"]
    # Each sequence is tokenized alone (what ``encode`` does inside for a pair too), a context
    # once however many sentences share it (a report repeats a few hundred); the backend's own
    # post-processing then truncates into windows and adds the special tokens and type ids.
    sent_encs = plain.encode_batch(norms, add_special_tokens=False)
    uniq = sorted({c for c in contexts if c})
    ctx_encs = dict(zip(uniq, plain.encode_batch(uniq, add_special_tokens=False)))
    pair, single = backends["pair"], backends["single"]
    fast = bool(backends["template_types"])
    bert = backends.get("bert_template")
    ctx_ids = {c: e.ids for c, e in ctx_encs.items()}
    out: list[EncodedSentence] = []
    for (text, _, rule_spans), norm, ctx, sent in zip(items, norms, contexts, sent_encs):
        if not fast:  # a template that does not tell the sequences apart: encode the pair
            enc = pair.encode(norm, ctx) if ctx else single.encode(norm)
            parts = [enc, *enc.overflowing]
            pieces = [(e.ids, e.type_ids, _sentence_offsets(e.offsets, e.sequence_ids)) for e in parts]
        else:
            a_ids, b_ids = sent.ids, ctx_ids[ctx] if ctx else None
            if bert is not None and len(a_ids) + (len(b_ids) + 3 if b_ids is not None else 2) <= max_length:
                # One window, nothing to truncate: assembled as post_process would (``_bert_template``).
                parts = [sent]
                pieces = [_assembled(a_ids, sent.offsets, b_ids, *bert)]
            else:
                enc = pair.post_process(sent, ctx_encs[ctx]) if ctx else single.post_process(sent)
                parts = [enc, *enc.overflowing]
                pieces = [_template_piece(e) for e in parts]
            if rule_spans is not None and not rule_spans:
                # No rule span: every sentence token keeps type 0 (TYPE_SENT), which the template
                # gives it already (``template_types``), so the per-token mapping is skipped.
                rule_spans = None
        many = len(parts) > 1
        windows, covered = _windows(pieces, text, rule_spans, None, None, track=many)
        if many:  # one window holds every token (nothing was truncated); several are checked
            _check_covered(text, [(s, e) for s, e in sent.offsets if e > s], covered)
        out.append(EncodedSentence(text=text, windows=windows))
    return out


#: Token type of a sentence token by its rule tag (O: plain sentence type).
_RULE_TYPE = {O: TYPE_SENT, **{tag: t for t, tag in RULE_TAG_OF_TYPE.items()}}


def _windows(
    pieces: list[tuple[list[int], list[int], list[tuple[int, int] | None]]],
    text: str,
    rule_spans: list[tuple[int, int]] | None,
    ctags: list[int] | None,
    ccats: list[int] | None,
    track: bool = True,
) -> tuple[list[Window], set[tuple[int, int]]]:
    """Windows from the tokenizer's per-window ``(ids, type ids, sentence offsets)`` (``None``
    where the token is not one of the sentence), and the sentence tokens they cover (left empty
    with ``track=False``)."""
    rtags = char_tags(len(text), rule_spans) if rule_spans is not None else None
    rule_type = _RULE_TYPE
    windows: list[Window] = []
    covered: set[tuple[int, int]] = set()
    for ids, type_ids, offs in pieces:
        if track:
            covered.update(o for o in offs if o is not None)
        tag_labels = cat_labels = None
        if ctags is not None:
            # A token takes the label of its first character; specials/context are ignored.
            tag_labels = [ctags[o[0]] if o is not None else IGNORE for o in offs]
            if ccats is not None:
                cat_labels = [ccats[o[0]] if o is not None else IGNORE for o in offs]
        types = type_ids if isinstance(type_ids, list) else list(type_ids)
        if rtags is not None:
            # Per window from its own offsets, so overlapping windows carry the right types.
            types = [rule_type[rtags[o[0]]] if o is not None else t for o, t in zip(offs, types)]
        windows.append(
            Window(
                input_ids=ids if isinstance(ids, list) else list(ids),  # the tokenizer's lists are fresh
                token_type_ids=types,
                offsets=offs,
                tag_labels=tag_labels,
                cat_labels=cat_labels,
            )
        )
    return windows, covered


def _check_room(tokenizer: PreTrainedTokenizerFast, context: str, max_length: int, stride: int) -> str:
    """The context as the model sees it (cut, normalised); raises if it leaves the sentence no
    more than ``stride`` tokens per window."""
    context = normalize(context[: MAX_CONTEXT_CHARS + 4 + _PREFIX_CHARS])
    n_ctx = _context_tokens(tokenizer, context) if context else 0
    room = max_length - n_ctx - (3 if context else 2)
    if room <= stride:
        raise ValueError(f"max_length {max_length} leaves {room} sentence tokens, not more than stride {stride}")
    return context


def _check_covered(text: str, full_offs: list[tuple[int, int]], covered: set[tuple[int, int]]) -> None:
    missing = set(full_offs) - covered
    if missing:  # nothing may be truncated silently
        raise RuntimeError(f"windows lost {len(missing)} tokens of a {len(text)}-character sentence")


_BACKENDS: weakref.WeakKeyDictionary[PreTrainedTokenizerFast, dict[tuple[int, int], dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _backends(tokenizer: PreTrainedTokenizerFast, max_length: int, stride: int) -> dict[str, Any]:
    """Private copies of the Rust tokenizer set up as ``encode``'s calls set the shared one:
    ``pair`` (truncation ``only_first``), ``single`` (``longest_first``, what ``truncation=True``
    means), ``plain`` (no truncation); no padding. Cached per tokenizer and window shape."""
    try:
        per = _BACKENDS.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: no cache
        per = {}
    got = per.get((max_length, stride))
    if got is not None:
        return got
    from tokenizers import Tokenizer

    spec = tokenizer.backend_tokenizer.to_str()
    out: dict[str, Any] = {}
    for name, strategy in (("pair", "only_first"), ("single", "longest_first"), ("plain", None)):
        t = Tokenizer.from_str(spec)
        t.no_padding()
        if strategy is None:
            t.no_truncation()
        else:
            t.enable_truncation(max_length, stride=stride, strategy=strategy, direction=tokenizer.truncation_side)
        t.encode_special_tokens = bool(getattr(tokenizer, "split_special_tokens", False))
        out[name] = t
    probe = out["pair"].encode("一二", "三四")
    # ``post_process`` of separately tokenized sequences gives ``encode``'s ids, type ids and
    # offsets, but loses the sequence ids of a truncated pair; they are read back from the
    # special-token mask and the type ids where the template types the sequences 0 and 1 (BERT's).
    out["template_types"] = _template_sequence_ids(probe) == probe.sequence_ids
    out["bert_template"] = _bert_template(out) if out["template_types"] else None
    per[(max_length, stride)] = out
    return out


def _bert_template(backends: dict[str, Any]) -> tuple[int, int] | None:
    """``(cls_id, sep_id)`` when the backend's post-processing of one window is exactly BERT's
    ``[CLS] A [SEP]`` / ``[CLS] A [SEP] B [SEP]`` (types 0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``,
    specials with empty offsets), checked on probes; else ``None``. Then ``encode_many`` assembles
    the windows of sentences that need no truncation itself (``_assembled``), the same lists
    ``post_process`` would return, without its per-sentence round trip."""
    a = backends["plain"].encode("一二5%", add_special_tokens=False)
    b = backends["plain"].encode("三四", add_special_tokens=False)
    pp, ps = backends["pair"].post_process(a, b), backends["single"].post_process(a)
    if len(pp.ids) != len(a.ids) + len(b.ids) + 3 or pp.overflowing or ps.overflowing:
        return None
    cls_id, sep_id = pp.ids[0], pp.ids[len(a.ids) + 1]
    want_pair = (pp.ids, pp.type_ids, _template_piece(pp)[2])
    want_single = (ps.ids, ps.type_ids, _template_piece(ps)[2])
    got_pair = _assembled(a.ids, a.offsets, b.ids, cls_id, sep_id)
    got_single = _assembled(a.ids, a.offsets, None, cls_id, sep_id)
    return (cls_id, sep_id) if (got_pair, got_single) == (want_pair, want_single) else None


def _assembled(
    a_ids: list[int], a_offsets: list[tuple[int, int]], b_ids: list[int] | None, cls_id: int, sep_id: int
) -> tuple[list[int], list[int], list[tuple[int, int] | None]]:
    """One BERT window ``(ids, type ids, sentence offsets)`` of sentence ``a`` and context ``b``."""
    offs: list[tuple[int, int] | None] = [None]
    offs += [o if o[1] > o[0] else None for o in a_offsets]
    if b_ids is None:
        return [cls_id, *a_ids, sep_id], [0] * (len(a_ids) + 2), offs + [None]
    ids = [cls_id, *a_ids, sep_id, *b_ids, sep_id]
    return ids, [0] * (len(a_ids) + 2) + [1] * (len(b_ids) + 1), offs + [None] * (len(b_ids) + 2)


def _template_sequence_ids(enc: Any) -> list[int | None]:
    """Sequence ids of a post-processed encoding: ``None`` on special tokens, else the type id."""
    return [None if m else t for m, t in zip(enc.special_tokens_mask, enc.type_ids)]


def _sentence_offsets(offsets: list[tuple[int, int]], seq_ids: list[int | None]) -> list[tuple[int, int] | None]:
    """A window's offsets where the token is a (non-empty) token of the sentence, else ``None``."""
    return [o if sid == 0 and o[1] > o[0] else None for o, sid in zip(offsets, seq_ids)]


def _template_piece(enc: Any) -> tuple[list[int], list[int], list[tuple[int, int] | None]]:
    """``(ids, type ids, sentence offsets)`` of a post-processed window (``_template_sequence_ids``
    in one pass: a sentence token is neither special nor of type 1)."""
    types = enc.type_ids
    offs = [
        o if not m and not t and o[1] > o[0] else None for o, m, t in zip(enc.offsets, enc.special_tokens_mask, types)
    ]
    return enc.ids, types, offs


_CTX_CACHE: weakref.WeakKeyDictionary[PreTrainedTokenizerFast, dict[str, int]] = weakref.WeakKeyDictionary()


def _context_tokens(tokenizer: PreTrainedTokenizerFast, context: str) -> int:
    """Tokens of a context string, cached per tokenizer (a report repeats a few dozen headings)."""
    try:
        cache = _CTX_CACHE.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: no cache
        cache = {}
    n = cache.get(context)
    if n is None:
        n = len(tokenizer(context, add_special_tokens=False)["input_ids"])
        if len(cache) < 100_000:
            cache[context] = n
    return n


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    ez = np.exp(z)
    return ez / ez.sum(axis=-1, keepdims=True)


def merge_windows(
    encoded: EncodedSentence,
    tag_logits: list[np.ndarray],
    cat_logits: list[np.ndarray] | None = None,
) -> list[tuple[tuple[int, int], np.ndarray, np.ndarray | None]]:
    """Per distinct token (sorted by offset): averaged tag probabilities and category logits
    (``_merged``, which decoding uses, as one tuple per token)."""
    offs, probs, cls = _merged(encoded, tag_logits, cat_logits)
    return [(o, probs[k], cls[k] if cls is not None else None) for k, o in enumerate(offs)]


def rule_tags(encoded: EncodedSentence) -> dict[tuple[int, int], int]:
    """The rule baseline's BIO tag per sentence token, read back from the rule token types."""
    out: dict[tuple[int, int], int] = {}
    for win in encoded.windows:
        for off, t in zip(win.offsets, win.token_type_ids):
            if off is not None:
                out[off] = RULE_TAG_OF_TYPE.get(t, O)
    return out


def decode(
    encoded: EncodedSentence,
    tag_logits: list[np.ndarray],
    cat_logits: list[np.ndarray] | None = None,
    rule_prior: float = 0.0,
    reconcile: bool = False,
    snap: bool = False,
) -> list[DecodedSpan]:
    """Valid, non-overlapping spans (sentence-relative) from per-window token logits.

    ``rule_prior`` (β ≥ 0; only for rule-feature encodings): each token's tag is
    ``argmax log p(tag) + β·[tag = rule tag]``, so the model overrides the rule baseline's tag
    only where it gives another tag more than ``e^β`` times the rule tag's probability
    (β = 0: the model alone; a large β: the rule spans). Span scores are the probabilities of
    the chosen tags under that combined distribution (the one a residually trained model,
    ``TrainConfig.rule_prior_train``, was trained to output).

    ``reconcile`` (with a rule prior): the model's departures from the rule spans pass through
    ``reconcile_with_rules`` (kept only where every resulting span holds a numeral).

    ``snap``: last, every span is snapped to the clause boundaries (``snap_to_clauses``), so no
    span starts or ends inside a word; every model prediction is decoded so (``ModelPredictor``).
    """
    offs, probs, cls = _merged(encoded, tag_logits, cat_logits)
    prior: list[int] | None = None
    if rule_prior > 0:
        rt = rule_tags(encoded)
        prior = [rt[off] for off in offs]
        if offs:
            probs = _with_prior(probs, np.asarray(prior, dtype=np.intp), rule_prior)
    tags = np.argmax(probs, axis=1).tolist() if offs else []
    spans = _finish(encoded.text, offs, probs, cls, tags, prior, reconcile)
    return snap_decoded(encoded.text, spans) if snap else spans


def decode_many(
    encoded: list[EncodedSentence],
    tag_logits: list[list[np.ndarray]],
    cat_logits: list[list[np.ndarray]] | None = None,
    rule_prior: float = 0.0,
    reconcile: bool = False,
    snap: bool = False,
) -> list[list[DecodedSpan]]:
    """``[decode(e, t, c, rule_prior, reconcile, snap) for e, t, c in zip(...)]``, the same spans
    (tests/test_speedups.py): the sentences with one window in offset order (nearly all) are
    decoded together, one softmax, one rule prior and one argmax over all their tokens (row-wise
    operations: each row's values are those of the sentence-by-sentence computation)."""
    out: list[list[DecodedSpan]] = [[] for _ in encoded]
    fast: list[tuple[int, list[int], list[tuple[int, int]]]] = []
    for i, e in enumerate(encoded):
        if len(e.windows) == 1:
            offs_all = e.windows[0].offsets
            idx = [t for t, o in enumerate(offs_all) if o is not None]
            offs: list[tuple[int, int]] = [offs_all[t] for t in idx]  # type: ignore[misc]
            if offs == sorted(offs) and len(set(offs)) == len(offs):  # strictly increasing
                fast.append((i, idx, offs))
                continue
        out[i] = decode(
            e, tag_logits[i], cat_logits[i] if cat_logits is not None else None, rule_prior, reconcile, snap
        )
    if not fast:
        return out
    # The sentence tokens of a window are nearly always one run (BERT: after [CLS]): a slice.
    rows = [slice(idx[0], idx[-1] + 1) if idx and idx[-1] - idx[0] + 1 == len(idx) else idx for _, idx, _ in fast]
    probs = _softmax(
        np.concatenate([np.asarray(tag_logits[i][0])[r] for (i, _, _), r in zip(fast, rows)]).astype(np.float64)
    )
    prior_arr: np.ndarray | None = None
    if rule_prior > 0:
        type_list: list[int] = []
        for (i, _, _), r in zip(fast, rows):
            tt = encoded[i].windows[0].token_type_ids
            type_list.extend(tt[r] if isinstance(r, slice) else [tt[t] for t in r])
        types = np.array(type_list, dtype=np.intp)
        prior_arr = np.full(len(types), O, dtype=np.intp)
        for typ, tag in RULE_TAG_OF_TYPE.items():
            prior_arr[types == typ] = tag
        if len(types):
            probs = _with_prior(probs, prior_arr, rule_prior)
    prior_all = prior_arr.tolist() if prior_arr is not None else None
    tag_arr = np.argmax(probs, axis=1)
    tags = tag_arr.tolist()
    # A sentence whose tokens are all O, by the model and by the rules, has no span: most of them.
    lengths = np.array([len(idx) for _, idx, _ in fast])
    busy = tag_arr != O
    if prior_arr is not None:
        busy |= prior_arr != O
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    has_any = np.zeros(len(fast), dtype=bool)
    nonempty = lengths > 0
    has_any[nonempty] = np.add.reduceat(busy.astype(np.intp), starts[nonempty]) > 0
    k = 0
    for (i, idx, offs), r, active in zip(fast, rows, has_any.tolist()):
        n = len(idx)
        if not active:
            k += n
            continue
        # Category logits only where there can be a span (the same rows, converted alike).
        cls = np.asarray(cat_logits[i][0])[r].astype(np.float64) if cat_logits is not None else None
        spans = _finish(
            encoded[i].text,
            offs,
            probs[k : k + n],
            cls,
            tags[k : k + n],
            prior_all[k : k + n] if prior_all is not None else None,
            reconcile,
        )
        out[i] = snap_decoded(encoded[i].text, spans) if snap else spans
        k += n
    return out


def _with_prior(probs: np.ndarray, prior: np.ndarray, rule_prior: float) -> np.ndarray:
    """``softmax(log p + β·[tag = rule tag])`` row by row (``decode``'s rule prior)."""
    bonus = np.zeros_like(probs)
    bonus[np.arange(len(prior)), prior] = rule_prior
    return _softmax(np.log(np.clip(probs, 1e-12, 1.0)) + bonus)


def _finish(
    text: str,
    offs: list[tuple[int, int]],
    probs: np.ndarray,
    cls: np.ndarray | None,
    tags: list[int],
    prior: list[int] | None,
    reconcile: bool,
) -> list[DecodedSpan]:
    """Spans of ``tags``; with ``reconcile`` (and a rule prior), reconciled with the rule spans."""
    spans = _spans_of(offs, probs, cls, tags)
    if prior is None or not reconcile:
        return spans
    rules = _spans_of(offs, probs, cls, prior)
    by_range = {(d.start, d.end): d for d in rules} | {(d.start, d.end): d for d in spans}
    keep = reconcile_with_rules(text, [(d.start, d.end) for d in spans], [(d.start, d.end) for d in rules])
    return [by_range[r] for r in keep]


def _merged(
    encoded: EncodedSentence, tag_logits: list[np.ndarray], cat_logits: list[np.ndarray] | None
) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray | None]:
    """The windows merged: the distinct tokens' offsets (sorted), their averaged tag probabilities
    ``(T, 3)`` and category logits ``(T, C)`` (float64; ``None`` without category logits)."""
    if len(encoded.windows) == 1:  # most sentences: the window's rows in order, no averaging
        offs_all = encoded.windows[0].offsets
        idx = [t for t, o in enumerate(offs_all) if o is not None]
        offs: list[tuple[int, int]] = [offs_all[t] for t in idx]  # type: ignore[misc]
        if all(a < b for a, b in zip(offs, offs[1:])):
            probs = _softmax(np.asarray(tag_logits[0], dtype=np.float64))[idx]
            cls = np.asarray(cat_logits[0], dtype=np.float64)[idx] if cat_logits is not None else None
            return offs, probs, cls
    # Every window's rows summed per distinct offset in window order
    # (``np.add.at`` is unbuffered: 0 + x1 + x2 … is x1 + x2 … exactly), then divided by the count.
    n_tags = np.asarray(tag_logits[0]).shape[-1] if tag_logits else 3
    keys: list[tuple[int, int]] = []
    rows_p, rows_c = [], []
    for w, win in enumerate(encoded.windows):
        sel = [t for t, o in enumerate(win.offsets) if o is not None]
        keys += [win.offsets[t] for t in sel]  # type: ignore[misc]
        rows_p.append(_softmax(np.asarray(tag_logits[w], dtype=np.float64))[sel])
        if cat_logits is not None:
            rows_c.append(np.asarray(cat_logits[w], dtype=np.float64)[sel])
    if not keys:
        return [], np.zeros((0, n_tags)), None
    uniq = sorted(set(keys))
    pos = {o: i for i, o in enumerate(uniq)}
    inv = np.array([pos[o] for o in keys], dtype=np.intp)
    counts = np.bincount(inv, minlength=len(uniq))[:, None]

    def mean(rows: list[np.ndarray]) -> np.ndarray:
        flat = np.concatenate(rows)
        acc = np.zeros((len(uniq), flat.shape[1]))
        np.add.at(acc, inv, flat)
        return acc / counts

    return uniq, mean(rows_p), mean(rows_c) if cat_logits is not None else None


def _spans_of(
    offs: list[tuple[int, int]], probs: np.ndarray, cls: np.ndarray | None, tags: list[int]
) -> list[DecodedSpan]:
    """``_spans`` over arrays: a run of consecutive non-``O`` tokens is a span, a ``B`` starts a
    new one; the score is the mean (and min) probability of the tokens' tags, computed as
    ``_spans`` does (the same numpy reductions over the same float64 values)."""
    spans: list[DecodedSpan] = []
    if B not in tags and I not in tags:  # most sentences: all O (a C-level scan, no run loop)
        return spans
    runs: list[tuple[int, int]] = []
    start = -1
    for k, tag in enumerate(tags):
        if tag == B or (tag == I and start < 0):
            if start >= 0:
                runs.append((start, k))
            start = k
        elif tag != I and start >= 0:
            runs.append((start, k))
            start = -1
    if start >= 0:
        runs.append((start, len(tags)))
    for a, b in runs:
        scores = probs[np.arange(a, b), tags[a:b]]
        spans.append(
            DecodedSpan(
                start=offs[a][0],
                end=offs[b - 1][1],
                score=float(np.mean(scores)),
                min_score=float(np.min(scores)),
                category_logits=np.mean(cls[a:b], axis=0) if cls is not None else None,
            )
        )
    return spans


def _spans(tokens: list[tuple[tuple[int, int], np.ndarray, np.ndarray | None]], tags: list[int]) -> list[DecodedSpan]:
    """Spans of a tag sequence over merged tokens; a span's score is the mean probability of
    its tokens' tags. An ``I`` without a ``B`` starts a span (lenient on the model, strict on
    validity)."""
    spans: list[DecodedSpan] = []
    cur: list[tuple[tuple[int, int], float, np.ndarray | None]] = []

    def close() -> None:
        if cur:
            scores = [c[1] for c in cur]
            cls = [c[2] for c in cur if c[2] is not None]
            spans.append(
                DecodedSpan(
                    start=cur[0][0][0],
                    end=cur[-1][0][1],
                    score=float(np.mean(scores)),
                    min_score=float(np.min(scores)),
                    category_logits=np.mean(cls, axis=0) if cls else None,
                )
            )
            cur.clear()

    for (off, p, cl), tag in zip(tokens, tags):
        if tag == B:
            close()
            cur.append((off, float(p[tag]), cl))
        elif tag == I:
            cur.append((off, float(p[tag]), cl))
        else:
            close()
    close()
    return spans


def reconcile_with_rules(
    text: str, model_spans: list[tuple[int, int]], rule_spans: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Accept the model's departures from the rule spans only where they stay valid targets.

    Model and rule spans are grouped into clusters of overlapping spans. In a cluster where the
    model disagrees with the rules (a split, a trim, an extension, an added span), the model's
    spans are taken only if every one of them holds a numeral (a target is quantified); a
    fragment such as ``建`` or ``技术中心`` makes the whole cluster fall back to the rule spans.
    A rule span the model drops entirely (no model span overlaps it) stays dropped.
    """
    items = sorted([(s, e, 0) for s, e in rule_spans] + [(s, e, 1) for s, e in model_spans])
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(items):
        end, j = items[i][1], i + 1
        while j < len(items) and items[j][0] < end:  # overlaps the cluster so far
            end = max(end, items[j][1])
            j += 1
        cluster = items[i:j]
        rules = [(s, e) for s, e, src in cluster if src == 0]
        model = [(s, e) for s, e, src in cluster if src == 1]
        if model == rules or all(_NUMERAL.search(text[s:e]) for s, e in model):
            out.extend(model)
        else:
            out.extend(rules)
        i = j
    return out


def decode_tags(encoded: EncodedSentence, tags_per_window: list[list[int]]) -> list[tuple[int, int]]:
    """Spans from hard tag ids (used by tests and for gold round-trips)."""
    eye = np.eye(3) * 10.0
    logits = [
        np.stack([eye[t if t >= 0 else O] for t in tags]) if tags else np.zeros((0, 3)) for tags in tags_per_window
    ]
    return [(s.start, s.end) for s in decode(encoded, logits)]


# --------------------------------------------------------------------------- clause snapping


def snap_decoded(sentence: str, spans: list[DecodedSpan]) -> list[DecodedSpan]:
    """``snap_to_clauses`` on decoded spans: each kept span carries the scores and category
    logits of the model spans that snapped into it (averaged; ``min_score`` the minimum)."""
    if not spans:
        return spans
    snapped = snap_to_clauses(sentence, [(d.start, d.end) for d in spans])
    out = []
    for s, e in snapped:
        src = [d for d in spans if d.start < e and s < d.end]
        cls = [d.category_logits for d in src if d.category_logits is not None]
        out.append(
            DecodedSpan(
                start=s,
                end=e,
                score=float(np.mean([d.score for d in src])) if src else 0.0,
                min_score=float(np.min([d.min_score for d in src])) if src else 0.0,
                category_logits=np.mean(cls, axis=0) if cls else None,
            )
        )
    return out
