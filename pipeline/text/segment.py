"""Stage 2: split report text into paragraphs and sentences with exact raw offsets.

Rules (GUIDELINES section 1, project notes in data/GUIDELINES.md):

* A paragraph is a line; a line break (LF, CRLF or CR) ends a paragraph and a sentence.
* A sentence ends after ``。！？；!?;`` (closing quotes and brackets right after it stay with
  it); surrounding whitespace is not part of a sentence.
* Furniture (mastheads, running titles, bylines, datelines, page markers, scrape metadata, site
  navigation and footers) and paragraphs that repeat an earlier paragraph word for word (with the
  short headings of a whole duplicated copy) are *marked*, never dropped: each such segment is
  returned with ``skip`` set to the reason.
* Every kept sentence knows its heading path and whether it sits in the review of the past
  period (its figures are results, GUIDELINES 2.1) or in the plan. How parts are decided, and how
  well that works on the corpus, is written up in ``docs/SEGMENTATION.md``.

Invariant, tested as a property: ``text[s.start:s.end] == s.text`` for every segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipeline.schema import SENTENCE_ENDS

# HTML left in scraped text: tags and the entities that stand for spaces.
_MARKUP = r"(?:</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]{0,200})?/?>|&(?:nbsp|ensp|emsp|thinsp|#160|#12288|#x[aA]0|#x3000);)"
_MARKUP_MAX = 220
_MARKUP_HEAD = re.compile(_MARKUP)
_MARKUP_TAIL = re.compile(_MARKUP + r"\Z")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_ESCAPED_BREAK = re.compile(r"(?:\\r\\n|\\n|\\r)+")
_CLOSERS = "”’」』）)】》\"'"
_SPACE = " \t\f\v\u3000\u00a0\u200b\ufeff"

_PAGE_MARKER = re.compile(r"^[(（]?\s*(上接|下转|转|接)第?\s*[0-9０-９一二三四五六七八九十]+\s*版\s*[)）]?$")
_DATELINE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(星期|周)[一二三四五六日天]")
# Scrape metadata keys ("发文单位：…", "报告人：…") and page furniture ("【字体：", "发布机构：").
_BYLINE = re.compile(
    r"^[【\[(（]?(编辑|美编|责编|责任编辑|校对|审核|本报记者|记者|摄影|来源|作者|发文单位|发文时间|来源URL|标题|时间|"
    r"阅读|评论|内容摘要|正文|发布时间|发布日期|浏览次数|字号|字体|打印|关闭|报告人|发布机构|添加时间|日期|会议|"
    r"信息来源|点击数|访问量)\s*[:：]"
)
_BYLINE_ANY = re.compile(
    r"(编辑|美编|责编)\s*[:：]|记者[^。，,]{0,12}摄\s*$|^【字体|^分享到|当前位置|您当前的?位置|"
    r"^(添加时间|发布时间|浏览次数|点击次数)\s*[0-9０-９]"
)
_DELIVERY = re.compile(r"^[—─-]{1,4}.{0,40}(会议上|大会上)")
# The delivery line of the header ("2025年1月20日在安徽省第十四届人民代表大会第三次会议上…省长"),
# with or without its leading dash; only in the header, and never a sentence of its own.
_DELIVERY_DATED = re.compile(r"^[—─-]*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,60}(会议|大会)(上|的)")
_TITLE_WORDS = re.compile(r"政府工作报告|政\s*府\s*工\s*作\s*报\s*告")
_PUNCT_BODY = set("，,。；;！!？?、：:")
# Punctuation that only running text has: site navigation and link lists carry none of it.
_PUNCT_CLAUSE = set("，,。；;！!？?、")
_HEADING_L1 = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]")
_HEADING_L2 = re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[)）]")
_HEADING_L3 = re.compile(r"^[0-9０-９]{1,2}\s*[、.．](?![0-9])")
# Cues that a heading or title opens the review of the past period (GUIDELINES 2.1: results).
_REVIEW_CUE = re.compile(
    r"回顾|过去的?(一年|五年|\d+年)|一年来|五年来|执行情况|工作情况|取得.{0,8}(成就|成绩|成效)|主要成就|成绩回顾"
)
# Cues that a heading opens the plan (targets of the plan year or later).
_PLAN_CUE = re.compile(
    r"工作安排|重点工作|重点任务|主要任务|战略任务|预期目标|总体要求|目标任务|主要目标|奋斗目标|发展目标|工作目标|目标和|"
    r"指导思想|总体思路|基本思路|发展思路|工作思路|今后|未来|今年|新的一年|政府自身建设|.{0,6}型政府$|"
    r"计划|规划|打算|部署|主要工作|预算草案|(迈上|开启|踏上|奋进)新征程"
)
_YEAR = re.compile(r"(?<![0-9])((?:19|20)\d\d)\s*年")
_HEAD_YEAR = re.compile(r"(?<![到至0-9])((?:19|20)\d\d)\s*年(?:的)?(?:工作|主要|重点|政府|目标|发展|经济|总体|预算)")
_DATE_YEAR = re.compile(r"((?:19|20)\d\d)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
_PREAMBLE = re.compile(r"^各位代表|我代表.{0,20}(报告工作|作.{0,4}报告)|请予审议")
# Leading "《报告》说，" / "马誉峰说，" in news write-ups, and "各位代表，" in speeches.
_SPEAKER = re.compile(r"^(?:[^，。,；;！!]{1,15}(?:说|指出|表示|强调)[，,：:]|各位代表[，,！!])")
_REVIEW_OPENERS = re.compile(
    r"^(过去的?一年|过去一年|一年来|过去的?五年|五年来|这一年|这五年|刚刚过去的|去年|(?P<y>(?:19|20)\d\d)\s*年[，,]?是|"
    r"(?P<y2>(?:19|20)\d\d)\s*年[，,])"
)
_PLAN_OPENERS = re.compile(
    r"^(今年|新的一年|(?P<y>(?:19|20)\d\d)\s*年)(是|，是|(政府工作|经济社会发展|全[市省县区]|我[市省县区])?.{0,12}"
    r"(主要预期目标|预期目标|总体要求|工作安排|主要目标|目标任务|重点工作|主要任务))"
    r"|^(今后五年|未来五年|今后一个时期)([，,]?是|.{0,12}(目标|思路|任务|指导思想|总体要求))"
)
# A news page that goes on to another body's report ("县人大常委会主任…作…常务委员会工作报告"):
# from there on the text is not the government's.
_OTHER_REPORT = re.compile(
    r"(人大常委会|人民代表大会常务委员会|人民法院|人民检察院|政协)[^。，,]{0,20}(作|做)"
    r"[^。，,]{0,30}(常委会|常务委员会|法院|检察院|政协)[^。，,]{0,6}工作报告"
)
# Five-year plans: "十三五" runs 2016-2020; a period that ended before the plan year is the past.
_FIVE_YEAR = re.compile(r"“?十([一二三四五])五”?(?:时期|期间|规划)")
_FIVE_YEAR_END = {"一": 2010, "二": 2015, "三": 2020, "四": 2025, "五": 2030}
_APPENDIX = re.compile(r"^[※\s附：:]*(名词解释|附件|附表|附：)")
_FIGURES = re.compile(r"[%％]|亿元|万元|万人|增长|下降")
_MIN_NAV_RUN = 4
# Page numbers of PDFs ("- 3 -", "第3页", "3/12"); a bare number counts outside the header.
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－·•]+[0-9０-９]{1,4}[-—–－·•]+|第[0-9０-９]{1,4}页(?:共[0-9０-９]{1,4}页)?|[0-9０-９]{1,4}[/／][0-9０-９]{1,4}|"
    r"[-—–－]+[ivxlcIVXLC]{1,6}[-—–－]+)$"
)
# Web-page chrome (GUIDELINES: furniture): share bars, QR-code prompts, print/close links, the
# site footer, breadcrumbs and link ids. Checked on short lines without sentence ends only.
_CHROME_ANY = re.compile(
    r"^分享(?:到|至)?\s*[:：]|扫一扫|扫码|二维码|版权所有|主办单位|承办单位|^主办\s*[:：]|^承办\s*[:：]|ICP备|ICP证|公网安备|"
    r"网站标识码|技术支持\s*[:：]|[Cc]opyright|©|网站地图|联系我们|使用帮助|建议使用.{0,20}浏览器|分辨率"
)
_CHROME_ONLY = re.compile(
    r"^(?:[【\[]?(?:打印本页|打印此页|关闭窗口|关闭本页|打印|关闭|返回顶部|返回|收藏本页|加入收藏|收藏|设为首页|我要纠错|纠错|"
    r"保存本页|字号|大|中|小|默认)[】\]]?[|｜/]?)+$"
)
_CRUMB = re.compile(r"^(?:首页|网站首页|主页|门户首页)\s*[>＞»›→]")
_LINK_ID = re.compile(r"^[0-9a-f]{16,}[:：]?$")
_SENTENCE_DONE = set("。！？；!?;")
# Opens a block of related links ("相关报道", "相关链接>>"): the short lines after it are links.
# ("相关文章" is left out: the standoff gold of 2021_baoding_mancheng keeps the five link titles
# after it as sentences; adding it is a gold change, see docs/SEGMENTATION.md.)
_RELATED = re.compile(
    r"^[【\[]?(?:相关报道|相关新闻|相关链接|相关阅读|相关附件|相关文件|相关稿件|相关解读|推荐阅读|延伸阅读|热点推荐|"
    r"热点新闻|更多阅读|猜你喜欢|往期回顾)[】\]]?[:：>»]*$"
)
# "（上接第一版）", "（下转第2版）" at the start or end of a sentence (newspaper reprints).
_INLINE_MARKER = r"[(（]\s*(?:上接|下转|转|接)第?\s*[0-9０-９一二三四五六七八九十A-Za-z]+\s*版\s*[)）]"
_MARKERS_HEAD = re.compile(rf"(?:{_INLINE_MARKER}\s*)+")
_MARKERS_TAIL = re.compile(rf"(?:\s*{_INLINE_MARKER})+\Z")
_TEASER_END = re.compile(r"(\.{3,}|…+)$")
# Characters that end a finished line (a sentence, a heading list, a title in brackets).
_LINE_DONE = set(SENTENCE_ENDS) | set(_CLOSERS) | set("：:")


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
    """Narrow ``[start, end)`` past whitespace and, in scraped pages, HTML tags and space-like
    entities (``&nbsp;``, ``<p>``): they are not part of any sentence."""
    while True:
        while start < end and (text[start] in _SPACE or text[start].isspace()):
            start += 1
        if start < end and text[start] in "&<":
            m = _MARKUP_HEAD.match(text, start, end)
            if m:
                start = m.end()
                continue
        break
    while True:
        while end > start and (text[end - 1] in _SPACE or text[end - 1].isspace()):
            end -= 1
        if end > start and text[end - 1] in ";>":
            m = _MARKUP_TAIL.search(text, max(start, end - _MARKUP_MAX), end)
            if m:
                end = m.start()
                continue
        break
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


#: Every value ``Sentence.skip`` can take (``None`` for a kept sentence).
SKIP_REASONS: tuple[str, ...] = (
    "page_marker",
    "byline",
    "dateline",
    "title",
    "masthead",
    "metadata",
    "navigation",
    "teaser",
    "duplicate",
    "page_number",
    "web_chrome",
    "related",
)


def _compact(line: str) -> str:
    return "".join(line.split())


def _furniture(line: str, in_header: bool, repeated_short: bool) -> str | None:
    compact = _compact(line)
    if len(compact) > 200:
        return None  # a body paragraph, whatever it starts with: never skip real text wholesale
    if _PAGE_MARKER.match(compact):
        return "page_marker"
    if _BYLINE.match(line) or _BYLINE_ANY.search(line):
        return "byline"
    if len(compact) <= 40 and _DATELINE.search(compact):
        return "dateline"
    if _DELIVERY.match(line) or (
        in_header
        and len(compact) <= 100
        and _DELIVERY_DATED.match(compact)
        and not any(c in "。；;！!？?" for c in line.rstrip().rstrip("。"))
    ):
        return "title"
    has_punct = any(c in _PUNCT_BODY for c in line)
    if not has_punct and len(compact) <= 40 and not is_heading(line):
        if _TITLE_WORDS.search(compact):
            return "title"
        # A short unnumbered line in the header is a masthead, unless it is a part heading such
        # as "2022年政府工作回顾" (some scrapes start right at the review).
        if (in_header or repeated_short) and _cue_part(compact, None) is None:
            return "masthead"
    if in_header and compact.isdigit():
        return "metadata"
    return None


def _chrome(line: str, compact: str, in_annex: bool = False) -> str | None:
    """Page numbers and web chrome on a line ``_furniture`` kept; ``None`` for report text. In
    an annex a bare number is a table cell, not a page number."""
    if not in_annex and _PAGE_NUMBER.match(compact):
        return "page_number"
    if len(compact) > 80 or any(c in _SENTENCE_DONE for c in line):
        return None
    if _CRUMB.match(compact):
        return "navigation"
    if _CHROME_ANY.search(compact) or _CHROME_ONLY.match(compact) or _LINK_ID.match(compact):
        return "web_chrome"
    return None


def _mark_related(lines: list[str], compacts: list[str], reasons: list[str | None]) -> None:
    """A "相关报道" / "相关链接>>" line and the link titles after it: short lines without a
    sentence end, up to the first line of running text, numbered heading or address to the deputies.
    Lines already marked (a footer, a title) continue the block."""
    i, n = 0, len(lines)
    while i < n:
        if reasons[i] is None and _RELATED.match(compacts[i]):
            reasons[i] = "related"
            j = i + 1
            while j < n:
                c = compacts[j]
                if reasons[j] is None:
                    if (
                        len(c) > 60
                        or any(ch in _SENTENCE_DONE for ch in lines[j])
                        or is_heading(lines[j])
                        or _PREAMBLE.search(c)
                    ):
                        break
                    reasons[j] = "related"
                j += 1
            i = j
        else:
            i += 1


def _peel_markers(text: str, start: int, end: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int, int]:
    """Split "（上接第一版）…" / "…（下转第二版）" markers off a sentence: ``(head markers, tail
    markers, start, end)`` with the sentence narrowed (possibly to nothing)."""
    head: list[tuple[int, int]] = []
    tail: list[tuple[int, int]] = []
    m = _MARKERS_HEAD.match(text, start, end)
    if m:
        head.append(_strip(text, m.start(), m.end()))
        start = _strip(text, m.end(), end)[0] if m.end() < end else end
    if start < end:
        m = _MARKERS_TAIL.search(text, start, end)
        if m:
            tail.append(_strip(text, m.start(), m.end()))
            end = _strip(text, start, m.start())[1] if m.start() > start else start
    return head, tail, start, end


def _nav_like(line: str) -> bool:
    """A short line with no clause punctuation that is no heading: a menu item or a link."""
    compact = _compact(line)
    return (
        len(compact) <= 20
        and not any(c in _PUNCT_CLAUSE for c in line)
        and not is_heading(line)
        and _cue_part(compact, None) is None
        and not _FIGURES.search(compact)
        and not _PREAMBLE.search(compact)
    )


def _in_duplicate_copy(compacts: list[str]) -> list[bool]:
    """True for the lines of a repeated stretch: a long line seen before, and a short line whose
    nearest long neighbour (before or after) is one."""
    n = len(compacts)
    seen: set[str] = set()
    long_dup: list[bool | None] = [None] * n  # None for short lines
    for i, c in enumerate(compacts):
        if len(c) >= 20:
            long_dup[i] = c in seen
            seen.add(c)
    out = [bool(d) for d in long_dup]
    last: bool | None = None
    for i in range(n):
        if long_dup[i] is None:
            out[i] = bool(last)
        else:
            last = long_dup[i]
    last = None
    for i in range(n - 1, -1, -1):
        if long_dup[i] is None:
            out[i] = out[i] or bool(last)
        else:
            last = long_dup[i]
    return out


def _protected_appendix(lines: list[str], compacts: list[str]) -> list[bool]:
    """Lines of an annex ("附件1", "名词解释") up to its last line of running text: its tables
    break into short cells that look like menus, but they are content, never furniture."""
    n = len(lines)
    start = next((i for i, c in enumerate(compacts) if len(c) <= 30 and _APPENDIX.match(c)), None)
    out = [False] * n
    if start is None:
        return out
    last_body = max(
        (
            i
            for i in range(start, n)
            if len(compacts[i]) >= 10 and any(c in _PUNCT_CLAUSE for c in lines[i]) and not _BYLINE.match(lines[i])
        ),
        default=start,
    )
    for i in range(start, last_body + 1):
        out[i] = True
    return out


def _mark_navigation(lines: list[str], reasons: list[str | None], protected: list[bool]) -> None:
    """Mark runs of at least ``_MIN_NAV_RUN`` menu-like lines (site navigation, link lists,
    footers). Lines already marked as furniture continue a run; web chrome (a footer's ICP line,
    a share bar) also counts toward its length, as it did before it had a reason of its own; any
    other line ends it."""
    run: list[int] = []
    chrome = 0

    def flush() -> None:
        nonlocal chrome
        if run and len(run) + chrome >= _MIN_NAV_RUN:
            for i in run:
                reasons[i] = "navigation"
        run.clear()
        chrome = 0

    for i, line in enumerate(lines):
        if reasons[i] is not None and reasons[i] != "duplicate":
            if reasons[i] in ("web_chrome", "related", "page_number") and _nav_like(line):
                chrome += 1
            continue
        if reasons[i] is None and not protected[i] and _nav_like(line):
            run.append(i)
        else:
            flush()
    flush()


def _mark_duplicate_copies(compacts: list[str], reasons: list[str | None]) -> None:
    """A short line (a heading, "各位代表！") that repeats an earlier one is a duplicate when it
    sits inside a duplicated stretch: the nearest long line before or after it is a duplicate.
    This marks the headings of a report pasted twice without touching repeated lines of the
    first copy."""
    n = len(compacts)
    long_before: list[str | None] = [None] * n
    long_after: list[str | None] = [None] * n
    last: str | None = None
    for i in range(n):
        long_before[i] = last
        if len(compacts[i]) >= 20 and reasons[i] in (None, "duplicate"):
            last = "dup" if reasons[i] == "duplicate" else "kept"
    last = None
    for i in range(n - 1, -1, -1):
        long_after[i] = last
        if len(compacts[i]) >= 20 and reasons[i] in (None, "duplicate"):
            last = "dup" if reasons[i] == "duplicate" else "kept"
    seen: set[str] = set()
    for i in range(n):
        c = compacts[i]
        if reasons[i] is not None or len(c) >= 20:
            continue
        if c in seen and "dup" in (long_before[i], long_after[i]):
            reasons[i] = "duplicate"
        seen.add(c)


def is_heading(text: str) -> bool:
    t = text.strip()
    return bool(_HEADING_L1.match(t) or _HEADING_L2.match(t) or _HEADING_L3.match(t))


def _cue_part(text: str, plan_year: int | None) -> str | None:
    """Which part a heading opens: "review", "plan", "appendix" (glossary, annexes) or None.

    Review cues win over plan cues ("一、2023年工作回顾" names no plan; "过去五年主要工作" is a
    review). Without cues, a heading naming only years before the plan year is a review."""
    if _APPENDIX.match(text):
        return "appendix"
    if _REVIEW_CUE.search(text):
        return "review"
    if _PLAN_CUE.search(text):
        return "plan"
    if plan_year is not None:
        years = [int(y) for y in _YEAR.findall(text)] + _five_year_ends(text)
        if years:
            return "plan" if max(years) >= plan_year else "review"
    return None


def _heading_level(text: str, para_first: bool, para_len: int) -> int | None:
    if not para_first:
        return None
    if _HEADING_L1.match(text):
        return 1
    if _HEADING_L2.match(text):
        return 2
    if _HEADING_L3.match(text):
        return 3
    # An unnumbered one-line heading such as "2024年工作回顾", "2021年工作回顾：" or
    # "站在新起点：2012年工作回顾"; "今年的主要目标是：" opens a list and is no heading.
    body = text.rstrip("：:")
    if (
        para_len <= 30
        and not any(c in "，,；;。！!？?" for c in body)
        and not body.endswith("是")
        and _cue_part(body, None) is not None
    ):
        return 1
    return None


def _plan_year(text: str, paras: list[tuple[int, int]]) -> int | None:
    """The year the plan is for: the latest year in the header datelines ("2024年1月23日在…")
    and in short heading-like lines ("二、2024年工作安排"). ``None`` when nothing says."""
    years: list[int] = []
    in_header = True
    for s, e in paras:
        if e - s > 60:
            in_header = False  # datelines after the first body paragraph may be anything
            continue
        line = text[s:e]
        if in_header:
            years.extend(int(y) for y in _DATE_YEAR.findall(line))
            if _TITLE_WORDS.search(line):  # "标题：保定市满城区2021年政府工作报告"
                years.extend(int(y) for y in _YEAR.findall(line))
        if _HEADING_L1.match(line) or _heading_level(line, True, e - s) is not None:
            years.extend(int(y) for y in _HEAD_YEAR.findall(line))
    return max(years) if years else None


def _five_year_ends(text: str) -> list[int]:
    """Last years of the five-year plans named in ``text`` ("十三五" → 2020)."""
    return [_FIVE_YEAR_END[n] for n in _FIVE_YEAR.findall(text)]


def _opener_part(sentence: str, part: str, plan_year: int | None) -> str:
    """Paragraph openers: "过去的一年，…" starts the review, "今年是…" / "今年…主要预期目标是"
    the plan. A year-led opener ("2023年是…") counts only when the plan year is known."""
    if part == "plan":
        return part
    body = _SPEAKER.sub("", sentence.lstrip("，,：:"), count=1)
    m5 = _FIVE_YEAR.match(body)
    if m5 and part == "other" and plan_year is not None and _FIVE_YEAR_END[m5.group(1)] < plan_year:
        return "review"  # "“十三五”时期的五年，是…" in a 2021 report
    m = _REVIEW_OPENERS.match(body)
    if m and part == "other":
        y = m.group("y") or m.group("y2")
        if y is None or (plan_year is not None and int(y) < plan_year):
            return "review"
    m = _PLAN_OPENERS.match(body)
    if m:
        y = m.group("y")
        if y is None or (plan_year is not None and int(y) >= plan_year):
            return "plan"
    return part


def _marker(text: str, ms: int, me: int, p_idx: int, path: list[str], part: str) -> Sentence:
    """A page marker (``（上接…）``) peeled off a sentence: furniture of its paragraph."""
    return Sentence(ms, me, text[ms:me], -1, p_idx, _section(path), tuple(path), part, False, "page_marker")


def segment(text: str) -> Segmentation:
    """Segment a whole report. Never raises on valid ``str`` input."""
    result = Segmentation(text)
    paras = paragraphs(text)
    lines = [text[s:e] for s, e in paras]
    compacts = [_compact(line) for line in lines]
    # A running title repeats on every page; but in a report pasted twice every short line
    # repeats, so lines inside the second copy are not counted (else the first copy's broken
    # fragments, "亲自" or "2021年是“", would pass for running titles).
    in_copy = _in_duplicate_copy(compacts)
    line_counts: dict[str, int] = {}
    for line, copied in zip(lines, in_copy):
        if not copied:
            line_counts[line] = line_counts.get(line, 0) + 1
    protected = _protected_appendix(lines, compacts)

    # Pass 1: furniture line by line, and long paragraphs repeated word for word.
    reasons: list[str | None] = []
    seen_long: set[str] = set()
    in_header = True
    for i, (line, compact) in enumerate(zip(lines, compacts)):
        # A short line that continues an unfinished sentence ("在" / "全面建设小康社会" /
        # "新的起点上") is a broken body line, however often it recurs.
        continues = (
            (i > 0 and lines[i - 1][-1] not in _LINE_DONE)
            or line[-1] in "“‘《"
            or (i + 1 < len(lines) and lines[i + 1][0] in "，,。；;：:、”’）)》")
        )
        repeated = line_counts.get(line, 0) > 1 and len(compact) <= 40 and not protected[i] and not continues
        reason = _furniture(line, in_header, repeated)
        if reason is None and i > 0 and compacts[i - 1].startswith("内容摘要") and _TEASER_END.search(compact):
            reason = "teaser"  # the page's truncated abstract of the report that follows
        if reason is None and len(compact) >= 20:
            if compact in seen_long:
                reason = "duplicate"
            seen_long.add(compact)
        if reason is None and not (in_header and compact.isdigit()):
            reason = _chrome(line, compact, protected[i])
        if reason is None and (any(c in _PUNCT_BODY for c in line) or len(compact) > 40):
            in_header = False
        reasons.append(reason)
    # Pass 2 and 3: related-link blocks and navigation runs, then the short lines of duplicated copies.
    _mark_related(lines, compacts, reasons)
    _mark_navigation(lines, reasons, protected)
    _mark_duplicate_copies(compacts, reasons)

    # Pass 4: sentences, headings and parts.
    plan_year = _plan_year(text, paras)
    sent_id = 0
    part = "other"
    review_numbered = False  # the review was opened by a numbered heading ("一、2023年工作回顾")
    # A plan begun by a title line or an opener before any numbered heading ("…规划纲要的报告")
    # is soft: the first review heading still opens the review.
    plan_firm = False
    soft_start = 0
    prev_part = part
    appendix = False
    appendix_ids: set[int] = set()
    path: list[str] = []
    levels: list[int] = []
    for p_idx, (ps, pe) in enumerate(paras):
        line = lines[p_idx]
        if reasons[p_idx] is not None:
            seg_part = "other" if appendix else part
            result.segments.append(
                Sentence(ps, pe, line, -1, p_idx, _section(path), tuple(path), seg_part, False, reasons[p_idx])
            )
            continue
        if not appendix and _OTHER_REPORT.search(line):
            appendix = True  # treated like an annex: neither review nor plan, to the end

        for k, (ss, se) in enumerate(split_sentences(text, ps, pe)):
            head_markers, tail_markers, ss, se = _peel_markers(text, ss, se)
            for ms, me in head_markers:
                result.segments.append(_marker(text, ms, me, p_idx, path, "other" if appendix else part))
            if ss >= se:
                for ms, me in tail_markers:
                    result.segments.append(_marker(text, ms, me, p_idx, path, "other" if appendix else part))
                continue
            st = text[ss:se]
            level = _heading_level(st, k == 0, pe - ps)
            if level is not None:
                while levels and levels[-1] >= level:
                    levels.pop()
                    path.pop()
                levels.append(level)
                path.append(st[:60])
                cue = _cue_part(st, plan_year)
                if cue == "appendix":
                    appendix = True
                elif appendix:
                    pass
                elif level == 1:
                    numbered = bool(_HEADING_L1.match(st))
                    if cue == "review" and (part == "other" or (part == "plan" and not plan_firm)):
                        if part == "plan":
                            # The soft plan was the title and preamble: they belong to neither part.
                            for i in range(soft_start, len(result.segments)):
                                result.segments[i] = replace(result.segments[i], part="other")
                        part, review_numbered = "review", numbered
                    elif cue == "plan":
                        plan_firm = plan_firm or numbered or part == "review"
                        part = "plan"
                    elif cue is None and numbered and part == "review" and review_numbered:
                        # "二、…" after "一、…回顾": the next top-level section is the plan.
                        part, plan_firm = "plan", True
                    elif numbered and part == "plan":
                        plan_firm = True
                elif part == "other" and cue in ("review", "plan"):
                    part = cue  # an excerpt that starts below the top-level headings
            elif k == 0 and not appendix:
                new_part = _opener_part(st, part, plan_year)
                plan_firm = plan_firm or (part == "review" and new_part == "plan")
                part = new_part
            if part == "plan" and prev_part == "other":
                soft_start = len(result.segments)
            prev_part = part
            if appendix:
                appendix_ids.add(len(result.segments))
            result.segments.append(
                Sentence(
                    ss,
                    se,
                    st,
                    sent_id,
                    p_idx,
                    _section(path),
                    tuple(path),
                    "other" if appendix else part,
                    level is not None,
                    None,
                )
            )
            sent_id += 1
            for ms, me in tail_markers:
                result.segments.append(_marker(text, ms, me, p_idx, path, "other" if appendix else part))
    _resolve_parts(result, appendix_ids)
    return result


def part_switches(seg: Segmentation) -> list[tuple[int, str]]:
    """``(sent_id, part)`` of every kept sentence whose part differs from the previous one's
    (the first sentence always counts): the review/plan structure of a report in a few pairs."""
    out: list[tuple[int, str]] = []
    prev: str | None = None
    for s in seg.sentences:
        if s.part != prev:
            out.append((s.sent_id, s.part))
            prev = s.part
    return out


def summary(seg: Segmentation) -> dict[str, int]:
    """Flat counts for reports and docs: kept sentences, skipped segments by reason, sentences
    per part (keys ``sentences``, ``skip_<reason>``, ``part_<part>``)."""
    out = {"sentences": len(seg.sentences)}
    out.update({f"skip_{r}": 0 for r in SKIP_REASONS})
    out.update({"part_review": 0, "part_plan": 0, "part_other": 0})
    for s in seg.segments:
        key = f"skip_{s.skip}" if s.skip else f"part_{s.part}"
        out[key] = out.get(key, 0) + 1
    return out


def _resolve_parts(result: Segmentation, appendix_ids: set[int]) -> None:
    """A text with no review at all (an excerpt, such as the seed's newspaper reprint that starts
    in the middle of the plan) is plan throughout, except the opening address to the deputies
    and any glossary or annex."""
    if any(s.part == "review" for s in result.segments):
        return
    for i, s in enumerate(result.segments):
        if i in appendix_ids:
            continue
        if s.part == "other" and not (s.skip is None and _PREAMBLE.search(s.text)):
            result.segments[i] = replace(s, part="plan")


def _section(path: list[str]) -> str | None:
    return path[-1] if path else None
