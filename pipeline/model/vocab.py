"""Stage: the project's own character vocabulary for the small BERT (no copied vocab file).

``build_vocab(texts)`` generates a WordPiece ``vocab.txt`` that makes BERT's fast tokenizer
character-level on Chinese report text: special tokens; ASCII digits, letters and symbols, each
also as a ``##`` continuation piece (BERT's pre-tokenizer keeps ``1450`` or ``REITs`` as one
word, so ``1 ##4 ##5 ##0`` needs the ``##`` forms); CJK punctuation and full-width forms;
CJK characters ranked by frequency in the given texts, then the rest of the CJK Unified
Ideographs block so that unseen reports have an ``[UNK]`` rate of about zero.

``load_tokenizer(folder)`` loads it through ``BertTokenizerFast.from_pretrained(folder)`` and
checks known ids, because constructing from ``vocab_file=`` can silently give a 5-token
vocabulary in transformers 5.x (``../shared/PITFALLS.md``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from transformers import BertTokenizerFast  # type: ignore[attr-defined]  # a lazy module

from pipeline.text.textnorm import normalize

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: Unused slots so that later special tokens do not shift ids (BERT convention).
N_UNUSED = 10

_ASCII = [chr(c) for c in range(0x21, 0x7F)]
# Lower-case only: the tokenizer lower-cases (GDP → gdp), so upper-case entries would be dead.
_ASCII_LOWER = [c for c in _ASCII if not ("A" <= c <= "Z")]
_CJK_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】「」『』〔〕…—～·￥％＋－／＝＜＞．"
_EXTRA_SYMBOLS = "×÷±≤≥°℃‰①②③④⑤⑥⑦⑧⑨⑩ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ㎡㎞"
_CJK_BLOCK = (0x4E00, 0x9FFF)


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def build_vocab(texts: Iterable[str], min_freq: int = 1, include_cjk_block: bool = True) -> list[str]:
    """The vocabulary as a list of tokens, id = position. Deterministic for the same texts."""
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(normalize(t).lower())
    vocab: list[str] = list(SPECIAL_TOKENS) + [f"[unused{i}]" for i in range(N_UNUSED)]
    seen = set(vocab)

    def add(tok: str) -> None:
        if tok not in seen and tok.strip() and "\n" not in tok:
            seen.add(tok)
            vocab.append(tok)

    for c in _ASCII_LOWER:
        add(c)
    # Continuation pieces: digits and letters inside a word ("1450", "reits"); "." and "%" are
    # split off by the pre-tokenizer as punctuation and never need a ## form.
    for c in _ASCII_LOWER:
        if c.isalnum():
            add("##" + c)
    for c in _CJK_PUNCT + _EXTRA_SYMBOLS:
        add(c)
    # Frequency-ranked characters of the given text first (ties broken by code point for determinism).
    for ch, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n < min_freq or ch.isspace():
            continue
        if _is_cjk(ch) or not ch.isalnum():
            add(ch)
        else:
            # Other letters/digits (Greek, accented, Roman numerals) can sit inside a word.
            add(ch)
            add("##" + ch)
    if include_cjk_block:
        for cp in range(_CJK_BLOCK[0], _CJK_BLOCK[1] + 1):
            add(chr(cp))
    return vocab


def save_vocab(vocab: list[str], folder: str | os.PathLike[str]) -> Path:
    """Write ``vocab.txt`` plus a tokenizer config into ``folder`` (created)."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    if len(set(vocab)) != len(vocab):
        raise ValueError("vocabulary has duplicate tokens")
    (d / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    cfg = {
        "do_lower_case": True,
        "tokenize_chinese_chars": True,
        "strip_accents": False,
        "model_max_length": 512,
        "tokenizer_class": "BertTokenizer",
    }
    (d / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    return d / "vocab.txt"


def check_tokenizer(tok: BertTokenizerFast, folder: str | os.PathLike[str] = "") -> None:
    """Raise ``ValueError`` unless the tokenizer is fast and has a real vocabulary."""
    if not tok.is_fast:
        raise ValueError(f"{folder}: tokenizer is not a fast tokenizer (offsets and windows need one)")
    if len(tok) < 100:
        raise ValueError(f"{folder}: tokenizer has only {len(tok)} tokens (the 5-token-vocab trap?)")
    for special in ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"):
        if tok.convert_tokens_to_ids(special) is None:
            raise ValueError(f"{folder}: tokenizer lacks {special}")
    probe = "地区生产总值增长5%左右"
    ids = tok(probe, add_special_tokens=False)["input_ids"]
    unk = sum(1 for i in ids if i == tok.unk_token_id)
    if unk > 1:
        raise ValueError(f"{folder}: {unk} of {len(ids)} tokens of {probe!r} are [UNK]")


def load_tokenizer(folder: str | os.PathLike[str]) -> BertTokenizerFast:
    """Load a saved vocabulary folder and check it (known ids, ~0 [UNK] on a probe sentence)."""
    tok = BertTokenizerFast.from_pretrained(str(folder))
    check_tokenizer(tok, folder)
    return tok


def unk_rate(tok: BertTokenizerFast, texts: Iterable[str]) -> float:
    """Share of tokens that are [UNK] over ``texts`` (normalised as the model sees them)."""
    n = unk = 0
    for t in texts:
        ids = tok(normalize(t), add_special_tokens=False)["input_ids"]
        n += len(ids)
        unk += sum(1 for i in ids if i == tok.unk_token_id)
    return unk / n if n else 0.0
