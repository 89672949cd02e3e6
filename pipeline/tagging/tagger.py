"""Stage: tag whole documents. Text → sentences → predictor → raw-offset target records.

``Tagger.load("rules")`` gives the rule baseline; ``Tagger.load(DIR)`` a trained model
directory. ``tagger(text, doc_id)`` returns a ``TaggedDocument`` whose sentences are gold-format
``SentenceRecord``s (so predictions and gold are scored by the same code), with the extras a
researcher needs (part, section, probabilities, confidences, normalised fields).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.model.model_dir import META_FILE, shipped_model_dir
from pipeline.predict import Predictor, SentenceInput, SentencePrediction
from pipeline.records import SentenceRecord, Target
from pipeline.text.segment import Segmentation, Sentence, segment

log = logging.getLogger(__name__)


#: The shipped model (models/README.md: it beats the rule baseline in cross-validation): inside
#: the package in an installed wheel, ``models/default`` in a checkout (``pipeline.model.model_dir``).
DEFAULT_MODEL = shipped_model_dir()


def resolve_model(spec: str | os.PathLike[str]) -> str:
    """``"default"`` → the shipped model directory, or ``"rules"`` (with a warning) when this
    installation has none; anything else unchanged."""
    if str(spec) != "default":
        return str(spec)
    if (DEFAULT_MODEL / META_FILE).exists():
        return str(DEFAULT_MODEL)
    log.warning("no shipped model at %s: using the rule baseline", DEFAULT_MODEL)
    return "rules"


@dataclass
class TaggedDocument:
    doc_id: str
    text: str
    segmentation: Segmentation
    sentences: list[SentenceRecord] = field(default_factory=list)

    def targets(self) -> list[Target]:
        return [t for s in self.sentences for t in s.targets]


class Tagger:
    """Runs a sentence predictor over documents and builds records with raw offsets."""

    def __init__(self, predictor: Predictor, suppress_review: bool = True, batch_size: int = 32) -> None:
        self.predictor = predictor
        #: GUIDELINES 2.1: figures in the review of the past year are results, never targets.
        self.suppress_review = suppress_review
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return self.predictor.name

    @classmethod
    def load(cls, spec: str | os.PathLike[str], **kwargs: Any) -> Tagger:
        """``"rules"`` for the rule baseline, ``"default"`` for the shipped model
        (``models/default``; the rules where it is absent), else a model directory."""
        spec = resolve_model(spec)
        if str(spec) == "rules":
            from pipeline.rules.baseline import RulePredictor

            kwargs.pop("device", None)  # inference settings of a model: nothing to set for the rules
            kwargs.pop("backend", None)
            return cls(RulePredictor(), **kwargs)
        from pipeline.model.load import load_predictor  # torch: only when a model is asked for

        device = kwargs.pop("device", "cpu")
        # None: the backend measured as fastest within 0.005 F1 (<model>/backend.json)
        backend = kwargs.pop("backend", None) or "auto"
        batch_size = int(kwargs.get("batch_size", 32))  # sentences per forward pass: the predictor batches
        return cls(load_predictor(spec, device=device, backend=backend, batch_size=batch_size), **kwargs)

    def __call__(self, text: str, doc_id: str = "doc") -> TaggedDocument:
        return self.tag_many([(doc_id, text)])[0]

    def tag_many(self, docs: list[tuple[str, str]]) -> list[TaggedDocument]:
        """Tag several documents; their sentences go to the predictor in one call, so a model
        batches sentences of many documents together (sorted by length).

        Each sentence carries its document index (``SentenceInput.doc``): predictors with
        sentence-to-sentence context (the rules) reset it per document, so a document's output
        never depends on which documents were tagged with it (tests/test_properties.py).
        """
        segs = [segment(text) for _, text in docs]
        owners: list[tuple[int, Sentence]] = []
        inputs: list[SentenceInput] = []
        for i, seg in enumerate(segs):
            for s in seg.sentences:
                inputs.append(SentenceInput(s.text, s.part, s.section_path, doc=str(i)))
                owners.append((i, s))
        preds = self.predictor.predict(inputs) if inputs else []
        out = [TaggedDocument(doc_id, text, seg) for (doc_id, text), seg in zip(docs, segs)]
        for (i, sent), pred in zip(owners, preds):
            out[i].sentences.append(self._record(out[i].doc_id, out[i].text, sent, pred))
        return out

    def _record(self, doc_id: str, raw: str, sent: Sentence, pred: SentencePrediction) -> SentenceRecord:
        from pipeline.fields.parse import parse_fields, share_coordinated

        targets: list[Target] = []
        if pred.spans and not (self.suppress_review and sent.part == "review"):
            last_end = -1
            kept = []
            for sp in sorted(pred.spans, key=lambda x: (x.start, x.end)):
                if not (0 <= sp.start < sp.end <= len(sent.text)) or sp.start < last_end:
                    continue  # predictors promise valid, non-overlapping spans; never trust it blindly
                last_end = sp.end
                kept.append(sp)
            kept = [k for k in (_bounded(raw, sent.start, sp) for sp in kept) if k is not None]
            all_fields = [parse_fields(raw[sent.start + sp.start : sent.start + sp.end]) for sp in kept]
            all_fields = share_coordinated(sent.text, [(sp.start, sp.end) for sp in kept], all_fields)
            for sp, fields in zip(kept, all_fields):
                start, end = sent.start + sp.start, sent.start + sp.end
                category = sp.category or pred.category
                provenance = {
                    "doc_id": doc_id,
                    "sent_id": sent.sent_id,
                    "score": round(float(sp.score), 4),
                    "category_score": round(
                        float(
                            sp.category_score
                            if sp.category_score is not None
                            else pred.category_probs.get(category, 1.0)
                        ),
                        4,
                    ),
                }
                targets.append(Target(start, end, raw[start:end], category, extra=provenance, fields=fields))
        probs = pred.category_probs or {pred.category: 1.0}
        return SentenceRecord(
            doc_id=doc_id,
            sent_id=sent.sent_id,
            start=sent.start,
            end=sent.end,
            text=sent.text,
            category=pred.category,
            targets=targets,
            extra={
                "part": sent.part,
                "section": sent.section,
                "paragraph": sent.paragraph,
                "category_score": round(float(probs.get(pred.category, 1.0)), 4),
                "category_probs": {k: round(float(v), 4) for k, v in sorted(probs.items(), key=lambda kv: -kv[1])[:3]},
            },
        )


#: A predicted span longer than this (characters) is cut to its figure's neighbourhood: no
#: predictor can turn a 50,000-character line without punctuation into one target.
MAX_TARGET_CHARS = 160
_KEEP_BEFORE, _KEEP_AFTER = 48, 32


def _bounded(raw: str, offset: int, sp: Any) -> Any:
    """``sp`` itself when short enough; else the span cut to ``_KEEP_BEFORE`` characters before
    its figure and ``_KEEP_AFTER`` after (``None`` when it holds no figure)."""
    if sp.end - sp.start <= MAX_TARGET_CHARS:
        return sp
    from pipeline.fields.parse import parse_fields

    f = parse_fields(raw[offset + sp.start : offset + sp.end])
    if f.number_start is None or f.number_end is None:
        return None
    start = sp.start + max(0, f.number_start - _KEEP_BEFORE)
    end = min(sp.end, sp.start + f.number_end + _KEEP_AFTER)
    while start < end and raw[offset + start].isspace():
        start += 1
    return replace(sp, start=start, end=end) if end > start else None
