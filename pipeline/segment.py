"""Stage 2: split report text into paragraphs and sentences with exact raw offsets.

Rules (GUIDELINES section 1, project notes in data/GUIDELINES.md):

* A paragraph is a line; a line break (LF, CRLF or CR) ends a paragraph and a sentence.
* A sentence ends after ``。！？；!?;`` (closing quotes and brackets right after it stay with
  it); surrounding whitespace is not part of a sentence.
* Furniture (mastheads, running titles, bylines, datelines, page markers, scrape metadata) and
  paragraphs that repeat an earlier paragraph word for word are *marked*, never dropped: each
  such segment is returned with ``skip`` set to the reason.
* Every kept sentence knows its heading path and whether it sits in the review of the past
  period (its figures are results, GUIDELINES 2.1) or in the plan.

Invariant, tested as a property: ``text[s.start:s.end] == s.text`` for every segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipeline.schema import SENTENCE_ENDS

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_ESCAPED_BREAK = re.compile(r"(?:\\r\\n|\\n|\\r)+")
_CLOSERS = "”’」』）)】》\"'"
_SPACE = " \t\f\v\u3000\u00a0\u200b\ufeff"

_PAGE_MARKER = re.compile(r"^[(（]?\s*(上接|下转|转|接)第?\s*[0-9０-９一二三四五六七八九十]+\s*版\s*[)）]?$")
_DATELINE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(星期|周)[一二三四五六日天]")
_BYLINE = re.compile(
    r"^(编辑|美编|责编|责任编辑|校对|审核|本报记者|记者|摄影|来源|作者|发文单位|发文时间|来源URL|标题|时间|"
    r"阅读|评论|内容摘要|正文|发布时间|发布日期|浏览次数|字号|打印|关闭)\s*[:：]"
)
_BYLINE_ANY = re.compile(r"(编辑|美编|责编)\s*[:：]|记者[^。，,]{0,12}摄\s*$|^【字体|^分享到|当前位置")
_DELIVERY = re.compile(r"^[—─-]{1,4}.{0,40}(会议上|大会上)")
_TITLE_WORDS = re.compile(r"政府工作报告|政\s*府\s*工\s*作\s*报\s*告")
_PUNCT_BODY = set("，,。；;！!？?、：:")
_HEADING_L1 = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]")
_HEADING_L2 = re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[)）]")
_HEADING_L3 = re.compile(r"^[0-9０-９]{1,2}\s*[、.．](?![0-9])")
_REVIEW_CUE = re.compile(r"工作回顾|过去的?一年|过去的?五年|一年来|五年来|\d{4}年(主要)?工作(情况)?回顾|回顾\d{4}年|过去一年的工作")
_PLAN_CUE = re.compile(
    r"工作安排|重点工作|重点任务|主要预期目标|预期目标|总体要求|目标任务|今后五年|今后一个时期|今年(的)?工作|"
    r"\d{4}年(的)?(工作|主要任务|政府工作)|政府自身建设|主要目标"
)
_PREAMBLE = re.compile(r"^各位代表|我代表.{0,20}(报告工作|作.{0,4}报告)|请予审议")
_REVIEW_OPENERS = re.compile(r"^(过去的?一年|一年来|过去的?五年|五年来|\d{4}年，?是)")


@dataclass(frozen=True)
class Sentence:
    """A sentence or a skipped segment, with raw offsets. ``sent_id`` is -1 for skipped ones."""

    start: int
    end: int
    text: str
    sent_id: int
    paragraph: int
    section: str | None = None
    section_path: tuple[str, ...] = ()
    part: str = "other"
    heading: bool = False
    skip: str | None = None


@dataclass
class Segmentation:
    text: str
    segments: list[Sentence] = field(default_factory=list)

    @property
    def sentences(self) -> list[Sentence]:
        """The kept sentences, in document order (``sent_id`` 0..n-1)."""
        return [s for s in self.segments if s.skip is None]

    @property
    def skipped(self) -> list[Sentence]:
        return [s for s in self.segments if s.skip is not None]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start] in _SPACE or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in _SPACE or text[end - 1].isspace()):
        end -= 1
    return start, end


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Raw ``(start, end)`` of every non-blank line, whitespace stripped."""
    out = []
    for m in _LINE.finditer(text):
        if m.start() == m.end():
            break
        # Some scraped files carry line breaks as literal escapes ("\\r\\n"): they break lines too.
        a = m.start()
        for esc in _ESCAPED_BREAK.finditer(text, m.start(), m.end()):
            s, e = _strip(text, a, esc.start())
            if s < e:
                out.append((s, e))
            a = esc.end()
        s, e = _strip(text, a, m.end())
        if s < e:
            out.append((s, e))
    return out


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` (one paragraph) into stripped sentence ranges."""
    out = []
    i = s = start
    while i < end:
        if text[i] in SENTENCE_ENDS:
            j = i + 1
            while j < end and (text[j] in SENTENCE_ENDS or text[j] in _CLOSERS):
                j += 1
            a, b = _strip(text, s, j)
            if a < b:
                out.append((a, b))
            s = i = j
        else:
            i += 1
    a, b = _strip(text, s, end)
    if a < b:
        out.append((a, b))
    return out


def _furniture(line: str, in_header: bool, repeated_short: bool) -> str | None:
    compact = re.sub(r"\s+", "", line)
    if len(compact) > 200:
        return None  # a body paragraph, whatever it starts with: never skip real text wholesale
    if _PAGE_MARKER.match(compact):
        return "page_marker"
    if _BYLINE.match(line) or _BYLINE_ANY.search(line):
        return "byline"
    if len(compact) <= 40 and _DATELINE.search(compact):
        return "dateline"
    if _DELIVERY.match(line):
        return "title"
    has_punct = any(c in _PUNCT_BODY for c in line)
    if not has_punct and len(compact) <= 40 and not is_heading(line):
        if _TITLE_WORDS.search(compact):
            return "title"
        if in_header or repeated_short:
            return "masthead"
    if in_header and compact.isdigit():
        return "metadata"
    return None


def is_heading(text: str) -> bool:
    t = text.strip()
    return bool(_HEADING_L1.match(t) or _HEADING_L2.match(t) or _HEADING_L3.match(t))


def _heading_level(text: str, para_first: bool, para_len: int) -> int | None:
    if not para_first:
        return None
    if _HEADING_L1.match(text):
        return 1
    if _HEADING_L2.match(text):
        return 2
    if _HEADING_L3.match(text):
        return 3
    # An unnumbered one-line heading such as "2024年工作回顾" or "今年主要预期目标".
    if para_len <= 24 and not any(c in "，,；;" for c in text) and (_REVIEW_CUE.search(text) or _PLAN_CUE.search(text)):
        return 1
    return None


def segment(text: str) -> Segmentation:
    """Segment a whole report. Never raises on valid ``str`` input."""
    result = Segmentation(text)
    paras = paragraphs(text)
    line_counts: dict[str, int] = {}
    for s, e in paras:
        key = text[s:e]
        line_counts[key] = line_counts.get(key, 0) + 1
    seen_long: set[str] = set()
    in_header = True
    sent_id = 0
    part = "other"
    path: list[str] = []
    levels: list[int] = []
    for p_idx, (ps, pe) in enumerate(paras):
        line = text[ps:pe]
        compact = re.sub(r"\s+", "", line)
        reason = _furniture(line, in_header, line_counts[line] > 1 and len(compact) <= 40)
        if reason is None and len(compact) >= 20:
            if compact in seen_long:
                reason = "duplicate"
            seen_long.add(compact)
        if reason is not None:
            result.segments.append(Sentence(ps, pe, line, -1, p_idx, _section(path), tuple(path), part, False, reason))
            continue
        if any(c in _PUNCT_BODY for c in line) or len(compact) > 40:
            in_header = False
        for k, (ss, se) in enumerate(split_sentences(text, ps, pe)):
            st = text[ss:se]
            level = _heading_level(st, k == 0, pe - ps)
            if level is not None:
                while levels and levels[-1] >= level:
                    levels.pop()
                    path.pop()
                levels.append(level)
                path.append(st[:60])
                if level == 1 or (level == 2 and not _REVIEW_CUE.search(st) and part == "other"):
                    part = _part_after_heading(st, part)
                elif _REVIEW_CUE.search(st) and part != "plan":
                    part = "review"
                elif _PLAN_CUE.search(st):
                    part = "plan"
            elif k == 0:
                part = _part_after_opener(st, part)
            result.segments.append(
                Sentence(ss, se, st, sent_id, p_idx, _section(path), tuple(path), part, level is not None, None)
            )
            sent_id += 1
    _resolve_parts(result)
    return result


def _resolve_parts(result: Segmentation) -> None:
    """A text with no review at all (an excerpt, such as the seed's newspaper reprint that starts
    in the middle of the plan) is plan throughout, except the opening address to the deputies."""
    if any(s.part == "review" for s in result.segments):
        return
    for i, s in enumerate(result.segments):
        if s.part == "other" and not (s.skip is None and _PREAMBLE.search(s.text)):
            result.segments[i] = replace(s, part="plan")


def _section(path: list[str]) -> str | None:
    return path[-1] if path else None


def _part_after_heading(heading: str, part: str) -> str:
    if _REVIEW_CUE.search(heading):
        return "review"
    if _PLAN_CUE.search(heading):
        return "plan"
    # A numbered top-level heading without cues continues the plan once the plan has begun;
    # right after the review it starts the plan (reports have the review first).
    return "plan" if part in ("review", "plan") else part


def _part_after_opener(sentence: str, part: str) -> str:
    """Paragraph openers such as "过去的一年，…" start the review; "今年…目标是" the plan."""
    if part != "plan" and _REVIEW_OPENERS.match(sentence):
        return "review"
    if re.match(r"^(今年|\d{4}年)(政府工作|经济社会发展|全市|全省|全县|全区)?.{0,12}(主要预期目标|总体要求|工作安排|目标)", sentence):
        return "plan"
    return part
