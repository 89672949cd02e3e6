"""The typed results of scoring: what ``pipeline.evaluation.scoring`` hands to runs and reports.

They are ``TypedDict`` s, so a result *is* the flat dict that ``metrics.json`` holds (spaCy's
scorer convention: ``targets_strict_f``, ``targets_per_category``…): the scorers stay pure
functions that return plain data, the JSON is written as it always was, and a type checker
knows every key a consumer reads. Key order is the scorers' (``scoring.score_units``).

``Metrics`` is ``total=False`` because some keys depend on the call: the ``*_ci`` intervals and
``bootstrap`` only when resampling (``n_resamples > 0``); ``missing_predictions``,
``unscored_predictions`` only from ``scoring.score``; ``per_document`` only for more than one
gold document. Every other key is always there.
"""

from __future__ import annotations

from typing import TypedDict


class CategoryScores(TypedDict):
    """Typed target scores of one category (strict span and the same category)."""

    p: float
    r: float
    f: float
    support: int
    n_pred: int
    tp: int
    #: Share of the category's gold targets whose span was found, whatever category was predicted.
    span_r: float


class SentcatScores(TypedDict):
    p: float
    r: float
    f: float
    support: int


class Confusion(TypedDict):
    labels: list[str]
    #: ``matrix[i][j]``: gold ``labels[i]`` predicted as ``labels[j]``.
    matrix: list[list[int]]


class Bootstrap(TypedDict):
    n_resamples: int
    seed: int
    unit: str
    level: float


class TargetRef(TypedDict):
    """A target named in an error list."""

    doc_id: str
    sent_id: int
    start: int
    end: int
    text: str
    category: str


class CategoryError(TargetRef):
    pred_category: str


class FieldError(TargetRef):
    field: str
    gold: object
    pred: object


class BoundaryError(TypedDict):
    doc_id: str
    sent_id: int
    gold_start: int
    gold_end: int
    gold_text: str
    pred_start: int
    pred_end: int
    pred_text: str
    category: str


class SentenceError(TypedDict):
    doc_id: str
    sent_id: int
    start: int
    end: int
    text: str
    gold: str
    pred: str


class OutsideTarget(TypedDict):
    """A predicted target overlapping no gold sentence (``doc_id`` from its provenance)."""

    doc_id: object
    start: int
    end: int
    text: str


class Errors(TypedDict):
    """Listed errors, each list capped at ``scoring.MAX_LISTED`` (the counts are complete)."""

    missed: list[TargetRef]
    spurious: list[TargetRef]
    boundary: list[BoundaryError]
    category: list[CategoryError]
    fields: list[FieldError]
    sentences: list[SentenceError]
    outside: list[OutsideTarget]


class Metrics(TypedDict, total=False):
    """All metrics of one scoring: ``scoring.score`` / ``scoring.score_units`` (see the module
    docstring for the keys that are not always present)."""

    headline: str
    n_documents: int
    n_sentences: int
    targets_n_gold: int
    targets_n_pred: int
    targets_correct: int
    targets_boundary: int
    targets_missed: int
    targets_spurious: int
    targets_pred_outside_gold: int
    targets_strict_p: float
    targets_strict_r: float
    targets_strict_f: float
    targets_partial_p: float
    targets_partial_r: float
    targets_partial_f: float
    targets_typed_p: float
    targets_typed_r: float
    targets_typed_f: float
    #: Target-category accuracy on strictly matched spans (issue 12).
    targets_category_acc: float
    targets_per_category: dict[str, CategoryScores]
    fields_n: int
    fields_value_acc: float
    fields_unit_acc: float
    fields_bound_acc: float
    fields_direction_acc: float
    fields_value_max_acc: float
    fields_all_acc: float
    sentcat_n: int
    sentcat_unmatched: int
    sentcat_accuracy: float
    sentcat_macro_f1: float
    sentcat_per_category: dict[str, SentcatScores]
    sentcat_confusion: Confusion
    # 95% bootstrap intervals [low, high] (scoring.CI_METRICS), when resampling
    targets_strict_p_ci: list[float]
    targets_strict_r_ci: list[float]
    targets_strict_f_ci: list[float]
    targets_partial_f_ci: list[float]
    targets_typed_f_ci: list[float]
    targets_category_acc_ci: list[float]
    sentcat_accuracy_ci: list[float]
    sentcat_macro_f1_ci: list[float]
    bootstrap: Bootstrap
    errors: Errors
    missing_predictions: list[str]
    unscored_predictions: list[str]
    #: doc_id → ``scoring.summary`` of that document alone.
    per_document: dict[str, dict[str, float]]


class PairedScore(TypedDict):
    """One metric of system ``a`` and system ``b`` on the same sentences, and ``a - b``."""

    a: float
    b: float
    diff: float
    #: 95% paired-bootstrap interval of ``diff``.
    ci: list[float]
    #: Share of resamples where ``a`` is not ahead: a one-sided bootstrap p-value.
    p_not_better: float


class PairedDifference(TypedDict, total=False):
    """``scoring.paired_difference``: one ``PairedScore`` per ``scoring.PAIRED_METRICS``."""

    n_sentences: int
    n_resamples: int
    seed: int
    unit: str
    targets_strict_f: PairedScore
    targets_typed_f: PairedScore
    targets_category_acc: PairedScore
    sentcat_accuracy: PairedScore
    #: The gold documents compared, when not all of them (added by ``evalrun``).
    documents: list[str]
