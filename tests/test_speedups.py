"""Speed-ups of the predictor leave its predictions identical; token-budget batching (CUDA's) on CPU."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CORPUS, ROOT
from hypothesis import given
from hypothesis import strategies as st

from pipeline.model import encoding, modeling
from pipeline.model.modeling import token_budget_batches
from pipeline.rules import baseline as rules

MODEL = ROOT / "models" / "default"


# The implementations before the speed-ups, kept verbatim as the reference.
def _old_merge_windows(encoded, tag_logits, cat_logits=None):  # noqa: ANN001, ANN202
    acc: dict = {}
    for w, win in enumerate(encoded.windows):
        probs = encoding._softmax(np.asarray(tag_logits[w], dtype=np.float64))
        for t, off in enumerate(win.offsets):
            if off is None:
                continue
            cl = np.asarray(cat_logits[w][t], dtype=np.float64) if cat_logits is not None else None
            if off in acc:
                a = acc[off]
                a[0] = a[0] + probs[t]
                if cl is not None:
                    a[1] = a[1] + cl
                a[2] += 1
            else:
                acc[off] = [probs[t].copy(), cl, 1]
    return [
        (off, acc[off][0] / acc[off][2], acc[off][1] / acc[off][2] if acc[off][1] is not None else None)
        for off in sorted(acc)
    ]


def _old_merged(encoded, tag_logits, cat_logits=None):  # noqa: ANN001, ANN202
    """``encoding._merged`` as it was: ``merge_windows``'s tuples stacked."""
    tokens = _old_merge_windows(encoded, tag_logits, cat_logits)
    n_tags = np.asarray(tag_logits[0]).shape[-1] if tag_logits else 3
    probs = np.stack([p for _, p, _ in tokens]) if tokens else np.zeros((0, n_tags))
    cls = np.stack([c for _, _, c in tokens]) if tokens and cat_logits is not None else None
    return [off for off, _, _ in tokens], probs, cls


def _old_decode(encoded, tag_logits, cat_logits=None, rule_prior=0.0, reconcile=False):  # noqa: ANN001, ANN202
    tokens = _old_merge_windows(encoded, tag_logits, cat_logits)
    prior = encoding.rule_tags(encoded) if rule_prior > 0 else None
    if prior is not None:
        combined = []
        for off, p, cl in tokens:
            bonus = np.zeros(len(p))
            bonus[prior[off]] = rule_prior
            combined.append((off, encoding._softmax(np.log(np.clip(p, 1e-12, 1.0)) + bonus), cl))
        tokens = combined
    spans = encoding._spans(tokens, [int(np.argmax(p)) for _, p, _ in tokens])
    if prior is None or not reconcile:
        return spans
    rs = encoding._spans(tokens, [prior[off] for off, _, _ in tokens])
    by_range = {(d.start, d.end): d for d in rs} | {(d.start, d.end): d for d in spans}
    keep = encoding.reconcile_with_rules(
        encoded.text, [(d.start, d.end) for d in spans], [(d.start, d.end) for d in rs]
    )
    return [by_range[r] for r in keep]


def _old_pad_batch(windows, pad_id, device="cpu"):  # noqa: ANN001, ANN202
    import torch

    n = max(len(w) for w in windows)
    ids = torch.full((len(windows), n), pad_id, dtype=torch.long)
    tt = torch.zeros((len(windows), n), dtype=torch.long)
    am = torch.zeros((len(windows), n), dtype=torch.long)
    for i, w in enumerate(windows):
        k = len(w)
        ids[i, :k] = torch.tensor(w.input_ids)
        tt[i, :k] = torch.tensor(w.token_type_ids)
        am[i, :k] = 1
    return {"input_ids": ids.to(device), "attention_mask": am.to(device), "token_type_ids": tt.to(device)}


def _old_keyword_scores(text):  # noqa: ANN001, ANN202
    """Every lexicon word counted in every text (before the first-character index)."""
    scores = {c: 0.0 for c in rules.CATEGORIES}
    for cat, words in rules.LEXICON.items():
        for w in words:
            n = text.count(w)
            if n:
                scores[cat] += min(n, 3) * len(w)
    for longer, cat_short, short in (
        ("绿色金融", "生态", "绿色"),
        ("消费金融", "商贸", "消费"),
        ("科技金融", "科创", "科技"),
        ("养老金融", "民生", "养老"),
        ("养老保险", "民生", "养老"),
        ("居民消费价格", "商贸", "消费"),
        ("居民消费价格", "民生", "居民"),
        ("产业园区", "产业", "园区"),
        ("安全感", "安全", "安全"),
        ("国际消费", "开放", "国际"),
        ("增加值", "产业", "增加值"),
    ):
        if longer in text and longer != short:
            scores[cat_short] -= min(text.count(longer), 3) * len(short)
    return {c: max(0.0, v) for c, v in scores.items()}


_LEX_CHARS = "".join(sorted({ch for ws in rules.LEXICON.values() for w in ws for ch in w}))


@given(
    st.lists(st.sampled_from(sorted({w for ws in rules.LEXICON.values() for w in ws})), max_size=8),
    st.text(alphabet=_LEX_CHARS + "，。5%", max_size=40),
)
def test_keyword_scores_by_first_character_equal_full_count(words: list[str], noise: str) -> None:
    text = noise[: len(noise) // 2] + "".join(words) + noise[len(noise) // 2 :]
    assert rules._keyword_scores_uncached(text) == _old_keyword_scores(text)


@pytest.fixture(scope="module")
def small_tok():  # noqa: ANN201
    import tempfile
    from pathlib import Path

    from pipeline.model.vocab import build_vocab, load_tokenizer, save_vocab

    d = Path(tempfile.mkdtemp())
    save_vocab(build_vocab(["地区生产总值增长5%左右。城镇新增就业4.6万人。民生｜部署：GDP REITs"]), d)
    return load_tokenizer(d)


_TEXT = st.text(alphabet="增长5%左右，。1450亿元新增就业 a\u200bGDP\ufeff𠮷", max_size=160)


@st.composite
def _items(draw):  # noqa: ANN001, ANN202
    out = []
    for _ in range(draw(st.integers(0, 6))):
        text = draw(_TEXT)
        ctx = draw(st.sampled_from(["", "民生｜部署：就业", "x"]))
        cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=6))))
        spans = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
        out.append((text, ctx, draw(st.sampled_from([None, spans]))))
    return out


@given(_items(), st.sampled_from([(32, 8), (24, 4), (128, 32)]))
def test_encode_many_equals_encode(small_tok, items, shape) -> None:  # noqa: ANN001
    """One Rust call for all sentences: the windows of ``encode`` one by one (long sentences
    become several windows at these lengths)."""
    ml, stride = shape
    got = encoding.encode_many(small_tok, items, max_length=ml, stride=stride)
    want = [encoding.encode(small_tok, t, c, max_length=ml, stride=stride, rule_spans=r) for t, c, r in items]
    assert got == want


@given(_items(), st.sampled_from([0.0, 3.0]), st.booleans(), st.integers(0, 2**31 - 1))
def test_decode_many_equals_decode(small_tok, items, prior, reconcile, seed) -> None:  # noqa: ANN001
    enc = encoding.encode_many(small_tok, items, max_length=24, stride=4)
    rng = np.random.default_rng(seed)
    tl = [[rng.normal(size=(len(w), 3)).astype(np.float32) * 3 for w in e.windows] for e in enc]
    cl = [[rng.normal(size=(len(w), 5)).astype(np.float32) for w in e.windows] for e in enc]
    got = encoding.decode_many(enc, tl, cl, rule_prior=prior, reconcile=reconcile)
    want = [_old_decode(e, t, c, prior, reconcile) for e, t, c in zip(enc, tl, cl)]
    key = lambda ds: [(d.start, d.end, d.score, d.min_score, d.category_logits.tobytes()) for d in ds]  # noqa: E731
    assert [key(x) for x in got] == [key(x) for x in want]


def test_pad_batch_equals_the_torch_loop() -> None:
    import torch

    wins = [encoding.Window([5, 6, 7], [0, 2, 3], [None] * 3), encoding.Window([9], [1], [None])]
    a, b = modeling.pad_batch(wins, 0), _old_pad_batch(wins, 0)
    assert all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)


def _gold_texts() -> list[tuple[str, str]]:
    from pipeline.annotation.gold import load_gold_dir

    docs, _ = load_gold_dir(ROOT / "data" / "gold", corpus_dir=CORPUS if CORPUS.exists() else None)
    return [(d.doc_id, d.raw) for d in docs]


def _records(tagger, docs) -> str:  # noqa: ANN001
    return json.dumps([[s.to_json() for s in td.sentences] for td in tagger.tag_many(docs)], ensure_ascii=False)


@pytest.mark.slow
def test_speedups_leave_gold_predictions_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (MODEL / "govtarget.json").exists():
        pytest.skip("no shipped model")
    from pipeline.tagging.tagger import Tagger

    docs = _gold_texts()
    assert docs
    tagger = Tagger.load(str(MODEL), backend="torch")
    fast = _records(tagger, docs)
    monkeypatch.setattr(
        modeling,
        "decode_many",
        lambda enc, tl, cl, rule_prior, reconcile, snap=False: [
            encoding.snap_decoded(e.text, spans) if snap else spans
            for e, spans in ((e, _old_decode(e, t, c, rule_prior, reconcile)) for e, t, c in zip(enc, tl, cl))
        ],
    )
    monkeypatch.setattr(
        modeling,
        "encode_many",
        lambda tok, items, max_length, stride: [
            encoding.encode(tok, t, c, max_length=max_length, stride=stride, rule_spans=r) for t, c, r in items
        ],
    )
    monkeypatch.setattr(modeling, "pad_batch", _old_pad_batch)
    monkeypatch.setattr(encoding, "_merged", _old_merged)
    monkeypatch.setattr(
        encoding, "_context_tokens", lambda tok, ctx: len(tok(ctx, add_special_tokens=False)["input_ids"])
    )
    monkeypatch.setattr(rules, "_keyword_scores", _old_keyword_scores)
    monkeypatch.setattr(rules, "_heading_scores", lambda h: tuple(_old_keyword_scores(h).items()))
    assert _records(tagger, docs) == fast


def test_merge_windows_fast_path_equals_general_path() -> None:
    """One window with increasing offsets (the fast path) and overlapping windows (the general one)."""
    rng = np.random.default_rng(0)
    win = encoding.Window([1] * 6, [0] * 6, [None, (0, 1), (1, 3), (3, 4), None, None])
    enc1 = encoding.EncodedSentence("abcd", [win])
    tl, cl = [rng.normal(size=(6, 3))], [rng.normal(size=(6, 14))]
    a, b = encoding.merge_windows(enc1, tl, cl), _old_merge_windows(enc1, tl, cl)
    assert [x[0] for x in a] == [x[0] for x in b]
    assert all(np.array_equal(x[1], y[1]) and np.array_equal(x[2], y[2]) for x, y in zip(a, b))
    dup = encoding.Window([1] * 3, [0] * 3, [(0, 1), (0, 1), (1, 2)])  # a repeated offset: averaged
    enc2 = encoding.EncodedSentence("ab", [dup])
    tl2 = [rng.normal(size=(3, 3))]
    a2, b2 = encoding.merge_windows(enc2, tl2), _old_merge_windows(enc2, tl2)
    assert len(a2) == 2 and all(np.array_equal(x[1], y[1]) for x, y in zip(a2, b2))


@given(st.lists(st.integers(1, 300), max_size=60), st.integers(1, 2000), st.one_of(st.none(), st.integers(1, 40)))
def test_token_budget_batches_cover_everything_within_budget(
    lengths: list[int], budget: int, max_batch: int | None
) -> None:
    lengths = sorted(lengths)
    sl = token_budget_batches(lengths, budget, max_batch)
    assert [i for a, b in sl for i in range(a, b)] == list(range(len(lengths)))
    for a, b in sl:
        assert b > a
        assert (b - a) * lengths[b - 1] <= budget or b - a == 1  # only a lone over-long window exceeds it
        assert max_batch is None or b - a <= max_batch
    # greedy: the next window would have broken the budget (or the row limit)
    for a, b in sl[:-1]:
        assert (b + 1 - a) * lengths[b] > budget or (max_batch is not None and b - a >= max_batch)


def test_token_budget_rejects_nonpositive() -> None:
    with pytest.raises(ValueError):
        token_budget_batches([3], 0)


@pytest.mark.slow
def test_token_budget_predictor_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """On CPU the budget only regroups the same windows: same spans as fixed batches, and every
    forward pass stays within the budget."""
    if not (MODEL / "govtarget.json").exists():
        pytest.skip("no shipped model")
    from pipeline.tagging.tagger import Tagger

    docs = [(d, t) for d, t in _gold_texts()][:3]
    tagger = Tagger.load(str(MODEL), backend="torch")
    pred = tagger.predictor
    assert pred.token_budget is None and not pred.autocast  # CPU default: fixed batch size, fp32
    ref = tagger.tag_many(docs)
    shapes: list[tuple[int, int]] = []
    orig = pred.forward

    def spy(ids, am, tt):  # noqa: ANN001, ANN202
        shapes.append(tuple(ids.shape))
        return orig(ids, am, tt)

    monkeypatch.setattr(pred, "forward", spy)
    pred.token_budget = 2048
    got = tagger.tag_many(docs)
    assert shapes and all(b * n <= 2048 or b == 1 for b, n in shapes)
    assert len({b for b, _ in shapes}) > 1  # rows per batch vary with the length
    key = lambda tds: [[(t.start, t.end, t.category) for t in td.targets()] for td in tds]  # noqa: E731
    assert key(got) == key(ref)


def test_cuda_defaults_are_token_budget_and_autocast() -> None:
    cpu = modeling.ModelPredictor(None, tokenizer=None, device="cpu")
    assert cpu.token_budget is None and cpu.autocast is False
    gpu = modeling.ModelPredictor(None, tokenizer=None, device="cuda")  # no GPU needed to construct
    assert gpu.token_budget == modeling.CUDA_TOKEN_BUDGET and gpu.autocast is True
    assert modeling.ModelPredictor(None, None, device="cuda", token_budget=4096).token_budget == 4096


# --------------------------------------------------------------------------- 2026-12-01 speed-ups


def test_mix_rule_category_over_rows_equals_one_by_one() -> None:
    """The rule mix over all sentences at once: each row is the one-sentence call's, a sentence
    without a rule distribution keeps the model's."""
    from pipeline.schema import CATEGORIES

    rng = np.random.default_rng(1)
    probs = encoding._softmax(rng.normal(size=(5, len(CATEGORIES))))
    rule: list = [dict(zip(CATEGORIES, rng.random(len(CATEGORIES)).tolist())), None, {}, {"金融": 2.0}]
    rule.append({c: 0.0 for c in CATEGORIES})
    many = modeling.mix_rule_category(probs, rule, 0.75)
    for i, r in enumerate(rule):
        assert np.array_equal(many[i], modeling.mix_rule_category(probs[i], r, 0.75)), i
    assert modeling.mix_rule_category(probs, rule, 0.0) is probs


@given(st.text(alphabet="增长5５%一二兩两十百千零〇壹萬億點个万人亿元 <b>&nbsp;，。", max_size=40))
def test_text_without_a_numeral_holds_no_number(text: str) -> None:
    from pipeline.fields import parse

    if not parse.has_numeral(text):
        assert parse.find_numbers(text) == []


@given(st.text(alphabet="增长５5％%Ａa\u3000\u00a0\x00\x07\x7f，（）！：；？ ", max_size=40))
def test_normalize_skips_only_text_with_nothing_to_fold(text: str) -> None:
    from pipeline.text import textnorm

    assert textnorm.normalize(text) == text.translate(textnorm._TABLE)


def test_encode_many_without_template_types_encodes_pairs(small_tok, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """A tokenizer whose template does not type the two sequences 0 and 1 takes the pair path:
    the same windows as ``encode``."""
    real = encoding._backends
    monkeypatch.setattr(
        encoding, "_backends", lambda tok, ml, stride: {**real(tok, ml, stride), "template_types": False}
    )
    items = [("城镇新增就业4.6万人" * 6, "民生｜部署：就业", [(4, 12)]), ("增长5%左右", "", None), ("GDP", "x", [])]
    got = encoding.encode_many(small_tok, items, max_length=24, stride=4)
    assert got == [encoding.encode(small_tok, t, c, max_length=24, stride=4, rule_spans=r) for t, c, r in items]
    assert len(got[0].windows) > 1


def test_bert_template_types_the_two_sequences(small_tok) -> None:  # noqa: ANN001
    assert encoding._backends(small_tok, 24, 4)["template_types"] is True


def test_load_tagger_freezes_the_loaded_objects() -> None:
    import gc

    from pipeline.tagging import parallel

    spec = parallel.TaggerSpec(model="rules")
    parallel._TAGGERS.pop(spec, None)
    gc.unfreeze()
    try:
        parallel.load_tagger(spec)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        parallel._TAGGERS.pop(spec, None)
