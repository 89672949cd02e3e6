"""Gold-file loading and validation (GUIDELINES section 4).

A gold file is JSON Lines, one sentence record per line, in document order. Two kinds:

* **inline** (``data/gold/<doc>.jsonl``): records carry their text; the raw document is
  ``data/raw/<doc_id>.txt`` (or the path given).
* **standoff** (``data/gold/standoff/<doc>.jsonl``): for documents the project may not commit.
  The first line is a header ``{"standoff": true, "doc_id": ..., "source": "<file name>",
  "sha256": ...}``; records carry offsets and labels but no ``text``. The text is reattached
  from the source file when it is present (and its sha256 matches); otherwise the document is
  skipped with a clear message, never half-loaded.

Every problem raises ``GoldError`` naming the file and the line. Loading is all or nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import GoldError, ReadError, SourceMissing
from pipeline.records import GoldDocument, SentenceRecord
from pipeline.schema import BOUNDS, CATEGORY2ID, DIRECTIONS
from pipeline.text.reader import read_limited


@dataclass(frozen=True)
class GoldProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _check_target(t: dict[str, Any], raw: str, sent: dict[str, Any], where: str) -> list[str]:
    errs = []
    for key in ("start", "end", "category"):
        if key not in t:
            errs.append(f"{where}: missing field {key!r}")
    if errs:
        return errs
    s, e = t["start"], t["end"]
    if not (_is_int(s) and _is_int(e) and 0 <= s < e <= len(raw)):
        return [f"{where}: bad offsets [{s}, {e})"]
    if "text" in t and raw[s:e] != t["text"]:
        errs.append(f"{where}: raw[{s}:{e}] is {raw[s:e]!r}, record says {t['text']!r}")
    if not (sent["start"] <= s and e <= sent["end"]):
        errs.append(f"{where}: target [{s}, {e}) lies outside its sentence [{sent['start']}, {sent['end']})")
    if not isinstance(t["category"], str) or t["category"] not in CATEGORY2ID:
        errs.append(f"{where}: unknown category {t['category']!r}")
    if t.get("bound", "exact") not in BOUNDS:
        errs.append(f"{where}: unknown bound {t.get('bound')!r}")
    if t.get("direction") not in DIRECTIONS:
        errs.append(f"{where}: unknown direction {t.get('direction')!r}")
    for key in ("value", "value_max"):
        v = t.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v - v != 0):
            errs.append(f"{where}: {key} must be a number, got {v!r}")  # also Infinity/NaN, which json reads
    if not isinstance(t.get("unit"), (str, type(None))):
        errs.append(f"{where}: unit must be a string or null, got {t.get('unit')!r}")
    return errs


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def validate_records(records: list[tuple[int, dict[str, Any]]], raw: str, path: str) -> list[GoldProblem]:
    """All problems of a list of ``(line_number, record)`` against ``raw``; empty when valid."""
    problems: list[GoldProblem] = []
    prev_end = -1
    all_targets: list[tuple[int, int, int]] = []
    doc_ids = set()
    for line_no, rec in records:
        where = f"sent_id {rec.get('sent_id')}"
        missing = [k for k in ("doc_id", "sent_id", "start", "end", "category") if k not in rec]
        if missing:
            problems.append(GoldProblem(path, line_no, f"missing field(s) {', '.join(missing)}"))
            continue
        if not (isinstance(rec["doc_id"], str) and isinstance(rec["category"], str) and _is_int(rec["sent_id"])):
            problems.append(
                GoldProblem(path, line_no, f"{where}: doc_id and category must be strings, sent_id an integer")
            )
            continue
        doc_ids.add(rec["doc_id"])
        s, e = rec["start"], rec["end"]
        if not (_is_int(s) and _is_int(e) and 0 <= s < e <= len(raw)):
            problems.append(GoldProblem(path, line_no, f"{where}: bad sentence offsets [{s}, {e})"))
            continue
        if "text" in rec and raw[s:e] != rec["text"]:
            problems.append(
                GoldProblem(path, line_no, f"{where}: raw[{s}:{e}] is {raw[s:e]!r}, record says {rec['text']!r}")
            )
        if s < prev_end:
            problems.append(GoldProblem(path, line_no, f"{where}: sentence overlaps or precedes the previous one"))
        prev_end = max(prev_end, e)
        if rec["category"] not in CATEGORY2ID:
            problems.append(GoldProblem(path, line_no, f"{where}: unknown category {rec['category']!r}"))
        targets = rec.get("targets", [])
        if not isinstance(targets, list):
            problems.append(GoldProblem(path, line_no, f"{where}: targets must be a list"))
            continue
        for k, t in enumerate(targets):
            if not isinstance(t, dict):
                problems.append(GoldProblem(path, line_no, f"{where} target {k}: not an object"))
                continue
            for msg in _check_target(t, raw, rec, f"{where} target {k}"):
                problems.append(GoldProblem(path, line_no, msg))
            if _is_int(t.get("start")) and _is_int(t.get("end")):
                all_targets.append((t["start"], t["end"], line_no))
    all_targets.sort()
    for (s1, e1, l1), (s2, e2, l2) in zip(all_targets, all_targets[1:]):
        if s2 < e1:
            problems.append(GoldProblem(path, l2, f"target [{s2}, {e2}) overlaps target [{s1}, {e1}) (line {l1})"))
    if len(doc_ids) > 1:
        problems.append(GoldProblem(path, 1, f"several doc_ids in one file: {sorted(doc_ids)}"))
    return problems


def _parse_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    out = []
    try:
        # A FIFO, device or socket is refused by name without opening it (opening a FIFO blocks).
        content = read_limited(path, max_bytes=None).decode("utf-8")
    except UnicodeDecodeError as e:
        raise GoldError(f"{path}: not UTF-8 ({e})") from e
    except ReadError as e:
        raise GoldError(str(e)) from e
    for i, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise GoldError(f"{path}:{i}: malformed JSON ({e.msg} at column {e.colno})") from e
        if not isinstance(obj, dict):
            raise GoldError(f"{path}:{i}: a record must be a JSON object")
        out.append((i, obj))
    return out


def load_gold_file(
    path: str | os.PathLike[str],
    raw_dir: str | os.PathLike[str] | None = None,
    corpus_dir: str | os.PathLike[str] | None = None,
) -> GoldDocument:
    """Load and validate one gold file. Raises GoldError (or SourceMissing) on any problem."""
    p = Path(path)
    lines = _parse_lines(p)
    if not lines:
        raise GoldError(f"{p}: empty gold file")
    header: dict[str, Any] | None = None
    if lines[0][1].get("standoff"):
        header = lines[0][1]
        lines = lines[1:]
    if header is not None:
        raw, source = _standoff_source(p, header, corpus_dir)
        doc_id = header["doc_id"]
    else:
        if not lines:
            raise GoldError(f"{p}: no records")
        doc_id = lines[0][1].get("doc_id")
        if not isinstance(doc_id, str):
            raise GoldError(f"{p}:{lines[0][0]}: missing doc_id")
        cands = raw_candidates(p.parent, doc_id)
        if raw_dir is not None:
            cands[-1] = Path(raw_dir) / f"{doc_id}.txt"
        src = next((c for c in cands if c.exists()), cands[-1])
        if not src.exists():
            raise GoldError(f"{p}: raw document {src} not found")
        from pipeline.text.reader import read_report

        raw = read_report(src).text
        source = str(src)
    problems = validate_records(lines, raw, str(p))
    if problems:
        shown = "\n  ".join(str(x) for x in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise GoldError(f"{p}: {len(problems)} problem(s):\n  {shown}{more}")
    sentences = []
    for _, rec in lines:
        rec = dict(rec)
        rec.setdefault("text", raw[rec["start"] : rec["end"]])
        rec["targets"] = [dict(t, text=t.get("text", raw[t["start"] : t["end"]])) for t in rec.get("targets", [])]
        sentences.append(SentenceRecord.from_json(rec))
    return GoldDocument(doc_id=doc_id, raw=raw, sentences=sentences, source=source)


def raw_candidates(gold_folder: str | os.PathLike[str], doc_id: str) -> list[Path]:
    """Where the raw text of an inline gold file ``<gold_folder>/<doc_id>.jsonl`` is looked for,
    in order: ``<gold_folder>/raw/`` (what ``govtarget import`` writes: inside the chosen folder),
    then the project layout's sibling ``<gold_folder>/../raw/`` (``data/raw`` next to ``data/gold``;
    ``load_gold_dir`` passes that folder as ``raw_dir`` for files deeper below ``gold/``)."""
    g = Path(gold_folder)
    return [g / "raw" / f"{doc_id}.txt", g.parent / "raw" / f"{doc_id}.txt"]


def _standoff_source(p: Path, header: dict[str, Any], corpus_dir: str | os.PathLike[str] | None) -> tuple[str, str]:
    """The source text of a standoff file: the first candidate folder whose file of that name has
    the header's sha256 (``corpus_dir`` if given, else ``$GOVTARGET_CORPUS``, ``../shared/corpus``,
    ``../shared/corpus2``). Names may repeat across corpora; the hash decides."""
    for key in ("doc_id", "source", "sha256"):
        if key not in header:
            raise GoldError(f"{p}:1: standoff header lacks {key!r}")
    dirs = [Path(corpus_dir)] if corpus_dir is not None else default_corpus_dirs()
    mismatched = []
    for cd in dirs:
        src = cd / header["source"]
        if not src.is_file():
            continue
        data = src.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != header["sha256"]:
            mismatched.append(f"{src} has sha256 {digest}")
            continue
        from pipeline.text.reader import decode_bytes

        text, _, _ = decode_bytes(data, str(src))
        return text, str(src)
    if mismatched:
        raise GoldError(f"{p}:1: header says sha256 {header['sha256']}, but " + "; ".join(mismatched))
    shown = ", ".join(str(d) for d in dirs) or "none found"
    raise SourceMissing(f"{p}: source {header['source']} not found (corpus dirs: {shown}); skipped")


def default_corpus_dirs() -> list[Path]:
    """Where standoff sources are looked for: ``$GOVTARGET_CORPUS`` (``os.pathsep``-separated),
    then ``../shared/corpus`` and ``../shared/corpus2`` beside the repository, those that exist."""
    env = os.environ.get("GOVTARGET_CORPUS")
    if env:
        return [Path(x) for x in env.split(os.pathsep) if x]
    here = Path(__file__).resolve().parents[2]
    return [c for c in (here.parent / "shared" / "corpus", here.parent / "shared" / "corpus2") if c.exists()]


#: The declared splits of a gold folder (``data/gold/splits.json``): ``{"test": [doc_id, ...]}``.
#: The test split is declared before any training or choice and used only for final figures.
SPLITS_FILE = "splits.json"
SPLITS = ("train", "test", "all")


def read_splits(gold_root: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The split declaration of a gold folder: ``{"test": [...]}`` (empty when there is none)."""
    f = Path(gold_root) / SPLITS_FILE
    if not f.is_file():
        return {"test": []}
    try:
        obj = json.loads(f.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise GoldError(f"{f}: not valid JSON ({e})") from e
    test = obj.get("test") if isinstance(obj, dict) else None
    if not isinstance(test, list) or not all(isinstance(x, str) for x in test):
        raise GoldError(f'{f}: expected {{"test": [doc_id, ...]}}')
    return {"test": list(test)}


def load_gold_dir(
    path: str | os.PathLike[str],
    corpus_dir: str | os.PathLike[str] | None = None,
    strict_standoff: bool = False,
    split: str = "all",
) -> tuple[list[GoldDocument], list[str]]:
    """Load every ``*.jsonl`` under ``path`` (recursively). Returns ``(documents, skipped)``.

    ``split``: ``"all"`` (every document), ``"train"`` (all but the declared test split) or
    ``"test"`` (only the test split), as declared in the gold folder's ``splits.json``; a test
    document named there but missing is an error. Standoff files whose source is absent are
    skipped (listed in ``skipped``) unless ``strict_standoff``; any other problem raises.
    """
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: expected one of {SPLITS}")
    p = Path(path)
    files = [p] if p.is_file() else sorted(p.rglob("*.jsonl"))
    docs, skipped = [], []
    raw_dir = p if p.is_dir() else p.parent
    # data/gold/... → data/raw
    while raw_dir.name and raw_dir.name != "gold" and raw_dir != raw_dir.parent:
        raw_dir = raw_dir.parent
    # Outside a gold/ folder (e.g. data/agreement/x.jsonl) fall back to load_gold_file's <file>/../../raw.
    raw_root: Path | None = raw_dir.parent / "raw" if raw_dir.name == "gold" else None
    if split != "all":
        test_ids = set(read_splits(raw_dir if raw_dir.name == "gold" else (p if p.is_dir() else p.parent))["test"])
        stems = {f.stem for f in files}
        absent = sorted(test_ids - stems) if split == "test" else []
        if absent:
            raise GoldError(f"{p}: test document(s) {absent} declared in {SPLITS_FILE} but not found")
        keep = (lambda stem: stem in test_ids) if split == "test" else (lambda stem: stem not in test_ids)
        files = [f for f in files if keep(f.stem)]
    for f in files:
        try:
            docs.append(load_gold_file(f, raw_dir=raw_root, corpus_dir=corpus_dir))
        except SourceMissing as e:
            if strict_standoff:
                raise
            skipped.append(str(e))
    ids = [d.doc_id for d in docs]
    dups = {i for i in ids if ids.count(i) > 1}
    if dups:
        raise GoldError(f"{p}: duplicate doc_id(s) {sorted(dups)}")
    return docs, skipped


def write_gold(records: list[SentenceRecord], path: str | os.PathLike[str]) -> None:
    """Write records as JSON Lines atomically."""
    from pipeline.io import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records))


def gold_sha256(docs: Sequence[GoldDocument]) -> str:
    """Hash of a gold set (records and raw texts, order-independent).

    Model directories record it as ``train_gold_sha256``; the evaluation harness compares it
    with the gold set it scores to label a split as training data.
    """
    h = hashlib.sha256()
    for d in sorted(docs, key=lambda d: d.doc_id):
        h.update(d.doc_id.encode())
        h.update(hashlib.sha256(d.raw.encode("utf-8", "surrogatepass")).digest())
        for s in d.sentences:
            h.update(json.dumps(s.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogatepass"))
    return h.hexdigest()
