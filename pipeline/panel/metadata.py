"""Stage: document metadata. Who wrote a report and for which year, from its text and file name.

``extract_metadata(text, file_name)`` returns a ``DocMetadata``: government name, level, province,
parent (the prefecture of a county), report year and plan year. Every filled field records where
it came from in ``sources`` (the contract: a value without a source never exists; a field nobody
states stays empty, never guessed):

* ``manifest``: the user's manifest CSV (``apply_manifest``), which beats everything;
* ``text:title``: a title line (``标题：…``, ``保定市满城区2021年政府工作报告``, ``2026年吉林省政府工作报告``);
* ``text:meeting_line``: ``——2020年1月7日在河北省第十三届人民代表大会第三次会议上`` (and
  ``…届全国人民代表大会…`` for the State Council);
* ``text:issuer`` (``发文单位：河北省人民政府``), ``text:reporter`` (``报告人：河北省人民政府省长 许勤``),
  ``text:date_line`` (``发文时间：2020-01-07``, ``（二〇〇五年一月十一日）``), ``text:speech``
  (``我代表国务院``, ``我代表河北省人民政府``);
* ``text:plan_heading`` (``二、2004年主要任务``, ``三、2021年的工作安排``) and ``text:review_heading``
  (``一、2019年工作回顾`` gives plan year 2020);
* ``places`` (level, province and parent of a known government, from ``pipeline/data/places.csv``)
  and ``name_suffix`` (level from ``省``/``自治区``/``县``/``区``/``旗``);
* ``filename`` (``2020_hebei_province.txt``: year and the place tokens of ``places.csv``);
* ``derived:report_year``: the plan year when nothing states it, by the convention that a work
  report is delivered at the start of the year it plans (documented, so a user can override it).

The text beats the file name (the corpus README warns of mislabelled years); a disagreement
between them is kept in ``notes``. Levels: ``national``, ``province`` (incl. the four
municipalities and autonomous regions), ``prefecture`` (prefecture-level cities, 州, 盟) and
``county`` (counties, districts, county-level cities, 旗).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
PLACES_CSV = DATA / "places.csv"

LEVELS: tuple[str, ...] = ("national", "province", "prefecture", "county")
FIELDS: tuple[str, ...] = ("government", "level", "province", "parent", "report_year", "plan_year")
_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_HEAD_CHARS = 3000  # metadata lives at the top of a report; headings are searched in the whole text


class ManifestError(ValueError):
    """A manifest CSV that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Place:
    name: str
    level: str
    province: str
    parent: str
    filename_tokens: tuple[str, ...]
    name_en: str


@dataclass
class DocMetadata:
    """Metadata of one document; ``sources[field]`` says where each filled field came from."""

    doc_id: str
    government: str = ""
    level: str = ""
    province: str = ""
    parent: str = ""
    report_year: int | None = None
    plan_year: int | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, name: str, value: str | int | None, source: str, overwrite: bool = False) -> None:
        """Fill ``name`` with ``value`` from ``source`` unless already filled (or ``overwrite``)."""
        if value in (None, ""):
            return
        if getattr(self, name) not in (None, "") and not overwrite:
            return
        setattr(self, name, value)
        self.sources[name] = source

    def to_row(self) -> dict[str, str | int | None]:
        row: dict[str, str | int | None] = {"doc_id": self.doc_id}
        for f in FIELDS:
            row[f] = getattr(self, f)
            row[f"{f}_source"] = self.sources.get(f, "")
        row["metadata_notes"] = "; ".join(self.notes)
        return row


@lru_cache(maxsize=4)
def load_places(path: str | None = None) -> tuple[Place, ...]:
    p = Path(path) if path else PLACES_CSV
    with open(p, encoding="utf-8-sig", newline="") as f:
        return tuple(
            Place(
                r["name"],
                r["level"],
                r["province"],
                r["parent"],
                tuple(t for t in r["filename_tokens"].split("|") if t),
                r["name_en"],
            )
            for r in csv.DictReader(f)
        )


def place_by_name(name: str) -> Place | None:
    for p in load_places():
        if p.name == name:
            return p
    return None


# --------------------------------------------------------------------------- text patterns

_CN_YEAR_DIGITS = {
    "〇": "0",
    "○": "0",
    "零": "0",
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_GOV_NAME = r"[\u4e00-\u9fff]{1,12}?(?:省|自治区|市|州|盟|地区|县|区|旗)"
_TITLE = re.compile(
    r"^\s*(?:标题[:：]\s*)?(?:(?:19|20)\d{2}年)?("
    + _GOV_NAME
    + r")?(?:人民)?(?:(?:19|20)\d{2}年)?政\s*府\s*工\s*作\s*报\s*告"
)
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})年(?:[\u4e00-\u9fff]{1,14}?)?政府工作报告")
_MEETING = re.compile(
    r"(?:((?:19|20)\d{2}|[一二〇○零三四五六七八九]{4})年\s*[\d一二三四五六七八九十]{1,3}\s*月\s*[\d一二三四五六七八九十]{1,3}\s*日)?"
    r"\s*在(" + _GOV_NAME + r"|全国)?\s*第[一二三四五六七八九十]{1,3}届\s*(全国)?人民代表大会"
)
_ISSUER = re.compile(r"发文单位[:：]\s*(" + _GOV_NAME + r")人民政府")
_DATE_LINE = re.compile(r"发文时间[:：]\s*((?:19|20)\d{2})[-年./]")
_CN_DATE = re.compile(
    r"[（(]\s*([一二〇○零三四五六七八九]{4})年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日\s*[）)]"
)
_REPORTER = re.compile(r"(" + _GOV_NAME + r")?(?:人民政府)?(省长|市长|县长|区长|旗长|州长|盟长|主席|总理)\s")
_SPEECH = re.compile(r"我代表(国务院|中央人民政府|(?:" + _GOV_NAME + r")?人民政府)")
_PLAN_HEADING = re.compile(
    r"((?:19|20)\d{2})年(?:的)?(?!主要工作回顾|工作回顾)(?:主要任务|工作安排|工作任务|政府工作任务|重点工作|主要工作|工作建议|工作的建议|"
    r"经济社会发展总体要求|总体要求|国民经济和社会发展的主要预期目标|经济社会发展的主要预期目标|经济社会发展主要预期目标|主要预期目标)"
)
_REVIEW_HEADING = re.compile(r"((?:19|20)\d{2})年(?:的)?(?:政府|主要)?工作回顾")
_FILE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _cn_year(s: str) -> int | None:
    digits = "".join(_CN_YEAR_DIGITS.get(c, "") for c in s)
    return int(digits) if len(digits) == 4 else None


def _split_compound(name: str) -> tuple[str, str]:
    """``保定市满城区`` → (``满城区``, ``保定市``) when the tail is a known place or a county-level
    suffix follows a known prefecture; otherwise (name, "")."""
    for p in load_places():
        if (
            name.endswith(p.name)
            and name != p.name
            and p.parent
            and name[: -len(p.name)] in (p.parent, p.province + p.parent)
        ):
            return p.name, p.parent
    for p in load_places():
        if p.level in ("prefecture", "province") and name.startswith(p.name) and len(name) > len(p.name):
            rest = name[len(p.name) :]
            if re.fullmatch(r"[\u4e00-\u9fff]{1,8}(?:县|区|市|旗)", rest):
                return rest, p.name
    return name, ""


def _level_from_suffix(name: str) -> str:
    if name in _MUNICIPALITIES or name.endswith(("省", "自治区")):
        return "province"
    if name.endswith(("州", "盟", "地区")):
        return "prefecture"
    if name.endswith(("县", "区", "旗")):
        return "county"
    return ""  # 市: prefecture-level or county-level, not decidable from the name


def _set_government(meta: DocMetadata, name: str, source: str) -> None:
    name = re.sub(r"\s+", "", name)
    if not name or meta.government:
        return
    if name in ("国务院", "全国"):
        meta.set("government", "国务院", source)
        meta.set("level", "national", source)
        return
    gov, parent = _split_compound(name)
    meta.set("government", gov, source)
    meta.set("parent", parent, source)


def _fill_from_places(meta: DocMetadata) -> None:
    if not meta.government:
        return
    p = place_by_name(meta.government)
    if p is not None:
        meta.set("level", p.level, "places")
        meta.set("province", p.province, "places")
        meta.set("parent", p.parent, "places")
        return
    meta.set("level", _level_from_suffix(meta.government), "name_suffix")
    if meta.level == "province":
        meta.set("province", meta.government, "name_suffix")
    elif meta.parent:
        pp = place_by_name(meta.parent)
        if pp is not None:
            meta.set("province", pp.province, "places")


def parse_filename(file_name: str) -> dict[str, str | int]:
    """Year and place of a file name like ``2020_hebei_province.txt`` / ``yuzhong-2024.txt``.

    The place is the longest ``filename_tokens`` entry of places.csv that the stem (lower case,
    ``-`` read as ``_``, the year removed) equals or ends with; unknown tokens give no place."""
    stem = Path(file_name).stem.lower().replace("-", "_")
    out: dict[str, str | int] = {}
    y = _FILE_YEAR.search(stem)
    if y:
        out["year"] = int(y.group(1))
    rest = _FILE_YEAR.sub("", stem).strip("_")
    rest = re.sub(r"_[0-9a-f]{8}$", "", rest)  # batch doc_id disambiguation suffix
    best: tuple[int, Place] | None = None
    for p in load_places():
        for tok in p.filename_tokens:
            if (
                rest == tok
                or rest.endswith("_" + tok)
                or rest.startswith(tok + "_")
                and p.level in ("province", "national")
            ) and (best is None or len(tok) > best[0]):
                best = (len(tok), p)
    if best is not None and (rest == best[1].filename_tokens[0] or best[0] >= 4):
        out["government"] = best[1].name
    return out


def extract_metadata(text: str, file_name: str = "", doc_id: str = "") -> DocMetadata:
    """Metadata of one report from its raw text and file name (see the module docstring).

    Pure function; never raises on odd text."""
    meta = DocMetadata(doc_id=doc_id or Path(file_name).stem)
    head = text[:_HEAD_CHARS]
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()][:40]
    title_year: int | None = None

    for ln in lines[:15]:
        m = _TITLE.match(ln)
        if m and m.group(1):
            _set_government(meta, m.group(1), "text:title")
        ty = _TITLE_YEAR.search(ln)
        if ty and title_year is None and ("标题" in ln or ln.endswith("政府工作报告") or m):
            title_year = int(ty.group(1))
        if meta.government:
            break
    # The meeting date beats a web page's title (2018_hebei_province: 2018 in the title, 2019 meeting).
    m = _MEETING.search(head)
    if m:
        if m.group(3) or m.group(2) == "全国":
            _set_government(meta, "国务院", "text:meeting_line")
        elif m.group(2):
            _set_government(meta, m.group(2), "text:meeting_line")
        if m.group(1):
            y = m.group(1)
            meta.set("report_year", int(y) if y.isdigit() else _cn_year(y), "text:meeting_line")
    m = _ISSUER.search(head)
    if m:
        _set_government(meta, m.group(1), "text:issuer")
    m = _DATE_LINE.search(head)
    if m:
        meta.set("report_year", int(m.group(1)), "text:date_line")
    m = _CN_DATE.search(head)
    if m:
        meta.set("report_year", _cn_year(m.group(1)), "text:date_line")
    meta.set("report_year", title_year, "text:title")
    m = _SPEECH.search(head)
    if m:
        who = m.group(1)
        if who in ("国务院", "中央人民政府"):
            _set_government(meta, "国务院", "text:speech")
        elif who.endswith("人民政府") and len(who) > 5:
            _set_government(meta, who[: -len("人民政府")], "text:speech")
    m = _REPORTER.search(head)
    if m and m.group(1):
        _set_government(meta, m.group(1), "text:reporter")

    # The file name: only what the text left empty; a disagreement becomes a note.
    fn = parse_filename(file_name) if file_name else {}
    if fn.get("government"):
        if meta.government and meta.government != fn["government"] and not _same_place(meta, str(fn["government"])):
            meta.notes.append(f"file name says {fn['government']}, text says {meta.government}")
        _set_government(meta, str(fn["government"]), "filename")
    _fill_from_places(meta)
    if meta.government == "国务院":
        meta.set("level", "national", "places")

    # Plan year from a heading of the plan part, else the review heading + 1.
    m = _PLAN_HEADING.search(text)
    if m:
        meta.set("plan_year", int(m.group(1)), "text:plan_heading")
    else:
        m = _REVIEW_HEADING.search(text)
        if m:
            meta.set("plan_year", int(m.group(1)) + 1, "text:review_heading")
    if "year" in fn:
        fy = int(fn["year"])
        if meta.report_year is not None and meta.report_year != fy:
            meta.notes.append(f"file name says {fy}, text says report year {meta.report_year}")
        meta.set("report_year", fy, "filename")
    if meta.plan_year is None and meta.report_year is not None:
        meta.set("plan_year", meta.report_year, "derived:report_year")
    return meta


def _same_place(meta: DocMetadata, name: str) -> bool:
    return name in (meta.government, meta.parent + meta.government)


# --------------------------------------------------------------------------- manifest


def read_manifest(path: str | Path) -> dict[str, dict[str, str]]:
    """A user manifest CSV: one row per document, keyed by ``doc_id`` or ``file`` (a file name or
    path; its stem is matched), with any of the columns ``government, level, province, parent,
    report_year, plan_year``. Empty cells leave the extracted value. Raises ``ManifestError``
    naming the file and line for a bad level or year, or a row with no key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"{p}: cannot read the manifest ({e})") from e
    reader = csv.DictReader(text.splitlines())
    cols = set(reader.fieldnames or [])
    if not cols & {"doc_id", "file"}:
        raise ManifestError(f"{p}: line 1: the manifest needs a doc_id or file column")
    unknown = cols - set(FIELDS) - {"doc_id", "file"}
    if unknown:
        raise ManifestError(
            f"{p}: line 1: unknown column(s) {', '.join(sorted(unknown))}; expected doc_id/file and {', '.join(FIELDS)}"
        )
    out: dict[str, dict[str, str]] = {}
    for i, row in enumerate(reader, start=2):
        key = (row.get("doc_id") or "").strip() or Path((row.get("file") or "").strip()).stem
        if not key:
            raise ManifestError(f"{p}: line {i}: no doc_id or file")
        vals = {k: (v or "").strip() for k, v in row.items() if k in FIELDS and (v or "").strip()}
        if "level" in vals and vals["level"] not in LEVELS:
            raise ManifestError(f"{p}: line {i}: level {vals['level']!r} is not one of {', '.join(LEVELS)}")
        for y in ("report_year", "plan_year"):
            if y in vals and not re.fullmatch(r"\d{4}", vals[y]):
                raise ManifestError(f"{p}: line {i}: {y} {vals[y]!r} is not a four-digit year")
        out[key] = vals
    return out


def apply_manifest(meta: DocMetadata, manifest: dict[str, dict[str, str]], file_stem: str = "") -> DocMetadata:
    """Override ``meta`` with its manifest row (by doc_id, else by the source file's stem)."""
    row = manifest.get(meta.doc_id) or (manifest.get(file_stem) if file_stem else None)
    if not row:
        return meta
    for k, v in row.items():
        meta.set(k, int(v) if k.endswith("_year") else v, "manifest", overwrite=True)
    return meta


# --------------------------------------------------------------------------- scoring against gold

#: The fields of ``data/gold/metadata.csv`` (written by hand from the texts).
GOLD_FIELDS: tuple[str, ...] = ("government", "level", "province", "report_year", "plan_year")


def read_gold_metadata(path: str | Path) -> dict[str, dict[str, str]]:
    """``doc_id`` → the hand-written fields; raises ManifestError naming the file and line."""
    p = Path(path)
    rows = list(csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()))
    out: dict[str, dict[str, str]] = {}
    for i, r in enumerate(rows, start=2):
        if not r.get("doc_id"):
            raise ManifestError(f"{p}: line {i}: no doc_id")
        out[r["doc_id"]] = {f: (r.get(f) or "").strip() for f in GOLD_FIELDS}
    return out


def score_metadata(docs: list[tuple[str, str, str]], gold: dict[str, dict[str, str]]) -> dict[str, object]:
    """Accuracy per field of extracted metadata. ``docs``: ``(doc_id, text, file_name)``.

    A document without a gold row is not scored; an empty gold cell means "not stated" and is
    matched by an empty extraction. Returns ``{"n": …, "<field>_acc": …, "errors": [...]}``."""
    scored = [(d, t, f) for d, t, f in docs if d in gold]
    out: dict[str, object] = {"n": len(scored)}
    errors: list[dict[str, str]] = []
    correct = dict.fromkeys(GOLD_FIELDS, 0)
    for doc_id, text, fname in scored:
        m = extract_metadata(text, fname, doc_id=doc_id)
        for f in GOLD_FIELDS:
            got = getattr(m, f)
            got_s = "" if got is None else str(got)
            if got_s == gold[doc_id][f]:
                correct[f] += 1
            else:
                errors.append(
                    {
                        "doc_id": doc_id,
                        "field": f,
                        "gold": gold[doc_id][f],
                        "extracted": got_s,
                        "source": m.sources.get(f, ""),
                    }
                )
    for f in GOLD_FIELDS:
        out[f"{f}_acc"] = round(correct[f] / len(scored), 4) if scored else None
    out["errors"] = errors
    return out
