"""The contract between sentence-level predictors (rules, the BERT model) and the tagger.

A predictor sees sentence texts only (offsets relative to the sentence) plus the sentence's
``part``; the tagger maps its spans back to raw document offsets, normalises fields and builds
records. Both the rule baseline (``pipeline.rules.baseline.RulePredictor``) and the model
(``pipeline.model.modeling.ModelPredictor``) implement ``Predictor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SpanPrediction:
    #: Offsets relative to the sentence text, half-open.
    start: int
    end: int
    score: float = 1.0
    #: Category of the target itself; ``None`` means "use the sentence's".
    category: str | None = None
    category_score: float | None = None


@dataclass
class SentencePrediction:
    category: str
    #: Probability of every category (sums to 1); rules give 1.0 to their choice.
    category_probs: dict[str, float] = field(default_factory=dict)
    spans: list[SpanPrediction] = field(default_factory=list)


@dataclass(frozen=True)
class SentenceInput:
    text: str
    #: "review", "plan" or "other" (pipeline.text.segment): figures in the review are results.
    part: str = "plan"
    #: The heading path, innermost last, for category context.
    section_path: tuple[str, ...] = ()
    #: Which document of a multi-document call the sentence belongs to. Predictors that carry
    #: context from sentence to sentence (the rules) never carry it across documents.
    doc: str = ""


class Predictor(Protocol):
    name: str

    def predict(self, sentences: list[SentenceInput]) -> list[SentencePrediction]:
        """One prediction per input sentence, in order. Spans never overlap."""
        ...
