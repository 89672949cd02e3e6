"""Char↔token alignment, BIO encode/decode and windows (pipeline.model.encoding, pipeline.model.vocab)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BERT_TOKENIZER
from hypothesis import given
from hypothesis import strategies as st
from transformers import BertTokenizerFast

from pipeline.model.encoding import B, I, O, context_text, decode, decode_tags, encode, reconcile_with_rules
from pipeline.model.vocab import build_vocab, check_tokenizer, load_tokenizer, save_vocab, unk_rate
from pipeline.text.textnorm import normalize

MIXED = "GDP增长5%左右，5G基站新增1200个，发行REITs产品２只，社会消费品零售总额突破１４５０亿元，𠮷祥 a\u200bb\ufeffc。"


@pytest.fixture(scope="module")
def char_tok(tmp_path_factory: pytest.TempPathFactory) -> BertTokenizerFast:
    d = tmp_path_factory.mktemp("vocab")
    save_vocab(build_vocab(["地区生产总值增长5%左右。城镇新增就业4.6万人。", MIXED]), d)
    return load_tokenizer(d)


@pytest.fixture(scope="module")
def bert_tok() -> BertTokenizerFast:
    if not (BERT_TOKENIZER / "vocab.txt").exists():
        pytest.skip("../shared/models/bert-base-chinese-tokenizer is absent")
    tok = BertTokenizerFast.from_pretrained(str(BERT_TOKENIZER))
    assert tok.is_fast and len(tok) > 20000
    return tok


def test_generated_vocab_loads_with_real_ids(char_tok: BertTokenizerFast) -> None:
    assert len(char_tok) > 20000  # the CJK block is included: not the 5-token trap
    assert char_tok.convert_tokens_to_ids("[PAD]") == 0
    assert char_tok.convert_tokens_to_ids("[UNK]") == 1
    assert char_tok.convert_tokens_to_ids("增") != char_tok.unk_token_id
    assert unk_rate(char_tok, ["地区生产总值增长5%左右，一般公共预算收入增长3.5%。"]) == 0.0
    vocab = build_vocab(["增长"])
    assert len(vocab) == len(set(vocab))
    assert vocab == build_vocab(["增长"])  # deterministic


def test_check_tokenizer_rejects_tiny_vocab(tmp_path) -> None:
    save_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], tmp_path)
    with pytest.raises(ValueError, match="tokens"):
        load_tokenizer(tmp_path)
    assert check_tokenizer  # imported API


def _tokens_match_text(tok: BertTokenizerFast, text: str) -> None:
    enc = encode(tok, text, max_length=512, stride=16)
    norm = normalize(text).lower()
    for win in enc.windows:
        for tid, off in zip(win.input_ids, win.offsets):
            if off is None:
                continue
            piece = tok.convert_ids_to_tokens(tid)
            if piece != "[UNK]":
                # Zero-width characters are dropped by the normaliser and absorbed into the piece.
                seen = norm[off[0] : off[1]].replace("\u200b", "").replace("\ufeff", "")
                assert seen == piece.removeprefix("##"), (piece, off)


def test_char_vocab_alignment_on_mixed_text(char_tok: BertTokenizerFast) -> None:
    _tokens_match_text(char_tok, MIXED)
    enc = encode(char_tok, MIXED, max_length=512)
    offs = [o for o in enc.windows[0].offsets if o is not None]
    # Character level: every non-space character is exactly one token, whitespace/ZW chars none.
    assert all(e - s == 1 for s, e in offs)
    covered = {s for s, _ in offs}
    for i, ch in enumerate(MIXED):
        assert (i in covered) == (ch not in " \u200b\ufeff"), (i, ch)
    # Full-width digits are folded on a same-length copy: １４５０ aligns like 1450.
    i = MIXED.index("１４５０")
    pieces = [
        char_tok.convert_ids_to_tokens(t)
        for t, o in zip(enc.windows[0].input_ids, enc.windows[0].offsets)
        if o is not None and i <= o[0] < i + 4
    ]
    assert pieces == ["1", "##4", "##5", "##0"]


def test_bert_base_chinese_word_pieces(bert_tok: BertTokenizerFast) -> None:
    text = "社会消费品零售总额突破1450亿元"
    _tokens_match_text(bert_tok, MIXED)
    _tokens_match_text(bert_tok, text)
    i = text.index("1450")
    # A boundary inside the word piece "145" is reported, not shifted.
    bad = encode(bert_tok, text, spans=[(0, i + 2)], max_length=64)
    assert bad.misaligned == 1 and "inside token" in bad.misaligned_examples[0]
    good = encode(bert_tok, text, spans=[(0, len(text))], max_length=64)
    assert good.misaligned == 0
    assert decode_tags(good, [w.tag_labels for w in good.windows]) == [(0, len(text))]
    # A predicted label covers every character of its token: B on "145" and I on "##0".
    enc = encode(bert_tok, "增加1450亿元", max_length=64)
    win = enc.windows[0]
    tags = [O if o is None or o[0] < 2 else (B if o[0] == 2 else I) for o in win.offsets]
    assert decode_tags(enc, [tags]) == [(2, 8)]


def test_empty_and_whitespace_sentence(char_tok: BertTokenizerFast) -> None:
    for text in ("", "  \u200b"):
        enc = encode(char_tok, text, max_length=32, stride=8)
        assert len(enc.windows) == 1
        assert all(o is None for o in enc.windows[0].offsets)
        assert decode_tags(enc, [[O] * len(enc.windows[0])]) == []


def test_orphan_i_starts_a_span_and_spans_never_overlap(char_tok: BertTokenizerFast) -> None:
    text = "新增就业4万人新增企业5家"
    enc = encode(char_tok, text, max_length=64)
    n = len(enc.windows[0])
    tags = [O] * n
    # tokens 1..n-2 are characters 0..len-1; I I I (orphan) then O, then B I, then B B.
    for t in (1, 2, 3):
        tags[t] = I
    tags[6], tags[7] = B, I
    tags[9], tags[10] = B, B
    assert decode_tags(enc, [tags]) == [(0, 3), (5, 7), (8, 9), (9, 10)]


def test_long_sentence_windows_round_trip(char_tok: BertTokenizerFast) -> None:
    unit = "新增市级以上金融机构5家，"
    text = unit * 40  # 520 characters, far over the window
    spans = [(k * len(unit), k * len(unit) + len(unit) - 1) for k in range(40)]
    enc = encode(char_tok, text, context_text("plan", ("四、金融",)), spans=spans, max_length=64, stride=16)
    assert len(enc.windows) > 8
    assert all(len(w) <= 64 for w in enc.windows)
    # Context tokens carry no offsets and no labels.
    assert all((o is None) == (lab == -100) for w in enc.windows for o, lab in zip(w.offsets, w.tag_labels))
    assert decode_tags(enc, [w.tag_labels for w in enc.windows]) == spans


def test_window_merge_averages_overlap(char_tok: BertTokenizerFast) -> None:
    text = "增" * 100
    enc = encode(char_tok, text, max_length=40, stride=10)
    assert len(enc.windows) >= 3
    # Window 0 says B/I everywhere, window 1 says O: where they overlap the mean decides.
    logits = []
    for w, win in enumerate(enc.windows):
        arr = np.zeros((len(win), 3))
        arr[:, I if w == 0 else O] = 5.0
        if w == 0:
            arr[1, B], arr[1, I] = 6.0, 0.0
        logits.append(arr)
    spans = decode(enc, logits)
    assert len(spans) == 1 and spans[0].start == 0
    assert 0.0 < spans[0].min_score <= spans[0].score <= 1.0


def test_max_length_too_small_is_an_error(char_tok: BertTokenizerFast) -> None:
    with pytest.raises(ValueError, match="stride"):
        encode(char_tok, "增长5%", context_text("plan", ("很长的标题" * 4,)), max_length=24, stride=8)


_CHARS = st.sampled_from(list("增长新增就业万人亿元个家以上左右突破0123456789.%GDPREITsabc５１，、") + ["𠮷"])


@given(
    chars=st.lists(_CHARS, min_size=1, max_size=120),
    cuts=st.lists(st.integers(0, 120), max_size=8),
    max_length=st.sampled_from([24, 48, 512]),
)
def test_hypothesis_gold_spans_round_trip(
    char_tok: BertTokenizerFast, chars: list[str], cuts: list[int], max_length: int
) -> None:
    text = "".join(chars)
    pts = sorted({min(c, len(text)) for c in cuts})
    spans = [(a, b) for a, b in zip(pts[::2], pts[1::2]) if b > a]
    enc = encode(char_tok, text, spans=spans, max_length=max_length, stride=8)
    assert enc.misaligned == 0
    for w in enc.windows:
        for o in w.offsets:
            assert o is None or 0 <= o[0] < o[1] <= len(text)
    # Adjacent spans stay separate (B closes the previous span).
    assert decode_tags(enc, [w.tag_labels for w in enc.windows]) == sorted(spans)


# --------------------------------------------------------------------------- rule features (stacking)


def _check_rule_types(tok: BertTokenizerFast, text: str, rule_spans: list[tuple[int, int]], **kw: int) -> int:
    """Types 2/3 exactly on the sentence tokens whose first character a rule span covers."""
    plain = encode(tok, text, "民生｜部署：就业", **kw)
    enc = encode(tok, text, "民生｜部署：就业", rule_spans=rule_spans, **kw)
    assert len(plain.windows) == len(enc.windows)
    first = {s for s, _ in rule_spans}
    inside = {i for s, e in rule_spans for i in range(s + 1, e)}
    n_rule = 0
    for pw, w in zip(plain.windows, enc.windows):
        assert w.input_ids == pw.input_ids and w.offsets == pw.offsets
        for off, t, pt in zip(w.offsets, w.token_type_ids, pw.token_type_ids):
            if off is None:
                assert t == pt  # specials and context keep their plain type (context = 1)
                continue
            want = 2 if off[0] in first else 3 if off[0] in inside else 0
            assert t == want, (off, text[off[0] : off[1]], t, want)
            n_rule += t in (2, 3)
    assert any(t == 1 for t in enc.windows[0].token_type_ids)  # the context segment is there
    return n_rule


def test_rule_types_mark_rule_span_tokens(char_tok: BertTokenizerFast) -> None:
    text = "城镇新增就业4.6万人，GDP增长5%左右。"
    spans = [(0, 10), (11, 20)]
    assert _check_rule_types(char_tok, text, spans) > 0
    enc = encode(char_tok, text, "", rule_spans=spans)
    types = [t for t, o in zip(enc.windows[0].token_type_ids, enc.windows[0].offsets) if o is not None]
    assert types[0] == 2 and 3 in types and 0 in types
    # Without rule spans the encoding is exactly the old one (types 0/1 only).
    assert set(encode(char_tok, text, "x").windows[0].token_type_ids) <= {0, 1}


def test_rule_types_across_overlapping_windows(char_tok: BertTokenizerFast) -> None:
    text = "城镇新增就业4.6万人，" * 12  # several windows with overlap
    n = len("城镇新增就业4.6万人，")
    spans = [(i * n, i * n + n - 1) for i in range(12)]
    enc = encode(char_tok, text, "民生｜x", rule_spans=spans, max_length=48, stride=16)
    assert len(enc.windows) > 2
    _check_rule_types(char_tok, text, spans, max_length=48, stride=16)


def test_rule_types_with_bert_base_chinese(bert_tok: BertTokenizerFast) -> None:
    text = "社会消费品零售总额突破1450亿元，发行REITs产品2只，能耗强度下降3%。"
    spans = [(0, 16), (17, 26), (27, 35)]
    assert _check_rule_types(bert_tok, text, spans) > 0
    long = text * 8
    k = len(text)
    _check_rule_types(
        bert_tok, long, [(s + i * k, e + i * k) for i in range(8) for s, e in spans], max_length=64, stride=16
    )


def _one_hot_logits(enc, tags: list[int], strength: float) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Logits giving each sentence token ``tags[i]`` with probability ≈ softmax(strength)."""
    out = []
    for win in enc.windows:
        arr = np.zeros((len(win), 3))
        k = 0
        for t, off in enumerate(win.offsets):
            if off is not None:
                arr[t, tags[k]] = strength
                k += 1
        out.append(arr)
    return out


def test_rule_prior_moves_from_model_to_rules(char_tok: BertTokenizerFast) -> None:
    """β = 0 is the model alone, a large β the rule spans; in between the model overrides a rule
    tag only where it gives the other tag more than e^β times the rule tag's probability."""
    text = "收入分别增长7%和8%。"
    rule = [(0, 10)]  # the rules' single span "收入分别增长7%和8%"
    enc = encode(char_tok, text, rule_spans=rule)
    assert len(enc.windows) == 1 and sum(o is not None for o in enc.windows[0].offsets) == len(text)
    # The model: "收入分别增长7%" then "8%" (和 is O), confident at 3 nats.
    model = [B] + [I] * 7 + [O, B, I, O]
    logits = _one_hot_logits(enc, model, 3.0)
    spans = lambda beta: [(d.start, d.end) for d in decode(enc, logits, rule_prior=beta)]  # noqa: E731
    assert spans(0.0) == [(0, 8), (9, 11)]
    assert spans(20.0) == rule
    assert spans(2.0) == [(0, 8), (9, 11)]  # e^3 odds beat a prior of e^2 ...
    assert spans(4.0) == rule  # ... not one of e^4
    # Without rule features (plain types) the prior has nothing to read: all O.
    plain = encode(char_tok, text)
    assert [(d.start, d.end) for d in decode(plain, logits, rule_prior=20.0)] == []


def test_reconcile_keeps_model_edits_only_where_every_piece_is_quantified() -> None:
    text = "城乡居民人均可支配收入分别增长7%和8%，建成示范基地3个。"
    rule = [(0, 20), (21, 29)]
    split = [(0, 17), (18, 20)]  # "…分别增长7%" + "8%": both hold numerals → taken
    frag = [(21, 22), (23, 29)]  # "建" + "示范基地3个": a fragment → the rule span stays
    assert text[0:17].endswith("增长7%") and text[18:20] == "8%" and text[21:29] == "建成示范基地3个"
    assert reconcile_with_rules(text, split + frag, rule) == split + [(21, 29)]
    assert reconcile_with_rules(text, rule, rule) == rule
    assert reconcile_with_rules(text, [(0, 20)], rule) == [(0, 20)]  # a dropped rule span stays dropped
    assert reconcile_with_rules(text, rule + [(29, 30)], rule) == rule  # an added "。" is not a target


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 8)), max_size=6),
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 8)), max_size=6),
)
def test_reconcile_output_is_valid(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    def disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for s, n in sorted(spans):
            if not out or s >= out[-1][1]:
                out.append((s, s + n))
        return out

    text = "增长5%新增1200个" * 4
    model, rules = disjoint(a), disjoint(b)
    out = reconcile_with_rules(text, model, rules)
    assert out == sorted(out) and all(x[1] <= y[0] for x, y in zip(out, out[1:]))  # ordered, no overlap
    assert set(out) <= set(model) | set(rules)


def test_decode_with_reconcile_reverts_fragments_to_the_rule_span(char_tok: BertTokenizerFast) -> None:
    text = "建成示范基地3个。"
    enc = encode(char_tok, text, rule_spans=[(0, 8)])
    model = [B, O, B, I, I, I, I, I, O]  # "建" + "示范基地3个": a fragment
    logits = _one_hot_logits(enc, model, 6.0)
    assert [(d.start, d.end) for d in decode(enc, logits, rule_prior=2.0)] == [(0, 1), (2, 8)]
    spans = decode(enc, logits, rule_prior=2.0, reconcile=True)
    assert [(d.start, d.end) for d in spans] == [(0, 8)] and 0.0 < spans[0].score <= 1.0
