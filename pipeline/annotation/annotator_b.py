"""Annotator B: an independent second annotation of the seed report, and its agreement with the gold.

Quality control for issue 7. The spec (``data/agreement/yuzhong-2024.annotator-b.spec.json``,
Python in this module until 2026-12-01) was written BLIND (without reading the project's gold,
its spec, its audit or its decision log), sentence by sentence, under the shared
GUIDELINES.md version 1.4. Each entry is keyed by a prefix of its sentence text and lists its
targets as exact strings; offsets are computed here (``str.find``, failing loudly), so every span
points into the raw text. The spec is frozen as the blind annotation: adjudication happens in the
gold spec (``data/gold/specs/yuzhong-2024.spec.json``), never here, so the agreement figures in
``data/agreement/README.md`` stay the honest inter-annotator ones.

    govtarget annotator-b                 # write data/agreement/yuzhong-2024.annotator-b.jsonl
    govtarget annotator-b --check         # the file is up to date and valid
    govtarget annotator-b --agree data/gold/yuzhong-2024.jsonl [--json out.json]

(formerly ``scripts/annotate_seed_b.py``; the command is ``pipeline.cli.annotator_b``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.records import GoldDocument, SentenceRecord, Target
from pipeline.schema import CATEGORY2ID, CLAUSE_DELIMITERS, HEDGE_ZHENGQU_BEFORE, HEDGES

#: The repository root (the raw seed, the output and the shared guidelines are beside it in a checkout).
ROOT = Path(__file__).resolve().parents[2]

DOC_ID = "yuzhong-2024"
RAW = ROOT / "data" / "raw" / f"{DOC_ID}.txt"
OUT = ROOT / "data" / "agreement" / f"{DOC_ID}.annotator-b.jsonl"
SHARED_GUIDELINES = ROOT.parent / "shared" / "annotation" / "GUIDELINES.md"


@dataclass(frozen=True)
class T:
    """One target as annotator B wrote it: exact text and fields; ``category`` None = the sentence's."""

    text: str
    value: float | int | None
    unit: str | None
    bound: str = "exact"
    direction: str | None = None
    category: str | None = None
    value_max: float | int | None = None


@dataclass(frozen=True)
class S:
    """One kept sentence: a prefix of its text, its category and its targets, in document order."""

    prefix: str
    category: str
    targets: tuple[T, ...] = ()


def s(prefix: str, category: str, *targets: T) -> S:
    return S(prefix, category, tuple(targets))


#: The blind annotation, one entry per kept sentence of ``pipeline.text.segment.segment(raw)``, in
#: order, in the one spec format (``standoff.dump_spec``; B's comments are the entries' notes).
SPEC_FILE = ROOT / "data" / "agreement" / f"{DOC_ID}.annotator-b.spec.json"


def load_spec(path: Path = SPEC_FILE) -> tuple[S, ...]:
    """Annotator B's spec file as ``S``/``T`` entries (only the fields B's builder reads)."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        s(
            e["prefix"],
            e["category"],
            *(
                T(
                    t["text"],
                    t["value"],
                    t["unit"],
                    t.get("bound", "exact"),
                    t.get("direction"),
                    t.get("category"),
                    t.get("value_max"),
                )
                for t in e.get("targets", [])
            ),
        )
        for e in spec["sentences"]
    )


_BEFORE_OK = set(CLAUSE_DELIMITERS) | {"、"}


class SpecError(ValueError):
    """The spec does not fit the text or breaks a mechanical span rule; the message names the sentence."""


def lint_span(sentence: str, start: int, end: int) -> list[str]:
    """Mechanical GUIDELINES 2.2 checks on a span at ``sentence[start:end]``; empty when clean.

    The span must start at a clause start (sentence start, a delimiter or ``、``, possibly after a
    stripped hedge), must not start with a hedge, must end at a clause end or ``、``, and must not
    hold a clause delimiter or trailing punctuation.
    """
    errs: list[str] = []
    span = sentence[start:end]
    for h in HEDGES:
        if span.startswith(h):
            errs.append(f"starts with hedge {h!r}")
    if span.startswith("争取") and span[2:4] in HEDGE_ZHENGQU_BEFORE:
        errs.append("starts with hedge 争取")
    if any(c in CLAUSE_DELIMITERS for c in span):
        errs.append("holds a clause delimiter")
    head = sentence[:start]
    for h in (*HEDGES, "争取"):
        if head.endswith(h):
            head = head[: -len(h)]
            break
    if head and head[-1] not in _BEFORE_OK:
        errs.append(f"does not start a clause (preceded by {head[-1]!r})")
    if end < len(sentence) and sentence[end] not in _BEFORE_OK:
        errs.append(f"does not end a clause (followed by {sentence[end]!r})")
    return errs


def build_records(raw: str, spec: tuple[S, ...] | None = None) -> list[SentenceRecord]:
    """The spec (default: ``SPEC_FILE``) as gold records over ``raw``. Raises SpecError on any
    mismatch (never skips)."""
    from pipeline.text.segment import segment

    spec = load_spec() if spec is None else spec
    sents = segment(raw).sentences
    if len(sents) != len(spec):
        raise SpecError(f"spec has {len(spec)} entries, the segmenter keeps {len(sents)} sentences")
    records: list[SentenceRecord] = []
    for sent, entry in zip(sents, spec):
        where = f"sentence {sent.sent_id} {sent.text[:20]!r}"
        if not sent.text.startswith(entry.prefix):
            raise SpecError(f"{where}: spec prefix {entry.prefix!r} does not match")
        if entry.category not in CATEGORY2ID:
            raise SpecError(f"{where}: unknown category {entry.category!r}")
        targets: list[Target] = []
        for t in entry.targets:
            i = sent.text.find(t.text)
            if i < 0:
                raise SpecError(f"{where}: target {t.text!r} not found")
            if sent.text.find(t.text, i + 1) >= 0:
                raise SpecError(f"{where}: target {t.text!r} occurs twice; lengthen it")
            problems = lint_span(sent.text, i, i + len(t.text))
            if problems:
                raise SpecError(f"{where}: target {t.text!r}: {'; '.join(problems)}")
            cat = t.category or entry.category
            if cat not in CATEGORY2ID:
                raise SpecError(f"{where}: target {t.text!r}: unknown category {cat!r}")
            start = sent.start + i
            assert raw[start : start + len(t.text)] == t.text
            targets.append(
                Target(start, start + len(t.text), t.text, cat, t.value, t.unit, t.bound, t.direction, t.value_max)
            )
        targets.sort(key=lambda x: x.start)
        records.append(SentenceRecord(DOC_ID, sent.sent_id, sent.start, sent.end, sent.text, entry.category, targets))
    return records


def render(records: list[SentenceRecord]) -> str:
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)


def _doc(records: list[SentenceRecord], raw: str) -> GoldDocument:
    return GoldDocument(DOC_ID, raw, records, source=str(RAW))


def disagreements(gold: GoldDocument, other: GoldDocument) -> list[dict[str, Any]]:
    """Every difference between two annotations of one report, one dict per case, in text order.

    Kinds: ``sentence_category``; ``boundary`` (overlapping spans that differ); ``gold_only`` /
    ``b_only`` (a span with no overlapping partner); ``field`` (same span, a field differs; one
    entry per field: category, value, unit, bound, direction, value_max).
    """
    by_start = {r.start: r for r in other.sentences}
    out: list[dict[str, Any]] = []
    for g in gold.sentences:
        b = by_start.get(g.start)
        if b is None or b.end != g.end:
            out.append({"kind": "sentence_mismatch", "sent_id": g.sent_id, "text": g.text})
            continue
        if g.category != b.category:
            out.append(
                {"kind": "sentence_category", "sent_id": g.sent_id, "text": g.text, "gold": g.category, "b": b.category}
            )
        used: set[int] = set()
        for gt in g.targets:
            partners = [j for j, bt in enumerate(b.targets) if bt.start < gt.end and gt.start < bt.end]
            if not partners:
                out.append({"kind": "gold_only", "sent_id": g.sent_id, "gold": gt.text, "b": None})
                continue
            used.update(partners)
            same = [j for j in partners if (b.targets[j].start, b.targets[j].end) == (gt.start, gt.end)]
            if not same:
                out.append(
                    {
                        "kind": "boundary",
                        "sent_id": g.sent_id,
                        "gold": gt.text,
                        "b": " | ".join(b.targets[j].text for j in partners),
                    }
                )
            bt = b.targets[same[0]] if same else b.targets[partners[0]] if len(partners) == 1 else None
            if bt is None:
                continue
            for f in ("category", "value", "unit", "bound", "direction", "value_max"):
                gv, bv = getattr(gt, f), getattr(bt, f)
                if gv != bv and not (
                    isinstance(gv, (int, float)) and isinstance(bv, (int, float)) and float(gv) == float(bv)
                ):
                    out.append(
                        {
                            "kind": "field",
                            "field": f,
                            "sent_id": g.sent_id,
                            "gold_span": gt.text,
                            "b_span": bt.text,
                            "gold": gv,
                            "b": bv,
                        }
                    )
        for j, bt in enumerate(b.targets):
            if j not in used:
                out.append({"kind": "b_only", "sent_id": g.sent_id, "gold": None, "b": bt.text})
    return out


def strict_f1(a: set[tuple[int, int]], b: set[tuple[int, int]]) -> float:
    """Span F1 under exact (start, end) match; symmetric in a and b; 1.0 when both are empty."""
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def guideline_examples(path: Path = SHARED_GUIDELINES) -> set[str]:
    """Every back-quoted string of the shared guidelines (many are verbatim seed targets)."""
    import re

    return set(re.findall(r"`([^`]+)`", path.read_text(encoding="utf-8"))) if path.exists() else set()


def agreement_report(gold: GoldDocument, other: GoldDocument, examples: set[str] | None = None) -> dict[str, Any]:
    """pipeline.evaluation.scoring.agreement's figures, strict F1 without the guidelines' own examples, all disagreements.

    The seed is the report the guidelines quote their examples from, so agreement on those
    targets is given, not earned; ``strict_f_non_examples`` leaves out every target whose text is
    a back-quoted example of the shared guidelines (in either annotation).
    """
    from pipeline.evaluation.scoring import agreement

    m = agreement([gold], [other])
    metrics: dict[str, Any] = {k: v for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if "targets_strict_f_ci" in m:
        metrics["targets_strict_f_ci"] = list(m["targets_strict_f_ci"])
    ex = guideline_examples() if examples is None else examples
    sa = {(t.start, t.end) for t in gold.targets() if t.text not in ex}
    sb = {(t.start, t.end) for t in other.targets() if t.text not in ex}
    metrics["targets_n_examples_a"] = sum(t.text in ex for t in gold.targets())
    metrics["targets_n_non_examples_a"] = len(sa)
    metrics["targets_n_non_examples_b"] = len(sb)
    metrics["targets_strict_f_non_examples"] = strict_f1(sa, sb)
    diffs = disagreements(gold, other)
    counts: dict[str, int] = {}
    for d in diffs:
        k = d["kind"] + (f":{d['field']}" if d["kind"] == "field" else "")
        counts[k] = counts.get(k, 0) + 1
    return {"metrics": metrics, "counts": counts, "disagreements": diffs}
