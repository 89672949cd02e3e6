"""Stage: scoring. Gold documents + predicted sentence records → one flat dict of metrics
(``pipeline.evaluation.metrics.Metrics``, a TypedDict).

One convention throughout: half-open code-point offsets into the raw document
(``pipeline.schema.Span``). Pure functions; tables, Markdown and HTML are views of the dict.

Matching rules (each a small function with its rule in its docstring):

* **strict**: a predicted target is correct when its ``(start, end)`` equals a gold target's.
  This equals seqeval in ``mode="strict", scheme=IOB2`` (tested).
* **partial**: one-to-one matching of overlapping spans. Exact matches are paired first; the
  rest greedily by greatest overlap, ties broken by position, so the result never depends on
  the order in which spans are listed (nervaluate's can: issues #40, #81).
* **typed**: strict span and the same category.

Only text inside gold sentences is scored (furniture is not annotated): every predicted
sentence and target is assigned to the gold sentence it overlaps most; predictions that overlap
no gold sentence are counted in ``targets_pred_outside_gold`` and otherwise ignored.

Headline metric: ``targets_strict_f`` (``HEADLINE``), with a 95% bootstrap interval over
sentences.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.evaluation.metrics import (
    CategoryError,
    CategoryScores,
    Errors,
    FieldError,
    Metrics,
    PairedDifference,
    PairedScore,
    SentcatScores,
    TargetRef,
)
from pipeline.records import GoldDocument, SentenceRecord, Target
from pipeline.schema import CATEGORIES, Span

#: The one number a run is judged by.
HEADLINE = "targets_strict_f"
#: Label given to a gold sentence that no predicted sentence overlaps.
NO_SENTENCE = "(none)"
#: Fields compared on strictly matched targets.
FIELDS: tuple[str, ...] = ("value", "unit", "bound", "direction", "value_max")
#: Metrics that get a bootstrap confidence interval.
CI_METRICS: tuple[str, ...] = (
    "targets_strict_p",
    "targets_strict_r",
    "targets_strict_f",
    "targets_partial_f",
    "targets_typed_f",
    "targets_category_acc",
    "sentcat_accuracy",
    "sentcat_macro_f1",
)
#: Cap on every listed error kind, so reports stay readable; counts are always complete.
MAX_LISTED = 500


# --------------------------------------------------------------------------- matching rules


def prf(tp: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    """Precision, recall, F1; 0.0 where a denominator is zero (scikit-learn's zero_division=0)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def target_category_accuracy(strict_tp: float, typed_tp: float) -> float:
    """Target-category accuracy on strictly matched targets: of the predicted targets whose
    ``(start, end)`` equals a gold target's, the share that also has its category
    (``typed_tp / strict_tp``; 0.0 when nothing matches). Span errors do not count here: they
    are strict F1's business, so the two figures measure separate things."""
    return typed_tp / strict_tp if strict_tp else 0.0


def match_strict(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int]]:
    """Pairs ``(gold_index, pred_index)`` whose start and end are equal (label ignored)."""
    by_pos: dict[tuple[int, int], list[int]] = {}
    for j, p in sorted(enumerate(pred), key=lambda x: (x[1].start, x[1].end, x[0])):
        by_pos.setdefault((p.start, p.end), []).append(j)
    pairs = []
    for i, g in sorted(enumerate(gold), key=lambda x: (x[1].start, x[1].end, x[0])):
        cands = by_pos.get((g.start, g.end))
        if cands:
            pairs.append((i, cands.pop(0)))
    return pairs


def match_typed(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int]]:
    """Pairs whose start, end and label are all equal."""
    by_key: dict[tuple[int, int, str], list[int]] = {}
    for j, p in sorted(enumerate(pred), key=lambda x: (x[1].start, x[1].end, x[0])):
        by_key.setdefault((p.start, p.end, p.label), []).append(j)
    pairs = []
    for i, g in sorted(enumerate(gold), key=lambda x: (x[1].start, x[1].end, x[0])):
        cands = by_key.get((g.start, g.end, g.label))
        if cands:
            pairs.append((i, cands.pop(0)))
    return pairs


def overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def match_partial(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int]]:
    """One-to-one pairs of overlapping spans: exact matches first, then greatest overlap.

    Ties are broken by the spans' positions (gold start, gold end, pred start, pred end), never
    by list order, so permuting either input permutes indices but matches the same spans.
    """
    pairs = match_strict(gold, pred)
    used_g = {i for i, _ in pairs}
    used_p = {j for _, j in pairs}
    cands = []
    for i, g in enumerate(gold):
        if i in used_g:
            continue
        for j, p in enumerate(pred):
            if j in used_p:
                continue
            ov = overlap(g, p)
            if ov > 0:
                cands.append((-ov, g.start, g.end, p.start, p.end, i, j))
    cands.sort()
    for *_, i, j in cands:
        if i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        pairs.append((i, j))
    return sorted(pairs)


# --------------------------------------------------------------------------- alignment


@dataclass
class SentenceUnit:
    """One gold sentence with the predictions assigned to it: the unit of bootstrap resampling."""

    doc_id: str
    gold: SentenceRecord
    pred_category: str
    gold_targets: list[Target] = field(default_factory=list)
    pred_targets: list[Target] = field(default_factory=list)


@dataclass
class Alignment:
    units: list[SentenceUnit]
    #: Predicted targets overlapping no gold sentence (e.g. in furniture): not scored.
    outside: list[Target] = field(default_factory=list)


def _assign(gold_sents: list[SentenceRecord], starts: list[int], span: Span) -> int | None:
    """Index of the gold sentence that ``span`` overlaps most (earliest on ties), or None."""
    k = bisect.bisect_right(starts, span.start) - 1
    best, best_ov = None, 0
    for i in range(max(k, 0), len(gold_sents)):
        g = gold_sents[i]
        if g.start >= span.end and i > k:
            break
        ov = overlap(g.span, span)
        if ov > best_ov:
            best, best_ov = i, ov
    return best


def align_document(gold: GoldDocument, pred: Sequence[SentenceRecord]) -> Alignment:
    """Assign predicted sentences and targets to the gold sentences they overlap most."""
    gsents = sorted(gold.sentences, key=lambda s: s.start)
    starts = [s.start for s in gsents]
    cat_ov: list[tuple[int, int, str]] = [(-1, 0, NO_SENTENCE)] * len(gsents)  # (overlap, -start, cat)
    units = [SentenceUnit(gold.doc_id, s, NO_SENTENCE, list(s.targets)) for s in gsents]
    outside: list[Target] = []
    for ps in pred:
        # A gold sentence takes the category of the predicted sentence overlapping it most.
        k = bisect.bisect_right(starts, ps.start) - 1
        for i in range(max(k, 0), len(gsents)):
            g = gsents[i]
            if g.start >= ps.end and i > k:
                break
            ov = overlap(g.span, ps.span)
            if ov > 0 and (ov, -ps.start) > cat_ov[i][:2]:
                cat_ov[i] = (ov, -ps.start, ps.category)
        for t in ps.targets:
            if t.end <= t.start:
                outside.append(t)  # an empty span cannot be scored; it is listed, never hidden
                continue
            j = _assign(gsents, starts, t.span)
            if j is None:
                outside.append(t)
            else:
                units[j].pred_targets.append(t)
    for u, (_, _, cat) in zip(units, cat_ov):
        u.pred_category = cat
    return Alignment(units, outside)


def align(gold: Sequence[GoldDocument], pred: dict[str, list[SentenceRecord]]) -> tuple[Alignment, list[str]]:
    """Align every gold document; returns the alignment and the gold doc_ids with no prediction."""
    units: list[SentenceUnit] = []
    outside: list[Target] = []
    missing = []
    for doc in gold:
        if doc.doc_id not in pred:
            missing.append(doc.doc_id)
        a = align_document(doc, pred.get(doc.doc_id, []))
        units.extend(a.units)
        outside.extend(a.outside)
    return Alignment(units, outside), missing


# --------------------------------------------------------------------------- per-unit results


def _sp(t: Target, label: str | None = None) -> Span:
    return Span(t.start, t.end, label if label is not None else t.category)


def _same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _tref(doc_id: str, sent_id: int, t: Target) -> TargetRef:
    return {
        "doc_id": doc_id,
        "sent_id": sent_id,
        "start": t.start,
        "end": t.end,
        "text": t.text,
        "category": t.category,
    }


@dataclass
class UnitResult:
    n_gold: int
    n_pred: int
    strict_tp: int
    partial_tp: int
    typed_tp: int
    correct: list[tuple[Target, Target]]
    boundary: list[tuple[Target, Target]]
    missed: list[Target]
    spurious: list[Target]


def score_unit(u: SentenceUnit) -> UnitResult:
    g, p = u.gold_targets, u.pred_targets
    gs, ps = [_sp(t) for t in g], [_sp(t) for t in p]
    strict = match_strict(gs, ps)
    partial = match_partial(gs, ps)
    typed = match_typed(gs, ps)
    mg = {i for i, _ in partial}
    mp = {j for _, j in partial}
    exact = [(g[i], p[j]) for i, j in partial if (gs[i].start, gs[i].end) == (ps[j].start, ps[j].end)]
    boundary = [(g[i], p[j]) for i, j in partial if (gs[i].start, gs[i].end) != (ps[j].start, ps[j].end)]
    # match_partial pairs exact matches first, so its exact pairs are exactly the strict ones.
    assert len(exact) == len(strict)
    return UnitResult(
        n_gold=len(g),
        n_pred=len(p),
        strict_tp=len(strict),
        partial_tp=len(partial),
        typed_tp=len(typed),
        correct=exact,
        boundary=boundary,
        missed=[t for i, t in enumerate(g) if i not in mg],
        spurious=[t for j, t in enumerate(p) if j not in mp],
    )


# --------------------------------------------------------------------------- aggregation


def _macro_f1_from_confusion(cm: np.ndarray) -> float:
    """Macro F1 over labels present in gold or prediction (scikit-learn's ``labels=None``)."""
    tp = np.diag(cm).astype(float)
    gold_n = cm.sum(axis=1).astype(float)
    pred_n = cm.sum(axis=0).astype(float)
    present = (gold_n + pred_n) > 0
    if not present.any():
        return 0.0
    denom = gold_n + pred_n
    f = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f[present].mean())


def _headline_from_counts(c: np.ndarray, cm: np.ndarray | None) -> dict[str, float]:
    """Metrics from summed count columns (n_gold, n_pred, strict, partial, typed, sent_ok, n_sent)."""
    n_gold, n_pred, st, pa, ty, ok, ns = (float(x) for x in c)
    out = {}
    out["targets_strict_p"], out["targets_strict_r"], out["targets_strict_f"] = prf(st, n_pred, n_gold)
    out["targets_partial_f"] = prf(pa, n_pred, n_gold)[2]
    out["targets_typed_f"] = prf(ty, n_pred, n_gold)[2]
    out["targets_category_acc"] = target_category_accuracy(st, ty)
    out["sentcat_accuracy"] = ok / ns if ns else 0.0
    out["sentcat_macro_f1"] = _macro_f1_from_confusion(cm) if cm is not None else 0.0
    return out


def bootstrap_ci(
    counts: np.ndarray,
    gold_idx: np.ndarray,
    pred_idx: np.ndarray,
    n_labels: int,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of ``CI_METRICS``, resampling sentences with replacement.

    ``counts`` has one row per sentence (columns as in ``_headline_from_counts``); ``gold_idx``
    and ``pred_idx`` are the sentence-category label indices, used for macro-F1.
    """
    n = len(counts)
    if n == 0:
        return {k: (0.0, 0.0) for k in CI_METRICS}
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {k: [] for k in CI_METRICS}
    for _ in range(n_resamples):
        idx = rng.integers(0, n, size=n)
        cm = np.zeros((n_labels, n_labels), dtype=np.int64)
        np.add.at(cm, (gold_idx[idx], pred_idx[idx]), 1)
        m = _headline_from_counts(counts[idx].sum(axis=0), cm)
        for k in CI_METRICS:
            samples[k].append(m[k])
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)
    return {k: (float(np.percentile(v, lo)), float(np.percentile(v, hi))) for k, v in samples.items()}


def _per_category(results: list[UnitResult], units: list[SentenceUnit]) -> dict[str, CategoryScores]:
    gold_c: Counter[str] = Counter()
    pred_c: Counter[str] = Counter()
    tp_c: Counter[str] = Counter()
    span_tp_c: Counter[str] = Counter()
    for u, r in zip(units, results):
        gold_c.update(t.category for t in u.gold_targets)
        pred_c.update(t.category for t in u.pred_targets)
        for gt, pt in r.correct:
            span_tp_c[gt.category] += 1  # span found, whatever category was predicted
            if gt.category == pt.category:
                tp_c[gt.category] += 1
    out: dict[str, CategoryScores] = {}
    for c in [*CATEGORIES, *sorted(set(gold_c) | set(pred_c) - set(CATEGORIES))]:
        if not gold_c[c] and not pred_c[c]:
            continue
        cp, cr, cf = prf(tp_c[c], pred_c[c], gold_c[c])
        out[c] = {
            "p": cp,
            "r": cr,
            "f": cf,
            "support": gold_c[c],
            "n_pred": pred_c[c],
            "tp": tp_c[c],
            "span_r": span_tp_c[c] / gold_c[c] if gold_c[c] else 0.0,
        }
    return out


def _fields(results: list[UnitResult], units: list[SentenceUnit]) -> tuple[Metrics, list[FieldError]]:
    """``fields_n``, ``fields_<field>_acc`` (``FIELDS``) and ``fields_all_acc`` on strictly
    matched targets, and the field errors."""
    n = 0
    ok: Counter[str] = Counter()
    all_ok = 0
    errors: list[FieldError] = []
    for u, r in zip(units, results):
        for gt, pt in r.correct:
            n += 1
            good = True
            for f in FIELDS:
                gv, pv = getattr(gt, f), getattr(pt, f)
                if _same_value(gv, pv):
                    ok[f] += 1
                else:
                    good = False
                    errors.append({**_tref(u.doc_id, u.gold.sent_id, gt), "field": f, "gold": gv, "pred": pv})
            all_ok += good

    def acc(k: int) -> float:
        return k / n if n else 0.0

    assert FIELDS == ("value", "unit", "bound", "direction", "value_max")  # the keys below
    out: Metrics = {
        "fields_n": n,
        "fields_value_acc": acc(ok["value"]),
        "fields_unit_acc": acc(ok["unit"]),
        "fields_bound_acc": acc(ok["bound"]),
        "fields_direction_acc": acc(ok["direction"]),
        "fields_value_max_acc": acc(ok["value_max"]),
        "fields_all_acc": acc(all_ok),
    }
    return out, errors


def _sentcat(units: list[SentenceUnit]) -> tuple[Metrics, list[str], np.ndarray, np.ndarray]:
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    y_true = [u.gold.category for u in units]
    y_pred = [u.pred_category for u in units]
    extra = sorted((set(y_true) | set(y_pred)) - set(CATEGORIES))
    labels = [*CATEGORIES, *extra]
    l2i = {c: i for i, c in enumerate(labels)}
    gi = np.array([l2i[c] for c in y_true], dtype=np.int64)
    pi = np.array([l2i[c] for c in y_pred], dtype=np.int64)
    out: Metrics = {"sentcat_n": len(units), "sentcat_unmatched": sum(c == NO_SENTENCE for c in y_pred)}
    if not units:
        out["sentcat_accuracy"] = 0.0
        out["sentcat_macro_f1"] = 0.0
        out["sentcat_per_category"] = {}
        out["sentcat_confusion"] = {"labels": labels, "matrix": []}
        return out, labels, gi, pi
    out["sentcat_accuracy"] = float(np.mean(gi == pi))
    present = [c for c in labels if c in set(y_true) | set(y_pred)]
    # labels=present is scikit-learn's default (the union), passed to silence its single-label warning.
    out["sentcat_macro_f1"] = float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))
    with warnings.catch_warnings():
        # One label only (a tiny gold set): scikit-learn warns about the confusion shape; harmless.
        warnings.filterwarnings("ignore", message="A single label was found")
        rep = classification_report(y_true, y_pred, labels=present, output_dict=True, zero_division=0)
    per: dict[str, SentcatScores] = {
        c: {"p": v["precision"], "r": v["recall"], "f": v["f1-score"], "support": int(v["support"])}
        for c, v in rep.items()
        if c in present
    }
    out["sentcat_per_category"] = per
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A single label was found")
        cm = confusion_matrix(y_true, y_pred, labels=present)
    out["sentcat_confusion"] = {"labels": present, "matrix": cm.tolist()}
    return out, labels, gi, pi


def unit_counts(units: list[SentenceUnit], results: list[UnitResult] | None = None) -> np.ndarray:
    """One row per sentence, the columns of ``_headline_from_counts``: the unit of resampling."""
    results = results if results is not None else [score_unit(u) for u in units]
    return np.array(
        [
            [r.n_gold, r.n_pred, r.strict_tp, r.partial_tp, r.typed_tp, int(u.gold.category == u.pred_category), 1]
            for u, r in zip(units, results)
        ],
        dtype=np.int64,
    ).reshape(-1, 7)


def score_units(
    units: list[SentenceUnit],
    outside: Iterable[Target] = (),
    n_resamples: int = 1000,
    seed: int = 0,
) -> Metrics:
    """All metrics over aligned sentence units: one flat dict (nested only for tables and lists)."""
    outside = list(outside)
    results = [score_unit(u) for u in units]
    n_gold = sum(r.n_gold for r in results)
    n_pred = sum(r.n_pred for r in results)
    st = sum(r.strict_tp for r in results)
    pa = sum(r.partial_tp for r in results)
    ty = sum(r.typed_tp for r in results)
    m: Metrics = {
        "headline": HEADLINE,
        "n_documents": len({u.doc_id for u in units}),
        "n_sentences": len(units),
        "targets_n_gold": n_gold,
        "targets_n_pred": n_pred,
        "targets_correct": st,
        "targets_boundary": pa - st,
        "targets_missed": n_gold - pa,
        "targets_spurious": n_pred - pa,
        "targets_pred_outside_gold": len(outside),
    }
    m["targets_strict_p"], m["targets_strict_r"], m["targets_strict_f"] = prf(st, n_pred, n_gold)
    m["targets_partial_p"], m["targets_partial_r"], m["targets_partial_f"] = prf(pa, n_pred, n_gold)
    m["targets_typed_p"], m["targets_typed_r"], m["targets_typed_f"] = prf(ty, n_pred, n_gold)
    m["targets_category_acc"] = target_category_accuracy(st, ty)
    m["targets_per_category"] = _per_category(results, units)
    fields, field_errors = _fields(results, units)
    m.update(fields)
    sc, labels, gi, pi = _sentcat(units)
    m.update(sc)

    counts = unit_counts(units, results)
    if n_resamples > 0:
        ci = {k: [lo, hi] for k, (lo, hi) in bootstrap_ci(counts, gi, pi, len(labels), n_resamples, seed).items()}
        assert tuple(ci) == CI_METRICS  # the keys below, in this order
        m["targets_strict_p_ci"] = ci["targets_strict_p"]
        m["targets_strict_r_ci"] = ci["targets_strict_r"]
        m["targets_strict_f_ci"] = ci["targets_strict_f"]
        m["targets_partial_f_ci"] = ci["targets_partial_f"]
        m["targets_typed_f_ci"] = ci["targets_typed_f"]
        m["targets_category_acc_ci"] = ci["targets_category_acc"]
        m["sentcat_accuracy_ci"] = ci["sentcat_accuracy"]
        m["sentcat_macro_f1_ci"] = ci["sentcat_macro_f1"]
        m["bootstrap"] = {"n_resamples": n_resamples, "seed": seed, "unit": "sentence", "level": 0.95}

    def listed(items: list[Any]) -> list[Any]:
        return items[:MAX_LISTED]

    category_errors: list[CategoryError] = [
        {**_tref(u.doc_id, u.gold.sent_id, gt), "pred_category": pt.category}
        for u, r in zip(units, results)
        for gt, pt in r.correct
        if gt.category != pt.category
    ]
    errors: Errors = {
        "missed": listed([_tref(u.doc_id, u.gold.sent_id, t) for u, r in zip(units, results) for t in r.missed]),
        "spurious": listed([_tref(u.doc_id, u.gold.sent_id, t) for u, r in zip(units, results) for t in r.spurious]),
        "boundary": listed(
            [
                {
                    "doc_id": u.doc_id,
                    "sent_id": u.gold.sent_id,
                    "gold_start": gt.start,
                    "gold_end": gt.end,
                    "gold_text": gt.text,
                    "pred_start": pt.start,
                    "pred_end": pt.end,
                    "pred_text": pt.text,
                    "category": gt.category,
                }
                for u, r in zip(units, results)
                for gt, pt in r.boundary
            ]
        ),
        "category": listed(category_errors),
        "fields": listed(field_errors),
        "sentences": listed(
            [
                {
                    "doc_id": u.doc_id,
                    "sent_id": u.gold.sent_id,
                    "start": u.gold.start,
                    "end": u.gold.end,
                    "text": u.gold.text,
                    "gold": u.gold.category,
                    "pred": u.pred_category,
                }
                for u in units
                if u.gold.category != u.pred_category
            ]
        ),
        "outside": listed(
            [{"doc_id": t.extra.get("doc_id"), "start": t.start, "end": t.end, "text": t.text} for t in outside]
        ),
    }
    m["errors"] = errors
    return m


#: Keys of the short per-document and per-fold summaries.
SUMMARY_KEYS: tuple[str, ...] = (
    "n_sentences",
    "targets_n_gold",
    "targets_n_pred",
    "targets_strict_p",
    "targets_strict_r",
    "targets_strict_f",
    "targets_partial_f",
    "targets_typed_f",
    "targets_category_acc",
    "fields_all_acc",
    "sentcat_accuracy",
    "sentcat_macro_f1",
)


#: Metrics compared by ``paired_difference`` (system minus baseline on the same sentences).
PAIRED_METRICS = ("targets_strict_f", "targets_typed_f", "targets_category_acc", "sentcat_accuracy")


def paired_difference(
    gold: Sequence[GoldDocument],
    pred_a: dict[str, list[SentenceRecord]],
    pred_b: dict[str, list[SentenceRecord]],
    n_resamples: int = 1000,
    seed: int = 0,
) -> PairedDifference:
    """System ``a`` minus system ``b`` on the same gold sentences, with a paired bootstrap.

    Each resample draws sentences with replacement and scores *both* systems on the same draw,
    so the interval is for the difference itself (narrower and more honest than comparing two
    separate intervals). ``p_not_better`` is the share of resamples where ``a`` is not ahead
    (difference ≤ 0): a one-sided bootstrap p-value. Per metric: ``diff``, ``ci``, ``p_not_better``.
    """
    ua, _ = align(gold, pred_a)
    ub, _ = align(gold, pred_b)
    ka = [(u.doc_id, u.gold.start) for u in ua.units]
    if ka != [(u.doc_id, u.gold.start) for u in ub.units]:
        raise ValueError("the two systems were aligned to different gold sentences")
    ca, cb = unit_counts(ua.units), unit_counts(ub.units)
    full_a, full_b = _headline_from_counts(ca.sum(axis=0), None), _headline_from_counts(cb.sum(axis=0), None)
    out: PairedDifference = {"n_sentences": len(ka), "n_resamples": n_resamples, "seed": seed, "unit": "sentence"}
    rng = np.random.default_rng(seed)
    diffs: dict[str, list[float]] = {k: [] for k in PAIRED_METRICS}
    n = len(ka)
    for _ in range(n_resamples if n else 0):
        idx = rng.integers(0, n, size=n)
        ma = _headline_from_counts(ca[idx].sum(axis=0), None)
        mb = _headline_from_counts(cb[idx].sum(axis=0), None)
        for k in PAIRED_METRICS:
            diffs[k].append(ma[k] - mb[k])
    paired: dict[str, PairedScore] = {}
    for k in PAIRED_METRICS:
        d = np.array(diffs[k]) if diffs[k] else np.zeros(1)
        paired[k] = {
            "a": full_a[k],
            "b": full_b[k],
            "diff": full_a[k] - full_b[k],
            "ci": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))],
            "p_not_better": float(np.mean(d <= 0)),
        }
    assert PAIRED_METRICS == ("targets_strict_f", "targets_typed_f", "targets_category_acc", "sentcat_accuracy")
    out["targets_strict_f"] = paired["targets_strict_f"]
    out["targets_typed_f"] = paired["targets_typed_f"]
    out["targets_category_acc"] = paired["targets_category_acc"]
    out["sentcat_accuracy"] = paired["sentcat_accuracy"]
    return out


def summary(m: Mapping[str, Any]) -> dict[str, Any]:
    """The ``SUMMARY_KEYS`` of a metrics dict (those present)."""
    return {k: m[k] for k in SUMMARY_KEYS if k in m}


def score(
    gold: Sequence[GoldDocument],
    pred: dict[str, list[SentenceRecord]],
    n_resamples: int = 1000,
    seed: int = 0,
) -> Metrics:
    """Score predictions against gold documents. ``pred`` maps doc_id → predicted sentence records.

    A gold document absent from ``pred`` is scored as an empty prediction and listed in
    ``missing_predictions``; predicted documents absent from the gold set are listed in
    ``unscored_predictions``.
    """
    alignment, missing = align(gold, pred)
    m = score_units(alignment.units, alignment.outside, n_resamples=n_resamples, seed=seed)
    m["missing_predictions"] = missing
    m["unscored_predictions"] = sorted(set(pred) - {d.doc_id for d in gold})
    if len(gold) > 1:
        m["per_document"] = {d.doc_id: summary(score_units(*_one(d, pred), n_resamples=0)) for d in gold}
    return m


def _one(doc: GoldDocument, pred: dict[str, list[SentenceRecord]]) -> tuple[list[SentenceUnit], list[Target]]:
    a = align_document(doc, pred.get(doc.doc_id, []))
    return a.units, a.outside


# --------------------------------------------------------------------------- agreement


def part_disagreements(a: GoldDocument, b: GoldDocument) -> list[dict[str, Any]]:
    """Sentences of one document whose part (review / plan / other) A and B annotate differently
    (``scoring.agreement`` compares spans and categories, not parts)."""
    out = []
    for sa, sb in zip(a.sentences, b.sentences):
        if (sa.start, sa.end) != (sb.start, sb.end):
            raise ValueError(f"{a.doc_id}: A and B segment the report differently at sentence {sa.sent_id}")
        pa, pb = sa.extra.get("part"), sb.extra.get("part")
        if pa != pb:
            out.append({"doc_id": a.doc_id, "sent_id": sa.sent_id, "start": sa.start, "end": sa.end, "a": pa, "b": pb})
    return out


def agreement(a: Sequence[GoldDocument], b: Sequence[GoldDocument]) -> dict[str, Any]:
    """Inter-annotator agreement of two annotations of the same report(s).

    Pairwise F1 treats A as reference (F1 is symmetric for strict and typed matching); sentence
    categories are compared on A's sentences, each taking the category of B's sentence
    overlapping it most, with Cohen's kappa.
    """
    from sklearn.metrics import cohen_kappa_score

    ia, ib = {d.doc_id: d.raw for d in a}, {d.doc_id: d.raw for d in b}
    if set(ia) != set(ib):
        raise ValueError(
            f"A and B annotate different documents (only in A: {sorted(set(ia) - set(ib))}, "
            f"only in B: {sorted(set(ib) - set(ia))})"
        )
    differ = sorted(k for k in ia if ia[k] != ib[k])
    if differ:
        raise ValueError(f"A and B annotate different texts under the same doc_id: {differ}")
    pred = {d.doc_id: d.sentences for d in b}
    m = score(a, pred, n_resamples=1000)
    alignment, _ = align(a, pred)
    ya = [u.gold.category for u in alignment.units]
    yb = [u.pred_category for u in alignment.units]
    kappa = float(cohen_kappa_score(ya, yb)) if ya and len(set(ya) | set(yb)) > 1 else (1.0 if ya == yb else 0.0)
    # Kappa on the category of targets both annotators marked identically.
    ta, tb = [], []
    for u in alignment.units:
        for gt, pt in score_unit(u).correct:
            ta.append(gt.category)
            tb.append(pt.category)
    tkappa = float(cohen_kappa_score(ta, tb)) if ta and len(set(ta) | set(tb)) > 1 else (1.0 if ta == tb else 0.0)
    keep = [
        "n_sentences",
        "targets_n_gold",
        "targets_n_pred",
        "targets_correct",
        "targets_boundary",
        "targets_missed",
        "targets_spurious",
        "targets_strict_f",
        "targets_strict_f_ci",
        "targets_partial_f",
        "targets_typed_f",
        "fields_n",
        "fields_all_acc",
        *[f"fields_{f}_acc" for f in FIELDS],
        "sentcat_accuracy",
        "sentcat_macro_f1",
        "sentcat_confusion",
        "errors",
    ]
    flat: Mapping[str, Any] = m
    out = {k: flat[k] for k in keep if k in flat}
    out["targets_n_a"] = out.pop("targets_n_gold")
    out["targets_n_b"] = out.pop("targets_n_pred")
    out["targets_only_a"] = out.pop("targets_missed")
    out["targets_only_b"] = out.pop("targets_spurious")
    out["sentcat_kappa"] = kappa
    out["target_category_kappa"] = tkappa
    out["missing_in_b"] = m["missing_predictions"]
    out["only_in_b"] = m["unscored_predictions"]
    return out
