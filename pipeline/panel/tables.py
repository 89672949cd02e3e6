"""Stage: batch outputs → a panel dataset (who set which target, for which year, on which indicator).

``build_panel(batch_dir)`` reads a ``govtarget batch`` folder (``summary.json``, per-document
JSONL) and the source reports it names, and returns a ``Panel``; ``write_panel`` writes it:

* ``panel_long.{csv,parquet,dta}``: one row per target with the document's metadata
  (``government``, ``level``, ``province``, ``parent``, ``report_year``, ``plan_year``), the
  indicator (``indicator_code``, ``indicator_raw``: the span up to its number, ``figure_kind``),
  the figure (``value``, ``value_max``: a range keeps both ends, never a midpoint; ``unit``,
  ``bound``, ``direction``), the fields computed here (``hedge``, ``hardness``, ``target_year``,
  ``target_year_source``, ``target_period``, ``headline``) and provenance (``doc_id``, ``source``,
  ``sent_id``, ``start``, ``end``, ``text``, ``sentence``);
* ``panel_wide.{csv,parquet,dta}``: governments × plan years for one indicator, from the
  headline target of each document (``y2020``, ``y2020_max``, ``y2020_bound``);
* ``panel_documents.csv``: each document's metadata and where each field came from;
* ``panel_coverage.csv``: document × indicator status, which tells "no target stated" from
  "not found": ``target`` (a target with this code), ``mentioned_no_target`` (the plan names the
  indicator, as the 2020 national report names 经济增速, but no target was found),
  ``no_target`` (neither), ``failed`` (the batch could not read the report),
  ``duplicate`` (another report of the same government and year was used). A government-year
  absent from this table was not in the batch: not found;
* ``panel_duplicates.csv``: reports of one government and plan year (a report given twice);
  the one with more targets is used, the others are listed here and left out, never doubled;
* ``panel_summary.json``: counts, the share of targets with an indicator code.

Fields computed from the sentence around the span (the target record is not changed, so batch
outputs of any version work):

* ``hedge``: the hedge or commitment word (``力争``, ``确保``, ``争取``, ``努力``, ``力求``,
  ``全力``, ``预计``, ``预期``) in the span before its number, else right before the span, else
  opening its clause (``力争地区生产总值增长7%、财政收入增长8%``: both get ``力争``);
* ``target_year``: ``到2027年``/``2027年底`` in the span or before it in the sentence
  (``text:span``/``text:sentence``); else the five-year plan period (``“十四五”…年均增长``:
  ``target_period`` ``2021-2025``, ``five_year_plan``); else a multi-year figure (``年均``) stays
  empty; else the plan year (``plan_year``);
* ``hardness``: ``hard``/``soft`` from hedge, bound and range by the first matching row of
  ``pipeline/data/hardness.csv``. **A convention, not a fact**: the table follows the
  literature's reading (``确保``/``以上`` hard, ``力争``/``左右`` soft); pass your own table;
* ``headline``: per document and code, the target whose target year is the plan year that a
  researcher would put in the government-year cell: one in a sentence that frames targets
  (``目标``/``预期``/``计划``/``安排`` in it or the sentence before) and does not speak of the past
  year (``过去一年``, ``去年``) first, then the first in document order. The wide table uses it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.io import atomic_write_bytes, atomic_write_text
from pipeline.panel.indicators import IndicatorTable, load_indicators, match_indicator
from pipeline.panel.metadata import DocMetadata, apply_manifest, extract_metadata, load_places
from pipeline.records import SentenceRecord, Target
from pipeline.tagging.export import canonical_unit as _canonical_unit
from pipeline.tagging.export import read_jsonl_records

HARDNESS_CSV = Path(__file__).resolve().parents[1] / "data" / "hardness.csv"
HEDGE_WORDS: tuple[str, ...] = ("力争", "确保", "争取", "努力", "力求", "全力", "预计", "预期")
#: After 争取 these make it a hedge (争取资金 is "obtain funds").
_ZHENGQU_OK = ("实现", "达到", "完成", "增长", "突破", "超过", "提高", "控制", "保持")
_CLAUSE_DELIMS = "，,；;。：:！？!?\n"
_FILLERS = re.compile(r"(?:实现|达到|完成|使|今年|全年|年内|明年|的|\s)+$")
_ENUM = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}是|其[一二三四五六七八九十]{1,3}|[（(][0-9一二三四五六七八九十]{1,3}[）)]|[①-⑳])"
)
_BY_YEAR = re.compile(r"(?:到|至)\s*((?:19|20)\d{2})\s*年|((?:19|20)\d{2})\s*年(?:底|末)")
_FYP = re.compile(r"“十([一二三四五])?五”|十([一二三四五])?五(?=时期|期间|规划|计划|末)")
_MULTI_YEAR = re.compile(r"年均|平均每年|累计|五年|期间|两年平均")
_CN_N = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_COORD = ("和", "、", "及", "与")
#: A sentence (or the one before it) that frames targets; one that speaks of the past year.
_FRAME = re.compile(r"目标|预期|预计|计划|安排")
_PAST = re.compile(r"过去一年|去年|上年|过去五年|一年来|五年来")

LONG_COLUMNS: tuple[str, ...] = (
    "government",
    "level",
    "province",
    "parent",
    "report_year",
    "plan_year",
    "indicator_code",
    "indicator_label",
    "figure_kind",
    "indicator_raw",
    "value",
    "value_max",
    "unit",
    "unit_canonical",
    "value_canonical",
    "bound",
    "direction",
    "hedge",
    "hardness",
    "target_year",
    "target_year_source",
    "target_period",
    "headline",
    "category",
    "part",
    "section",
    "doc_id",
    "source",
    "sent_id",
    "span_start",
    "span_end",
    "text",
    "sentence",
)
#: Chinese variable labels (Stata); every long column has one.
LONG_LABELS: dict[str, str] = {
    "government": "政府",
    "level": "行政级别",
    "province": "省份",
    "parent": "上级地区",
    "report_year": "报告年份",
    "plan_year": "计划年份",
    "indicator_code": "指标代码",
    "indicator_label": "指标名称",
    "figure_kind": "数值类型",
    "indicator_raw": "原文指标",
    "value": "目标值（下限）",
    "value_max": "目标值上限（区间）",
    "unit": "单位",
    "unit_canonical": "标准单位",
    "value_canonical": "标准单位数值",
    "bound": "约束方向（以上/左右/以内）",
    "direction": "增减方向",
    "hedge": "修饰词（力争/确保等）",
    "hardness": "硬/软目标（约定）",
    "target_year": "目标年份",
    "target_year_source": "目标年份来源",
    "target_period": "规划期",
    "headline": "主目标（1=是）",
    "category": "政策类别",
    "part": "报告部分",
    "section": "章节",
    "doc_id": "文档编号",
    "source": "来源文件",
    "sent_id": "句子编号",
    "span_start": "起始位置（字符）",
    "span_end": "结束位置（字符）",
    "text": "目标原文",
    "sentence": "所在句子",
}
_INT_COLUMNS = ("report_year", "plan_year", "target_year", "headline", "sent_id", "span_start", "span_end")
_FLOAT_COLUMNS = ("value", "value_max", "value_canonical")
COVERAGE_COLUMNS = ("doc_id", "government", "plan_year", "indicator_code", "status", "n_targets", "mentions")
DUPLICATE_COLUMNS = (
    "government",
    "province",
    "parent",
    "plan_year",
    "kept_doc",
    "dropped_doc",
    "kept_targets",
    "dropped_targets",
    "same_targets",
)


class PanelError(ValueError):
    """A batch folder or table that cannot be turned into a panel; the message names the file."""


@dataclass
class PanelDocument:
    """One tagged document as the panel needs it."""

    doc_id: str
    source: str
    sentences: list[SentenceRecord]
    text: str = ""
    status: str = "ok"
    reason: str = ""


@dataclass
class Panel:
    long: list[dict[str, Any]]
    documents: list[DocMetadata]
    coverage: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- hardness


@dataclass(frozen=True)
class HardnessRule:
    hedge: str
    bound: str
    range: str
    cls: str


@lru_cache(maxsize=4)
def load_hardness(path: str | None = None) -> tuple[HardnessRule, ...]:
    """The hard/soft convention table; first matching row wins; ``*`` matches anything, an empty
    hedge matches "no hedge", ``range`` is ``yes``/``no``/``*``."""
    p = Path(path) if path else HARDNESS_CSV
    try:
        rows = list(csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as e:
        raise PanelError(f"{p}: cannot read the hardness table ({e})") from e
    out = []
    for i, r in enumerate(rows, start=2):
        if "class" not in r or r.get("range", "*") not in ("yes", "no", "*", ""):
            raise PanelError(f"{p}: line {i}: needs hedge,bound,range,class with range yes/no/*")
        out.append(HardnessRule(r.get("hedge") or "", r.get("bound") or "*", r.get("range") or "*", r["class"]))
    return tuple(out)


def hardness(hedge: str, bound: str, is_range: bool, rules: Sequence[HardnessRule] | None = None) -> str:
    for r in rules if rules is not None else load_hardness():
        if r.hedge != "*" and r.hedge != hedge:
            continue
        if r.bound != "*" and r.bound != bound:
            continue
        if r.range not in ("*", "") and (r.range == "yes") != is_range:
            continue
        return r.cls
    return ""


# --------------------------------------------------------------------------- fields around a span


def find_hedge(sentence: str, rel_start: int, span_prefix: str) -> str:
    """The hedge of a target whose span starts at ``rel_start`` in ``sentence`` (module docstring)."""
    for h in sorted(HEDGE_WORDS, key=len, reverse=True):
        i = span_prefix.rfind(h)
        if i != -1 and span_prefix.startswith("目标", i + 2):
            continue  # 预期目标 / 预计目标: the name of the target, not a hedge
        if i != -1 and (h != "争取" or span_prefix[i + 2 :].startswith(_ZHENGQU_OK) or i + 2 == len(span_prefix)):
            return h
    before = sentence[:rel_start]
    cut = max(before.rfind(d) for d in _CLAUSE_DELIMS)
    tail = before[cut + 1 :]
    end = _FILLERS.sub("", tail)
    for h in HEDGE_WORDS:
        if end.endswith(h):
            return h
    start = _ENUM.sub("", tail.lstrip())
    for h in HEDGE_WORDS:
        if start.startswith(h) and (h != "争取" or start[2:].startswith(_ZHENGQU_OK)):
            return h
    return ""


def _fyp_period(s: str) -> str:
    m = _FYP.search(s)
    if not m:
        return ""
    d = m.group(1) or m.group(2)
    n = 10 + (_CN_N[d] if d else 0)
    start = 2001 + 5 * (n - 10)
    return f"{start}-{start + 4}"


def target_year(
    sentence: str, rel_start: int, span: str, section: str, plan_year: int | None
) -> tuple[int | None, str, str]:
    """``(target_year, source, period)`` of a target (module docstring)."""
    found = list(_BY_YEAR.finditer(span))
    if found:
        return int(found[-1].group(1) or found[-1].group(2)), "text:span", ""
    found = list(_BY_YEAR.finditer(sentence[:rel_start]))
    if found:
        return int(found[-1].group(1) or found[-1].group(2)), "text:sentence", ""
    multi = bool(_MULTI_YEAR.search(span) or _MULTI_YEAR.search(sentence[:rel_start]))
    if multi:
        period = _fyp_period(sentence) or _fyp_period(section or "")
        if period:
            return int(period[-4:]), "five_year_plan", period
        return None, "", ""
    if plan_year is not None:
        return plan_year, "plan_year", ""
    return None, "", ""


def _num(x: Any) -> Any:
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return None
        if x.is_integer() and abs(x) < 1e15:
            return int(x)
    return x


def _prefix(t: Target) -> str:
    ns = t.fields.number_start
    return t.text[:ns] if isinstance(ns, int) and 0 <= ns <= len(t.text) else t.text


def _subject_items(prefix: str) -> list[str]:
    """Subjects of a ``分别`` clause: ``城镇居民…和农民人均纯收入分别增长`` → two items;
    ``城乡居民人均可支配收入分别增长`` → the urban and the rural income."""
    subj = prefix[: prefix.find("分别")]
    items = [x for x in re.split("[、和及与]", subj) if x]
    if len(items) == 1 and items[0].startswith("城乡"):
        rest = items[0][2:]
        items = ["城镇" + rest, "农村" + rest]
    return items


def _coordinated_prefixes(sent: SentenceRecord) -> dict[int, str]:
    """Index of a target in ``sent.targets`` → the text its indicator is matched on; the later
    figures of a ``分别`` clause get their own subject (GUIDELINES rule 4, D27)."""
    ts = sent.targets
    out = {i: _prefix(t) for i, t in enumerate(ts)}
    i = 0
    while i < len(ts):
        p = out[i]
        if "分别" not in p:
            i += 1
            continue
        j = i
        while j + 1 < len(ts) and sent.text[ts[j].end - sent.start : ts[j + 1].start - sent.start] in _COORD:
            j += 1
        items = _subject_items(p)
        if len(items) == j - i + 1:
            verb = p[p.find("分别") + 2 :]
            for k, item in enumerate(items):
                out[i + k] = item + verb
        i = j + 1
    return out


# --------------------------------------------------------------------------- reading a batch folder


def read_batch(batch_dir: str | Path, read_sources: bool = True) -> list[PanelDocument]:
    """The documents of a ``govtarget batch`` folder, with their source texts where readable.

    Raises PanelError when the folder has no summary.json and no .jsonl files."""
    from pipeline.tagging.batch import InputFile, read_input
    from pipeline.text.reader import ReadError

    d = Path(batch_dir)
    if not d.is_dir():
        raise PanelError(f"{d}: not a folder")
    details: list[dict[str, Any]] = []
    summary = d / "summary.json"
    if summary.exists():
        try:
            details = json.loads(summary.read_text(encoding="utf-8")).get("documents_detail", [])
        except (ValueError, OSError) as e:
            raise PanelError(f"{summary}: not a readable batch summary ({e})") from e
    else:
        details = [{"doc_id": f.stem, "source": "", "status": "ok"} for f in sorted(d.glob("*.jsonl"))]
    if not details:
        raise PanelError(f"{d}: no summary.json and no .jsonl files: not a govtarget batch folder")
    docs: list[PanelDocument] = []
    for det in sorted(details, key=lambda x: x["doc_id"]):
        doc_id, source, status = det["doc_id"], det.get("source", ""), det.get("status", "ok")
        if status == "failed":
            docs.append(PanelDocument(doc_id, source, [], status="failed", reason=det.get("reason", "")))
            continue
        f = d / (det.get("output") or f"{doc_id}.jsonl")
        try:
            sents = read_jsonl_records(f.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as err:
            docs.append(PanelDocument(doc_id, source, [], status="failed", reason=f"{f}: unreadable ({err})"))
            continue
        text = ""
        kept = d / det["text_file"] if det.get("text_file") else None  # the extracted text of a .docx/PDF/HTML
        if read_sources and kept is not None and kept.is_file():
            text = kept.read_text(encoding="utf-8")
        elif read_sources and source and Path(source).exists():
            try:
                text = read_input(InputFile(Path(source), source, source, doc_id)).text
            except (ReadError, OSError):
                text = ""
        docs.append(PanelDocument(doc_id, source, sents, text=text))
    return docs


# --------------------------------------------------------------------------- building


def document_metadata(doc: PanelDocument, manifest: dict[str, dict[str, str]] | None = None) -> DocMetadata:
    """Metadata from the source text (or, when unreadable, the tagged sentences) and file name."""
    text = doc.text
    if not text:
        text = "\n".join(s.text for s in doc.sentences)
    name = Path(doc.source).name if doc.source else doc.doc_id
    meta = extract_metadata(text, name, doc_id=doc.doc_id)
    if not doc.text and doc.status == "ok":
        meta.notes.append("source text unavailable: metadata from the tagged sentences and file name")
    if manifest:
        apply_manifest(meta, manifest, Path(doc.source).stem if doc.source else "")
    return meta


def target_rows(
    doc: PanelDocument,
    meta: DocMetadata,
    table: IndicatorTable | None = None,
    rules: Sequence[HardnessRule] | None = None,
) -> list[dict[str, Any]]:
    """Long-table rows of one document's targets, in document order."""
    table = table or load_indicators()
    rows: list[dict[str, Any]] = []
    rank: dict[str, tuple[int, int, int]] = {}  # code → headline key of the best row so far
    best: dict[str, int] = {}
    prev_text = ""
    for sent in doc.sentences:
        prefixes = _coordinated_prefixes(sent)
        frame = bool(_FRAME.search(sent.text) or _FRAME.search(prev_text))
        past = bool(_PAST.search(sent.text) or _PAST.search(prev_text))
        for i, t in enumerate(sent.targets):
            rel = t.start - sent.start
            span_prefix = _prefix(t)
            uc = t.fields.unit_canonical
            unit_c = uc.unit if uc is not None else _canonical_unit(t.unit)[0]
            m = match_indicator(prefixes[i], t.unit, unit_c, table)
            code = m.code if m else None
            ind = table.by_code(code) if code else None
            hedge = find_hedge(sent.text, rel, span_prefix)
            ty, ty_src, period = target_year(
                sent.text, rel, t.text, str(sent.extra.get("section") or ""), meta.plan_year
            )
            part = sent.extra.get("part")
            if code and ty is not None and ty == meta.plan_year and not period and part != "review":
                key = (0 if frame else 1, 1 if past else 0, len(rows))
                if code not in rank or key < rank[code]:
                    rank[code], best[code] = key, len(rows)
            vc = t.fields.value_canonical
            rows.append(
                {
                    "government": meta.government,
                    "level": meta.level,
                    "province": meta.province,
                    "parent": meta.parent,
                    "report_year": meta.report_year,
                    "plan_year": meta.plan_year,
                    "indicator_code": code or "",
                    "indicator_label": ind.label_zh if ind else "",
                    "figure_kind": m.figure_kind if m else "",
                    "indicator_raw": span_prefix.strip(),
                    "value": _num(t.value),
                    "value_max": _num(t.value_max),
                    "unit": t.unit or "",
                    "unit_canonical": unit_c or "",
                    "value_canonical": _num(vc),
                    "bound": t.bound,
                    "direction": t.direction or "",
                    "hedge": hedge,
                    "hardness": hardness(hedge, t.bound, t.value_max is not None, rules),
                    "target_year": ty,
                    "target_year_source": ty_src,
                    "target_period": period,
                    "headline": 0,
                    "category": t.category,
                    "part": part or "",
                    "section": sent.extra.get("section") or "",
                    "doc_id": doc.doc_id,
                    "source": doc.source,
                    "sent_id": sent.sent_id,
                    "span_start": t.start,
                    "span_end": t.end,
                    "text": t.text,
                    "sentence": sent.text,
                }
            )
        prev_text = sent.text
    for idx in best.values():
        rows[idx]["headline"] = 1
    return rows


def _mentions(doc: PanelDocument, aliases: Iterable[str]) -> int:
    al = list(aliases)
    return sum(1 for s in doc.sentences if s.extra.get("part") != "review" and any(a in s.text for a in al))


def panel_from_documents(
    docs: Sequence[PanelDocument],
    manifest: dict[str, dict[str, str]] | None = None,
    indicator: str | None = None,
    table: IndicatorTable | None = None,
    rules: Sequence[HardnessRule] | None = None,
) -> Panel:
    """The panel of tagged documents (``indicator``: keep only that code's rows and coverage)."""
    table = table or load_indicators()
    if indicator is not None and table.by_code(indicator) is None:
        raise PanelError(f"unknown indicator code {indicator!r}; the codes are in pipeline/data/indicators.csv")
    metas = {d.doc_id: document_metadata(d, manifest) for d in docs}
    rows_of = {d.doc_id: target_rows(d, metas[d.doc_id], table, rules) if d.status == "ok" else [] for d in docs}

    # Duplicates: one government and plan year, several reports. Keep the one with more targets.
    groups: dict[tuple[str, str, str, int], list[str]] = defaultdict(list)
    for d in docs:
        m = metas[d.doc_id]
        if d.status == "ok" and m.government and m.plan_year is not None:
            groups[(m.government, m.province, m.parent, m.plan_year)].append(d.doc_id)
    dropped: dict[str, str] = {}
    duplicates: list[dict[str, Any]] = []
    for key, ids in sorted(groups.items()):
        if len(ids) < 2:
            continue
        ranked = sorted(ids, key=lambda i: (-len(rows_of[i]), i))
        kept = ranked[0]

        def sig(i: str) -> list[tuple[Any, ...]]:
            return sorted((r["indicator_code"], r["value"], r["value_max"], r["bound"], r["text"]) for r in rows_of[i])

        for other in ranked[1:]:
            dropped[other] = kept
            duplicates.append(
                {
                    "government": key[0],
                    "province": key[1],
                    "parent": key[2],
                    "plan_year": key[3],
                    "kept_doc": kept,
                    "dropped_doc": other,
                    "kept_targets": len(rows_of[kept]),
                    "dropped_targets": len(rows_of[other]),
                    "same_targets": int(sig(kept) == sig(other)),
                }
            )

    long: list[dict[str, Any]] = []
    for d in docs:
        if d.doc_id not in dropped:
            long.extend(r for r in rows_of[d.doc_id] if indicator is None or r["indicator_code"] == indicator)

    codes = [indicator] if indicator else [i.code for i in table.indicators]
    coverage: list[dict[str, Any]] = []
    for d in docs:
        m = metas[d.doc_id]
        n_by_code: dict[str, int] = defaultdict(int)
        for r in rows_of[d.doc_id]:
            if r["indicator_code"]:
                n_by_code[r["indicator_code"]] += 1
        for c in codes:
            ind = table.by_code(c)
            assert ind is not None
            mentions = _mentions(d, table.concept_aliases(ind.concept)) if d.status == "ok" else 0
            if d.status != "ok":
                status = "failed"
            elif d.doc_id in dropped:
                status = "duplicate"
            elif n_by_code[c]:
                status = "target"
            elif mentions:
                status = "mentioned_no_target"
            else:
                status = "no_target"
            coverage.append(
                {
                    "doc_id": d.doc_id,
                    "government": m.government,
                    "plan_year": m.plan_year,
                    "indicator_code": c,
                    "status": status,
                    "n_targets": n_by_code[c],
                    "mentions": mentions,
                }
            )

    all_rows = [r for d in docs if d.doc_id not in dropped for r in rows_of[d.doc_id]]
    coded = sum(1 for r in all_rows if r["indicator_code"])
    summary = {
        "documents": len(docs),
        "documents_failed": sum(d.status != "ok" for d in docs),
        "documents_duplicate": len(dropped),
        "documents_without_government": sum(1 for d in docs if d.status == "ok" and not metas[d.doc_id].government),
        "documents_without_plan_year": sum(1 for d in docs if d.status == "ok" and metas[d.doc_id].plan_year is None),
        "targets": len(all_rows),
        "targets_with_code": coded,
        "share_with_code": round(coded / len(all_rows), 4) if all_rows else None,
        "rows_written": len(long),
        "indicator": indicator,
    }
    return Panel(
        long=long, documents=[metas[d.doc_id] for d in docs], coverage=coverage, duplicates=duplicates, summary=summary
    )


def build_panel(
    batch_dir: str | Path,
    manifest: dict[str, dict[str, str]] | None = None,
    indicator: str | None = None,
    indicators_csv: str | None = None,
    hardness_csv: str | None = None,
) -> Panel:
    """The panel of a ``govtarget batch`` folder (see the module docstring)."""
    return panel_from_documents(
        read_batch(batch_dir), manifest, indicator, load_indicators(indicators_csv), load_hardness(hardness_csv)
    )


# --------------------------------------------------------------------------- wide table


def wide_rows(panel: Panel, code: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Governments × plan years of one code, from headline targets: ``y<year>``, ``y<year>_max``,
    ``y<year>_bound`` columns. Returns the rows and the years."""
    cells: dict[tuple[str, str, str, str], dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in panel.long:
        if r["indicator_code"] != code or not r["headline"] or not r["government"] or r["plan_year"] is None:
            continue
        key = (r["government"], r["level"], r["province"], r["parent"])
        cells[key].setdefault(int(r["plan_year"]), r)
    years = sorted({y for v in cells.values() for y in v})
    rows = []
    for (gov, level, prov, parent), by_year in sorted(
        cells.items(), key=lambda kv: (_LEVEL_ORDER.get(kv[0][1], 9), kv[0])
    ):
        row: dict[str, Any] = {
            "government": gov,
            "level": level,
            "province": prov,
            "parent": parent,
            "indicator_code": code,
        }
        for y in years:
            cell = by_year.get(y)
            row[f"y{y}"] = cell["value"] if cell else None
            row[f"y{y}_max"] = cell["value_max"] if cell else None
            row[f"y{y}_bound"] = cell["bound"] if cell else ""
        rows.append(row)
    return rows, years


_LEVEL_ORDER = {"national": 0, "province": 1, "prefecture": 2, "county": 3}


# --------------------------------------------------------------------------- writing


def _csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel reads UTF-8 Chinese correctly only with a BOM
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    return buf.getvalue()


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str], numeric: Iterable[str]) -> Any:
    import pandas as pd

    df = pd.DataFrame(list(rows), columns=list(columns))
    num = set(numeric)
    for c in df.columns:
        if c in num:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        else:
            df[c] = (
                df[c]
                .map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
                .astype(object)
            )
    return df


def write_dta(df: Any, path: Path, labels: dict[str, str], data_label: str) -> None:
    """Stata 14+ ``.dta`` (version 118: Unicode), ASCII names ≤ 32 characters, Chinese labels."""
    for c in df.columns:
        if not (c.isascii() and len(c) <= 32 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c)):
            raise PanelError(f"{path}: column {c!r} is not a valid Stata variable name")
    strl = [
        c
        for c in df.columns
        if df[c].dtype == object and max((len(s.encode("utf-8")) for s in df[c]), default=0) > 2045
    ]
    buf = io.BytesIO()
    df.to_stata(
        buf,
        write_index=False,
        version=118,
        variable_labels={k: v for k, v in labels.items() if k in df.columns},
        data_label=data_label,
        convert_strl=strl,
    )
    atomic_write_bytes(path, buf.getvalue())


def write_parquet(df: Any, path: Path) -> None:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", index=False)
    atomic_write_bytes(path, buf.getvalue())


def write_panel(
    panel: Panel, out_dir: str | Path, wide_indicator: str = "gdp_growth", table: IndicatorTable | None = None
) -> list[Path]:
    """Write every panel file into ``out_dir``; returns the paths written."""
    table = table or load_indicators()
    out = Path(out_dir)
    written: list[Path] = []

    def put_text(name: str, text: str) -> None:
        atomic_write_text(out / name, text)
        written.append(out / name)

    numeric_long = _INT_COLUMNS + _FLOAT_COLUMNS
    put_text("panel_long.csv", _csv_text(panel.long, LONG_COLUMNS))
    df = _frame(panel.long, LONG_COLUMNS, numeric_long)
    write_parquet(df, out / "panel_long.parquet")
    write_dta(df, out / "panel_long.dta", LONG_LABELS, "政府工作报告量化目标（长表）")
    written += [out / "panel_long.parquet", out / "panel_long.dta"]

    wrows, years = wide_rows(panel, wide_indicator)
    ind = table.by_code(wide_indicator)
    label = ind.label_zh if ind else wide_indicator
    wcols = ["government", "level", "province", "parent", "indicator_code"]
    wlabels = {k: LONG_LABELS[k] for k in ("government", "level", "province", "parent", "indicator_code")}
    for y in years:
        wcols += [f"y{y}", f"y{y}_max", f"y{y}_bound"]
        wlabels[f"y{y}"] = f"{y}年目标值"
        wlabels[f"y{y}_max"] = f"{y}年目标上限"
        wlabels[f"y{y}_bound"] = f"{y}年约束方向"
    wnum = [c for c in wcols if c.startswith("y") and not c.endswith("_bound")]
    put_text("panel_wide.csv", _csv_text(wrows, wcols))
    wdf = _frame(wrows, wcols, wnum)
    write_parquet(wdf, out / "panel_wide.parquet")
    write_dta(wdf, out / "panel_wide.dta", wlabels, f"{label}（宽表：政府×年份）"[:80])
    written += [out / "panel_wide.parquet", out / "panel_wide.dta"]

    doc_rows = [m.to_row() for m in panel.documents]
    doc_cols = list(doc_rows[0].keys()) if doc_rows else ["doc_id"]
    put_text("panel_documents.csv", _csv_text(doc_rows, doc_cols))
    put_text("panel_coverage.csv", _csv_text(panel.coverage, COVERAGE_COLUMNS))
    put_text("panel_duplicates.csv", _csv_text(panel.duplicates, DUPLICATE_COLUMNS))
    summary = dict(panel.summary, wide_indicator=wide_indicator, wide_years=years, wide_governments=len(wrows))
    put_text("panel_summary.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return written


# --------------------------------------------------------------------------- plot

_MARKERS = {"at_least": "^", "about": "o", "at_most": "v", "exact": "s"}


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if any(k in f.name for k in ("CJK", "WenQuanYi", "SimHei", "Noto Sans SC", "Source Han", "PingFang", "Hei")):
            return str(f.name)
    return None


def plot_indicator(
    panel: Panel, code: str, path: str | Path, max_series: int = 12, table: IndicatorTable | None = None
) -> Path:
    """A PNG of one indicator's headline targets across governments and plan years: the value
    (marker by bound: ▲ at least, ● about, ▼ at most, ■ exact), a range drawn as a bar from
    value to value_max. Governments with most years first, at most ``max_series``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = table or load_indicators()
    ind = table.by_code(code)
    font = _cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, *plt.rcParams["font.sans-serif"]]
    en = {p.name: p.name_en for p in load_places()}
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in panel.long:
        if (
            r["indicator_code"] == code
            and r["headline"]
            and r["government"]
            and r["plan_year"] is not None
            and r["value"] is not None
        ):
            series[r["government"]].append(r)
    chosen = sorted(series, key=lambda g: (-len(series[g]), g))[:max_series]
    fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
    for g in chosen:
        rs = sorted(series[g], key=lambda r: r["plan_year"])
        xs = [r["plan_year"] for r in rs]
        ys = [float(r["value"]) for r in rs]
        name = g if font else en.get(g, g)
        (line,) = ax.plot(xs, ys, "-", lw=1, alpha=0.6, label=name)
        for r, x, y in zip(rs, xs, ys):
            ax.plot([x], [y], _MARKERS.get(r["bound"], "s"), color=line.get_color(), ms=5)
            if r["value_max"] is not None:
                ax.vlines(x, y, float(r["value_max"]), color=line.get_color(), lw=3, alpha=0.5)
    title = (ind.label_zh if font else ind.label_en) if ind else code
    units = sorted({r["unit"] for g in chosen for r in series[g] if r["unit"]})
    ax.set_title(f"{title}: targets by government and plan year")
    ax.set_xlabel("plan year")
    ax.set_ylabel(f"target ({', '.join(units)})" if units else "target")
    ax.grid(alpha=0.3)
    if chosen:
        ax.legend(fontsize=7, ncol=2, loc="best")
    ax.text(
        0.99,
        0.01,
        "▲ at least  ● about  ▼ at most  ■ exact; bars: ranges",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        color="0.4",
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)
