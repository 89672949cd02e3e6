"""Scoring: matching rules, agreement with seqeval's strict mode, bootstrap, agreement, CV folds."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from helpers import RAW, _t, copy_doc, tiny_gold
from hypothesis import given
from hypothesis import strategies as st
from seqeval.metrics import f1_score as seq_f1
from seqeval.metrics import precision_score as seq_p
from seqeval.metrics import recall_score as seq_r
from seqeval.scheme import IOB2
from sklearn.metrics import f1_score as sk_f1

from pipeline.evaluation.scoring import (
    PAIRED_METRICS,
    _macro_f1_from_confusion,
    agreement,
    align_document,
    match_partial,
    match_strict,
    paired_difference,
    score,
)
from pipeline.records import GoldDocument, SentenceRecord
from pipeline.schema import CATEGORIES, Span
from pipeline.training.cv import make_folds, split_train_dev, train_fold

# ----------------------------------------------------------------------------- builders


# ----------------------------------------------------------------------------- hand-made cases


def test_gold_against_itself_is_perfect() -> None:
    gold = tiny_gold()
    m = score([gold], {"d1": copy_doc(gold)}, n_resamples=50)
    for k in (
        "targets_strict_f",
        "targets_partial_f",
        "targets_typed_f",
        "fields_all_acc",
        "sentcat_accuracy",
        "sentcat_macro_f1",
        "targets_strict_p",
        "targets_strict_r",
    ):
        assert m[k] == 1.0, k
    assert m["targets_strict_f_ci"] == [1.0, 1.0]
    assert m["targets_missed"] == m["targets_spurious"] == m["targets_boundary"] == 0
    assert all(v["f"] == 1.0 for v in m["targets_per_category"].values())


def test_empty_prediction_has_zero_recall() -> None:
    gold = tiny_gold()
    empty = [SentenceRecord(s.doc_id, s.sent_id, s.start, s.end, s.text, "综合", []) for s in gold.sentences]
    m = score([gold], {"d1": empty}, n_resamples=20)
    assert m["targets_strict_r"] == 0.0 and m["targets_strict_p"] == 0.0
    assert m["targets_missed"] == 5 and m["targets_spurious"] == 0
    m2 = score([gold], {}, n_resamples=0)
    assert m2["targets_strict_r"] == 0.0 and m2["missing_predictions"] == ["d1"]
    assert m2["sentcat_unmatched"] == 4


def test_hand_computed_example() -> None:
    gold = tiny_gold()
    pred = copy_doc(gold)
    raw = gold.raw
    # sentence 1: first target exact with the wrong category, second target one character short
    t1 = pred[1].targets[0]
    t1.category = "产业"
    t2 = pred[1].targets[1]
    pred[1].targets[1] = _t(raw, t2.start, t2.end - 1, "民生", value=4.6, unit="万")
    # sentence 2: drop the second target; add a spurious one in the first sentence
    pred[2].targets = pred[2].targets[:1]
    pred[0].targets = [_t(raw, 0, 4, "综合")]
    # wrong bound on the last target; wrong sentence category on sentence 3
    t = pred[3].targets[0]
    pred[3].targets[0] = dataclasses.replace(t, fields=dataclasses.replace(t.fields, bound="at_least"))
    pred[3].category = "产业"
    m = score([gold], {"d1": pred}, n_resamples=0)
    assert (m["targets_n_gold"], m["targets_n_pred"]) == (5, 5)
    assert m["targets_correct"] == 3  # t1, t3, t5
    assert m["targets_boundary"] == 1 and m["targets_missed"] == 1 and m["targets_spurious"] == 1
    assert m["targets_strict_p"] == pytest.approx(3 / 5) and m["targets_strict_r"] == pytest.approx(3 / 5)
    assert m["targets_partial_f"] == pytest.approx(4 / 5)
    assert m["targets_typed_f"] == pytest.approx(2 / 5)
    assert m["fields_n"] == 3 and m["fields_bound_acc"] == pytest.approx(2 / 3)
    assert m["fields_all_acc"] == pytest.approx(2 / 3)
    assert m["sentcat_accuracy"] == pytest.approx(3 / 4)
    assert [e["text"] for e in m["errors"]["missed"]] == ["空气质量优良天数达到300天"]
    assert [e["text"] for e in m["errors"]["spurious"]] == ["各位代表"]
    assert m["errors"]["boundary"][0]["pred_text"] == "城镇新增就业4.6万"
    assert m["errors"]["category"][0]["pred_category"] == "产业"
    assert m["targets_per_category"]["商贸"]["span_r"] == 1.0 and m["targets_per_category"]["商贸"]["r"] == 0.0


def test_only_text_inside_gold_sentences_is_scored() -> None:
    raw = "重庆日报 2024年2月5日\n" + RAW
    gold = tiny_gold(raw=raw)
    pred = copy_doc(gold)
    # A predicted sentence in the furniture, with a target: not annotated, so not scored.
    pred.insert(0, SentenceRecord("d1", 99, 0, 4, raw[0:4], "综合", [_t(raw, 0, 4, "综合")]))
    m = score([gold], {"d1": pred}, n_resamples=0)
    assert m["targets_strict_f"] == 1.0 and m["targets_pred_outside_gold"] == 1


def test_sentence_category_from_most_overlapping_prediction() -> None:
    gold = tiny_gold()
    g = gold.sentences[1]
    mid = g.start + 5
    pred = [
        SentenceRecord("d1", 0, g.start, mid, gold.raw[g.start : mid], "产业", []),
        SentenceRecord("d1", 1, mid, g.end, gold.raw[mid : g.end], "商贸", []),
    ]
    units = align_document(gold, pred).units
    assert units[1].pred_category == "商贸"
    assert units[0].pred_category == "(none)"


def test_macro_f1_matches_sklearn() -> None:
    rng = random.Random(1)
    labels = list(CATEGORIES[:5])
    for _ in range(30):
        y = [rng.choice(labels) for _ in range(20)]
        p = [rng.choice(labels) for _ in range(20)]
        cm = np.zeros((len(labels), len(labels)), dtype=int)
        for a, b in zip(y, p):
            cm[labels.index(a), labels.index(b)] += 1
        assert _macro_f1_from_confusion(cm) == pytest.approx(sk_f1(y, p, average="macro", zero_division=0))


def test_bootstrap_is_deterministic_and_brackets_the_estimate() -> None:
    gold = tiny_gold()
    pred = copy_doc(gold)
    pred[2].targets = []
    a = score([gold], {"d1": pred}, n_resamples=200, seed=3)
    b = score([gold], {"d1": pred}, n_resamples=200, seed=3)
    assert a["targets_strict_f_ci"] == b["targets_strict_f_ci"]
    lo, hi = a["targets_strict_f_ci"]
    assert lo <= a["targets_strict_f"] <= hi and lo < hi


def test_per_document_breakdown() -> None:
    g1, g2 = tiny_gold("d1"), tiny_gold("d2")
    pred = {
        "d1": copy_doc(g1),
        "d2": [SentenceRecord(s.doc_id, s.sent_id, s.start, s.end, s.text, s.category, []) for s in g2.sentences],
    }
    m = score([g1, g2], pred, n_resamples=0)
    assert m["per_document"]["d1"]["targets_strict_f"] == 1.0
    assert m["per_document"]["d2"]["targets_strict_r"] == 0.0
    assert m["targets_strict_r"] == pytest.approx(0.5)


# ----------------------------------------------------------------------------- seqeval reference


def _bio(n: int, spans: list[Span]) -> list[str]:
    tags = ["O"] * n
    for s in spans:
        tags[s.start] = f"B-{s.label}"
        for i in range(s.start + 1, s.end):
            tags[i] = f"I-{s.label}"
    return tags


@st.composite
def _spans(draw: st.DrawFn, n: int) -> list[Span]:
    """Non-overlapping, non-empty spans in [0, n) with one of three labels."""
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=8))))
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if draw(st.booleans()):
            out.append(Span(a, b, draw(st.sampled_from(["金融", "商贸", "民生"]))))
    return out


@st.composite
def _corpus(draw: st.DrawFn) -> tuple[GoldDocument, list[SentenceRecord], list[tuple[int, list[Span], list[Span]]]]:
    n_sent = draw(st.integers(1, 5))
    lengths = [draw(st.integers(1, 20)) for _ in range(n_sent)]
    raw = "\n".join("字" * n for n in lengths)
    gold_s, pred_s, per = [], [], []
    pos = 0
    for i, n in enumerate(lengths):
        g, p = draw(_spans(n)), draw(_spans(n))
        text = raw[pos : pos + n]
        gold_s.append(
            SentenceRecord(
                "d", i, pos, pos + n, text, "综合", [_t(raw, pos + s.start, pos + s.end, s.label) for s in g]
            )
        )
        pred_s.append(
            SentenceRecord(
                "d", i, pos, pos + n, text, "综合", [_t(raw, pos + s.start, pos + s.end, s.label) for s in p]
            )
        )
        per.append((n, g, p))
        pos += n + 1
    return GoldDocument("d", raw, gold_s), pred_s, per


@given(_corpus())
def test_strict_and_typed_equal_seqeval_strict_mode(data: tuple) -> None:
    gold, pred, per = data
    m = score([gold], {"d": pred}, n_resamples=0)
    # untyped: every span is TARGET
    y_true = [_bio(n, [Span(s.start, s.end) for s in g]) for n, g, _ in per]
    y_pred = [_bio(n, [Span(s.start, s.end) for s in p]) for n, _, p in per]
    kw = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    assert m["targets_strict_p"] == pytest.approx(seq_p(y_true, y_pred, **kw))
    assert m["targets_strict_r"] == pytest.approx(seq_r(y_true, y_pred, **kw))
    assert m["targets_strict_f"] == pytest.approx(seq_f1(y_true, y_pred, **kw))
    # typed: the category is the entity type
    y_true = [_bio(n, g) for n, g, _ in per]
    y_pred = [_bio(n, p) for n, _, p in per]
    assert m["targets_typed_f"] == pytest.approx(seq_f1(y_true, y_pred, **kw))
    # partial bookkeeping always adds up
    assert m["targets_correct"] + m["targets_boundary"] + m["targets_missed"] == m["targets_n_gold"]
    assert m["targets_correct"] + m["targets_boundary"] + m["targets_spurious"] == m["targets_n_pred"]


def test_seqeval_strict_differs_from_its_default_here() -> None:
    # Guard against comparing with seqeval's lenient default: gold B I, predicted I I.
    assert seq_f1([["B-TARGET", "I-TARGET"]], [["I-TARGET", "I-TARGET"]], mode="strict", scheme=IOB2) == 0.0
    gold = GoldDocument("d", "字字", [SentenceRecord("d", 0, 0, 2, "字字", "综合", [_t("字字", 0, 2)])])
    pred = [SentenceRecord("d", 0, 0, 2, "字字", "综合", [_t("字字", 1, 2)])]
    assert score([gold], {"d": pred}, n_resamples=0)["targets_strict_f"] == 0.0


# ----------------------------------------------------------------------------- partial matching


_span_list = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 8)).map(lambda x: Span(x[0], x[0] + x[1])), max_size=8
)


@given(_span_list, _span_list, st.randoms(use_true_random=False))
def test_partial_matching_is_order_independent(gold: list[Span], pred: list[Span], rnd: random.Random) -> None:
    def matched(g: list[Span], p: list[Span]) -> list[tuple[Span, Span]]:
        return sorted((g[i], p[j]) for i, j in match_partial(g, p))

    ref = matched(gold, pred)
    g2, p2 = gold[:], pred[:]
    rnd.shuffle(g2)
    rnd.shuffle(p2)
    assert matched(g2, p2) == ref
    # one-to-one, overlapping, and a superset of the strict matches
    pairs = match_partial(gold, pred)
    assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
    assert all(gold[i].overlaps(pred[j]) for i, j in pairs)
    strict = {(gold[i].start, gold[i].end) for i, _ in match_strict(gold, pred)}
    assert strict <= {(gold[i].start, gold[i].end) for i, j in pairs if gold[i] == pred[j]}


def test_partial_prefers_greatest_overlap() -> None:
    gold = [Span(0, 10)]
    pred = [Span(8, 12), Span(2, 9)]
    assert match_partial(gold, pred) == [(0, 1)]
    # exact beats an equally large superset
    assert match_partial([Span(2, 5)], [Span(0, 9), Span(2, 5)]) == [(0, 1)]


# ----------------------------------------------------------------------------- agreement


def test_agreement_of_identical_annotations() -> None:
    a = tiny_gold()
    b = GoldDocument("d1", a.raw, copy_doc(a))
    m = agreement([a], [b])
    assert m["targets_strict_f"] == 1.0 and m["sentcat_kappa"] == 1.0 and m["target_category_kappa"] == 1.0


def test_agreement_is_symmetric_in_strict_f() -> None:
    a = tiny_gold()
    bs = copy_doc(a)
    bs[2].targets = bs[2].targets[:1]
    bs[1].category = "民生"
    b = GoldDocument("d1", a.raw, bs)
    ab, ba = agreement([a], [b]), agreement([b], [a])
    assert ab["targets_strict_f"] == pytest.approx(ba["targets_strict_f"]) == pytest.approx(8 / 9)
    assert ab["sentcat_kappa"] == pytest.approx(ba["sentcat_kappa"])
    assert ab["sentcat_kappa"] < 1.0


# ----------------------------------------------------------------------------- cross-validation folds


def _para_doc(doc_id: str, n_para: int = 12) -> GoldDocument:
    lines = [f"第{i}段第一句，增长{i}%。第二句{i}。" for i in range(n_para)]
    raw = "\n".join(lines) + "\n"
    sents, pos, sid = [], 0, 0
    for line in lines:
        a = line.index("。") + 1
        for s, e in ((0, a), (a, len(line))):
            sents.append(SentenceRecord(doc_id, sid, pos + s, pos + e, line[s:e], "综合", []))
            sid += 1
        pos += len(line) + 1
    return GoldDocument(doc_id, raw, sents)


def _keys(docs: list[GoldDocument]) -> list[tuple[str, int, int]]:
    return [(d.doc_id, s.start, s.end) for d in docs for s in d.sentences]


@pytest.mark.parametrize("k", [2, 5])
def test_paragraph_folds_are_disjoint_and_cover_everything(k: int) -> None:
    docs = [_para_doc("a"), _para_doc("b", 7)]
    folds = make_folds(docs, k=k, seed=0)
    assert len(folds) == k
    tested: list[tuple[str, int, int]] = []
    for f in folds:
        tr, te = _keys(f.train), _keys(f.test)
        assert not set(tr) & set(te)
        assert sorted(tr + te) == sorted(_keys(docs))
        # no paragraph (one line here) on both sides
        line_of = {d.doc_id: d.raw for d in docs}
        para = {(d, line_of[d].count("\n", 0, s)) for d, s, _ in te}
        assert not para & {(d, line_of[d].count("\n", 0, s)) for d, s, _ in tr}
        assert all(td.raw == next(d.raw for d in docs if d.doc_id == td.doc_id) for td in f.test + f.train)
        tested += te
    assert sorted(tested) == sorted(_keys(docs))  # every sentence tested exactly once
    assert [_keys(f.test) for f in make_folds(docs, k=k, seed=0)] == [_keys(f.test) for f in folds]


def test_document_folds_leave_one_out() -> None:
    docs = [_para_doc("a"), _para_doc("b"), _para_doc("c")]
    folds = make_folds(docs, by="document")
    assert [[d.doc_id for d in f.test] for f in folds] == [["a"], ["b"], ["c"]]
    assert all(len(f.train) == 2 for f in folds)
    with pytest.raises(ValueError):
        make_folds(docs[:1], by="document")
    with pytest.raises(ValueError):
        make_folds([_para_doc("a", 3)], k=5)


def test_train_dev_split_keeps_paragraphs_whole() -> None:
    docs = [_para_doc("a", 20)]
    train, dev = split_train_dev(docs, frac=0.2, seed=0)
    assert dev and not set(_keys(train)) & set(_keys(dev))
    assert sorted(_keys(train) + _keys(dev)) == sorted(_keys(docs))


def test_train_fold_holds_out_dev_inside_the_fold_and_seeds_per_fold() -> None:
    """The one per-fold fit (training's and evaluation's CV both use it): the dev part comes out
    of the fold's training part, never its test part, and each fold gets its own seed."""

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        seed: int = 10
        dev_fraction: float = 0.2

    docs = [_para_doc("a", 20)]
    seen = []
    for fold in make_folds(docs, k=4, seed=0):
        train, dev, cfg = train_fold(fold, Cfg(), lambda tr, dv, c: (tr, dv, c), seed=3)
        assert dev and sorted(_keys(train) + _keys(dev)) == sorted(_keys(fold.train))
        assert not set(_keys(dev)) & set(_keys(fold.test))
        assert (train, dev) == tuple(split_train_dev(fold.train, frac=0.2, seed=3 + fold.index))
        seen.append(cfg.seed)
    assert seen == [10, 11, 12, 13]
    plain = {"seed": 1}  # a configuration that is not a dataclass goes through untouched
    assert train_fold(make_folds(docs, k=2)[1], plain, lambda tr, dv, c: c) is plain


def test_paired_difference_of_a_system_with_itself_is_zero_and_not_better() -> None:
    gold = tiny_gold()
    pred = {"d1": copy_doc(gold)}
    d = paired_difference([gold], pred, pred, n_resamples=200)
    for k in PAIRED_METRICS:
        assert d[k]["diff"] == 0.0 and d[k]["ci"] == [0.0, 0.0] and d[k]["p_not_better"] == 1.0


def test_paired_difference_counts_the_same_sentences_for_both() -> None:
    gold = tiny_gold()
    worse = copy_doc(gold)
    worse[1].targets = worse[1].targets[:1]  # one target missed
    worse[3].category = "民生"  # one sentence category wrong
    d = paired_difference([gold], {"d1": copy_doc(gold)}, {"d1": worse}, n_resamples=500, seed=1)
    m = score([gold], {"d1": worse}, n_resamples=0)
    assert d["targets_strict_f"]["b"] == pytest.approx(m["targets_strict_f"])
    assert d["targets_strict_f"]["diff"] == pytest.approx(1.0 - m["targets_strict_f"])
    assert d["sentcat_accuracy"]["diff"] == pytest.approx(0.25)
    # Paired: the better system is never behind on any resample, only tied where the draw
    # skips the sentences that differ.
    assert d["sentcat_accuracy"]["ci"][0] >= 0.0 and 0.0 < d["sentcat_accuracy"]["p_not_better"] < 0.5
    reverse = paired_difference([gold], {"d1": worse}, {"d1": copy_doc(gold)}, n_resamples=500, seed=1)
    assert (
        reverse["sentcat_accuracy"]["diff"] == pytest.approx(-0.25)
        and reverse["sentcat_accuracy"]["p_not_better"] == 1.0
    )
