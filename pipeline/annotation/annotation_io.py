"""Annotation-tool round trip: gold/predicted records ↔ Label Studio tasks and doccano JSONL.

Task granularity: one task per *unit* of one document, where a unit is a sentence, a paragraph
(default) or the whole document. A task's text is ``raw[start:end]`` of the unit; ``data``
carries ``doc_id``, ``source`` (file name), ``sha256`` of the raw file, the unit's code-point
``start``/``end`` in the raw document, and ``offset_unit``. Inside a task:

* every kept sentence (pipeline.text.segment) is a pre-made ``SENTENCE`` region whose per-region
  ``category`` choice is the sentence category (one Choices per sentence);
* every target is a ``TARGET`` region with per-region ``category``, ``bound``, ``direction``
  (choices), ``value``, ``value_max`` (numbers) and ``unit`` (text area).

Region offsets are relative to the task text and counted in ``offset_unit``: ``"utf16"``
(JavaScript string indices, what Label Studio and doccano front ends have produced in several
versions) or ``"codepoint"`` (Python indices). Both are identical for text inside the BMP; 𠮷 or
an emoji counts 2 in UTF-16 and 1 as a code point. The convention is written into every task
and converted explicitly both ways. On Label Studio import a region's own ``text`` (when
present) is checked against the slice, so a file whose real convention differs from the
declared one is detected, not silently shifted.

Import is all or nothing: every problem is collected with its task id and reported together;
nothing is returned (or written) unless every task is valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.annotation.gold import validate_records
from pipeline.errors import AnnotationImportError, OffsetError
from pipeline.records import SentenceRecord, Target
from pipeline.schema import BOUNDS, CATEGORIES, CATEGORY2ID, TARGET
from pipeline.text.segment import Segmentation, Sentence, segment

OffsetUnit = Literal["utf16", "codepoint"]
OFFSET_UNITS: tuple[str, ...] = ("utf16", "codepoint")
UnitKind = Literal["sentence", "paragraph", "document"]
UNIT_KINDS: tuple[str, ...] = ("sentence", "paragraph", "document")
SENTENCE = "SENTENCE"
#: Label Studio choice standing for ``direction: null``.
NO_DIRECTION = "none"
#: Format marker stored in every exported task / line.
FORMAT_VERSION = 1
#: doccano label separator: ``TARGET|金融``, ``SENTENCE|综合``.
SEP = "|"


# --------------------------------------------------------------------------- offsets


def utf16_prefix(text: str) -> list[int]:
    """``prefix[i]`` = number of UTF-16 code units in ``text[:i]`` (length ``len(text) + 1``)."""
    out = [0] * (len(text) + 1)
    n = 0
    for i, ch in enumerate(text):
        n += 2 if ord(ch) > 0xFFFF else 1
        out[i + 1] = n
    return out


class OffsetMap:
    """Code point ↔ tool offset conversion for one text, in either convention."""

    def __init__(self, text: str, unit: OffsetUnit) -> None:
        if unit not in OFFSET_UNITS:
            raise ValueError(f"unknown offset unit {unit!r}; expected one of {OFFSET_UNITS}")
        self.text = text
        self.unit = unit
        self._prefix = utf16_prefix(text) if unit == "utf16" else None
        self._back = {u: i for i, u in enumerate(self._prefix)} if self._prefix is not None else None

    def to_tool(self, cp: int) -> int:
        if not 0 <= cp <= len(self.text):
            raise OffsetError(f"code point offset {cp} outside text of length {len(self.text)}")
        return self._prefix[cp] if self._prefix is not None else cp

    def to_cp(self, off: Any) -> int:
        if isinstance(off, bool) or not isinstance(off, int):
            raise OffsetError(f"offset {off!r} is not an integer")
        if self._back is None:
            if not 0 <= off <= len(self.text):
                raise OffsetError(f"offset {off} outside text of length {len(self.text)}")
            return off
        if off not in self._back:
            total = self._prefix[-1] if self._prefix else 0
            if 0 <= off <= total:
                raise OffsetError(f"UTF-16 offset {off} falls inside a surrogate pair")
            raise OffsetError(f"UTF-16 offset {off} outside text of {total} code units")
        return self._back[off]


# --------------------------------------------------------------------------- documents and units


@dataclass(frozen=True)
class DocSource:
    """A raw report as the annotation files refer to it."""

    doc_id: str
    text: str
    source: str = ""
    sha256: str = ""

    @classmethod
    def from_path(cls, path: str | Path, doc_id: str | None = None) -> DocSource:
        from pipeline.text.reader import read_report

        r = read_report(path, doc_id)
        return cls(r.doc_id, r.text, Path(path).name, r.sha256)


@dataclass(frozen=True)
class Unit:
    """A stretch ``raw[start:end]`` of one document that becomes one task."""

    start: int
    end: int
    sentences: tuple[Sentence, ...]


def covered_units(units: list[Unit], covered: set[int]) -> list[Unit]:
    """Units restricted to sentences that have records: a unit with none is dropped, a partly
    covered one is split into sentence units (a task must hold only sentences to be labelled:
    partial gold from a selection round re-exported for review)."""
    out = []
    for u in units:
        have = [s for s in u.sentences if s.sent_id in covered]
        if len(have) == len(u.sentences):
            out.append(u)
        else:
            out += [Unit(s.start, s.end, (s,)) for s in have]
    return out


def make_units(seg: Segmentation, kind: UnitKind = "paragraph", only: set[int] | None = None) -> list[Unit]:
    """Units of a segmented document; ``only`` restricts to units holding those ``sent_id``s."""
    if kind not in UNIT_KINDS:
        raise ValueError(f"unknown unit {kind!r}; expected one of {UNIT_KINDS}")
    sents = seg.sentences
    if kind == "document":
        groups = [sents] if sents else []
    elif kind == "sentence":
        groups = [[s] for s in sents]
    else:
        by_para: dict[int, list[Sentence]] = {}
        for s in sents:
            by_para.setdefault(s.paragraph, []).append(s)
        groups = list(by_para.values())
    units = []
    for g in groups:
        if only is not None and not any(s.sent_id in only for s in g):
            continue
        if kind == "document":
            # The whole text, furniture included, so task offsets equal raw offsets.
            units.append(Unit(0, len(seg.text), tuple(g)))
        else:
            units.append(Unit(g[0].start, g[-1].end, tuple(g)))
    return units


# --------------------------------------------------------------------------- Label Studio export


def labelstudio_config() -> str:
    """The labeling configuration XML matching the tasks this module writes."""
    cats = "\n".join(f'      <Choice value="{c}"/>' for c in CATEGORIES)
    bounds = "\n".join(f'      <Choice value="{b}"/>' for b in BOUNDS)
    return f"""<View>
  <Header value="$doc_id [$start, $end) — offsets: $offset_unit"/>
  <Labels name="label" toName="text">
    <Label value="{TARGET}" background="#f4a261"/>
    <Label value="{SENTENCE}" background="#cfe8ff"/>
  </Labels>
  <Text name="text" value="$text" granularity="symbol"/>
  <View visibleWhen="region-selected">
    <Header value="Category (of the selected target or sentence)"/>
    <Choices name="category" toName="text" perRegion="true" choice="single" showInline="true">
{cats}
    </Choices>
  </View>
  <View visibleWhen="region-selected" whenLabelValue="{TARGET}">
    <Header value="Bound"/>
    <Choices name="bound" toName="text" perRegion="true" choice="single" showInline="true">
{bounds}
    </Choices>
    <Header value="Direction"/>
    <Choices name="direction" toName="text" perRegion="true" choice="single" showInline="true">
      <Choice value="up"/>
      <Choice value="down"/>
      <Choice value="{NO_DIRECTION}"/>
    </Choices>
    <Header value="Value (lower end of a range)"/>
    <Number name="value" toName="text" perRegion="true" step="0.0001"/>
    <Header value="Value max (ranges only)"/>
    <Number name="value_max" toName="text" perRegion="true" step="0.0001"/>
    <Header value="Unit as written (empty if none)"/>
    <TextArea name="unit" toName="text" perRegion="true" maxSubmissions="1" editable="true"/>
  </View>
</View>
"""


def _region_items(
    rid: str, label: str, s: int, e: int, text: str, attrs: dict[str, Any], score: float | None
) -> list[dict[str, Any]]:
    geo = {"start": s, "end": e, "text": text}
    items: list[dict[str, Any]] = [
        {"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "value": dict(geo, labels=[label])}
    ]
    if score is not None:
        items[0]["score"] = score
    for name, kind, key, val in (
        ("category", "choices", "choices", [attrs["category"]] if attrs.get("category") else None),
        ("bound", "choices", "choices", [attrs["bound"]] if "bound" in attrs else None),
        ("direction", "choices", "choices", [attrs.get("direction") or NO_DIRECTION] if "direction" in attrs else None),
        ("value", "number", "number", attrs.get("value")),
        ("value_max", "number", "number", attrs.get("value_max")),
        ("unit", "textarea", "text", [attrs["unit"]] if attrs.get("unit") is not None else None),
    ):
        if val is None:
            continue
        items.append({"id": rid, "from_name": name, "to_name": "text", "type": kind, "value": dict(geo, **{key: val})})
    return items


def _unit_result(
    doc: DocSource, unit: Unit, records: dict[int, SentenceRecord], omap: OffsetMap, base: int
) -> tuple[list[dict[str, Any]], list[float]]:
    result: list[dict[str, Any]] = []
    scores: list[float] = []
    for s in unit.sentences:
        rec = records.get(s.sent_id)
        if rec is None:
            continue
        a, b = omap.to_tool(s.start - base), omap.to_tool(s.end - base)
        cscore = rec.extra.get("category_score")
        if isinstance(cscore, (int, float)):
            scores.append(float(cscore))
        result += _region_items(
            f"s{s.sent_id}",
            SENTENCE,
            a,
            b,
            s.text,
            {"category": rec.category},
            float(cscore) if isinstance(cscore, (int, float)) else None,
        )
        for k, t in enumerate(rec.targets):
            a, b = omap.to_tool(t.start - base), omap.to_tool(t.end - base)
            tscore = t.extra.get("score")
            if isinstance(tscore, (int, float)):
                scores.append(float(tscore))
            attrs = {
                "category": t.category,
                "bound": t.bound,
                "direction": t.direction,
                "value": t.value,
                "value_max": t.value_max,
                "unit": t.unit,
            }
            result += _region_items(
                f"t{s.sent_id}_{k}",
                TARGET,
                a,
                b,
                doc.text[t.start : t.end],
                attrs,
                float(tscore) if isinstance(tscore, (int, float)) else None,
            )
    return result, scores


def _records_by_sent(
    doc: DocSource, seg: Segmentation, records: list[SentenceRecord] | None
) -> dict[int, SentenceRecord]:
    """Records keyed by the segmentation's sent_id, matched on raw offsets (ids may differ)."""
    if not records:
        return {}
    by_span = {(s.start, s.end): s.sent_id for s in seg.sentences}
    out: dict[int, SentenceRecord] = {}
    for r in records:
        sid = by_span.get((r.start, r.end))
        if sid is None:
            raise ValueError(
                f"{doc.doc_id}: record sent_id {r.sent_id} [{r.start}, {r.end}) is not a sentence of "
                "the current segmentation; re-tag or re-segment before exporting"
            )
        out[sid] = r
    return out


def _unit_meta(doc: DocSource, u: Unit, unit: str, offset_unit: str) -> dict[str, Any]:
    """Where an exported task's text comes from (the same keys, in order, for every export format)."""
    return {
        "doc_id": doc.doc_id,
        "source": doc.source,
        "sha256": doc.sha256,
        "start": u.start,
        "end": u.end,
        "unit": unit,
        "sent_ids": [s.sent_id for s in u.sentences],
        "offset_unit": offset_unit,
    }


def export_labelstudio(
    doc: DocSource,
    records: list[SentenceRecord] | None = None,
    *,
    unit: UnitKind = "paragraph",
    offset_unit: OffsetUnit = "utf16",
    as_annotations: bool = False,
    model_version: str = "",
    only: set[int] | None = None,
    extra_data: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Label Studio tasks for one document.

    ``records`` (predictions from ``Tagger`` or gold records) become ``predictions`` carrying
    their scores, or ``annotations`` with ``as_annotations`` (to re-review gold). ``only``
    limits the export to units holding those sent_ids; ``extra_data`` adds fields to the
    ``data`` of the task holding a given sent_id (e.g. selection scores).
    """
    seg = segment(doc.text)
    by_sent = _records_by_sent(doc, seg, records)
    units = make_units(seg, unit, only)
    if records is not None:
        units = covered_units(units, set(by_sent))
    tasks: list[dict[str, Any]] = []
    for u in units:
        text = doc.text[u.start : u.end]
        omap = OffsetMap(text, offset_unit)
        ids = [s.sent_id for s in u.sentences]
        data: dict[str, Any] = {
            "text": text,
            **_unit_meta(doc, u, unit, offset_unit),
            "format": f"govtarget-labelstudio/{FORMAT_VERSION}",
        }
        for sid in ids:
            data.update((extra_data or {}).get(sid, {}))
        task: dict[str, Any] = {"id": len(tasks) + 1, "data": data}
        if records is not None:
            result, scores = _unit_result(doc, u, by_sent, omap, u.start)
            entry: dict[str, Any] = {"result": result}
            if as_annotations:
                task["annotations"] = [entry]
            else:
                entry["model_version"] = model_version
                # Label Studio sorts by this: the least confident region of the task.
                entry["score"] = round(min(scores), 4) if scores else 1.0
                task["predictions"] = [entry]
        tasks.append(task)
    return tasks


def renumber(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give tasks of several documents unique ids 1..n (in place; returns the list)."""
    for i, t in enumerate(tasks, 1):
        t["id"] = i
    return tasks


# --------------------------------------------------------------------------- doccano export


def doccano_labels() -> list[dict[str, str]]:
    """The label set to create in the doccano project (``TARGET|cat`` and ``SENTENCE|cat``)."""
    return [{"text": f"{kind}{SEP}{c}"} for kind in (TARGET, SENTENCE) for c in CATEGORIES] + [{"text": TARGET}]


def export_doccano(
    doc: DocSource,
    records: list[SentenceRecord] | None = None,
    *,
    unit: UnitKind = "paragraph",
    offset_unit: OffsetUnit = "utf16",
    only: set[int] | None = None,
) -> list[dict[str, Any]]:
    """doccano sequence-labeling lines. Target fields travel in ``targets`` metadata keyed by
    raw code-point offsets ``"start-end"``; doccano cannot edit them (use Label Studio to review
    fields). A target whose span the annotator changes gets its fields from the parser on import."""
    seg = segment(doc.text)
    by_sent = _records_by_sent(doc, seg, records)
    units = make_units(seg, unit, only)
    if records is not None:
        units = covered_units(units, set(by_sent))
    lines: list[dict[str, Any]] = []
    for u in units:
        text = doc.text[u.start : u.end]
        omap = OffsetMap(text, offset_unit)
        labels: list[list[Any]] = []
        fields: dict[str, dict[str, Any]] = {}
        for s in u.sentences:
            rec = by_sent.get(s.sent_id)
            if rec is None:
                continue
            labels.append(
                [omap.to_tool(s.start - u.start), omap.to_tool(s.end - u.start), f"{SENTENCE}{SEP}{rec.category}"]
            )
            for t in rec.targets:
                labels.append(
                    [omap.to_tool(t.start - u.start), omap.to_tool(t.end - u.start), f"{TARGET}{SEP}{t.category}"]
                )
                fields[f"{t.start}-{t.end}"] = {
                    "value": t.value,
                    "unit": t.unit,
                    "bound": t.bound,
                    "direction": t.direction,
                    "value_max": t.value_max,
                }
        lines.append(
            {
                "id": len(lines) + 1,
                "text": text,
                "label": labels,
                **_unit_meta(doc, u, unit, offset_unit),
                "targets": fields,
                "format": f"govtarget-doccano/{FORMAT_VERSION}",
            }
        )
    return lines


# --------------------------------------------------------------------------- import


@dataclass
class _Region:
    label: str
    start: int  # raw code-point offsets
    end: int
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    """Gold records per document, plus notes (non-fatal) for the user."""

    records: dict[str, list[SentenceRecord]]
    notes: list[str] = field(default_factory=list)


def _task_id(task: dict[str, Any], k: int) -> str:
    return str(task.get("id", f"#{k + 1}"))


def _check_data(
    tid: str,
    data: dict[str, Any],
    docs: dict[str, DocSource],
    offset_override: str | None,
    problems: list[tuple[str, str]],
) -> tuple[DocSource, int, int, OffsetUnit] | None:
    if not isinstance(data, dict):
        problems.append((tid, "task has no data object"))
        return None
    doc_id = data.get("doc_id")
    doc = docs.get(doc_id) if isinstance(doc_id, str) else None
    if doc is None:
        problems.append((tid, f"unknown doc_id {doc_id!r}; give its raw report with --raw"))
        return None
    if data.get("sha256") and doc.sha256 and data["sha256"] != doc.sha256:
        problems.append(
            (
                tid,
                f"{doc_id}: raw report changed since export (sha256 {doc.sha256[:12]}… vs {str(data['sha256'])[:12]}…)",
            )
        )
        return None
    s, e = data.get("start"), data.get("end")
    if not (isinstance(s, int) and isinstance(e, int) and 0 <= s <= e <= len(doc.text)):
        problems.append((tid, f"bad task offsets start={s!r} end={e!r}"))
        return None
    if data.get("text") != doc.text[s:e]:
        problems.append((tid, f"task text differs from raw[{s}:{e}] of {doc_id}"))
        return None
    unit = offset_override or data.get("offset_unit")
    if unit not in OFFSET_UNITS:
        problems.append((tid, f"offset_unit {unit!r} unknown or missing; pass --offsets utf16|codepoint"))
        return None
    return doc, s, e, unit  # type: ignore[return-value]


def _to_raw(
    tid: str,
    text: str,
    base: int,
    omap: OffsetMap,
    s: Any,
    e: Any,
    claimed: str | None,
    problems: list[tuple[str, str]],
) -> tuple[int, int] | None:
    """Tool offsets → raw code points; verify against the region's own text when it has one."""
    try:
        a, b = omap.to_cp(s), omap.to_cp(e)
    except OffsetError as err:
        a = b = -1
        first_err: str | None = str(err)
    else:
        first_err = None
    if first_err is None and a < b and (claimed is None or text[a:b] == claimed):
        return base + a, base + b
    if claimed is not None:
        other = OffsetMap(text, "codepoint" if omap.unit == "utf16" else "utf16")
        try:
            a2, b2 = other.to_cp(s), other.to_cp(e)
            if a2 < b2 and text[a2:b2] == claimed:
                problems.append(
                    (
                        tid,
                        f"region [{s}, {e}) {claimed!r} matches only in {other.unit} offsets, but the "
                        f"file says {omap.unit}; re-import with --offsets {other.unit}",
                    )
                )
                return None
        except OffsetError:
            pass
    if first_err:
        problems.append((tid, f"region [{s}, {e}): {first_err}"))
    elif a >= b:
        problems.append((tid, f"empty or reversed region [{s}, {e})"))
    else:
        problems.append((tid, f"region [{s}, {e}) is {text[a:b]!r} in the text but {claimed!r} in the file"))
    return None


_CONTROLS = frozenset({"label", "category", "bound", "direction", "value", "value_max", "unit"})


def _pick_annotation(task: dict[str, Any], use_predictions: bool) -> list[dict[str, Any]] | None:
    anns = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if anns:
        # Several annotators: the most recently updated annotation wins (Label Studio keeps order).
        anns.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
        return anns[-1].get("result") or []
    if use_predictions and task.get("predictions"):
        return task["predictions"][0].get("result") or []
    return None


def _ls_regions(
    tid: str,
    task: dict[str, Any],
    text: str,
    base: int,
    omap: OffsetMap,
    use_predictions: bool,
    problems: list[tuple[str, str]],
) -> list[_Region] | None:
    result = _pick_annotation(task, use_predictions)
    if result is None:
        problems.append((tid, "no submitted annotation (unreviewed predictions are never imported as gold)"))
        return None
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in result:
        # Only our controls; relations, comments or controls of another config are not gold.
        if isinstance(item, dict) and item.get("from_name") in _CONTROLS:
            groups.setdefault(str(item.get("id")), []).append(item)
    regions = []
    for rid, items in groups.items():
        lab = [i for i in items if i.get("type") == "labels"]
        if not lab:
            problems.append((tid, f"region {rid}: attributes without a labeled span"))
            continue
        v = lab[0].get("value") or {}
        labels = v.get("labels") or []
        if len(labels) != 1 or labels[0] not in (TARGET, SENTENCE):
            problems.append((tid, f"region {rid}: labels {labels!r}; expected exactly one of {TARGET}, {SENTENCE}"))
            continue
        span = _to_raw(tid, text, base, omap, v.get("start"), v.get("end"), v.get("text"), problems)
        if span is None:
            continue
        attrs: dict[str, Any] = {}
        for i in items:
            name, val = i.get("from_name"), i.get("value") or {}
            if name in ("category", "bound", "direction"):
                ch = val.get("choices") or []
                if len(ch) != 1:
                    problems.append((tid, f"region {rid}: {name} needs exactly one choice, got {ch!r}"))
                    continue
                attrs[name] = ch[0]
            elif name in ("value", "value_max"):
                attrs[name] = val.get("number")
            elif name == "unit":
                t = val.get("text")
                t = t[0] if isinstance(t, list) and t else t
                attrs["unit"] = t.strip() if isinstance(t, str) and t.strip() else None
        regions.append(_Region(labels[0], span[0], span[1], attrs))
    return regions


def _doccano_regions(
    tid: str, line: dict[str, Any], text: str, base: int, omap: OffsetMap, problems: list[tuple[str, str]]
) -> list[_Region] | None:
    raw_labels = line.get("label")
    if raw_labels is None and isinstance(line.get("entities"), list):  # doccano's newer export
        raw_labels = [[e.get("start_offset"), e.get("end_offset"), e.get("label")] for e in line["entities"]]
    if not isinstance(raw_labels, list):
        problems.append((tid, "no label list"))
        return None
    fields = line.get("targets") or {}
    regions = []
    for item in raw_labels:
        if not (isinstance(item, (list, tuple)) and len(item) == 3 and isinstance(item[2], str)):
            problems.append((tid, f"malformed label {item!r}; expected [start, end, label]"))
            continue
        kind, _, cat = item[2].partition(SEP)
        if kind not in (TARGET, SENTENCE):
            problems.append((tid, f"label {item[2]!r}; expected TARGET|<category> or SENTENCE|<category>"))
            continue
        span = _to_raw(tid, text, base, omap, item[0], item[1], None, problems)
        if span is None:
            continue
        attrs: dict[str, Any] = {"category": cat} if cat else {}
        f = fields.get(f"{span[0]}-{span[1]}")
        if kind == TARGET and isinstance(f, dict):
            attrs.update({k: f.get(k) for k in ("value", "unit", "bound", "direction", "value_max")})
            attrs["direction"] = attrs.get("direction") or NO_DIRECTION
        regions.append(_Region(kind, span[0], span[1], attrs))
    return regions


def _target_from(
    tid: str,
    r: _Region,
    sent_cat: str,
    raw: str,
    parse_missing: bool,
    notes: list[str],
    problems: list[tuple[str, str]],
) -> Target | None:
    where = f"target [{r.start}, {r.end}) {raw[r.start : r.end]!r}"
    a = dict(r.attrs)
    if "value" not in a and parse_missing:
        try:
            from pipeline.fields.parse import parse_fields
        except ImportError:
            problems.append((tid, f"{where}: no fields and no parser available"))
            return None
        parsed = parse_fields(raw[r.start : r.end])
        a.update(
            value=parsed.value,
            unit=parsed.unit,
            bound=parsed.bound,
            direction=parsed.direction,
            value_max=parsed.value_max,
        )
        a["bound"] = a.get("bound") or "exact"
        a["direction"] = a.get("direction") or NO_DIRECTION
        a.setdefault("category", sent_cat)
        notes.append(f"task {tid}: {where}: fields filled by the parser (new or moved span); check them")
        a["_parsed"] = True
    cat = a.get("category") or sent_cat  # GUIDELINES 3: a target's category is usually its sentence's
    errs = []
    if cat not in CATEGORY2ID:
        errs.append(f"unknown category {cat!r}")
    bound = a.get("bound") or "exact"
    if bound not in BOUNDS:
        errs.append(f"unknown bound {bound!r}")
    direction = a.get("direction", NO_DIRECTION)
    if direction not in ("up", "down", NO_DIRECTION, None):
        errs.append(f"unknown direction {direction!r}")
    value, vmax = a.get("value"), a.get("value_max")
    if value is None:
        errs.append("no value (every target has a number; 0 for 清零/零新增)")
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        errs.append(f"value must be a number, got {value!r}")
    if vmax is not None:
        if isinstance(vmax, bool) or not isinstance(vmax, (int, float)):
            errs.append(f"value_max must be a number, got {vmax!r}")
        elif isinstance(value, (int, float)) and not vmax > value:
            errs.append(f"value_max {vmax} must exceed value {value}")
    unit = a.get("unit")
    if unit is not None and not isinstance(unit, str):
        errs.append(f"unit must be text, got {unit!r}")
    if errs:
        problems.extend((tid, f"{where}: {e}") for e in errs)
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(vmax, float) and vmax.is_integer():
        vmax = int(vmax)
    return Target(
        start=r.start,
        end=r.end,
        text=raw[r.start : r.end],
        category=cat,
        value=value,
        unit=unit,
        bound=bound,
        direction=None if direction in (NO_DIRECTION, None) else direction,
        value_max=vmax,
        extra={"fields_source": "parser"} if a.get("_parsed") else {},
    )


def import_tasks(
    tasks: list[dict[str, Any]],
    docs: dict[str, DocSource],
    fmt: Literal["labelstudio", "doccano"] = "labelstudio",
    *,
    offset_unit: OffsetUnit | None = None,
    use_predictions: bool = False,
) -> ImportResult:
    """Annotated tasks → gold sentence records per document. Raises AnnotationImportError.

    ``offset_unit`` overrides the convention recorded in the file. ``use_predictions`` accepts
    a task's first prediction when it has no annotation (never the default: gold is reviewed).
    """
    problems: list[tuple[str, str]] = []
    notes: list[str] = []
    segs: dict[str, Segmentation] = {}
    out: dict[str, dict[int, SentenceRecord]] = {}
    owner: dict[tuple[str, int], str] = {}
    for k, task in enumerate(tasks):
        if not isinstance(task, dict):
            problems.append((f"#{k + 1}", "a task must be a JSON object"))
            continue
        tid = _task_id(task, k)
        data = task.get("data", task) if fmt == "labelstudio" else task
        checked = _check_data(tid, data, docs, offset_unit, problems)
        if checked is None:
            continue
        doc, base, end, unit = checked
        text = doc.text[base:end]
        omap = OffsetMap(text, unit)
        if fmt == "labelstudio":
            regions = _ls_regions(tid, task, text, base, omap, use_predictions, problems)
        else:
            regions = _doccano_regions(tid, task, text, base, omap, problems)
        if regions is None:
            continue
        seg = segs.get(doc.doc_id) or segs.setdefault(doc.doc_id, segment(doc.text))
        in_task = [s for s in seg.sentences if base <= s.start and s.end <= end]
        sent_cat: dict[int, str] = {}
        flagged: set[int] = set()
        by_span = {(s.start, s.end): s for s in in_task}
        for r in regions:
            if r.label != SENTENCE:
                continue
            s = by_span.get((r.start, r.end))
            if s is None:
                problems.append(
                    (
                        tid,
                        f"SENTENCE region [{r.start}, {r.end}) is not a sentence of {doc.doc_id}; "
                        "sentence regions must not be moved",
                    )
                )
                continue
            cat = r.attrs.get("category")
            if cat not in CATEGORY2ID:
                problems.append((tid, f"sentence {s.sent_id} {s.text[:20]!r}…: category {cat!r} missing or unknown"))
                flagged.add(s.sent_id)
                continue
            if s.sent_id in sent_cat:
                problems.append((tid, f"sentence {s.sent_id} has two SENTENCE regions"))
            sent_cat[s.sent_id] = cat
        for s in in_task:
            if s.sent_id not in sent_cat and s.sent_id not in flagged:
                problems.append(
                    (tid, f"sentence {s.sent_id} {s.text[:20]!r}…: no category (its SENTENCE region is missing)")
                )
        targets: dict[int, list[Target]] = {s.sent_id: [] for s in in_task}
        for r in regions:
            if r.label != TARGET:
                continue
            home = [s for s in in_task if s.start <= r.start and r.end <= s.end]
            if not home:
                problems.append(
                    (
                        tid,
                        f"target [{r.start}, {r.end}) {doc.text[r.start : r.end]!r} does not lie inside "
                        "one sentence (furniture, or across a sentence end)",
                    )
                )
                continue
            s = home[0]
            t = _target_from(tid, r, sent_cat.get(s.sent_id, "综合"), doc.text, fmt == "doccano", notes, problems)
            if t is not None:
                targets[s.sent_id].append(t)
        for s in in_task:
            if s.sent_id not in sent_cat:
                continue
            ts = sorted(targets[s.sent_id], key=lambda t: (t.start, t.end))
            for t1, t2 in zip(ts, ts[1:]):
                if t2.start < t1.end:
                    problems.append((tid, f"targets {t1.text!r} and {t2.text!r} overlap (GUIDELINES 2.2)"))
            key = (doc.doc_id, s.sent_id)
            if key in owner:
                problems.append((tid, f"sentence {s.sent_id} of {doc.doc_id} also annotated in task {owner[key]}"))
                continue
            owner[key] = tid
            out.setdefault(doc.doc_id, {})[s.sent_id] = SentenceRecord(
                doc_id=doc.doc_id,
                sent_id=s.sent_id,
                start=s.start,
                end=s.end,
                text=s.text,
                category=sent_cat[s.sent_id],
                targets=ts,
            )
    records = {d: [recs[i] for i in sorted(recs)] for d, recs in out.items()}
    for d, recs in records.items():
        lines = [(i + 1, r.to_json()) for i, r in enumerate(recs)]
        for p in validate_records(lines, docs[d].text, d):
            problems.append((owner.get((d, recs[p.line - 1].sent_id), "?"), f"{d}: {p.message}"))
    if problems:
        raise AnnotationImportError(problems)
    return ImportResult(records, notes)


# --------------------------------------------------------------------------- files


def load_tasks(path: str | Path, fmt: str) -> list[dict[str, Any]]:
    """Read a Label Studio JSON export (a list of tasks) or a doccano JSONL file."""
    p = Path(path)
    content = p.read_text(encoding="utf-8")
    if fmt == "labelstudio":
        try:
            obj = json.loads(content)
        except json.JSONDecodeError as e:
            raise AnnotationImportError([("-", f"{p}: malformed JSON ({e.msg} at line {e.lineno})")]) from e
        if isinstance(obj, dict) and "tasks" in obj:
            obj = obj["tasks"]
        if not isinstance(obj, list):
            raise AnnotationImportError([("-", f"{p}: expected a JSON list of tasks")])
        return obj
    out = []
    for i, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise AnnotationImportError([(f"line {i}", f"{p}: malformed JSON ({e.msg})")]) from e
    return out


def dumps_tasks(tasks: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "labelstudio":
        return json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    return "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks)


# --------------------------------------------------------------------------- writing gold


@dataclass
class GoldWrite:
    """One planned output: a gold file (and for inline gold, the raw copy it needs)."""

    doc_id: str
    path: Path
    content: str
    raw_copy: tuple[Path, bytes] | None = None
    n_new: int = 0
    n_kept: int = 0


def _existing_records(path: Path, raw: str) -> list[dict[str, Any]]:
    """Records of an existing gold file (inline or standoff), validated against ``raw``."""
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    if lines and lines[0].get("standoff"):
        lines = lines[1:]
    problems = validate_records(list(enumerate(lines, 1)), raw, str(path))
    if problems:
        raise AnnotationImportError([("-", f"existing gold file: {p}") for p in problems])
    return lines


def plan_gold_writes(
    result: ImportResult,
    docs: dict[str, DocSource],
    out: str | Path,
    *,
    standoff: bool = False,
    merge: bool = True,
    raw_bytes: dict[str, bytes] | None = None,
) -> list[GoldWrite]:
    """Decide every file to write without touching the disk (all or nothing).

    ``out`` is a ``.jsonl`` file (one document) or a folder (``<out>/<doc_id>.jsonl``). Inline
    gold needs its raw text at ``<gold file>/../../raw/<doc_id>.txt`` (where
    ``pipeline.annotation.gold.load_gold_file`` looks): it is copied there from ``raw_bytes``, and an
    existing different file is an error. Standoff gold starts with the header of
    ``pipeline.annotation.gold`` and carries no text. With ``merge``, sentences of an existing gold file
    that the import does not cover are kept; imported sentences replace theirs.
    """
    out = Path(out)
    if out.suffix == ".jsonl" and len(result.records) > 1:
        raise AnnotationImportError([("-", f"{len(result.records)} documents imported; --out must be a folder")])
    problems: list[tuple[str, str]] = []
    plans: list[GoldWrite] = []
    for doc_id, recs in sorted(result.records.items()):
        doc = docs[doc_id]
        path = out if out.suffix == ".jsonl" else out / f"{doc_id}.jsonl"
        seg_parts = {s.sent_id: s.part for s in segment(doc.text).sentences}
        new = []
        for r in recs:
            d = r.to_json()
            d.setdefault("part", seg_parts.get(r.sent_id, "other"))
            new.append(d)
        kept: list[dict[str, Any]] = []
        if merge and path.exists():
            try:
                old = _existing_records(path, doc.text)
            except (AnnotationImportError, json.JSONDecodeError, AttributeError) as e:
                problems.append(("-", f"{path}: cannot merge with the existing file ({e})"))
                continue
            covered = [(d["start"], d["end"]) for d in new]
            kept = [o for o in old if not any(o["start"] < e and s < o["end"] for s, e in covered)]
        merged = sorted(kept + new, key=lambda d: (d["start"], d["end"]))
        problems += [
            ("-", f"{path}: {p.message} (after merging)")
            for p in validate_records(list(enumerate(merged, 1)), doc.text, str(path))
        ]
        header: list[dict[str, Any]] = []
        raw_copy = None
        if standoff:
            if not doc.source or not doc.sha256:
                problems.append(("-", f"{doc_id}: standoff gold needs the source file name and sha256"))
                continue
            header = [
                {
                    "standoff": True,
                    "doc_id": doc_id,
                    "source": doc.source,
                    "sha256": doc.sha256,
                    "guidelines": _guidelines_version(),
                }
            ]
            merged = [_strip_text(d) for d in merged]
        else:
            from pipeline.annotation.gold import raw_candidates

            data = (raw_bytes or {}).get(doc_id)
            if data is None:
                data = doc.text.encode("utf-8")
            # The raw text goes inside the chosen folder (<out>/raw/), unless the loader already
            # finds it, identical, where it looks (the project's data/raw next to data/gold).
            found = next((c for c in raw_candidates(path.parent, doc_id) if c.exists()), None)
            if found is not None:
                if found.read_bytes() != data:
                    problems.append(
                        (
                            "-",
                            f"{found} exists with different content; refusing to overwrite the raw "
                            "text gold offsets point into",
                        )
                    )
                    continue
            else:
                raw_copy = (raw_candidates(path.parent, doc_id)[0], data)
        content = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in header + merged)
        plans.append(GoldWrite(doc_id, path, content, raw_copy, len(new), len(kept)))
    if problems:
        raise AnnotationImportError(problems)
    return plans


def _strip_text(d: dict[str, Any]) -> dict[str, Any]:
    d = {k: v for k, v in d.items() if k != "text"}
    d["targets"] = [{k: v for k, v in t.items() if k != "text"} for t in d.get("targets", [])]
    return d


def _guidelines_version() -> str:
    from pipeline.schema import GUIDELINES_VERSION

    return GUIDELINES_VERSION


def apply_gold_writes(plans: list[GoldWrite]) -> None:
    """Write planned files: raw copies first, then gold files, each atomically."""
    from pipeline.io import atomic_write_bytes, atomic_write_text

    for p in plans:
        if p.raw_copy is not None:
            atomic_write_bytes(p.raw_copy[0], p.raw_copy[1])
    for p in plans:
        atomic_write_text(p.path, p.content)
