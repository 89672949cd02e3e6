"""Active selection: which sentences (or paragraphs) of unannotated reports to annotate next.

Uncertainty of one sentence, each component in [0, 1] (1 = most uncertain):

* ``category``: 1 − (p₁ − p₂), the margin between the two most probable sentence categories;
* ``span``: 1 − the lowest confidence of any predicted target span (0 when none);
* ``token``: the highest normalised BIO entropy H/ln 3 over the sentence's tokens (model only:
  it also sees the targets the model *almost* predicted, which span scores cannot);
* ``number_gap``: 1 when a plan sentence holds a quantity (a number with a unit, or a zero; see
  ``has_quantity``) but no target was predicted (a possible miss), else 0.

``uncertainty`` = weighted mean of the available components (weights ``WEIGHTS``). Rule
predictions are all certain (scores 1.0), so with ``rules`` only ``number_gap`` separates
sentences and ties fall back to a seeded shuffle. A paragraph scores the maximum of its
sentences.

Candidates are taken best first, skipping: furniture (never a sentence), documents already in
the gold set (by doc_id or sha256), sentences whose text is in the gold set, and near-duplicates
(character 3-gram Jaccard ≥ ``threshold`` after mapping digits to 0, so the same sentence with
next year's figures counts as a duplicate) of gold sentences or of anything already selected.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.annotation.annotation_io import DocSource, UnitKind, export_labelstudio, renumber
from pipeline.predict import SentenceInput
from pipeline.records import SentenceRecord
from pipeline.tagging.tagger import TaggedDocument, Tagger
from pipeline.text.reader import ReadError

WEIGHTS: dict[str, float] = {"category": 1.0, "span": 1.0, "token": 1.0, "number_gap": 0.5}
_DIGIT = re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?")
_SPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------- near duplicates


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """Character n-grams of ``text`` with whitespace removed and every number mapped to ``0``."""
    t = _DIGIT.sub("0", _SPACE.sub("", text))
    if len(t) <= n:
        return frozenset([t]) if t else frozenset()
    return frozenset(t[i : i + n] for i in range(len(t) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class ShingleIndex:
    """An inverted index of shingle sets answering "is there a near-duplicate of this?"."""

    def __init__(self, threshold: float = 0.7) -> None:
        self.threshold = threshold
        self._sets: list[frozenset[str]] = []
        self._post: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._sets)

    def add(self, text: str) -> None:
        s = shingles(text)
        k = len(self._sets)
        self._sets.append(s)
        for g in s:
            self._post.setdefault(g, []).append(k)

    def near(self, text: str) -> bool:
        s = shingles(text)
        if not s:
            return False
        counts: Counter[int] = Counter()
        for g in s:
            counts.update(self._post.get(g, ()))
        for k, inter in counts.items():
            # |A ∩ B| / |A ∪ B| with the intersection counted from the postings.
            if inter / (len(s) + len(self._sets[k]) - inter) >= self.threshold:
                return True
        return False


# --------------------------------------------------------------------------- uncertainty


@dataclass
class Candidate:
    doc_id: str
    sent_ids: tuple[int, ...]
    start: int
    end: int
    text: str
    uncertainty: float
    components: dict[str, float] = field(default_factory=dict)
    tiebreak: float = 0.0


def sentence_components(rec: SentenceRecord, token_entropy: float | None) -> dict[str, float]:
    """The uncertainty components of one predicted sentence record (see module docstring)."""
    probs = sorted((float(v) for v in (rec.extra.get("category_probs") or {}).values()), reverse=True)
    p1 = probs[0] if probs else float(rec.extra.get("category_score", 1.0))
    p2 = probs[1] if len(probs) > 1 else 0.0
    comp = {"category": max(0.0, min(1.0, 1.0 - (p1 - p2)))}
    scores = [float(t.extra.get("score", 1.0)) for t in rec.targets]
    comp["span"] = 1.0 - min(scores) if scores else 0.0
    if token_entropy is not None:
        comp["token"] = token_entropy
    part = rec.extra.get("part", "plan")
    comp["number_gap"] = 1.0 if (part == "plan" and not rec.targets and has_quantity(rec.text)) else 0.0
    return comp


def has_quantity(text: str) -> bool:
    """A number with a unit (``300个``, ``5%``, ``三个``) or a zero (``清零``), outside quoted names.

    Bare numbers are not quantities here: heading numbers (``3、``), ordinals (``十六大``),
    lines (``18号线``) and the ``一`` of ``进一步`` would flood the ranking; years (``2024年``)
    are dates, not targets (GUIDELINES 2.1)."""
    from pipeline.fields.parse import find_numbers

    return any(
        c.excluded is None and ((c.unit is not None and c.unit != "年") or c.kind == "zero") for c in find_numbers(text)
    )


def combine(comp: dict[str, float]) -> float:
    w = sum(WEIGHTS[k] for k in comp)
    return round(sum(WEIGHTS[k] * v for k, v in comp.items()) / w, 6) if w else 0.0


def token_entropies(
    tagger: Tagger, docs: Sequence[TaggedDocument], batch_size: int = 32
) -> dict[tuple[str, int], float]:
    """Max normalised BIO entropy per sentence, for model predictors (``{}`` for rules)."""
    pred = tagger.predictor
    if not (hasattr(pred, "encode_inputs") and hasattr(pred, "forward")):
        return {}
    import numpy as np

    from pipeline.model.modeling import N_TAGS, pad_batch

    keys, inputs = [], []
    for d in docs:
        for s in d.segmentation.sentences:
            keys.append((d.doc_id, s.sent_id))
            inputs.append(SentenceInput(s.text, s.part, s.section_path))
    encoded = pred.encode_inputs(inputs)
    flat = sorted(
        ((i, w) for i, e in enumerate(encoded) for w in range(len(e.windows))),
        key=lambda iw: len(encoded[iw[0]].windows[iw[1]]),
    )
    best: dict[int, float] = {}
    pad_id = int(getattr(getattr(pred, "tokenizer", None), "pad_token_id", 0) or 0)
    for b in range(0, len(flat), batch_size):
        chunk = flat[b : b + batch_size]
        wins = [encoded[i].windows[w] for i, w in chunk]
        batch = pad_batch(wins, pad_id)
        tl, _ = pred.forward(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        logits = np.asarray(tl)[..., :N_TAGS].astype(np.float64)
        z = logits - logits.max(axis=-1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
        ent = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(-1) / math.log(N_TAGS)
        for k, ((i, _w), win) in enumerate(zip(chunk, wins)):
            # Only the sentence's own tokens: special and context tokens have no offsets.
            vals = [float(ent[k, t]) for t, off in enumerate(win.offsets) if off is not None]
            if vals:
                best[i] = max(best.get(i, 0.0), max(vals))
    return {keys[i]: round(v, 6) for i, v in best.items()}


def candidates(
    docs: Sequence[TaggedDocument], entropies: dict[tuple[str, int], float], unit: str = "sentence", seed: int = 0
) -> list[Candidate]:
    """Every sentence (or paragraph) of the tagged documents with its uncertainty."""
    rng = random.Random(seed)
    out: list[Candidate] = []
    for d in docs:
        recs = {r.sent_id: r for r in d.sentences}
        groups: dict[Any, list[Any]] = {}
        for s in d.segmentation.sentences:
            groups.setdefault(s.sent_id if unit == "sentence" else s.paragraph, []).append(s)
        for g in groups.values():
            comps = [sentence_components(recs[s.sent_id], entropies.get((d.doc_id, s.sent_id))) for s in g]
            scores = [combine(c) for c in comps]
            k = max(range(len(g)), key=lambda i: scores[i])
            out.append(
                Candidate(
                    d.doc_id,
                    tuple(s.sent_id for s in g),
                    g[0].start,
                    g[-1].end,
                    d.text[g[0].start : g[-1].end],
                    scores[k],
                    comps[k],
                    rng.random(),
                )
            )
    out.sort(key=lambda c: (-c.uncertainty, c.tiebreak))
    return out


def pick(
    ranked: Iterable[Candidate],
    n: int,
    gold_texts: Iterable[str] = (),
    threshold: float = 0.7,
    max_per_doc: int | None = None,
    min_chars: int = 6,
) -> list[Candidate]:
    """The first ``n`` candidates that are neither gold nor near-duplicates of gold or each other."""
    gold_exact = set()
    index = ShingleIndex(threshold)
    for t in gold_texts:
        gold_exact.add(_SPACE.sub("", t))
        index.add(t)
    per_doc: Counter[str] = Counter()
    chosen: list[Candidate] = []
    for c in ranked:
        if len(chosen) >= n:
            break
        compact = _SPACE.sub("", c.text)
        if len(compact) < min_chars or compact in gold_exact:
            continue
        if max_per_doc is not None and per_doc[c.doc_id] >= max_per_doc:
            continue
        if index.near(c.text):
            continue
        index.add(c.text)
        per_doc[c.doc_id] += 1
        chosen.append(c)
    return chosen


# --------------------------------------------------------------------------- gold set and driver


def gold_inventory(
    gold_dir: str | Path | None, corpus_dir: str | Path | None = None
) -> tuple[set[str], set[str], list[str]]:
    """``(doc_ids, sha256s, sentence_texts)`` of the gold set; standoff files whose source is
    absent still contribute their doc_id and sha256."""
    ids: set[str] = set()
    shas: set[str] = set()
    texts: list[str] = []
    if gold_dir is None or not Path(gold_dir).exists():
        return ids, shas, texts
    from pipeline.annotation.gold import load_gold_dir

    for f in sorted(Path(gold_dir).rglob("*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            first = fh.readline()
        try:
            head = json.loads(first) if first.strip() else {}
        except json.JSONDecodeError:
            continue
        if isinstance(head, dict) and head.get("doc_id"):
            ids.add(head["doc_id"])
            if head.get("sha256"):
                shas.add(head["sha256"])
    docs, _skipped = load_gold_dir(gold_dir, corpus_dir=corpus_dir)
    for d in docs:
        ids.add(d.doc_id)
        texts.extend(s.text for s in d.sentences)
    return ids, shas, texts


@dataclass
class Selection:
    tasks: list[dict[str, Any]]
    chosen: list[Candidate]
    n_docs: int
    n_candidates: int
    skipped_docs: list[str]
    #: Files that could not be read (binary, not a regular file…), each as its ReadError message.
    unreadable: list[str] = field(default_factory=list)


def select(
    files: Sequence[str | Path],
    tagger: Tagger,
    n: int = 50,
    unit: UnitKind = "sentence",
    gold_dir: str | Path | None = None,
    corpus_dir: str | Path | None = None,
    threshold: float = 0.7,
    max_per_doc: int | None = None,
    use_token_entropy: bool = True,
    seed: int = 0,
    model_version: str = "",
) -> Selection:
    """Rank the sentences of ``files`` and export the ``n`` most useful ones as Label Studio tasks."""
    if unit not in ("sentence", "paragraph"):
        raise ValueError(f"unit must be sentence or paragraph, got {unit!r}")
    gold_ids, gold_shas, gold_texts = gold_inventory(gold_dir, corpus_dir)
    sources: list[DocSource] = []
    skipped: list[str] = []
    unreadable: list[str] = []
    for f in files:
        try:
            d = DocSource.from_path(f)
        except ReadError as e:  # one bad file in the folder: reported, the others are selected from
            unreadable.append(str(e))
            continue
        if d.doc_id in gold_ids or d.sha256 in gold_shas:
            skipped.append(d.doc_id)
            continue
        sources.append(d)
    tagged = tagger.tag_many([(d.doc_id, d.text) for d in sources]) if sources else []
    ents = token_entropies(tagger, tagged) if use_token_entropy else {}
    ranked = candidates(tagged, ents, unit, seed)
    chosen = pick(ranked, n, gold_texts, threshold, max_per_doc)
    by_doc: dict[str, list[Candidate]] = {}
    for c in chosen:
        by_doc.setdefault(c.doc_id, []).append(c)
    tasks: list[dict[str, Any]] = []
    for d, td in zip(sources, tagged):
        cs = by_doc.get(d.doc_id)
        if not cs:
            continue
        extra = {sid: {"uncertainty": c.uncertainty, "components": c.components} for c in cs for sid in c.sent_ids}
        tasks += export_labelstudio(
            d,
            td.sentences,
            unit=unit,
            only={sid for c in cs for sid in c.sent_ids},
            extra_data=extra,
            model_version=model_version,
        )
    # Most uncertain first, as the annotators should see them.
    tasks.sort(key=lambda t: -float(t["data"].get("uncertainty", 0.0)))
    return Selection(renumber(tasks), chosen, len(sources), len(ranked), skipped, unreadable)
