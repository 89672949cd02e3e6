"""Typed records shared by every stage: sentences and targets in the gold record format.

The JSON form (``to_json`` / ``from_json``) is GUIDELINES section 4. Offsets are half-open
code-point offsets into the raw document text; ``raw[start:end] == text`` always.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.schema import Span


@dataclass
class Target:
    start: int
    end: int
    text: str
    category: str
    value: float | int | None = None
    unit: str | None = None
    bound: str = "exact"
    direction: str | None = None
    value_max: float | int | None = None
    #: Optional extras carried by predictions (confidences, canonical unit, year, indicator).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def to_json(self) -> dict[str, Any]:
        d = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "category": self.category,
            "value": self.value,
            "unit": self.unit,
            "bound": self.bound,
            "direction": self.direction,
        }
        if self.value_max is not None:
            d["value_max"] = self.value_max
        d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Target:
        known = {"start", "end", "text", "category", "value", "unit", "bound", "direction", "value_max"}
        return cls(
            start=d["start"],
            end=d["end"],
            text=d["text"],
            category=d["category"],
            value=d.get("value"),
            unit=d.get("unit"),
            bound=d.get("bound", "exact"),
            direction=d.get("direction"),
            value_max=d.get("value_max"),
            extra={k: v for k, v in d.items() if k not in known},
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
