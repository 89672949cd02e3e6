"""Clause boundaries of GUIDELINES 2.2 (v1.5): where a target span may start and end.

One definition for every stage that needs it: the gold builder checks that each hand-written
target starts and ends on a boundary (``pipeline.annotation.standoff``), and the model's decoding
snaps every predicted span onto them (``pipeline.model.encoding.snap_decoded``), so no span
starts or ends inside a word (``增100个`` → ``新增100个``). Pure functions of a sentence's text;
offsets are sentence-relative and half-open.
"""

from __future__ import annotations

import bisect
import re

from pipeline.fields.parse import find_numbers
from pipeline.schema import CLAUSE_DELIMITERS, ENUM_MARKER_PATTERN, HEDGE_ZHENGQU_BEFORE, HEDGES
from pipeline.text.textnorm import normalize

#: A target is a quantified commitment (GUIDELINES): every target span holds a numeral.
NUMERAL = re.compile(r"[0-9０-９〇零一二两三四五六七八九十百千万亿]")


#: Characters a span may start right after, and end right before, besides the coordinators
#: (GUIDELINES 2.2: clause delimiters, ``、``; whitespace; an opening / closing quote or bracket).
_OPENERS = '“‘"（(《「『'
_CLOSERS = '”’"）)》」』'
_SEPARATORS = set(CLAUSE_DELIMITERS) | set("、") | set(" \t\r\n\u3000")
_CLAUSE_ENDS = set(CLAUSE_DELIMITERS) | set(" \t\r\n\u3000")
_BEFORE_START = _SEPARATORS | set(_OPENERS)
_AFTER_END = _SEPARATORS | set(_CLOSERS)
#: Never the first / last character of a span (trailing punctuation is never inside).
_NOT_FIRST = _SEPARATORS | set(_CLOSERS)
_NOT_LAST = _SEPARATORS | set(_OPENERS)
#: Coordinators that split like ``、`` when both sides carry their own number (v1.5); they are
#: also characters of words (``和美``, ``参与``, ``普及``), so they count only between numbers.
_COORDINATORS = ("以及", "和", "及", "与")
_ENUM_AT = re.compile(ENUM_MARKER_PATTERN)


#: Words in which a coordinator character is part of the word, not a coordinator: a span never
#: ends inside the first kind (``…参`` of ``参与``) nor starts inside the second (``美乡村`` of ``和美乡村``).
_WORDS_ENDING_IN_COORDINATOR = frozenset(
    "参与 给与 赋与 普及 涉及 危及 惠及 波及 顾及 遍及 企及 触及 累及 论及 溯及 共和 温和 饱和 调和 平和 缓和 祥和 柔和 "
    "暖和 附和 总和 随和 谦和 中和 讲和 求和".split()
)
_WORDS_STARTING_WITH_COORDINATOR = frozenset("和美 和谐 和平 和睦 和善 和解 和煦 及时 及早 及格 与会 与时".split())


def _has_figure(text: str) -> bool:
    """Whether ``text`` holds a figure of its own: a digit, or a number the rules' number finder
    keeps (``一批`` is not one)."""
    if re.search(r"[0-9０-９]", text):
        return True
    return any(c.excluded is None for c in find_numbers(text))


def _strip_openers(t: str, k: int) -> int:
    """``k`` moved past whitespace, enumeration markers and hedges opening a clause
    (GUIDELINES 2.2; ``争取`` only before ``实现``/``达到``/``完成``), in any order."""
    changed = True
    while changed and k < len(t):
        changed = False
        while k < len(t) and t[k] in " \t\r\n\u3000":
            k += 1
        m = _ENUM_AT.match(t, k)
        if m and m.end() < len(t):
            k, changed = m.end(), True
        for h in HEDGES:
            if t.startswith(h, k) and k + len(h) < len(t):
                k, changed = k + len(h), True
        if t.startswith("争取", k) and t.startswith(HEDGE_ZHENGQU_BEFORE, k + 2):
            k, changed = k + 2, True
    return k


#: How far back from a coordinator its left side is searched for a figure (characters); keeps
#: a sentence of thousands of characters without punctuation linear.
_COORDINATION_LOOKBACK = 64


def clause_boundaries(sentence: str, coordination: str = "item") -> tuple[list[int], list[int]]:
    """``(starts, ends)``: the sorted offsets where a target span may start and end in ``sentence``
    (GUIDELINES 2.2, v1.5).

    A span starts at the sentence start or right after a clause delimiter (``，,；;。：:！？!?``),
    ``、``, whitespace or an opening quote/bracket, in each case after any stripped hedge
    (``力争``, ``确保``, …) and/or enumeration marker (``schema.ENUM_MARKER_PATTERN``), or right
    after a coordinator ``和``/``及``/``与``/``以及`` whose left side (back to the previous separator)
    holds a figure. A span ends at the sentence end or right before a delimiter, ``、``,
    whitespace or a closing quote/bracket, or before such a coordinator; never right after
    punctuation or whitespace. A coordinator character inside a word (``参与``, ``普及``,
    ``和美乡村``, ``及时``) is no coordinator.

    ``coordination`` is how far back the left side of a coordinator is searched for its figure:
    ``"item"`` (the model's snapping, as trained and measured) stops at the previous ``、`` too;
    ``"clause"`` (the gold builder's check) only at the previous clause delimiter, so that in
    ``完成3万亩…的补植、管护任务和3000亩…`` the 和 splits two targets although the ``、`` item before it
    holds no figure (GUIDELINES 2.2 asks for a number on each side, not in the last ``、`` item).
    """
    if coordination not in ("item", "clause"):
        raise ValueError(f"coordination must be 'item' or 'clause', not {coordination!r}")
    t = normalize(sentence)
    n = len(t)
    starts: set[int] = set()
    ends: set[int] = set()
    if n == 0:
        return [], []
    points = {0} | {k + 1 for k in range(n) if t[k] in _BEFORE_START}
    item_start = [0] * n  # where the clause or 、 item holding offset k starts
    cut = _SEPARATORS if coordination == "item" else _CLAUSE_ENDS
    for k in range(1, n):
        item_start[k] = k if t[k - 1] in cut else item_start[k - 1]
    for i in range(1, n):
        for c in _COORDINATORS:
            if not t.startswith(c, i) or (c == "及" and t[i - 1] == "以"):
                continue
            j = i + len(c)
            if t[i - 1 : i + 1] in _WORDS_ENDING_IN_COORDINATOR or t[i : i + 2] in _WORDS_STARTING_WITH_COORDINATOR:
                break
            # A coordinator between targets follows a figure (GUIDELINES 2.2: both sides carry
            # their own number; the right side's is the next span's own business).
            if j < n and _has_figure(t[max(item_start[i], i - _COORDINATION_LOOKBACK) : i]):
                points.add(j)
                ends.add(i)
            break
    for p in points:
        k = _strip_openers(t, p)
        if k < n and t[k] not in _NOT_FIRST:
            starts.add(k)
    ends |= {k for k in range(1, n) if t[k] in _AFTER_END}
    ends.add(n)
    ends = {e for e in ends if t[e - 1] not in _NOT_LAST}
    return sorted(starts), sorted(ends)


def _snap_one(sentence: str, starts: list[int], ends: list[int], s: int, e: int, lo: int = 0) -> tuple[int, int] | None:
    """The allowed ``(start, end)`` nearest to ``(s, e)`` that holds a numeral and starts at or
    after ``lo``; ``None`` if there is none (see ``snap_to_clauses``)."""
    i = bisect.bisect_right(starts, s)
    s_opts = [starts[i - 1]] if i and starts[i - 1] >= lo else []
    k = bisect.bisect_left(starts, max(s, lo))
    if k < len(starts):
        s_opts.append(starts[k])
    j = bisect.bisect_left(ends, e)
    e_opts = ([ends[j]] if j < len(ends) else []) + ([ends[j - 1]] if j else [])
    best: tuple[int, int, int, int] | None = None
    for a in dict.fromkeys(s_opts):
        for b in dict.fromkeys(e_opts):
            if a < b and NUMERAL.search(sentence[a:b]):
                # Movement first; then prefer extending (a ≤ s, b ≥ e) over cutting; then position.
                key = (abs(a - s) + abs(b - e), int(a > s) + int(b < e), a, b)
                if best is None or key < best:
                    best = key
    return (best[2], best[3]) if best is not None else None


def snap_to_clauses(sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move every span's ends to the nearest clause boundaries (``clause_boundaries``), so that
    no span starts or ends inside a word of its clause (``增100个`` → ``新增100个``).

    Spans are taken in order. A span's start goes to the nearest allowed start at or before it
    or at or after it (never before the end of the span kept before it), its end likewise; of
    those combinations that keep a non-empty span holding a numeral, the one moving the ends
    least is taken (ties: the one that extends the model's span). So ``推进5个`` +
    ``国家区域医疗中心和6个…`` becomes ``推进5个国家区域医疗中心`` + ``6个…``. A span that can only
    be placed over the span before it is merged with it (their union, whose ends are allowed
    too); a span for which no placement holds a numeral is dropped. Pure; sentence-relative
    half-open offsets in and out, sorted and non-overlapping; ``sentence[s:e]`` is the span.
    """
    if not spans:
        return []
    starts, ends = clause_boundaries(sentence)
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if not (0 <= s < e <= len(sentence)):
            raise ValueError(f"span [{s}, {e}) outside a sentence of {len(sentence)} characters")
        lo = out[-1][1] if out else 0
        placed = _snap_one(sentence, starts, ends, s, e, lo)
        if placed is not None:
            out.append(placed)
            continue
        free = _snap_one(sentence, starts, ends, s, e)
        if free is not None and out and free[0] < out[-1][1]:
            out[-1] = (min(out[-1][0], free[0]), max(out[-1][1], free[1]))
        elif free is not None:
            out.append(free)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(out):  # a merge above can reach back over an earlier span
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
