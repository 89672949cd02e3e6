"""Numbers audit: every number-like token of a report must be inside a gold target or excluded
with a stated reason (data/GUIDELINES.md, "Numbers audit").

``find_number_tokens`` finds the tokens; a decisions file (TSV, one row per token occurrence)
records what the annotator decided; ``audit`` compares the two against a gold file and lists
what is unaccounted. Rerun::

    govtarget audit data/raw/yuzhong-2024.txt data/gold/yuzhong-2024.jsonl \
        data/audit/yuzhong-2024.tsv
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Why a number token is not part of any target (GUIDELINES 2.1 plus the project's notes).
EXCLUSION_REASONS: dict[str, str] = {
    "name": "name, slogan or programme title",
    "ordinal": "ordinal or identifier (第N, N号, 一期, grades, section numbers)",
    "time_frame": "time frame (三年行动, 年内)",
    "background": "background figure (a need or an existing stock, not what is planned)",
    "past_result": "result already achieved or figure describing the past or present",
    "furniture": "furniture or duplicate paragraph (not annotated)",
    "not_quantity": "numeral character inside an ordinary word, or an indefinite amount (一批, 统一)",
}
TARGET = "target"
DECISIONS: tuple[str, ...] = (TARGET, *EXCLUSION_REASONS)

_DIGIT = "0-9０-９"
# Arabic numbers: digits, decimals, a percent sign and a directly following 万/亿 multiplier,
# so "4.6万" or "1450亿" is one token and the 万/亿 is not audited a second time.
_ARABIC = rf"[{_DIGIT}]+(?:[.．][{_DIGIT}]+)?(?:[%％‰]|[万亿]+)?"
# Chinese numerals: a maximal run of numeral characters. 双/半/首/几/数 are not audited
# (they are never a target's number in these reports; data/GUIDELINES.md).
_CHINESE = "[零〇一二三四五六七八九十百千万亿两]+"
# 清零 is listed first so that the zero of "动态清零" is one token "清零".
NUMBER_RE = re.compile(rf"清零|{_ARABIC}|{_CHINESE}")

TSV_COLUMNS: tuple[str, ...] = ("start", "end", "token", "sent_id", "decision", "target_start", "target_end", "context")


@dataclass(frozen=True, order=True)
class NumberToken:
    """A number-like token at raw offsets ``[start, end)``."""

    start: int
    end: int
    token: str


@dataclass(frozen=True)
class Decision:
    """One row of a decisions file."""

    start: int
    end: int
    token: str
    sent_id: int
    decision: str
    target_start: int | None = None
    target_end: int | None = None
    context: str = ""


@dataclass
class AuditResult:
    tokens: list[NumberToken]
    #: tokens with no decision row and not inside any gold target
    unaccounted: list[NumberToken] = field(default_factory=list)
    #: problems with decision rows (unknown decision, token mismatch, target not in the gold, …)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unaccounted and not self.problems


def find_number_tokens(text: str, start: int = 0, end: int | None = None) -> list[NumberToken]:
    """Every number-like token in ``text[start:end]``, with offsets into ``text``."""
    end = len(text) if end is None else end
    return [NumberToken(m.start(), m.end(), m.group()) for m in NUMBER_RE.finditer(text, start, end)]


def context(text: str, start: int, end: int, width: int = 10) -> str:
    """``left[token]right`` with line breaks and tabs shown as escapes (one TSV cell)."""
    s = f"{text[max(0, start - width) : start]}[{text[start:end]}]{text[end : end + width]}"
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def write_decisions(decisions: Sequence[Decision]) -> str:
    """The TSV text of a decisions file (header plus one row per token, in offset order)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(TSV_COLUMNS)
    for d in sorted(decisions, key=lambda x: (x.start, x.end)):
        w.writerow(
            [
                d.start,
                d.end,
                d.token,
                d.sent_id,
                d.decision,
                "" if d.target_start is None else d.target_start,
                "" if d.target_end is None else d.target_end,
                d.context,
            ]
        )
    return buf.getvalue()


def read_decisions(path: str | Path) -> list[Decision]:
    """Parse a decisions TSV; raises ValueError naming the line on a malformed row."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or tuple(rows[0]) != TSV_COLUMNS:
        raise ValueError(f"{path}:1: header must be the columns {', '.join(TSV_COLUMNS)}")
    for i, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != len(TSV_COLUMNS):
            raise ValueError(f"{path}:{i}: expected {len(TSV_COLUMNS)} columns, got {len(row)}")
        try:
            out.append(
                Decision(
                    start=int(row[0]),
                    end=int(row[1]),
                    token=row[2],
                    sent_id=int(row[3]),
                    decision=row[4],
                    target_start=int(row[5]) if row[5] else None,
                    target_end=int(row[6]) if row[6] else None,
                    context=row[7],
                )
            )
        except ValueError as e:
            raise ValueError(f"{path}:{i}: {e}") from e
    return out


def audit(
    raw: str,
    targets: Iterable[tuple[int, int]],
    decisions: Sequence[Decision],
    sentence_of: dict[int, int] | None = None,
) -> AuditResult:
    """Check that every number token of ``raw`` is accounted for.

    A token is accounted for when a decision row names it (same offsets and token) and the row
    is consistent: a ``target`` row must name a gold target (``targets``, raw offsets) that
    contains the token; any other decision must be one of ``EXCLUSION_REASONS`` and the token
    must not lie inside a gold target. A token inside a gold target with no row at all counts as
    accounted (the gold says it), but a row is still expected for a complete file and its
    absence is reported as a problem.
    """
    tokens = find_number_tokens(raw)
    spans = sorted(set(targets))
    by_key = {(d.start, d.end): d for d in decisions}
    res = AuditResult(tokens=tokens)

    def container(tok: NumberToken) -> tuple[int, int] | None:
        for s, e in spans:
            if s <= tok.start and tok.end <= e:
                return (s, e)
        return None

    token_keys = {(t.start, t.end) for t in tokens}
    for tok in tokens:
        d = by_key.get((tok.start, tok.end))
        inside = container(tok)
        if d is None:
            if inside is None:
                res.unaccounted.append(tok)
            else:
                res.problems.append(f"{tok.start}:{tok.end} {tok.token!r} is inside target {inside} but has no row")
            continue
        if d.token != tok.token:
            res.problems.append(f"{tok.start}:{tok.end} row says token {d.token!r}, text has {tok.token!r}")
        if sentence_of is not None and sentence_of.get(tok.start, -1) != d.sent_id:
            res.problems.append(
                f"{tok.start}:{tok.end} {tok.token!r}: row says sent_id {d.sent_id}, text says {sentence_of.get(tok.start, -1)}"
            )
        if d.decision == TARGET:
            named = (d.target_start, d.target_end)
            if named not in spans:
                res.problems.append(
                    f"{tok.start}:{tok.end} {tok.token!r}: row names target {named}, which is not in the gold"
                )
            elif not (named[0] <= tok.start and tok.end <= named[1]):
                res.problems.append(f"{tok.start}:{tok.end} {tok.token!r}: not inside the target {named} its row names")
        elif d.decision in EXCLUSION_REASONS:
            if inside is not None:
                res.problems.append(
                    f"{tok.start}:{tok.end} {tok.token!r} is excluded as {d.decision!r} but lies inside gold target {inside}"
                )
        else:
            res.problems.append(f"{tok.start}:{tok.end} {tok.token!r}: unknown decision {d.decision!r}")
    for d in decisions:
        if (d.start, d.end) not in token_keys:
            res.problems.append(f"row {d.start}:{d.end} {d.token!r} matches no number token of the text (stale row)")
    return res


def audit_files(raw_path: str | Path, gold_path: str | Path, decisions_path: str | Path) -> AuditResult:
    """``audit`` over files: the raw report, its inline gold JSONL and its decisions TSV."""
    from pipeline.annotation.gold import load_gold_file
    from pipeline.text.reader import read_report

    raw = read_report(raw_path).text
    gold = load_gold_file(gold_path, raw_dir=Path(raw_path).parent)
    if gold.raw != raw:
        raise ValueError(f"{gold_path}: gold was loaded against a different text than {raw_path}")
    sentence_of = _sentence_index(raw)
    return audit(raw, [(t.start, t.end) for t in gold.targets()], read_decisions(decisions_path), sentence_of)


def _sentence_index(raw: str) -> dict[int, int]:
    """Offset → sent_id of the kept sentence holding it; -1 for skipped segments and gaps."""
    from pipeline.text.segment import segment

    out: dict[int, int] = {}
    for s in segment(raw).segments:
        for i in range(s.start, s.end):
            out[i] = s.sent_id
    return out
