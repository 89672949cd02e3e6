"""Stage: cross-validation folds over gold documents, and scoring across folds.

Folds are grouped so that no paragraph (``by="paragraph"``, a line of the report,
``pipeline.text.segment.paragraphs``) or no document (``by="document"``, leave-one-document-out)
lies on both sides: neighbouring sentences of one paragraph share wording, and splitting them
would leak. Train and test parts are ``GoldDocument``s holding subsets of the sentences over the
same raw text. Deterministic for a given seed.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pipeline.evaluation.metrics import Metrics, OutsideTarget
from pipeline.evaluation.scoring import SentenceUnit, align_document, score, score_units, summary
from pipeline.records import GoldDocument, SentenceRecord, Target
from pipeline.text.segment import paragraphs

P = TypeVar("P")
GroupBy = Literal["paragraph", "document", "document-folds"]
#: A group of sentences that must stay on one side: (doc_id, paragraph index).
GroupKey = tuple[str, int]


@dataclass
class Fold:
    index: int
    train: list[GoldDocument]
    test: list[GoldDocument]

    @property
    def n_test_sentences(self) -> int:
        return sum(len(d.sentences) for d in self.test)


def paragraph_groups(doc: GoldDocument) -> list[GroupKey]:
    """The paragraph of every gold sentence of ``doc`` (by its start offset), in sentence order."""
    starts = [s for s, _ in paragraphs(doc.raw)] or [0]
    return [(doc.doc_id, max(bisect.bisect_right(starts, s.start) - 1, 0)) for s in doc.sentences]


def _subset(doc: GoldDocument, keep: Sequence[bool]) -> GoldDocument:
    return GoldDocument(doc.doc_id, doc.raw, [s for s, k in zip(doc.sentences, keep) if k], doc.source)


def _split(docs: Sequence[GoldDocument], test_groups: set[GroupKey]) -> tuple[list[GoldDocument], list[GoldDocument]]:
    train, test = [], []
    for d in docs:
        in_test = [g in test_groups for g in paragraph_groups(d)]
        if any(in_test):
            test.append(_subset(d, in_test))
        if not all(in_test):
            train.append(_subset(d, [not x for x in in_test]))
    return train, test


def _assign_groups(docs: Sequence[GoldDocument], k: int, seed: int) -> list[set[GroupKey]]:
    sizes: dict[GroupKey, int] = {}
    for d in docs:
        for g in paragraph_groups(d):
            sizes[g] = sizes.get(g, 0) + 1
    groups = sorted(sizes)
    if len(groups) < k:
        raise ValueError(f"cannot make {k} folds from {len(groups)} paragraph(s)")
    random.Random(seed).shuffle(groups)
    buckets: list[set[GroupKey]] = [set() for _ in range(k)]
    load = [0] * k
    # Greedy to the lightest fold keeps fold sizes within one paragraph of each other.
    for g in groups:
        i = min(range(k), key=lambda j: (load[j], j))
        buckets[i].add(g)
        load[i] += sizes[g]
    return buckets


def _assign_documents(docs: Sequence[GoldDocument], k: int, seed: int) -> list[list[int]]:
    """Document indices per fold: a seeded shuffle, then each document (largest first) to the
    fold with the fewest sentences so far, so folds hold whole documents of similar total size."""
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: -len(docs[i].sentences))  # stable: ties keep the shuffled order
    buckets: list[list[int]] = [[] for _ in range(k)]
    load = [0] * k
    for i in order:
        j = min(range(k), key=lambda b: (load[b], b))
        buckets[j].append(i)
        load[j] += len(docs[i].sentences)
    return [sorted(b) for b in buckets]


def make_folds(docs: Sequence[GoldDocument], k: int = 5, seed: int = 0, by: GroupBy = "paragraph") -> list[Fold]:
    """``k`` folds grouped by paragraph, leave-one-document-out (``by="document"``, ``k``
    ignored), or ``k`` folds of whole documents (``by="document-folds"``; ``k`` ≥ the number of
    documents is leave-one-document-out).

    Every sentence is in exactly one test part; no paragraph/document is on both sides.
    """
    if by == "document" or (by == "document-folds" and k >= len(docs)):
        if len(docs) < 2:
            raise ValueError("leave-one-document-out needs at least two documents")
        return [Fold(i, [d for d in docs if d is not doc], [doc]) for i, doc in enumerate(docs)]
    if by == "document-folds":
        if k < 2:
            raise ValueError("k must be at least 2")
        parts = _assign_documents(docs, k, seed)
        return [
            Fold(i, [d for j, d in enumerate(docs) if j not in set(p)], [docs[j] for j in p])
            for i, p in enumerate(parts)
        ]
    if by != "paragraph":
        raise ValueError(f"unknown grouping {by!r}")
    if k < 2:
        raise ValueError("k must be at least 2")
    folds = []
    for i, test_groups in enumerate(_assign_groups(docs, k, seed)):
        train, test = _split(docs, test_groups)
        folds.append(Fold(i, train, test))
    return folds


def split_train_dev(
    docs: Sequence[GoldDocument], frac: float = 0.1, seed: int = 0
) -> tuple[list[GoldDocument], list[GoldDocument]]:
    """Carve a development part (about ``frac`` of the sentences, whole paragraphs) out of ``docs``.

    Used inside a fold for early stopping, so the fold's test part is never looked at in training.
    """
    n_groups = len({g for d in docs for g in paragraph_groups(d)})
    # Too few paragraphs for the asked share: one paragraph goes to dev (none if there is only one).
    k = min(max(2, round(1 / frac)), n_groups) if frac > 0 else 0
    if k < 2:
        return list(docs), []
    dev_groups = _assign_groups(docs, k, seed)[0]
    return _split(docs, dev_groups)


#: Fits one model: (train docs, dev docs, configuration) → a predictor.
TrainFn = Callable[[list[GoldDocument], list[GoldDocument], Any], P]


def train_fold(fold: Fold, config: Any, train_fn: TrainFn[P], seed: int = 0) -> P:
    """The model of one CV fold, the same way wherever a model is cross-validated (training's
    ``cross_validate_model`` and evaluation's ``--cv`` with a model directory).

    A development part (``config.dev_fraction`` of the fold's training sentences, whole
    paragraphs, seed ``seed + fold.index``) is held out for early stopping, so the fold's test
    part is never looked at; a dataclass configuration with a ``seed`` gets ``seed + fold.index``.
    """
    frac = getattr(config, "dev_fraction", None)
    train, dev = split_train_dev(fold.train, frac=0.15 if frac is None else float(frac), seed=seed + fold.index)
    if dataclasses.is_dataclass(config) and not isinstance(config, type) and hasattr(config, "seed"):
        config = dataclasses.replace(config, seed=config.seed + fold.index)
    return train_fn(train, dev, config)


# --------------------------------------------------------------------------- scoring across folds

#: Predicts the sentences of a fold: (fold) → doc_id → predicted sentence records.
FoldPredictor = Callable[[Fold], dict[str, list[SentenceRecord]]]


@dataclass
class CVResult:
    folds: list[Fold]
    per_fold: list[dict[str, Any]]
    pooled: Metrics
    #: Predictions restricted to each fold's test sentences, pooled over folds (doc_id → records).
    predictions: dict[str, list[SentenceRecord]]


def _on_gold(u: SentenceUnit) -> SentenceRecord:
    """A unit's predictions as one record over its gold sentence (targets and category kept)."""
    g = u.gold
    return SentenceRecord(g.doc_id, g.sent_id, g.start, g.end, g.text, u.pred_category, list(u.pred_targets))


def cross_validate(
    docs: Sequence[GoldDocument],
    predict_fold: FoldPredictor,
    k: int = 5,
    seed: int = 0,
    by: GroupBy = "paragraph",
    n_resamples: int = 1000,
) -> CVResult:
    """Score every fold on its test part and all folds pooled (each sentence predicted once).

    Predictions are aligned against the *whole* gold document (a predicted target belongs to the
    gold sentence it overlaps most, test or not), then only test sentences are kept. Predictions
    outside every gold sentence are counted once per distinct span over all folds.
    The pooled figure, with its bootstrap interval over sentences, is the cross-validated estimate.
    """
    folds = make_folds(docs, k=k, seed=seed, by=by)
    by_id = {d.doc_id: d for d in docs}
    per_fold: list[dict[str, Any]] = []
    outside: dict[tuple[str, int, int], Target] = {}
    pooled_pred: dict[str, list[SentenceRecord]] = {}
    for fold in folds:
        pred = predict_fold(fold)
        fold_units: list[SentenceUnit] = []
        for d in fold.test:
            a = align_document(by_id[d.doc_id], pred.get(d.doc_id, []))
            tested = {(s.start, s.end) for s in d.sentences}
            units = [u for u in a.units if (u.gold.start, u.gold.end) in tested]
            fold_units.extend(units)
            for t in a.outside:
                outside.setdefault((d.doc_id, t.start, t.end), t)
            pooled_pred.setdefault(d.doc_id, []).extend(_on_gold(u) for u in units)
        per_fold.append({"fold": fold.index, **summary(score_units(fold_units, n_resamples=0))})
    for recs in pooled_pred.values():
        recs.sort(key=lambda r: r.start)
    # Pooled predictions sit on the gold sentences, so scoring them against the whole gold set
    # gives the same alignment as per fold, plus the per-document breakdown.
    pooled = score(docs, pooled_pred, n_resamples=n_resamples, seed=seed)
    pooled["targets_pred_outside_gold"] = len(outside)
    listed: list[OutsideTarget] = [
        {"doc_id": k[0], "start": t.start, "end": t.end, "text": t.text} for k, t in sorted(outside.items())
    ]
    pooled["errors"]["outside"] = listed[:500]
    return CVResult(folds, per_fold, pooled, pooled_pred)
