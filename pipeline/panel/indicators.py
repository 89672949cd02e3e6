"""Stage: canonical indicators. A target's indicator text → a short ASCII code (``gdp_growth``).

The table is data, ``pipeline/data/indicators.csv``: one row per code with its ``concept``, the
``kinds`` of figure it takes, Chinese and English labels and ``|``-separated aliases. All rows of
one concept share the aliases listed on any of them (``gdp_growth`` and ``gdp`` both answer to
``地区生产总值``); the figure decides between them.

Matching (``match_indicator``), in this order:

1. The text searched is the target span up to its number (``全省生产总值增长`` of
   ``全省生产总值增长6.5%左右``), where the indicator and the change verb are written.
2. Every alias occurrence is a candidate; the **longest alias wins** (``规模以上工业增加值`` beats
   ``工业增加值``, ``单位GDP能耗`` beats ``GDP``, ``进出口`` beats ``出口``, ``城镇调查失业率`` and
   ``城镇登记失业率`` are separate codes and a bare ``失业率`` matches neither); ties go to the
   earlier occurrence. An occurrence after ``占`` (the denominator of a share:
   ``金融业增加值占全省生产总值的比重``) counts only when the alias itself contains ``占``.
3. The figure's kind (``figure_kind``: ``growth`` for a change in percent, ``share`` for a
   percentage level, ``pp`` for percentage points, ``count`` for counted units, ``level`` for
   other amounts) picks the concept's first row that takes it. No row takes it: no code (the
   raw indicator is kept; ``新增规上工业企业5家`` is a count of firms, not industrial value added).
   An unknown kind (no unit) takes the concept's first row.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

INDICATORS_CSV = Path(__file__).resolve().parents[1] / "data" / "indicators.csv"
KINDS: tuple[str, ...] = ("growth", "level", "share", "count", "pp")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


class IndicatorTableError(ValueError):
    """An indicator table that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Indicator:
    code: str
    concept: str
    kinds: tuple[str, ...]
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class IndicatorTable:
    indicators: tuple[Indicator, ...]
    #: alias → concept, longest aliases first.
    aliases: tuple[tuple[str, str], ...]

    def by_code(self, code: str) -> Indicator | None:
        for i in self.indicators:
            if i.code == code:
                return i
        return None

    def concept_rows(self, concept: str) -> list[Indicator]:
        return [i for i in self.indicators if i.concept == concept]

    def concept_aliases(self, concept: str) -> list[str]:
        return [a for a, c in self.aliases if c == concept]


@dataclass(frozen=True)
class IndicatorMatch:
    code: str | None
    concept: str
    alias: str
    figure_kind: str
    note: str = ""


@lru_cache(maxsize=8)
def load_indicators(path: str | None = None) -> IndicatorTable:
    """Read and check an indicator table (default: the shipped one)."""
    p = Path(path) if path else INDICATORS_CSV
    try:
        rows = list(csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as e:
        raise IndicatorTableError(f"{p}: cannot read ({e})") from e
    inds: list[Indicator] = []
    alias_of: dict[str, str] = {}
    seen: set[str] = set()
    for line, r in enumerate(rows, start=2):
        code = (r.get("code") or "").strip()
        if not _CODE.match(code) or code in seen:
            raise IndicatorTableError(
                f"{p}: line {line}: code {code!r} must be new, ASCII a-z0-9_ and at most 24 characters"
            )
        seen.add(code)
        kinds = tuple(k for k in (r.get("kinds") or "").split("|") if k)
        if not kinds or any(k not in KINDS for k in kinds):
            raise IndicatorTableError(f"{p}: line {line}: kinds {r.get('kinds')!r}: use {'|'.join(KINDS)}")
        concept = (r.get("concept") or code).strip()
        inds.append(Indicator(code, concept, kinds, r.get("label_zh", ""), r.get("label_en", "")))
        for a in (r.get("aliases") or "").split("|"):
            a = a.strip()
            if not a:
                continue
            if alias_of.get(a, concept) != concept:
                raise IndicatorTableError(f"{p}: line {line}: alias {a!r} already belongs to concept {alias_of[a]!r}")
            alias_of[a] = concept
    return IndicatorTable(tuple(inds), tuple(sorted(alias_of.items(), key=lambda kv: (-len(kv[0]), kv[0]))))


_CHANGE = re.compile(r"(?:增长|增速|涨幅|增幅|上涨|上升|下降|降低|减少|削减|压减|递增|回落|提高|提升|增加)(?!率|到|至)")
_COUNT_UNITS = {"count"}


def figure_kind(prefix: str, unit: str | None, unit_canonical: str | None = None) -> str:
    """The kind of a figure from its unit and the words before its number ("" when no unit)."""
    if not unit:
        return ""
    if unit in ("个百分点", "百分点"):
        return "pp"
    if unit in ("%", "％", "‰", "倍", "番") or unit_canonical in ("percent", "per_mille", "times", "doublings"):
        if unit in ("倍", "番"):
            return "growth"
        return "growth" if _CHANGE.search(prefix) else "share"
    if unit_canonical in _COUNT_UNITS:
        return "count"
    return "level"


def find_alias(text: str, table: IndicatorTable | None = None) -> tuple[str, str, int] | None:
    """``(alias, concept, position)`` of the winning alias in ``text`` (rule 2), or None."""
    table = table or load_indicators()
    cut = text.find("占")
    best: tuple[int, int, str, str] | None = None  # (-len, pos, alias, concept)
    for alias, concept in table.aliases:
        if best is not None and len(alias) < -best[0]:
            break  # aliases are sorted longest first
        pos = text.find(alias) if cut == -1 or "占" in alias else text.find(alias, 0, cut)
        if pos == -1:
            continue
        key = (-len(alias), pos, alias, concept)
        if best is None or key < best:
            best = key
    return None if best is None else (best[2], best[3], best[1])


def match_indicator(
    prefix: str, unit: str | None, unit_canonical: str | None = None, table: IndicatorTable | None = None
) -> IndicatorMatch | None:
    """The code of a target whose span reads ``prefix`` before its number (module docstring)."""
    table = table or load_indicators()
    found = find_alias(prefix, table)
    if found is None:
        return None
    alias, concept, _ = found
    kind = figure_kind(prefix, unit, unit_canonical)
    rows = table.concept_rows(concept)
    if not kind:
        return IndicatorMatch(rows[0].code, concept, alias, kind)
    for r in rows:
        if kind in r.kinds:
            return IndicatorMatch(r.code, concept, alias, kind)
    return IndicatorMatch(None, concept, alias, kind, note=f"a {kind} figure is not one {concept} takes")


def code_share(span_texts: list[str], units: list[str | None]) -> dict[str, object]:
    """Share of target spans whose indicator gets a code (fields parsed from the span text)."""
    from pipeline.fields.parse import parse_fields

    n = coded = 0
    for text, unit in zip(span_texts, units):
        f = parse_fields(text)
        ns = f.number_start
        prefix = text[:ns] if isinstance(ns, int) else text
        uc = f.unit_canonical.unit if f.unit_canonical is not None else None
        m = match_indicator(prefix, unit if unit is not None else f.unit, uc)
        n += 1
        coded += bool(m and m.code)
    return {"n": n, "with_code": coded, "share": round(coded / n, 4) if n else None}


def read_gold_codes(path: str | Path) -> dict[tuple[str, int, int], str]:
    """Hand-assigned indicator codes of gold targets (``data/gold/indicators.csv``: ``doc_id,
    start, end, indicator_code[, note]``; an empty code means "no indicator of the table")."""
    import csv

    p = Path(path)
    out: dict[tuple[str, int, int], str] = {}
    with p.open(encoding="utf-8-sig", newline="") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            try:
                key = (row["doc_id"], int(row["start"]), int(row["end"]))
            except (KeyError, TypeError, ValueError) as e:
                raise IndicatorTableError(f"{p}:{i}: needs doc_id, start, end ({e})") from e
            out[key] = (row.get("indicator_code") or "").strip()
    return out


def score_codes(pred: dict[tuple[str, int, int], str], gold: dict[tuple[str, int, int], str]) -> dict[str, object]:
    """Accuracy of predicted indicator codes on the gold targets (a missing prediction counts as
    "no code"), and precision/recall/F1 of the coded targets (a code is right only if equal).
    Pure: keys are ``(doc_id, start, end)`` of gold targets; codes ``""`` for none."""
    n = len(gold)
    right = sum(pred.get(k, "") == g for k, g in gold.items())
    pc = {k: c for k, c in pred.items() if c and k in gold}
    gc = {k: c for k, c in gold.items() if c}
    tp = sum(pc.get(k) == c for k, c in gc.items())
    p = tp / len(pc) if pc else 0.0
    r = tp / len(gc) if gc else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "n": n,
        "accuracy": round(right / n, 4) if n else None,
        "gold_coded": len(gc),
        "pred_coded": len(pc),
        "coded_p": round(p, 4),
        "coded_r": round(r, 4),
        "coded_f1": round(f, 4),
    }
