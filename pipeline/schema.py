"""Label schema: the one place that defines categories, bounds, directions, BIO tags and spans.

Everything else imports from here. Never derive a label list from data.
The rules behind these lists are ``../shared/annotation/GUIDELINES.md`` (version below) and the
project's own notes in ``data/GUIDELINES.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GUIDELINES_VERSION = "1.5"
#: Bumped whenever a list below changes; stored in every model directory and checked on load.
SCHEMA_VERSION = 1

#: The 14 policy categories of GUIDELINES section 3, in the guidelines' order.
CATEGORIES: tuple[str, ...] = (
    "金融",
    "商贸",
    "文旅",
    "产业",
    "农业",
    "科创",
    "开放",
    "城建",
    "生态",
    "民生",
    "改革",
    "安全",
    "政府",
    "综合",
)
CATEGORY2ID: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}

Bound = Literal["exact", "at_least", "about", "at_most"]
BOUNDS: tuple[str, ...] = ("exact", "at_least", "about", "at_most")

Direction = Literal["up", "down"]
#: ``None`` (a level or a count) is the third direction value.
DIRECTIONS: tuple[str | None, ...] = ("up", "down", None)

#: Entity type of the token-classification head. One type: categories are a separate head.
TARGET = "TARGET"
BIO_TAGS: tuple[str, ...] = ("O", f"B-{TARGET}", f"I-{TARGET}")
TAG2ID: dict[str, int] = {t: i for i, t in enumerate(BIO_TAGS)}

#: Where a sentence sits in the report (GUIDELINES 2.1): figures in the review are results.
Part = Literal["review", "plan", "other"]
PARTS: tuple[str, ...] = ("review", "plan", "other")

#: Hedges stripped from the start of a target span (GUIDELINES 2.2). ``争取`` only before these.
HEDGES: tuple[str, ...] = ("力争", "确保", "努力", "力求", "全力", "预计")
HEDGE_ZHENGQU_BEFORE: tuple[str, ...] = ("实现", "达到", "完成")
#: Enumeration markers opening a clause, removed like a hedge (GUIDELINES 2.2, v1.5):
#: ``一是``…``十是``, ``其一``…, ``（1）``/``(1)``, circled ``①``…, ``1.``/``1、``.
ENUM_MARKER_PATTERN = r"(?:[一二三四五六七八九十]{1,3}是|其[一二三四五六七八九十]{1,3}|[（(][0-9０-９一二三四五六七八九十]{1,3}[）)]|[①-⑳]|[0-9０-９]{1,2}[.．、](?![0-9０-９]))"

# The bound and direction *words* (GUIDELINES 2.3) are data, not labels: pipeline/data/field_words.json,
# read by ``pipeline.data.field_words()`` and checked there against BOUNDS and DIRECTIONS.

#: Sentence terminators (GUIDELINES section 1); a line break also ends a sentence.
SENTENCE_ENDS = "。！？；!?;"
#: Clause delimiters (GUIDELINES 2.2).
CLAUSE_DELIMITERS = "，,；;。：:！？!?"


@dataclass(frozen=True, order=True)
class Span:
    """A half-open character range ``[start, end)`` into the original, decoded text.

    ``label`` is free: ``TARGET`` for target spans, a category for typed scoring.
    """

    start: int
    end: int
    label: str = TARGET

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.end):
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def text(self, raw: str) -> str:
        return raw[self.start : self.end]

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def __len__(self) -> int:
        return self.end - self.start


def check_category(category: str) -> str:
    if category not in CATEGORY2ID:
        raise ValueError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    return category
