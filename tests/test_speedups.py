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
    monkeypatch.setattr(modeling, "decode", _old_decode)
    monkeypatch.setattr(encoding, "merge_windows", _old_merge_windows)
    monkeypatch.setattr(
        encoding, "_context_tokens", lambda tok, ctx: len(tok(ctx, add_special_tokens=False)["input_ids"])
    )
    monkeypatch.setattr(rules, "_heading_scores", lambda h: tuple(rules._keyword_scores_uncached(h).items()))
    monkeypatch.setattr(rules, "_keyword_scores", rules._keyword_scores_uncached)
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
