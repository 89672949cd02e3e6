"""Stage: normalise one target span's text into fields (GUIDELINES 2.3).

``parse_fields(text)`` reads a target span (``社会消费品零售总额突破1450亿元``) and returns a
``Fields`` record (``pipeline.fields.record``): ``value`` / ``unit`` / ``bound`` / ``direction`` /
``value_max`` in the gold format, plus ``unit_canonical``, ``value_canonical``, ``indicator``,
``year``, ``number_text``, ``number_start``, ``number_end``. Pure function of the text; never
raises on odd input.

Conventions (written down so they are tested, not guessed):

* ``value`` is in the *written* unit: ``4.6万人`` → 4.6 with unit ``万人``. Trailing ``万``/``亿``
  of a Chinese numeral belong to the unit too (``四十六万平方米`` → 46, ``万平方米``), so Arabic
  and Chinese spellings of one figure give the same record. ``零``/``清零`` → 0; ``两`` → 2.
* A span with several numbers: names, ordinals, years, dates and quoted titles are not
  candidates; among the rest a number with a unit beats a bare one, a non-money number beats a
  money amount (GUIDELINES 2.2: the value is what is delivered, the amount is a modifier), and
  then the last one wins (``每千人口拥有3岁以下婴幼儿托位数4.5个`` → 4.5).
* ``unit_canonical`` is ``CanonicalUnit(base, m)`` (JSON ``{"unit": base, "multiplier": m}``); percentages stay in percent
  (``{"unit": "percent", "multiplier": 1}``, ``value_canonical`` 3 for ``3%``) and
  ``个百分点`` is ``percentage_point``, never mixed with ``%``.
* ``控制在X`` without a suffix is read as ``at_most`` (a ceiling), like ``控制在X以内``.
* Negative figures keep their sign: ``增长-2%``, ``增长−2%``, ``增长负2%`` → -2 (a minus right
  after a number or unit is a range dash, never a sign).
* Traditional characters are read like simplified ones (``億元``, ``萬人``, ``兩個``, ``個百分點``);
  ``unit`` keeps the written form and ``unit_canonical`` is the same as for the simplified one.
* Thousands separators: ``1,450`` and ``1，450`` (1–3 digits, then groups of exactly three).
* Markup is not text: HTML tags and space entities (``&nbsp;``, ``&#160;``…) are read as
  absent wherever they stand (``1<b>450</b>亿元``, ``1450&nbsp;亿元``); all offsets still point
  into the text as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

import cn2an

from pipeline.data import field_words, units
from pipeline.fields.record import CanonicalUnit, Fields, Number
from pipeline.schema import HEDGE_ZHENGQU_BEFORE, HEDGES
from pipeline.text.textnorm import normalize

# --- traditional characters and markup ---------------------------------------------------

#: Traditional → simplified for the characters of numerals, units and bound words: one
#: character for one, so offsets do not move.
_TRAD = str.maketrans(
    "萬億兩個項條處場輛臺張間塊隻頭組隊種類門盞噸畝頃裡點戶時鎮筆冊輪屆號級標歲週幾餘內額達過於約長減壓縮漲準實現為穩維",
    "万亿两个项条处场辆台张间块只头组队种类门盏吨亩顷里点户时镇笔册轮届号级标岁周几余内额达过于约长减压缩涨准实现为稳维",
)

#: HTML tags and space-like entities: read as absent (``1<b>450</b>``, ``1450&nbsp;亿元``).
_MARKUP = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9]*|/[A-Za-z][A-Za-z0-9]*|!--)[^<>\n]{0,300}?>"
    r"|&(?:nbsp|ensp|emsp|thinsp|#160|#x[aA]0|#8194|#8195|#8201|#8239|#12288);"
)


def clean_view(text: str) -> tuple[str, list[int] | None]:
    """``text`` without markup (``_MARKUP``), and for each character of it the offset of that
    character in ``text`` (``None`` when nothing was removed: offsets are the same)."""
    if "<" not in text and "&" not in text:
        return text, None
    pieces: list[str] = []
    back: list[int] = []
    pos = 0
    for m in _MARKUP.finditer(text):
        pieces.append(text[pos : m.start()])
        back.extend(range(pos, m.start()))
        pos = m.end()
    if not back and pos == 0:
        return text, None
    pieces.append(text[pos:])
    back.extend(range(pos, len(text)))
    return "".join(pieces), back


def _map_start(back: list[int] | None, i: int, n: int) -> int:
    if back is None:
        return i
    return back[i] if i < len(back) else n


def _map_end(back: list[int] | None, i: int, n: int) -> int:
    if back is None:
        return i
    return back[i - 1] + 1 if 0 < i <= len(back) else (0 if i <= 0 else n)


# --- units -------------------------------------------------------------------------------

_UNITS = units()  # pipeline/data/units.json
MAGNITUDES: dict[str, int] = _UNITS.magnitudes
#: Written base unit → canonical base unit. Longest written forms are tried first.
BASE_UNITS: dict[str, str] = _UNITS.base_units

_MONEY = {"yuan", "usd"}
#: Units that are not scaled by a magnitude prefix (``千米`` is km, not 1000 × 米).
_UNSCALED = _UNITS.unscaled


def _unit_table() -> list[str]:
    forms = set(BASE_UNITS) | set(MAGNITUDES)
    for m in MAGNITUDES:
        for b in BASE_UNITS:
            if b not in _UNSCALED and not b.isascii():
                forms.add(m + b)
    return sorted(forms, key=len, reverse=True)


_UNIT_RE = re.compile("|".join(re.escape(u) for u in _unit_table()))
#: Text ending in a number and its unit (what a range dash follows: ``5万-``).
_AFTER_QUANTITY = re.compile(r"[0-9〇一二两三四五六七八九十百千万亿][余多]?\s*(?:" + _UNIT_RE.pattern + r")\s*$")


def canonical_unit(unit: str | None) -> CanonicalUnit | None:
    """``亿元`` (or ``億元``) → ``CanonicalUnit("yuan", 10**8)``; ``None`` for no or unknown unit."""
    if not unit:
        return None
    unit = normalize(unit).translate(_TRAD)
    if unit in BASE_UNITS:
        return CanonicalUnit(BASE_UNITS[unit], 1)
    for m in sorted(MAGNITUDES, key=len, reverse=True):
        if unit.startswith(m):
            rest = unit[len(m) :]
            if not rest:
                return CanonicalUnit("number", MAGNITUDES[m])
            if rest in BASE_UNITS:
                return CanonicalUnit(BASE_UNITS[rest], MAGNITUDES[m])
    return None


# --- numbers -----------------------------------------------------------------------------

_CN_DIGITS = "〇零一二两三四五六七八九"
_CN_CHARS = _CN_DIGITS + "十百千万亿"
#: An Arabic number: an optional minus sign (checked in ``_signed``), then thousands groups
#: (``1,450``, ``1，450``: 1–3 digits, groups of exactly three) or plain digits, then decimals.
_ARABIC = re.compile(r"(?<![A-Za-z0-9.])(?:[-−](?=\d))?(?:\d{1,3}(?:[,，]\d{3})+(?!\d)|\d+)(?:\.\d+)?")
_CHINESE = re.compile(f"[〇一二两三四五六七八九十百千][{_CN_CHARS}]*")
#: A character every number ``_find`` reads begins with (``_ARABIC``'s digits, the first
#: character of ``_CHINESE`` and ``_PERCENT_CN``, 零), or one that ``_reading`` turns into one
#: (兩; full-width digits are ``\d`` already): text without one holds no number.
_NUMERAL = re.compile(r"[\d〇一二两兩三四五六七八九十百千零]")
_ZERO = re.compile("零")
_PERCENT_CN = re.compile(r"百分之([0-9.]+|[〇零一二两三四五六七八九十点]+)")
#: What joins the two ends of a range (``1—2家``, ``5%-6%``, ``五至六个``); the gold builder checks
#: hand-written ranges with it too.
RANGE_SEP = re.compile(r"\s*(?:——|—|―|–|‒|-|~|〜|至|到)\s*")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)\d{2})\s*年")
_QUOTES = (("“", "”"), ("「", "」"), ("《", "》"), ('"', '"'), ("‘", "’"), ("『", "』"))

#: A Chinese numeral right before these is part of a name or a fixed word, not a quantity.
_CN_NOT_QUANTITY_AFTER = "大化是者体系些流般样道直致律心同再定度切手揽站网线号期届轮级星带路部门环圈"
#: Right after a number (before its unit): an identifier or ordinal, not a quantity.
_ID_AFTER = re.compile(r"(?:号|期|届|轮|级(?!以内|以下)|星|月(?!份)|日|时(?!间)|路|大(?!于))")
_ZERO_AFTER_OK = re.compile(
    r"(?:新增|增长|增加|发生|事故|伤亡|死亡|投诉|上访|案件|积案|违建|污染|排放|感染|欠薪|拖欠|容忍|差错|失误|"
    r"反弹|返贫|漏报|遗漏|超标|突破|黑臭|库存|风险)"
)
_ZERO_BEFORE_OK = ("清", "保持", "实现", "做到", "确保", "达到", "坚持", "力争", "持续")
#: An amount that opens the span as an investment (投资4.4亿元…): the indicator starts after it.
_INVEST_LEAD = re.compile(r"(?:总|累计|计划|新增)?(?:投资|投入|安排资金|筹集资金|争取资金|融资)(?:约|超过|超|近)?")
_TIME_FRAME_AFTER = re.compile(r"(?:行动|攻坚|计划|规划|内|来|以来|时间|间|期间|周期|任期)")

# Bound words (GUIDELINES 2.3; pipeline/data/field_words.json). Prefix words come right before
# the number; suffixes after the unit.
_WORDS = field_words()
_PREFIX_BOUNDS: tuple[tuple[str, str], ...] = _WORDS.prefix_bounds
_SUFFIX_BOUNDS: tuple[tuple[str, str], ...] = _WORDS.suffix_bounds
_DIRECTIONS: tuple[tuple[str, str], ...] = _WORDS.directions
_TRAILING_VERBS = (
    "达到",
    "达",
    "实现",
    "保持在",
    "保持",
    "稳定在",
    "稳定",
    "控制在",
    "维持在",
    "提高到",
    "提升到",
    "提高至",
    "提升至",
    "降低到",
    "降低至",
    "下降到",
    "下降至",
    "增长到",
    "增长至",
    "拟按",
    "按",
    "为",
    "在",
    "至",
    "到",
    "的",
)


@dataclass
class Candidate:
    """One number found in a span, with offsets into the span text."""

    start: int
    end: int  # end of the number text (of the upper end for a range)
    value: Number
    kind: str  # "arabic", "chinese", "zero", "percent_cn"
    unit: str | None = None
    unit_end: int = 0  # end of number + filler + unit
    value_max: Number | None = None
    excluded: str | None = None

    @property
    def is_money(self) -> bool:
        cu = canonical_unit(self.unit)
        return bool(cu and cu.unit in _MONEY)


def _tidy(x: float) -> Number:
    """An integral float becomes an int so JSON writes ``1450`` not ``1450.0``."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


def parse_arabic(s: str) -> Number | None:
    try:
        v = float(s.replace(",", "").replace("，", "").replace("−", "-"))
    except ValueError:
        return None
    # A 400-digit string overflows to inf: no value is more honest than Infinity in the JSON.
    return _tidy(v) if v - v == 0 else None


def parse_chinese(s: str) -> Number | None:
    """Chinese numeral → number. Handles what cn2an rejects (``百``, ``千``, ``两千``)."""
    if not s:
        return None
    if s[0] in "十百千":
        s = "一" + s  # 十二 works in cn2an, 百/千 alone do not
    try:
        v = cn2an.cn2an(s, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return _tidy(float(v)) if isinstance(v, (int, float)) else None


def _in_quotes(t: str, pos: int) -> bool:
    """True when ``pos`` sits inside a quoted title (“…”, 《…》): numbers there are names."""
    for o, c in _QUOTES:
        if o == c:
            if t[:pos].count(o) % 2 == 1 and o in t[pos:]:
                return True
            continue
        open_at = t.rfind(o, 0, pos)
        if open_at != -1 and t.rfind(c, 0, pos) < open_at and c in t[pos:]:
            return True
    return False


def _read_unit(t: str, pos: int) -> tuple[str | None, int]:
    """The unit written at ``pos`` (skipping ``余``/``多`` and spaces), and where it ends."""
    p = pos
    while p < len(t) and t[p] in " 余多":
        p += 1
    m = _UNIT_RE.match(t, p)
    if not m:
        return None, pos
    return m.group(0), m.end()


def _reading(text: str) -> tuple[str, list[int] | None]:
    """What the parser reads: ``text`` without markup, full-width forms folded, traditional
    characters as simplified (all one-to-one), and the map back to offsets in ``text``."""
    clean, back = clean_view(text)
    return normalize(clean).translate(_TRAD), back


def has_numeral(text: str) -> bool:
    """False when ``find_numbers(text)`` is sure to be empty (a cheap scan, before reading)."""
    return _NUMERAL.search(text) is not None


def find_numbers(text: str) -> list[Candidate]:
    """Every number in ``text`` (offsets into ``text``), with exclusions marked, in order."""
    t, back = _reading(text)
    cands = _find(t)
    if back is not None:
        n = len(text)
        for c in cands:
            c.start, c.end, c.unit_end = (
                _map_start(back, c.start, n),
                _map_end(back, c.end, n),
                _map_end(back, c.unit_end, n),
            )
    return cands


def _minus_is_dash(t: str, pos: int) -> bool:
    """True when the minus at ``pos`` follows a number, letter or unit (``5-6``, ``5万-6万``,
    ``A-1``): a dash, not a sign."""
    before = t[max(0, pos - 24) : pos].rstrip(" ")
    if not before:
        return False
    prev = before[-1]
    if (prev.isascii() and prev.isalnum()) or prev in "%‰)）]】":
        return True
    return bool(_AFTER_QUANTITY.search(before))


def _negative_word(t: str, c: Candidate) -> Candidate:
    """``负`` right before a number is its sign (``增长负2%`` → -2), not in ``正负``."""
    if c.start > 0 and t[c.start - 1] == "负" and not t[: c.start - 1].endswith("正"):
        c.start -= 1
        c.value = -c.value
        if c.value_max is not None:
            c.value, c.value_max = c.value, None  # 负2至3: not a range this parser reads
    return c


def _find(t: str) -> list[Candidate]:
    """``find_numbers`` on text already read (see ``_reading``); offsets into ``t``."""
    cands: list[Candidate] = []
    if _NUMERAL.search(t) is None:  # every kind of number below starts with one of these
        return cands
    taken = [False] * len(t)

    def add(c: Candidate) -> None:
        cands.append(c)
        for i in range(c.start, max(c.end, c.unit_end)):
            taken[i] = True

    for m in _PERCENT_CN.finditer(t):
        raw = m.group(1)
        v = parse_arabic(raw) if raw[0].isdigit() else parse_chinese(raw.replace("点", "点"))
        if v is None:
            continue
        add(Candidate(m.start(), m.end(), v, "percent_cn", "%", m.end()))

    for m in _ARABIC.finditer(t):
        if taken[m.start()]:
            continue
        raw, start = m.group(0), m.start()
        if raw[0] in "-−" and _minus_is_dash(t, start):
            raw, start = raw[1:], start + 1
            if taken[start]:
                continue
        v = parse_arabic(raw)
        if v is None:
            continue
        add(_negative_word(t, _finish(t, Candidate(start, m.end(), v, "arabic"))))

    for m in _CHINESE.finditer(t):
        s, e = m.start(), m.end()
        if any(taken[s:e]):
            continue
        run = m.group(0)
        # Trailing 万/亿 are the unit's magnitude (46万 → 46 + 万…), like for Arabic numbers.
        while run and run[-1] in "万亿" and len(run) > 1:
            run, e = run[:-1], e - 1
        v = parse_chinese(run)
        if v is None:
            continue
        c = _negative_word(t, _finish(t, Candidate(s, e, v, "chinese")))
        nxt = t[e : e + 1]
        if c.unit is None or (nxt and nxt in _CN_NOT_QUANTITY_AFTER):
            c.excluded = c.excluded or "chinese numeral without a measure word"
        if run == "一" and t[e : e + 1] in ("批", "系", "些", "流", "般", "体", "步", "线", "站", "件"):
            c.excluded = "一 as an article"
        add(c)

    for i in (m.start() for m in _ZERO.finditer(t)):
        if taken[i]:
            continue
        before, after = t[:i], t[i + 1 :]
        if (
            before.endswith("清")
            or _ZERO_AFTER_OK.match(after)
            or (before.endswith(_ZERO_BEFORE_OK) and not re.match(r"[售部碳星散工距基]", after))
        ):
            add(Candidate(i, i + 1, 0, "zero", None, i + 1))

    cands.sort(key=lambda c: c.start)
    return cands


def _finish(t: str, c: Candidate) -> Candidate:
    """Attach unit, range upper end and exclusions to a freshly found number."""
    s, e = c.start, c.end
    if c.kind == "arabic" and re.match(r"[A-Za-z]", t[e : e + 1]) and not _UNIT_RE.match(t, e):
        c.excluded = "part of a name (5G, 4A)"
    before = t[:s]
    if before.endswith("第"):
        c.excluded = "ordinal"
    if _in_quotes(t, s):
        c.excluded = "inside a quoted title"
    if c.kind == "arabic" and isinstance(c.value, int) and 1900 <= c.value <= 2100:
        if re.match(r"\s*(?:年|—|-|–|~|至)", t[e:]):
            c.excluded = "year"
    if _ID_AFTER.match(t, e) and not t.startswith("个月", e):
        c.excluded = c.excluded or "identifier or date"
    unit, unit_end = _read_unit(t, e)
    c.unit, c.unit_end = unit, (unit_end if unit else e)
    # A range: 1—2家, 5%—6%, 五至六个.
    sep = RANGE_SEP.match(t, c.unit_end)
    if sep and c.excluded is None:
        p = sep.end()
        m2 = _ARABIC.match(t, p) if c.kind == "arabic" else _CHINESE.match(t, p)
        if m2:
            m2_text, m2_end = m2.group(0), m2.end()
            if c.kind != "arabic" and unit is None and len(m2_text) > 1 and m2_text[-1] in "万亿":
                # 一至二万人: the trailing 万/亿 belongs to both ends, so it is the unit's (万人), as
                # in 1至2万人; read it so, not as 1 … 20000 人.
                m2_text, m2_end = m2_text[:-1], m2_end - 1
            v2 = parse_arabic(m2_text) if c.kind == "arabic" else parse_chinese(m2_text)
            unit2, unit2_end = _read_unit(t, m2_end)
            same_unit = unit is None or unit2 is None or unit == unit2
            if v2 is not None and same_unit and v2 > c.value and not (unit2 and "年" == unit2[-1:]):
                c.value_max = v2
                c.end = m2_end
                c.unit = unit2 or unit
                c.unit_end = unit2_end if unit2 else m2_end
    if c.unit in ("年", "个月", "周", "天") and _TIME_FRAME_AFTER.match(t, c.unit_end):
        c.excluded = c.excluded or "time frame"
    return c


def choose(cands: list[Candidate]) -> Candidate | None:
    """The number that is the target's value (see module docstring)."""
    ok = [c for c in cands if c.excluded is None]
    if not ok:
        return None
    return max(
        enumerate(ok), key=lambda ic: (ic[1].unit is not None or ic[1].kind == "zero", not ic[1].is_money, ic[0])
    )[1]


def _bound(t: str, c: Candidate) -> str:
    if c.value_max is not None:
        return "at_least"
    after = t[c.unit_end :].lstrip(" ")
    for w, b in _SUFFIX_BOUNDS:
        if after.startswith(w):
            return b
    before = t[: c.start].rstrip(" ")
    for w, b in _PREFIX_BOUNDS:
        if before.endswith(w):
            return b
    return "exact"


_RATE_UNITS = {"%", "‰", "个百分点", "百分点", "倍"}
_GAP_FILLER = re.compile(r"(?:不超过|不低于|不少于|超过|突破|至少|控制在|达到|大约|接近|[到至达为了在约超近逾])*")


def _direction(region: str, unit: str | None) -> str | None:
    """``up``/``down`` when a direction word governs the number (GUIDELINES 2.3).

    The word must stand right before the number (``增长5%``, ``提高到80%``), or the number is a
    rate, or the word opens the span as its verb (``减少碳排放10万吨``). A direction word
    buried in a compound verb before an object (``改造提升X小区6个``) does not make a count a change.
    """
    # Nouns that contain a direction word: 工业增加值 is value added, 人口自然增长率 a rate.
    for noun in ("增加值", "增长率", "增长极", "增长点", "增长速度", "下降率"):
        region = region.replace(noun, "＿" * len(noun))
    best, where, word = None, -1, ""
    for w, d in _DIRECTIONS:
        i = region.rfind(w)
        if i > where:
            best, where, word = d, i, w
    if best is None:
        return None
    gap = region[where + len(word) :].strip()
    if _GAP_FILLER.fullmatch(gap) or unit in _RATE_UNITS:
        return best
    if _strip_hedges(region.strip()).startswith(word):
        return best
    return None


def _strip_hedges(s: str) -> str:
    changed = True
    while changed:
        changed = False
        for h in HEDGES:
            if s.startswith(h):
                s, changed = s[len(h) :], True
        if s.startswith("争取") and s[2:].startswith(HEDGE_ZHENGQU_BEFORE):
            s, changed = s[2:], True
    return s


def _indicator(t: str, c: Candidate, region_start: int) -> str | None:
    s = t[region_start : c.start]
    if c.kind == "zero" and s.endswith("清"):
        s = s[:-1]
        if re.fullmatch(r"(?:动态|全面|基本|持续|全部|实现|逐步|力争|确保)*", s):
            s = t[c.end :]
    s = re.sub(r"^[\s，,、；;：:]+", "", s)
    s = _strip_hedges(s)
    s = re.sub(r"^(?:到|至|在)?(?:19|20)\d{2}\s*年(?:底|末|前)?[，,]?", "", s)
    s = _strip_hedges(s)
    changed = True
    while changed and s:
        changed = False
        s = s.rstrip(" ，,、")
        for w in [w for w, _ in _PREFIX_BOUNDS] + [w for w, _ in _DIRECTIONS] + list(_TRAILING_VERBS):
            if s.endswith(w) and len(s) > len(w):
                s, changed = s[: -len(w)], True
                break
    s = s.strip(" ，,、；;：:")
    if not s:
        rest = t[c.unit_end :]
        for w, _ in _SUFFIX_BOUNDS:
            if rest.startswith(w):
                rest = rest[len(w) :]
        rest = rest.strip(" ，,、；;：:。")
        return rest or None
    return s


def _canonical_value(value: Number | None, unit_canonical: CanonicalUnit | None) -> Number | None:
    if value is None or unit_canonical is None:
        return None
    try:
        v = Decimal(str(value)) * Decimal(unit_canonical.multiplier)
    except InvalidOperation:
        return None
    return int(v) if v == v.to_integral_value() else float(v)


def parse_fields(text: str) -> Fields:
    """Normalise a target span's text into its fields (GUIDELINES 2.3). Never raises: odd input
    gives the empty record (no value). Always ``parsed``: the parser's readings are part of it."""
    if not isinstance(text, str) or not text:
        return _EMPTY
    try:
        return _parse(text)
    except Exception:  # noqa: BLE001 - a field parser must not take the batch down; value stays None
        return _EMPTY


_EMPTY = Fields(parsed=True)


def _parse(text: str) -> Fields:
    t, back = _reading(text)
    y = _YEAR.search(t)
    year = int(y.group(1)) if y else None
    cands = _find(t)
    c = choose(cands)
    if c is None:
        return Fields(indicator=_strip_hedges(t).strip() or None, year=year, parsed=True)
    # Where the indicator and the direction word are looked for: after a money amount that
    # only modifies the delivered quantity (投资4.4亿元新改扩建…4条).
    region_start, lead_end = 0, 0
    for o in cands:
        if o is not c and o.excluded is None and o.start < c.start and o.is_money:
            region_start, lead_end = max(region_start, o.unit_end), o.start
            while region_start < len(t) and t.startswith(("以上", "左右", "以内", "以下"), region_start):
                region_start += 2
    unit = c.unit
    if c.unit and c.kind != "percent_cn":  # the unit as written (億元 stays 億元)
        written = normalize(clean_view(text)[0])[c.unit_end - len(c.unit) : c.unit_end]
        if written.translate(_TRAD) == c.unit:
            unit = written
    if c.kind == "percent_cn":
        unit_canonical: CanonicalUnit | None = CanonicalUnit("percent", 1)
        value_canonical: Number | None = c.value
    else:
        unit_canonical = canonical_unit(c.unit)
        value_canonical = _canonical_value(c.value, unit_canonical)
    ns, ne = _map_start(back, c.start, len(text)), _map_end(back, c.end, len(text))
    return Fields(
        value=c.value,
        unit=unit,
        bound=_bound(t, c),
        direction=_direction(t[region_start : c.start], c.unit),
        value_max=c.value_max,
        unit_canonical=unit_canonical,
        value_canonical=value_canonical,
        indicator=_indicator(t, c, region_start if _INVEST_LEAD.fullmatch(_strip_hedges(t[:lead_end])) else 0),
        year=year,
        number_text=text[ns:ne],
        number_start=ns,
        number_end=ne,
        parsed=True,
    )


#: Coordinators between the figures of one ``分别`` clause (``分别增长7%和8%``).
_COORDINATORS = ("和", "、", "及", "与")


def share_coordinated(sentence: str, spans: list[tuple[int, int]], fields: list[Fields]) -> list[Fields]:
    """GUIDELINES rule 4 (project note D27): in ``城乡居民人均可支配收入分别增长6%和6.5%左右`` the
    figures after the first are spans of their own (``6.5%左右``) that share the first one's verb,
    so they take its direction; a qualifier of the last figure (``左右``, ``以上``) covers them
    all, so an ``exact`` bound before it takes the last one's. ``spans`` are sentence-relative,
    sorted; ``fields`` (from ``parse_fields``, same order) are not changed: returns the fields
    with what the clause shares filled in."""
    out = list(fields)
    i = 0
    while i < len(spans):
        if "分别" not in sentence[spans[i][0] : spans[i][1]]:
            i += 1
            continue
        j = i
        while j + 1 < len(spans) and sentence[spans[j][1] : spans[j + 1][0]] in _COORDINATORS:
            j += 1
        first_direction = out[i].direction
        for k in range(i + 1, j + 1):
            if out[k].direction is None:
                out[k] = replace(out[k], direction=first_direction)
        last = out[j].bound
        for k in range(i, j):
            if last != "exact" and out[k].bound == "exact":
                out[k] = replace(out[k], bound=last)
        i = j + 1
    return out
