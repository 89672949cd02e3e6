"""Stage: write tagged records out. Gold-format JSON Lines per document, one flat target table.

The JSONL form is exactly the gold record format (GUIDELINES section 4, ``SentenceRecord.to_json``)
so ``evaluate.py --pred DIR`` scores it directly. The target table has one row per target with
its provenance (document, raw offsets, sentence, part, section) and its normalised fields; the
CSV is UTF-8 with a BOM so Excel opens Chinese text correctly.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.records import SentenceRecord, Target

#: Columns of the target table, in order. Every row has every column (empty when unknown).
TARGET_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "source",
    "sent_id",
    "start",
    "end",
    "text",
    "part",
    "section",
    "sentence_category",
    "sentence_category_score",
    "category",
    "category_score",
    "score",
    "indicator",
    "value",
    "value_max",
    "unit",
    "unit_canonical",
    "multiplier",
    "value_canonical",
    "bound",
    "direction",
    "year",
)


def canonical_unit(unit: str | None) -> tuple[str | None, float | int | None]:
    """``(canonical base unit, multiplier)`` of a written unit, by pipeline.fields.parse' table.

    ``亿元`` → ``("yuan", 100000000)``; ``%`` and ``个百分点`` stay distinct (``percent`` vs
    ``percentage_point``); an unknown unit gives ``(None, None)``.
    """
    from pipeline.fields.parse import canonical_unit as _fields_canonical

    if unit in ("%", "％"):
        return "percent", 1
    c = _fields_canonical(unit) if unit else None
    return (c.unit, c.multiplier) if c else (None, None)


def _num(x: Any) -> Any:
    """JSON/CSV-friendly number: integral floats print without ``.0``; NaN becomes empty."""
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return None
        if x.is_integer() and abs(x) < 1e15:
            return int(x)
    return x


def target_row(sent: SentenceRecord, t: Target, source: str = "") -> dict[str, Any]:
    """One table row for target ``t`` of sentence ``sent``."""
    ex, f = t.extra, t.fields
    uc = f.unit_canonical
    unit_c: str | None
    mult: float | int | None
    if uc is not None:  # read by pipeline.fields.parse
        unit_c, mult = uc.unit, uc.multiplier
    else:  # records from elsewhere: derive from the written unit
        unit_c, mult = canonical_unit(t.unit)
    value_c = f.value_canonical
    if value_c is None and t.value is not None and mult is not None:
        value_c = t.value * mult
    return {
        "doc_id": sent.doc_id,
        "source": source,
        "sent_id": sent.sent_id,
        "start": t.start,
        "end": t.end,
        "text": t.text,
        "part": sent.extra.get("part"),
        "section": sent.extra.get("section"),
        "sentence_category": sent.category,
        "sentence_category_score": sent.extra.get("category_score"),
        "category": t.category,
        "category_score": ex.get("category_score"),
        "score": ex.get("score"),
        "indicator": f.indicator,
        "value": _num(t.value),
        "value_max": _num(t.value_max),
        "unit": t.unit,
        "unit_canonical": unit_c,
        "multiplier": _num(mult),
        "value_canonical": _num(value_c),
        "bound": t.bound,
        "direction": t.direction,
        "year": f.year,
    }


def target_rows(sentences: Iterable[SentenceRecord], source: str = "") -> Iterator[dict[str, Any]]:
    for s in sentences:
        for t in s.targets:
            yield target_row(s, t, source)


def records_jsonl(sentences: Iterable[SentenceRecord]) -> str:
    """Gold-format JSON Lines text, one sentence record per line, in the order given."""
    return "".join(json.dumps(s.to_json(), ensure_ascii=False, sort_keys=False) + "\n" for s in sentences)


def rows_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def rows_csv(rows: Iterable[dict[str, Any]], bom: bool = True) -> str:
    """CSV text of target rows (``TARGET_COLUMNS``), with a UTF-8 BOM by default (for Excel)."""
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    w = csv.DictWriter(buf, fieldnames=list(TARGET_COLUMNS), extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in TARGET_COLUMNS})
    return buf.getvalue()


def read_jsonl_records(text: str) -> list[SentenceRecord]:
    return [SentenceRecord.from_json(json.loads(line)) for line in text.splitlines() if line.strip()]
