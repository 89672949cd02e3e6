"""Build the seed gold set from the hand-written annotation spec: offsets by ``str.find``.

Reads scripts/yuzhong_2024_annotation.py (the annotator's decisions, keyed by sent_id) and the
raw seed report, and writes:

* data/gold/yuzhong-2024.jsonl  (GUIDELINES section 4, one record per kept sentence)
* data/audit/yuzhong-2024.tsv   (every number token with its decision, pipeline.annotation.audit)

Fails loudly when a target text or an exclusion phrase is not found in its sentence, when a
sentence's prefix does not match (the segmentation changed), or when a number token is left
unaccounted. ``--check`` writes nothing and exits 1 when the files on disk differ.

    govtarget seed [--check]
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from pipeline.annotation.audit import EXCLUSION_REASONS, TARGET, Decision, context, find_number_tokens, write_decisions
from pipeline.records import SentenceRecord, Target
from pipeline.schema import BOUNDS, CATEGORY2ID, DIRECTIONS
from pipeline.text.segment import Segmentation, segment

#: The repository root (the default gold and spec paths are inside a checkout).
ROOT = Path(__file__).resolve().parents[2]

RAW = ROOT / "data" / "raw" / "yuzhong-2024.txt"
GOLD = ROOT / "data" / "gold" / "yuzhong-2024.jsonl"
AUDIT = ROOT / "data" / "audit" / "yuzhong-2024.tsv"
SPEC = ROOT / "scripts" / "yuzhong_2024_annotation.py"


class SpecError(ValueError):
    """The annotation spec does not fit the text; the message names the sentence."""


def load_spec(path: Path = SPEC) -> ModuleType:
    spec = importlib.util.spec_from_file_location("yuzhong_2024_annotation", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def _find_all(haystack: str, needle: str) -> list[int]:
    out, i = [], haystack.find(needle)
    while i >= 0:
        out.append(i)
        i = haystack.find(needle, i + 1)
    return out


def build(raw: str, mod: ModuleType) -> tuple[list[SentenceRecord], list[Decision]]:
    """Gold records and audit decisions for ``raw`` from the spec module ``mod``."""
    seg = segment(raw)
    kept = seg.sentences
    spec = mod.SPEC
    ids = [s.sent_id for s in spec]
    if ids != list(range(len(kept))):
        missing = sorted(set(range(len(kept))) - set(ids))
        extra = sorted(set(ids) - set(range(len(kept))))
        raise SpecError(f"spec must list sent_id 0..{len(kept) - 1} in order; missing {missing}, extra {extra}")
    records: list[SentenceRecord] = []
    excluded: dict[tuple[int, int], tuple[str, int]] = {}  # raw token span → (reason, sent_id)
    for s, sent in zip(spec, kept):
        where = f"sent_id {s.sent_id} ({sent.text[:20]}…)"
        if not sent.text.startswith(s.prefix):
            raise SpecError(f"{where}: text does not start with {s.prefix!r}")
        if s.category not in CATEGORY2ID:
            raise SpecError(f"{where}: unknown category {s.category!r}")
        targets: list[Target] = []
        for item in s.items:
            if isinstance(item, mod.T):
                hits = _find_all(sent.text, item.text)
                if len(hits) <= item.occurrence:
                    raise SpecError(f"{where}: target {item.text!r} not found (occurrence {item.occurrence})")
                a = sent.start + hits[item.occurrence]
                b = a + len(item.text)
                assert raw[a:b] == item.text
                cat = item.category or s.category
                if cat not in CATEGORY2ID or item.bound not in BOUNDS or item.direction not in DIRECTIONS:
                    raise SpecError(f"{where}: bad field in {item}")
                targets.append(
                    Target(a, b, item.text, cat, item.value, item.unit, item.bound, item.direction, item.value_max)
                )
            else:
                if item.reason not in EXCLUSION_REASONS:
                    raise SpecError(f"{where}: unknown reason {item.reason!r}")
                hits = _find_all(sent.text, item.phrase)
                if not hits:
                    raise SpecError(f"{where}: exclusion phrase {item.phrase!r} not found")
                n = 0
                for h in hits:
                    a = sent.start + h
                    for tok in find_number_tokens(raw, a, a + len(item.phrase)):
                        excluded[(tok.start, tok.end)] = (item.reason, s.sent_id)
                        n += 1
                if n == 0:
                    raise SpecError(f"{where}: exclusion phrase {item.phrase!r} holds no number token")
        targets.sort(key=lambda t: t.start)
        for t1, t2 in zip(targets, targets[1:]):
            if t2.start < t1.end:
                raise SpecError(f"{where}: targets {t1.text!r} and {t2.text!r} overlap")
        records.append(
            SentenceRecord("yuzhong-2024", sent.sent_id, sent.start, sent.end, sent.text, s.category, targets)
        )

    decisions = _decisions(raw, seg, records, excluded)
    return records, decisions


def _decisions(
    raw: str, seg: Segmentation, records: list[SentenceRecord], excluded: dict[tuple[int, int], tuple[str, int]]
) -> list[Decision]:
    owner: dict[int, int] = {}
    for sg in seg.segments:
        for i in range(sg.start, sg.end):
            owner[i] = sg.sent_id
    spans = [(t.start, t.end) for r in records for t in r.targets]
    out: list[Decision] = []
    unaccounted = []
    for tok in find_number_tokens(raw):
        sid = owner.get(tok.start, -1)
        ctx = context(raw, tok.start, tok.end)
        inside = [(a, b) for a, b in spans if a <= tok.start and tok.end <= b]
        if sid < 0:
            out.append(Decision(tok.start, tok.end, tok.token, -1, "furniture", context=ctx))
        elif inside:
            if (tok.start, tok.end) in excluded:
                raise SpecError(f"{tok.start}:{tok.end} {tok.token!r} is both inside a target and excluded: {ctx}")
            a, b = inside[0]
            out.append(Decision(tok.start, tok.end, tok.token, sid, TARGET, a, b, ctx))
        elif (tok.start, tok.end) in excluded:
            out.append(Decision(tok.start, tok.end, tok.token, sid, excluded[(tok.start, tok.end)][0], context=ctx))
        else:
            unaccounted.append(f"sent_id {sid} {tok.start}:{tok.end} {tok.token!r} {ctx}")
    if unaccounted:
        raise SpecError("number tokens with no decision:\n  " + "\n  ".join(unaccounted))
    return out


def render(records: list[SentenceRecord], decisions: list[Decision]) -> tuple[str, str]:
    gold = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
    return gold, write_decisions(decisions)
