"""Typed records shared by every stage: sentences and targets in the gold record format.

The JSON form (``to_json`` / ``from_json``) is GUIDELINES section 4. Offsets are half-open
code-point offsets into the raw document text; ``raw[start:end] == text`` always.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.fields.record import Fields, Number
from pipeline.schema import Span


@dataclass(init=False)
class Target:
    """One target span of a document: offsets, text, category, its fields (``Fields``) and
    ``extra``, open-ended provenance (predictions: ``doc_id``, ``sent_id``, ``score``,
    ``category_score``; imports: ``fields_source``; any other key a file carries).

    Built either from the gold fields, ``Target(start, end, text, category, value, unit, bound,
    direction, value_max, extra)``, or from a parsed record, ``Target(start, end, text, category,
    extra=..., fields=Fields(...))``. The gold fields read through (``t.value``, ``t.bound``…);
    the record is replaced, never edited (``dataclasses.replace(t, fields=...)``).
    """

    start: int
    end: int
    text: str
    category: str
    fields: Fields
    extra: dict[str, Any]

    def __init__(
        self,
        start: int,
        end: int,
        text: str,
        category: str,
        value: Number | None = None,
        unit: str | None = None,
        bound: str = "exact",
        direction: str | None = None,
        value_max: Number | None = None,
        extra: dict[str, Any] | None = None,
        *,
        fields: Fields | None = None,
    ) -> None:
        if fields is None:
            fields = Fields(value, unit, bound, direction, value_max)
        elif (value, unit, bound, direction, value_max) != (None, None, "exact", None, None):
            raise TypeError("Target: give the gold fields or fields=, not both")
        self.start, self.end, self.text, self.category = start, end, text, category
        self.fields = fields
        self.extra = {} if extra is None else extra

    @property
    def value(self) -> Number | None:
        return self.fields.value

    @property
    def unit(self) -> str | None:
        return self.fields.unit

    @property
    def bound(self) -> str:
        return self.fields.bound

    @property
    def direction(self) -> str | None:
        return self.fields.direction

    @property
    def value_max(self) -> Number | None:
        return self.fields.value_max

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text, "category": self.category}
        d.update(self.fields.gold_json())
        # Predictions have always written their provenance between the gold fields and the
        # parser's readings; kept so that outputs stay byte-identical.
        d.update(self.extra)
        d.update(self.fields.parsed_json())
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Target:
        """From a target record; raises KeyError for a missing offset, text or category and
        ValueError for a malformed ``unit_canonical`` (``Fields.from_json``)."""
        fields = Fields.from_json(d)
        known = {"start", "end", "text", "category", *fields.json_keys()}
        return cls(
            d["start"],
            d["end"],
            d["text"],
            d["category"],
            extra={k: v for k, v in d.items() if k not in known},
            fields=fields,
        )


@dataclass
class SentenceRecord:
    doc_id: str
    sent_id: int
    start: int
    end: int
    text: str
    category: str
    targets: list[Target] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def to_json(self) -> dict[str, Any]:
        d = {
            "doc_id": self.doc_id,
            "sent_id": self.sent_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "category": self.category,
            "targets": [t.to_json() for t in self.targets],
        }
        d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SentenceRecord:
        known = {"doc_id", "sent_id", "start", "end", "text", "category", "targets"}
        return cls(
            doc_id=d["doc_id"],
            sent_id=d["sent_id"],
            start=d["start"],
            end=d["end"],
            text=d["text"],
            category=d["category"],
            targets=[Target.from_json(t) for t in d.get("targets", [])],
            extra={k: v for k, v in d.items() if k not in known},
        )


@dataclass
class GoldDocument:
    """One annotated document: its raw text and its sentence records, in document order."""

    doc_id: str
    raw: str
    sentences: list[SentenceRecord]
    source: str = ""

    def targets(self) -> list[Target]:
        return [t for s in self.sentences for t in s.targets]


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
