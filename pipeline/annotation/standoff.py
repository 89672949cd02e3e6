"""The one annotation-spec builder: a hand-written spec → gold JSONL, inline or standoff (and back).

Every gold file of the project is written from a *spec*: a JSON file that holds the annotator's
reading of one report, keyed by text so that it survives changes of the segmenter. Two kinds of
gold come out of the one format (``pipeline/annotation/gold.py``):

* **standoff** (the default; ``data/gold/standoff/<doc>.jsonl``): a header line and records with
  offsets, labels and ``part`` but no text, for corpus reports the project may not commit;
* **inline** (``"inline": true``; the seed, ``data/gold/yuzhong-2024.jsonl``): no header, records
  and targets carry their text (GUIDELINES section 4), for a report whose raw text is committed
  (``data/raw``). Its spec may be committed too: ``data/gold/specs/yuzhong-2024.spec.json``.

.. code-block:: json

    {"source": "2022_baoding_gaoyang_county.txt",
     "sentences": [
       {"prefix": "报告人", "part": "other", "category": "综合"},
       {"prefix": "2022年经济社会发展主要预期目标", "part": "plan", "category": "综合",
        "targets": [{"text": "地区生产总值增长6.5%以上", "value": 6.5, "unit": "%",
                     "bound": "at_least", "direction": "up"}],
        "exclusions": [{"phrase": "“三大”", "reason": "name"}]}]}

* ``sentences`` lists every kept sentence of ``segment(read_report(source).text)`` in order;
  ``prefix`` must start the sentence. A missing, extra or mismatched sentence is an error,
  never a guess (an entry of a sentence that is now furniture is dropped with a note).
* ``part`` is the annotator's truth (``review``/``plan``/``other``); a top-level ``part`` is the
  default of every sentence (the seed: plan throughout). Standoff records carry it as ``part``
  (it may differ from the segmenter's, ``seg_part`` is reported); inline records do not.
* Targets are found with ``str.find`` inside the sentence, each searched from the end of the
  previous one (list them in text order); ``category`` defaults to the sentence's.
  ``value``/``unit``/``bound``/``direction`` are required, ``value_max`` only for ranges.
  ``free`` allows a span that is not a whole clause, ``repeated_ok`` a span whose text occurs
  again later in the sentence.
* ``exclusions`` (optional) give the numbers audit's reason (``pipeline.annotation.audit``)
  for every number token inside ``phrase`` (all its occurrences in the sentence);
  ``audit_decisions`` turns them, with the targets, into one decision per number token of the
  report and fails on a token left unaccounted. The seed's audit comes from its spec this way.
* ``note`` (on a sentence, target or exclusion) is the annotator's comment; the builder ignores it.
* Standoff specs contain corpus text: keep them out of git (``data/gold/standoff/specs/``
  ignores them). ``export`` rebuilds a spec from a committed standoff file when the corpus is
  present. ``dump_spec`` writes a spec one sentence per line.

Usage::

    govtarget standoff build SPEC.json [...] --corpus ../shared/corpus --out data/gold/standoff
    govtarget standoff skeleton ../shared/corpus/X.txt > data/gold/standoff/specs/X.spec.json
    govtarget standoff export data/gold/standoff/X.jsonl --corpus ../shared/corpus > X.spec.json
    govtarget standoff rebuild data/gold/standoff/*.jsonl --corpus ../shared/corpus
    govtarget seed [--check]        # the seed: data/gold/specs/yuzhong-2024.spec.json → gold + audit
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.annotation.audit import EXCLUSION_REASONS, TARGET, Decision, context, find_number_tokens
from pipeline.annotation.gold import validate_records
from pipeline.fields.clauses import clause_boundaries
from pipeline.fields.parse import RANGE_SEP
from pipeline.records import SentenceRecord, Target
from pipeline.schema import (
    BOUNDS,
    CATEGORY2ID,
    CLAUSE_DELIMITERS,
    DIRECTIONS,
    GUIDELINES_VERSION,
    PARTS,
)
from pipeline.text.reader import read_report
from pipeline.text.segment import Segmentation, segment
from pipeline.text.textnorm import normalize

#: The repository root (the default gold and spec paths are inside a checkout).
ROOT = Path(__file__).resolve().parents[2]


class SpecError(ValueError):
    """A spec that does not fit its document; the message names the spec and the sentence."""


@dataclass(frozen=True)
class Built:
    """What ``build`` makes of one spec; ``to_jsonl`` writes it, ``audit_decisions`` audits it."""

    doc_id: str
    #: The standoff header line; written only when not ``inline``.
    header: dict[str, Any]
    #: One JSON record per kept sentence: with ``text`` (inline) or with ``part`` (standoff).
    records: list[dict[str, Any]]
    #: ``(sent_id, segmenter part, annotated part)`` where the two differ.
    part_disagreements: list[tuple[int, str, str]]
    inline: bool = False
    #: The report's text and its segmentation (for the audit).
    raw: str = ""
    segmentation: Segmentation | None = None
    #: Raw span of each excluded number token → (reason, sent_id), from the spec's ``exclusions``.
    exclusions: dict[tuple[int, int], tuple[str, int]] = field(default_factory=dict)


def _whole_clause(sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` starts and ends on clause boundaries (GUIDELINES 2.2, v1.5:
    ``fields.clauses.clause_boundaries``, the boundaries the model's spans are snapped to, with a
    coordinator's figure looked for in its whole clause)."""
    starts, ends = _clause_boundaries(sentence)
    return start in starts and end in ends


@functools.lru_cache(maxsize=64)
def _clause_boundaries(sentence: str) -> tuple[frozenset[int], frozenset[int]]:
    """The builder's boundaries of one sentence, once for all its targets."""
    starts, ends = clause_boundaries(sentence, coordination="clause")
    return frozenset(starts), frozenset(ends)


def _fmt_number(v: float | int) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _check_fields(t: dict[str, Any], span: str, where: str) -> list[str]:
    """Consistency checks that catch typos in a hand-written target (not a normaliser)."""
    errs = []
    for key in ("value", "unit", "bound", "direction"):
        if key not in t:
            errs.append(f"{where}: target {span!r} lacks {key!r}")
    if errs:
        return errs
    if t["bound"] not in BOUNDS:
        errs.append(f"{where}: target {span!r}: unknown bound {t['bound']!r}")
    if t["direction"] not in DIRECTIONS:
        errs.append(f"{where}: target {span!r}: unknown direction {t['direction']!r}")
    v = t["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        errs.append(f"{where}: target {span!r}: value must be a number, got {v!r}")
        return errs
    ascii_span = normalize(span)
    if any(c.isdigit() for c in ascii_span) and v != 0:
        # An Arabic-numeral target must show its value (and unit right after it) in the span.
        num = _fmt_number(v)
        unit = normalize(t["unit"] or "")
        n, u = re.escape(num), re.escape(unit)
        shown = [f"{n}多?{u}"]  # 3500多个: 多 (more than) sits between
        if "value_max" in t and isinstance(t["value_max"], (int, float)):
            # A range as the number parser reads one (``fields.parse.RANGE_SEP``: 1—2家, 5%-6%, 2至3个).
            top = re.escape(_fmt_number(t["value_max"]))
            shown.append(f"{n}(?:{u})?(?:{RANGE_SEP.pattern}){top}{u}")
        if not any(re.search(x, ascii_span) for x in shown):
            errs.append(f"{where}: target {span!r}: value {num!r} with unit {unit!r} not found in the span")
    if "value_max" in t:
        if t["bound"] != "at_least":
            errs.append(f"{where}: target {span!r}: a range has bound 'at_least' (GUIDELINES 2.3)")
        if not isinstance(t["value_max"], (int, float)) or t["value_max"] <= v:
            errs.append(f"{where}: target {span!r}: value_max must be a number above value")
    return errs


def _align(spec: list[dict[str, Any]], seg: Segmentation, name: str) -> list[dict[str, Any]]:
    """The spec entry of each kept sentence, in order.

    A spec entry whose sentence the segmenter now skips as furniture is dropped (an annotation
    of furniture has nothing to say); any other mismatch is an error naming the place.
    """
    skipped = [s.text for s in seg.skipped]
    out: list[dict[str, Any]] = []
    i = 0
    for s in seg.sentences:
        while i < len(spec):
            prefix = spec[i].get("prefix")
            if not isinstance(prefix, str) or not prefix:
                raise SpecError(f"{name}: spec sentence {i} has no prefix")
            if s.text.startswith(prefix):
                break
            if any(prefix in t for t in skipped) and not spec[i].get("targets"):
                print(f"note: {name}: {prefix!r} is furniture now; its spec entry is dropped", file=sys.stderr)
                i += 1
                continue
            raise SpecError(f"{name}: sent_id {s.sent_id} {s.text[:30]!r} does not start with spec prefix {prefix!r}")
        else:
            raise SpecError(f"{name}: no spec entry for sent_id {s.sent_id} {s.text[:30]!r}")
        out.append(spec[i])
        i += 1
    while i < len(spec):  # trailing entries of what the segmenter now skips (a related-links stub)
        prefix = spec[i].get("prefix")
        if isinstance(prefix, str) and prefix and any(prefix in t for t in skipped) and not spec[i].get("targets"):
            print(f"note: {name}: {prefix!r} is furniture now; its spec entry is dropped", file=sys.stderr)
            i += 1
            continue
        raise SpecError(f"{name}: spec entries left over from {prefix!r} on")
    return out


def build(spec: dict[str, Any], corpus_dir: Path, name: str = "<spec>") -> Built:
    """Build the gold records of one spec (inline or standoff, see the module docstring).

    ``corpus_dir`` holds the spec's ``source``. Raises SpecError naming the spec and the
    sentence on any mismatch; every span satisfies ``raw[start:end] == text``.
    """
    source = spec.get("source")
    if not isinstance(source, str):
        raise SpecError(f"{name}: spec lacks 'source'")
    path = corpus_dir / source
    if not path.exists():
        raise SpecError(f"{name}: source {path} not found")
    report = read_report(path)
    raw = report.text
    doc_id = spec.get("doc_id", path.stem)
    inline = spec.get("inline", False)
    if not isinstance(inline, bool):
        raise SpecError(f"{name}: 'inline' must be true or false, got {inline!r}")
    default_part = spec.get("part")
    seg = segment(raw)
    sents = seg.sentences
    if not isinstance(spec.get("sentences"), list):
        raise SpecError(f"{name}: spec lacks a 'sentences' list")
    entries = _align(spec["sentences"], seg, name)

    records: list[dict[str, Any]] = []
    errors: list[str] = []
    disagreements: list[tuple[int, str, str]] = []
    exclusions: dict[tuple[int, int], tuple[str, int]] = {}
    for entry, s in zip(entries, sents):
        where = f"{name}: sent_id {s.sent_id} ({entry['prefix']!r})"
        cat = entry.get("category")
        if cat not in CATEGORY2ID:
            errors.append(f"{where}: unknown or missing category {cat!r}")
        part = entry.get("part", default_part)
        if part not in PARTS:
            errors.append(f"{where}: unknown or missing part {part!r}")
        elif part != s.part:
            disagreements.append((s.sent_id, s.part, part))
        targets = []
        cursor = 0
        for t in entry.get("targets", []):
            span = t.get("text")
            if not isinstance(span, str) or not span:
                errors.append(f"{where}: target without text")
                continue
            k = s.text.find(span, cursor)
            if k < 0:
                errors.append(f"{where}: target {span!r} not found after offset {cursor} of the sentence")
                continue
            if s.text.find(span, k + 1) >= 0 and not t.get("repeated_ok"):
                # A later copy exists: the order-based search picked the first; say so loudly.
                errors.append(f"{where}: target {span!r} occurs again later; list targets in order and set repeated_ok")
            if not t.get("free") and not _whole_clause(s.text, k, k + len(span)):
                errors.append(f"{where}: target {span!r} is not a whole clause (GUIDELINES 2.2); set free if meant")
            if span[-1] in CLAUSE_DELIMITERS or span[-1] in "、":
                errors.append(f"{where}: target {span!r} ends in punctuation")
            errors.extend(_check_fields(t, span, where))
            tcat = t.get("category", cat)
            if tcat not in CATEGORY2ID:
                errors.append(f"{where}: target {span!r}: unknown category {tcat!r}")
            start = s.start + k
            rec_t: dict[str, Any] = {
                "start": start,
                "end": start + len(span),
                "category": tcat,
                "value": t.get("value"),
                "unit": "%" if t.get("unit") == "％" else t.get("unit"),  # GUIDELINES 2.3: `%` for percent
                "bound": t.get("bound", "exact"),
                "direction": t.get("direction"),
            }
            if "value_max" in t:
                rec_t["value_max"] = t["value_max"]
            assert raw[rec_t["start"] : rec_t["end"]] == span  # offsets are sacred
            targets.append(rec_t)
            cursor = k + len(span)
        if targets and part != "plan":
            errors.append(f"{where}: targets in a {part!r} sentence; only plan sentences hold targets")
        errors.extend(_exclusions(entry, s.text, s.start, s.sent_id, raw, where, exclusions))
        if inline:
            records.append(_inline_record(doc_id, s.sent_id, s.start, s.end, cat, targets, raw))
        else:
            records.append(
                {
                    "doc_id": doc_id,
                    "sent_id": s.sent_id,
                    "start": s.start,
                    "end": s.end,
                    "category": cat,
                    "part": part,
                    "targets": targets,
                }
            )
    if errors:
        raise SpecError(f"{len(errors)} problem(s):\n  " + "\n  ".join(errors))
    problems = validate_records(list(enumerate(records, 1 if inline else 2)), raw, name)
    if problems:
        raise SpecError("\n  ".join(str(p) for p in problems))
    header = {
        "standoff": True,
        "doc_id": doc_id,
        "source": source,
        "sha256": report.sha256,
        "guidelines": GUIDELINES_VERSION,
    }
    return Built(doc_id, header, records, disagreements, inline, raw, seg, exclusions)


def _inline_record(
    doc_id: str, sent_id: int, start: int, end: int, cat: Any, targets: list[dict[str, Any]], raw: str
) -> dict[str, Any]:
    """An inline record (GUIDELINES section 4): the standoff fields plus the texts, no ``part``."""
    ts = [
        Target(
            t["start"],
            t["end"],
            raw[t["start"] : t["end"]],
            t["category"],
            t["value"],
            t["unit"],
            t["bound"],
            t["direction"],
            t.get("value_max"),
        )
        for t in targets
    ]
    return SentenceRecord(doc_id, sent_id, start, end, raw[start:end], cat, ts).to_json()


def _exclusions(
    entry: dict[str, Any],
    text: str,
    offset: int,
    sent_id: int,
    raw: str,
    where: str,
    out: dict[tuple[int, int], tuple[str, int]],
) -> list[str]:
    """Resolve a sentence's ``exclusions`` into ``out`` (token span → reason); the problems found."""
    errs = []
    for x in entry.get("exclusions", []):
        phrase, reason = x.get("phrase"), x.get("reason")
        if reason not in EXCLUSION_REASONS:
            errs.append(f"{where}: exclusion {phrase!r}: unknown reason {reason!r}")
            continue
        if not isinstance(phrase, str) or not phrase:
            errs.append(f"{where}: exclusion without phrase")
            continue
        n = 0
        k = text.find(phrase)
        if k < 0:
            errs.append(f"{where}: exclusion phrase {phrase!r} not found")
            continue
        while k >= 0:
            for tok in find_number_tokens(raw, offset + k, offset + k + len(phrase)):
                out[(tok.start, tok.end)] = (reason, sent_id)
                n += 1
            k = text.find(phrase, k + 1)
        if n == 0:
            errs.append(f"{where}: exclusion phrase {phrase!r} holds no number token")
    return errs


def audit_decisions(built: Built) -> list[Decision]:
    """One audit decision per number token of the report (``pipeline.annotation.audit``).

    A token in furniture is ``furniture``; one inside a target is ``target`` (with the target's
    offsets); one inside an exclusion phrase takes its reason. Raises SpecError when a token is
    both inside a target and excluded, or has no decision at all.
    """
    seg = built.segmentation
    if seg is None:
        raise SpecError(f"{built.doc_id}: no segmentation to audit")
    raw = built.raw
    owner: dict[int, int] = {}
    for sg in seg.segments:
        for i in range(sg.start, sg.end):
            owner[i] = sg.sent_id
    spans = [(t["start"], t["end"]) for r in built.records for t in r["targets"]]
    out: list[Decision] = []
    unaccounted = []
    for tok in find_number_tokens(raw):
        sid = owner.get(tok.start, -1)
        ctx = context(raw, tok.start, tok.end)
        inside = [(a, b) for a, b in spans if a <= tok.start and tok.end <= b]
        key = (tok.start, tok.end)
        if sid < 0:
            out.append(Decision(tok.start, tok.end, tok.token, -1, "furniture", context=ctx))
        elif inside:
            if key in built.exclusions:
                raise SpecError(f"{tok.start}:{tok.end} {tok.token!r} is both inside a target and excluded: {ctx}")
            a, b = inside[0]
            out.append(Decision(tok.start, tok.end, tok.token, sid, TARGET, a, b, ctx))
        elif key in built.exclusions:
            out.append(Decision(tok.start, tok.end, tok.token, sid, built.exclusions[key][0], context=ctx))
        else:
            unaccounted.append(f"sent_id {sid} {tok.start}:{tok.end} {tok.token!r} {ctx}")
    if unaccounted:
        raise SpecError(f"{built.doc_id}: number tokens with no decision:\n  " + "\n  ".join(unaccounted))
    return out


def to_jsonl(built: Built) -> str:
    """The gold file's text: the header line (standoff only), then one record per line."""
    lines = built.records if built.inline else [built.header, *built.records]
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)


def load_spec(path: Path) -> dict[str, Any]:
    """A spec file's JSON object; SpecError naming the file (and line) when it is not one."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SpecError(f"{path}:{e.lineno}: not JSON: {e.msg}") from e
    if not isinstance(spec, dict):
        raise SpecError(f"{path}: a spec is a JSON object")
    return spec


def dump_spec(spec: dict[str, Any]) -> str:
    """A spec as JSON text, one sentence entry per line (diffs show one sentence per change)."""
    head = {k: v for k, v in spec.items() if k != "sentences"}
    lines = [json.dumps(e, ensure_ascii=False) for e in spec.get("sentences", [])]
    body = ",\n".join(lines)
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "sentences": [\n' + body + "\n]}\n"


def export(standoff: Path, corpus_dir: Path) -> dict[str, Any]:
    """Rebuild a spec (with corpus text) from a standoff file; the inverse of ``build``."""
    from pipeline.annotation.gold import load_gold_file

    header = json.loads(standoff.read_text(encoding="utf-8").splitlines()[0])
    doc = load_gold_file(standoff, corpus_dir=corpus_dir)
    out: dict[str, Any] = {"source": header["source"], "doc_id": doc.doc_id, "sentences": []}
    for s in doc.sentences:
        entry: dict[str, Any] = {"prefix": s.text[:20], "part": s.extra.get("part"), "category": s.category}
        ts = []
        for t in s.targets:
            d: dict[str, Any] = {"text": t.text, "value": t.value, "unit": t.unit, "bound": t.bound}
            d["direction"] = t.direction
            if t.value_max is not None:
                d["value_max"] = t.value_max
            if t.category != s.category:
                d["category"] = t.category
            k = t.start - s.start
            if not _whole_clause(s.text, k, k + len(t.text)):
                d["free"] = True
            if s.text.find(t.text, t.end - s.start) >= 0:
                d["repeated_ok"] = True
            ts.append(d)
        if ts:
            entry["targets"] = ts
        out["sentences"].append(entry)
    return out


def skeleton(path: Path) -> dict[str, Any]:
    """A spec to fill in: every kept sentence with the segmenter's part and no category yet."""
    sents = segment(read_report(path).text).sentences
    return {
        "source": path.name,
        "sentences": [{"prefix": s.text[:20], "part": s.part, "category": None} for s in sents],
    }
