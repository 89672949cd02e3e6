"""The package's data files, loaded (and checked against ``pipeline.schema``) in this one place.

* ``lexicon.json``: keywords per sentence category (the rules' categories);
* ``units.json``: magnitudes, written → canonical units, measure words, unscaled units;
* ``field_words.json``: bound and direction words.

Labels are never defined here: category names, bounds and directions are ``pipeline.schema``'s,
and a file that uses another label is refused with a message naming it. Each ``_comment`` key
documents its file. Loaded once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.schema import BOUNDS, CATEGORIES, DIRECTIONS

DATA_DIR = Path(__file__).resolve().parent


class DataFileError(ValueError):
    """A data file of the package that does not fit the schema; the message names the file."""


def _load(name: str) -> dict[str, Any]:
    p = DATA_DIR / name
    obj = json.loads(p.read_text(encoding="utf-8"))
    if not isinstance(obj, dict):
        raise DataFileError(f"{p}: not a JSON object")
    obj.pop("_comment", None)
    return obj


@cache
def lexicon() -> dict[str, tuple[str, ...]]:
    """Category → keywords, in ``schema.CATEGORIES`` order."""
    raw = _load("lexicon.json")
    if list(raw) != list(CATEGORIES):
        raise DataFileError(
            f"{DATA_DIR / 'lexicon.json'}: categories {list(raw)} are not pipeline.schema's {list(CATEGORIES)}"
        )
    return {c: tuple(raw[c]) for c in CATEGORIES}


@dataclass(frozen=True)
class Units:
    magnitudes: dict[str, int]
    #: Written base unit → canonical unit (measure words included, as ``"count"``).
    base_units: dict[str, str]
    count_words: tuple[str, ...]
    unscaled: frozenset[str]


@cache
def units() -> Units:
    raw = _load("units.json")
    base = dict(raw["base_units"])
    for w in raw["count_words"]:
        base.setdefault(w, "count")
    return Units(
        magnitudes={k: int(v) for k, v in raw["magnitudes"].items()},
        base_units=base,
        count_words=tuple(raw["count_words"]),
        unscaled=frozenset(raw["unscaled"]),
    )


@dataclass(frozen=True)
class FieldWords:
    #: (word, bound) pairs tried in order: words right before the number, after the unit.
    prefix_bounds: tuple[tuple[str, str], ...]
    suffix_bounds: tuple[tuple[str, str], ...]
    #: (word, direction) pairs.
    directions: tuple[tuple[str, str], ...]


@cache
def field_words() -> FieldWords:
    raw = _load("field_words.json")
    p = DATA_DIR / "field_words.json"

    def pairs(key: str, labels: tuple[str | None, ...]) -> tuple[tuple[str, str], ...]:
        out = tuple((str(w), str(lab)) for w, lab in raw[key])
        bad = sorted({lab for _, lab in out} - set(labels))
        if bad:
            raise DataFileError(f"{p}: {key} uses {bad}, not labels of pipeline.schema ({list(labels)})")
        return out

    return FieldWords(pairs("prefix_bounds", BOUNDS), pairs("suffix_bounds", BOUNDS), pairs("directions", DIRECTIONS))
