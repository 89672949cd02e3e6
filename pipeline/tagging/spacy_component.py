"""spaCy integration: a ``govtarget`` pipeline component that puts targets in ``doc.spans``.

Importing this module registers the factory (so does the ``spacy_factories`` entry point)::

    import spacy, pipeline.tagging.spacy_component
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})  # offline
    nlp.add_pipe("govtarget", config={"model": "rules"})        # or a model directory
    doc = nlp(text)
    doc.spans["targets"]      # target spans, label = category; Span._.value, _.unit, _.bound …
    doc.spans["sentences"]    # our sentences, label = sentence category; Span._.category, _.score
    list(doc.sents)           # sentence boundaries from pipeline.text.segment
    spacy.displacy.render(doc, style="span", options={"spans_key": "targets"})

``spacy.blank("zh")`` alone wants jieba or pkuseg; the character segmenter needs no download.
Offsets come from ``pipeline.tagging.tagger`` on ``doc.text`` and are aligned to tokens with
``char_span``: strict first, then ``expand``; a span that still cannot be aligned is warned
about and listed in ``doc.user_data["govtarget_unaligned"]``, never silently dropped.
"""

from __future__ import annotations

import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

#: Span extension attributes set on target spans (all default to None).
TARGET_ATTRS: tuple[str, ...] = (
    "value",
    "unit",
    "bound",
    "direction",
    "value_max",
    "unit_canonical",
    "value_canonical",
    "indicator",
    "year",
    "category",
    "score",
    "category_score",
    "sent_id",
    "part",
    "record",
)
CHAR_ZH_CONFIG: dict[str, Any] = {"nlp": {"tokenizer": {"segmenter": "char"}}}


def _register_extensions() -> None:
    for name in TARGET_ATTRS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


def blank_zh() -> Language:
    """A blank Chinese pipeline with the character segmenter (works offline)."""
    import spacy

    return spacy.blank("zh", config=CHAR_ZH_CONFIG)


class GovTargetComponent:
    """Tags ``doc.text`` with ``pipeline.tagging.tagger.Tagger`` and writes spans and sentence starts."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        model: str,
        device: str,
        backend: str | None,
        suppress_review: bool,
        targets_key: str,
        sentences_key: str,
        tagger: Any = None,
    ) -> None:
        _register_extensions()
        self.name = name
        self.model = model
        self.targets_key = targets_key
        self.sentences_key = sentences_key
        if tagger is None:
            from pipeline.tagging.tagger import Tagger

            # "default": the shipped model; device and backend do not apply to the rules.
            tagger = Tagger.load(model, suppress_review=suppress_review, device=device, backend=backend)
        self.tagger = tagger

    def __call__(self, doc: Doc) -> Doc:
        return self.set_annotations(doc, self.tagger.tag_many([(self._doc_id(doc), doc.text)])[0])

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        """Tags ``batch_size`` documents at a time so their sentences share model batches."""
        buf: list[Doc] = []
        for doc in docs:
            buf.append(doc)
            if len(buf) >= batch_size:
                yield from self._flush(buf)
                buf = []
        if buf:
            yield from self._flush(buf)

    def _flush(self, docs: list[Doc]) -> Iterator[Doc]:
        tagged = self.tagger.tag_many([(self._doc_id(d), d.text) for d in docs])
        for d, t in zip(docs, tagged):
            yield self.set_annotations(d, t)

    @staticmethod
    def _doc_id(doc: Doc) -> str:
        return str(doc.user_data.get("doc_id", "doc"))

    def set_annotations(self, doc: Doc, tagged: Any) -> Doc:
        unaligned: list[dict[str, Any]] = []
        self._set_sentence_starts(doc, tagged)
        sent_spans: list[Span] = []
        tgt_spans: list[Span] = []
        for rec in tagged.sentences:
            sp = self._align(doc, rec.start, rec.end, rec.category, rec.text, unaligned, "sentence")
            if sp is not None:
                sp._.category = rec.category
                sp._.score = rec.extra.get("category_score")
                sp._.sent_id = rec.sent_id
                sp._.part = rec.extra.get("part")
                sent_spans.append(sp)
            for t in rec.targets:
                ts = self._align(doc, t.start, t.end, t.category, t.text, unaligned, "target")
                if ts is None:
                    continue
                f = t.fields
                values = {
                    "value": t.value,
                    "unit": t.unit,
                    "bound": t.bound,
                    "direction": t.direction,
                    "value_max": t.value_max,
                    "unit_canonical": f.unit_canonical.unit if f.unit_canonical else None,
                    "value_canonical": f.value_canonical,
                    "indicator": f.indicator,
                    "year": f.year,
                    "category": t.category,
                    "score": t.extra.get("score"),
                    "category_score": t.extra.get("category_score"),
                    "sent_id": rec.sent_id,
                    "part": rec.extra.get("part"),
                    "record": t.to_json(),
                }
                for k, v in values.items():
                    setattr(ts._, k, v)
                tgt_spans.append(ts)
        doc.spans[self.targets_key] = tgt_spans
        doc.spans[self.sentences_key] = sent_spans
        if unaligned:
            doc.user_data["govtarget_unaligned"] = unaligned
        return doc

    @staticmethod
    def _align(
        doc: Doc, start: int, end: int, label: str, text: str, unaligned: list[dict[str, Any]], kind: str
    ) -> Span | None:
        sp = doc.char_span(start, end, label=label, alignment_mode="strict")
        if sp is None:
            sp = doc.char_span(start, end, label=label, alignment_mode="expand")
            if sp is not None:
                warnings.warn(
                    f"govtarget: {kind} [{start}, {end}) {text!r} does not fall on token boundaries; "
                    f"expanded to [{sp.start_char}, {sp.end_char}) {sp.text!r}",
                    stacklevel=3,
                )
                unaligned.append(
                    {
                        "kind": kind,
                        "start": start,
                        "end": end,
                        "text": text,
                        "expanded_to": [sp.start_char, sp.end_char],
                    }
                )
                return sp
            warnings.warn(
                f"govtarget: {kind} [{start}, {end}) {text!r} cannot be aligned to tokens; "
                "listed in doc.user_data['govtarget_unaligned']",
                stacklevel=3,
            )
            unaligned.append({"kind": kind, "start": start, "end": end, "text": text, "expanded_to": None})
        return sp

    @staticmethod
    def _set_sentence_starts(doc: Doc, tagged: Any) -> None:
        """Sentence starts from pipeline.text.segment: every segment (kept or skipped) starts a sentence."""
        if len(doc) == 0:
            return
        idx = [tok.idx for tok in doc]
        # the token holding each segment's first character (a start may fall inside a multi-char token)
        first = {bisect_right(idx, s.start) - 1 for s in tagged.segmentation.segments}
        for tok in doc:
            tok.is_sent_start = tok.i == 0 or tok.i in first


@Language.factory(
    "govtarget",
    default_config={
        "model": "rules",
        "device": "cpu",
        "backend": None,
        "suppress_review": True,
        "targets_key": "targets",
        "sentences_key": "sentences",
    },
)
def make_component(
    nlp: Language,
    name: str,
    model: str,
    device: str,
    backend: str | None,
    suppress_review: bool,
    targets_key: str,
    sentences_key: str,
) -> GovTargetComponent:
    return GovTargetComponent(nlp, name, model, device, backend, suppress_review, targets_key, sentences_key)
