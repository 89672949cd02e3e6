"""Stage: evaluation runs. Gold set + a system → metrics, reports and one line of history.

A *system* is the rule baseline (``rules``), a model directory, or prediction files in the
gold record format. Every run scores the system and the rule baseline on the same split, labels
the split honestly (a model scored on its own training data is ``train (NOT an accuracy
estimate)``), and writes ``<out>/<run-id>/``: ``metrics.json``, ``report.md``, ``report.html``
and ``predictions/<doc_id>.jsonl``; then appends one line to ``<out>/history.jsonl``.

Training is injected (``train_fn``), never imported at module level: evaluating rules or
prediction files needs no model code.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pipeline.annotation.gold import gold_sha256, load_gold_dir, write_gold
from pipeline.errors import ReadError
from pipeline.evaluation.metrics import Metrics
from pipeline.evaluation.scoring import HEADLINE, SUMMARY_KEYS, paired_difference, score
from pipeline.fingerprint import rules_sha256
from pipeline.io import atomic_write_text, sha256_file
from pipeline.model.model_dir import read_meta_lenient
from pipeline.records import GoldDocument, SentenceRecord
from pipeline.text.reader import read_limited
from pipeline.training.cv import CVResult, Fold, cross_validate, train_fold

SystemKind = Literal["rules", "model", "pred"]
TRAIN_SPLIT = "train (NOT an accuracy estimate)"
HISTORY = "history.jsonl"
#: Metrics copied into every history line (with the CI of the headline).
HISTORY_METRICS: tuple[str, ...] = tuple(k for k in SUMMARY_KEYS if not k.startswith(("n_", "targets_n_")))
ROOT = Path(__file__).resolve().parents[2]
#: Gold documents the rule authors read while writing the rules (pipeline/rules/baseline.py, honesty note).
RULES_DEV_DOCS: tuple[str, ...] = ("yuzhong-2024",)

#: Something that tags whole documents: (doc_id, raw text) pairs → doc_id → sentence records.
DocTagger = Callable[[Sequence[GoldDocument]], dict[str, list[SentenceRecord]]]
#: ``pipeline.training.loop.train_predictor``'s shape: (train_docs, dev_docs, config) → Predictor.
TrainFn = Callable[[list[GoldDocument], list[GoldDocument], Any], Any]


# --------------------------------------------------------------------------- provenance


def gold_set_sha256(docs: Sequence[GoldDocument]) -> str:
    """The hash a model directory records as ``train_gold_sha256`` (``pipeline.annotation.gold.gold_sha256``)."""
    return gold_sha256(list(docs))


def model_weights_sha256(model_dir: str | os.PathLike[str]) -> str | None:
    """sha256 of the model's weights file (``model.safetensors``, else another weights file)."""
    d = Path(model_dir)
    for name in ("model.safetensors", "pytorch_model.bin", "model.onnx"):
        if (d / name).is_file():
            return sha256_file(d / name)
    found = sorted(d.glob("*.safetensors"))
    return sha256_file(found[0]) if found else None


def check_predictions(docs: Sequence[GoldDocument], pred: dict[str, list[SentenceRecord]]) -> list[str]:
    """Problems of predictions against the gold texts: offsets must point at the text they claim.

    Predictions made on another version of a document would otherwise be scored silently wrong.
    """
    problems = []
    by_id = {d.doc_id: d for d in docs}
    for doc_id, recs in pred.items():
        d = by_id.get(doc_id)
        if d is None:
            continue
        for r in recs:
            where = f"{doc_id} sent_id {r.sent_id}"
            if not (0 <= r.start <= r.end <= len(d.raw)) or d.raw[r.start : r.end] != r.text:
                problems.append(f"{where}: sentence [{r.start}, {r.end}) does not match the gold document's text")
                continue
            for t in r.targets:
                if not (0 <= t.start <= t.end <= len(d.raw)) or d.raw[t.start : t.end] != t.text:
                    problems.append(f"{where}: target [{t.start}, {t.end}) {t.text!r} does not match the text")
    return problems


def model_split(meta: dict[str, Any], gold_hash: str, gold_doc_ids: Sequence[str]) -> tuple[str, str]:
    """``(split label, explanation)`` for a model scored on a gold set.

    Held-out only when provable: the recorded training hash differs *and* the recorded training
    documents share none of the gold documents. Anything unknown counts as trained-on.
    """
    trained_hash = meta.get("train_gold_sha256")
    trained_docs = meta.get("train_documents")
    if not trained_hash:
        return TRAIN_SPLIT, "the model records no training-data hash: it may have been trained on this gold set"
    if trained_hash == gold_hash:
        return TRAIN_SPLIT, f"the model was trained on this gold set (sha256 {gold_hash[:12]})"
    if not isinstance(trained_docs, list):
        return (
            TRAIN_SPLIT,
            "the model was trained on another gold set whose documents are not recorded: overlap unknown",
        )
    overlap = sorted(set(trained_docs) & set(gold_doc_ids))
    if overlap:
        return TRAIN_SPLIT, f"the model was trained on documents of this gold set: {', '.join(overlap)}"
    return "held-out", f"the model was trained on other documents ({', '.join(trained_docs)})"


def git_commit(root: Path = ROOT) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the checkout, or ``(None, None)`` outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())


# --------------------------------------------------------------------------- systems


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (values must be finite)")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _finite_or_none(x: Any) -> bool:
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x))


def record_problems(obj: dict[str, Any]) -> list[str]:
    """What makes a prediction record unscorable: unknown category, bound or direction, a value
    that is not a finite number, offsets that are not integers. Empty when it is fine."""
    from pipeline.schema import BOUNDS, CATEGORIES, DIRECTIONS

    errs = []
    if not isinstance(obj.get("doc_id"), str) or not obj.get("doc_id"):
        errs.append("doc_id is not a non-empty string")
    for key in ("sent_id", "start", "end"):
        if not _is_int(obj.get(key)):
            errs.append(f"{key} is not an integer")
    if obj.get("category") not in CATEGORIES:
        errs.append(f"unknown category {obj.get('category')!r}")
    targets = obj.get("targets", [])
    if not isinstance(targets, list):
        return [*errs, "targets is not a list"]
    for k, t in enumerate(targets):
        if not isinstance(t, dict):
            errs.append(f"target {k} is not an object")
            continue
        if not (_is_int(t.get("start")) and _is_int(t.get("end"))):
            errs.append(f"target {k}: start/end are not integers")
        if t.get("category") not in CATEGORIES:
            errs.append(f"target {k}: unknown category {t.get('category')!r}")
        if t.get("bound", "exact") not in BOUNDS:
            errs.append(f"target {k}: unknown bound {t.get('bound')!r}")
        if t.get("direction") not in DIRECTIONS:
            errs.append(f"target {k}: unknown direction {t.get('direction')!r}")
        for f in ("value", "value_max"):
            if not _finite_or_none(t.get(f)):
                errs.append(f"target {k}: {f} {t.get(f)!r} is not a finite number")
    return errs


def load_predictions(path: str | os.PathLike[str]) -> dict[str, list[SentenceRecord]]:
    """Predictions in the gold record format: one JSONL file or a folder of them (one per doc).

    Refused with ``ValueError`` naming ``file:line``: a line that is not a sentence record, an
    unknown category/bound/direction, a value that is not finite (``Infinity``, ``NaN``), and a
    document whose records are in two files or a sentence given twice (it would be scored twice).
    """
    p = Path(path)
    files = [p] if p.is_file() else sorted(p.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"{p}: no prediction files (*.jsonl)")
    out: dict[str, list[SentenceRecord]] = {}
    home: dict[str, Path] = {}
    seen: dict[tuple[str, int, int], int] = {}
    for f in files:
        try:
            # A FIFO, device or socket is refused by name without opening it (opening a FIFO blocks).
            text = read_limited(f, max_bytes=None).decode("utf-8")
        except ReadError as e:
            raise ValueError(str(e)) from e
        except UnicodeDecodeError as e:
            raise ValueError(f"{f}: cannot read ({e})") from e
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_constant=_no_constant)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                if obj.get("standoff"):
                    continue
                problems = record_problems(obj)
                if problems:
                    raise ValueError("; ".join(problems))
                rec = SentenceRecord.from_json(obj)
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise ValueError(f"{f}:{i}: not a valid sentence record ({e})") from e
            first = home.setdefault(rec.doc_id, f)
            if first != f:
                raise ValueError(
                    f"{f}:{i}: document {rec.doc_id!r} is also in {first}; "
                    "each document's predictions must be in one file"
                )
            key = (rec.doc_id, rec.start, rec.end)
            if key in seen:
                raise ValueError(
                    f"{f}:{i}: sentence [{rec.start}, {rec.end}) of {rec.doc_id!r} is already at line {seen[key]}"
                )
            seen[key] = i
            out.setdefault(rec.doc_id, []).append(rec)
    for recs in out.values():
        recs.sort(key=lambda r: r.start)
    return out


def tagger_docs(tagger: Any) -> DocTagger:
    """Wrap a ``pipeline.tagging.tagger.Tagger`` (or anything with ``tag_many``) as a ``DocTagger``."""

    def run(docs: Sequence[GoldDocument]) -> dict[str, list[SentenceRecord]]:
        tagged = tagger.tag_many([(d.doc_id, d.raw) for d in docs])
        return {t.doc_id: t.sentences for t in tagged}

    return run


def rules_tagger() -> DocTagger:
    from pipeline.tagging.tagger import Tagger

    return tagger_docs(Tagger.load("rules"))


def _unique(docs: Sequence[GoldDocument]) -> list[GoldDocument]:
    """One document per doc_id (fold parts share raw text): tag each raw text once."""
    seen: dict[str, GoldDocument] = {}
    for d in docs:
        seen.setdefault(d.doc_id, d)
    return list(seen.values())


# --------------------------------------------------------------------------- runs


@dataclass
class EvalConfig:
    gold: str = "data/gold"
    out: str = "reports"
    system: SystemKind = "rules"
    #: Model directory (system "model") or prediction file/folder (system "pred").
    path: str | None = None
    cv: int = 0
    cv_by: Literal["paragraph", "document"] = "paragraph"
    seed: int = 0
    n_resamples: int = 1000
    run_id: str | None = None
    corpus: str | None = None
    baseline: bool = True
    #: Gold documents scored: "train" (all but the declared test split), "test" or "all".
    split: str = "train"

    def __post_init__(self) -> None:
        if self.system in ("model", "pred") and not self.path:
            raise ValueError(f"system {self.system!r} needs a path")
        if self.system == "pred" and self.cv:
            raise ValueError("--cv needs a system that can be run (rules or a model), not fixed predictions")
        if self.cv == 1 or self.cv < 0:
            raise ValueError("--cv K needs K ≥ 2")
        if self.run_id is not None and not _RUN_ID.fullmatch(self.run_id):
            raise ValueError(
                f"--run-id {self.run_id!r}: a run id is a plain folder name (letters, digits, "
                "'.', '_', '-'; no path separators, not '.' or '..'), created inside --out"
            )

    @property
    def system_name(self) -> str:
        if self.system == "rules":
            return "rules"
        return f"{self.system}:{Path(self.path or '').name or self.path}"


@dataclass
class RunResult:
    run_dir: Path
    metrics: Metrics
    baseline: Metrics | None
    meta: dict[str, Any]
    history_line: dict[str, Any]
    skipped: list[str] = field(default_factory=list)


#: A run id names one folder inside ``--out``: never a path, never ``..``.
_RUN_ID = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}")


def finite_json(x: Any) -> Any:
    """``x`` with every non-finite float (NaN, ±Infinity) replaced by ``None``: what
    ``json.dumps(..., allow_nan=False)`` then writes is valid JSON."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_json(v) for v in x]
    return x


def default_run_id(system_name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in system_name)
    return f"{stamp}-{safe}"


def _cv_score(docs: Sequence[GoldDocument], make_tagger: Callable[[Fold], DocTagger], cfg: EvalConfig) -> CVResult:
    def predict_fold(fold: Fold) -> dict[str, list[SentenceRecord]]:
        return make_tagger(fold)(_unique(fold.test))

    k = cfg.cv if cfg.cv_by == "paragraph" else len(docs)
    return cross_validate(docs, predict_fold, k=k, seed=cfg.seed, by=cfg.cv_by, n_resamples=cfg.n_resamples)


def _model_fold_tagger(model_dir: str, train_fn: TrainFn | None, cfg: EvalConfig) -> Callable[[Fold], DocTagger]:
    """Retrain per fold with the configuration recorded in the model directory."""
    from pipeline.tagging.tagger import Tagger

    meta = read_meta_lenient(model_dir)
    if train_fn is None:
        from pipeline.training.loop import TrainConfig, train_predictor

        known = set(TrainConfig.__dataclass_fields__)
        args = {k: v for k, v in (meta.get("train_args") or {}).items() if k in known}
        # The final fit has a fixed epoch count and no dev part; per fold we early-stop again.
        args["fixed_epochs"] = None
        if args.get("target_category_source") in (None, "auto"):
            args["target_category_source"] = meta.get("target_category_source", "sentence")
        config: Any = TrainConfig(**args)
        train_fn = train_predictor
    else:
        config = meta.get("train_args") or {}

    def make(fold: Fold) -> DocTagger:
        assert train_fn is not None
        return tagger_docs(Tagger(train_fold(fold, config, train_fn, seed=cfg.seed)))

    return make


def run_evaluation(
    cfg: EvalConfig,
    *,
    system_tagger: DocTagger | None = None,
    baseline_tagger: DocTagger | None = None,
    train_fn: TrainFn | None = None,
    gold_docs: Sequence[GoldDocument] | None = None,
    log: Callable[[str], None] = print,
) -> RunResult:
    """Score the system and the rule baseline on the gold set; write the run folder and history.

    ``system_tagger`` / ``baseline_tagger`` replace the taggers built from ``cfg`` (tests use
    fakes); ``train_fn`` replaces ``pipeline.training.loop.train_predictor`` for ``--cv`` with a model.
    """
    t0 = time.time()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if cfg.run_id is not None and (Path(cfg.out) / cfg.run_id / "metrics.json").exists():
        raise ValueError(f"run {Path(cfg.out) / cfg.run_id} exists; choose another --run-id")
    skipped: list[str] = []
    if gold_docs is None:
        gold_docs, skipped = load_gold_dir(cfg.gold, corpus_dir=cfg.corpus, split=cfg.split)
        for s in skipped:
            log(f"gold: skipped {s}")
    docs = list(gold_docs)
    if not docs:
        raise ValueError(f"{cfg.gold}: no gold documents")
    gold_hash = gold_set_sha256(docs)
    doc_ids = [d.doc_id for d in docs]

    meta: dict[str, Any] = {
        "system": cfg.system_name,
        "system_kind": cfg.system,
        "system_path": cfg.path,
        "gold": cfg.gold,
        "gold_sha256": gold_hash,
        "gold_documents": doc_ids,
        "gold_split": cfg.split,
        "gold_skipped": skipped,
        "model_id": None,
        "model_sha256": None,
        "headline": HEADLINE,
        "seed": cfg.seed,
        "n_resamples": cfg.n_resamples,
    }
    notes: list[str] = []
    if cfg.system == "model":
        assert cfg.path is not None
        mmeta = read_meta_lenient(cfg.path)
        meta["model_id"] = Path(cfg.path).name
        meta["model_sha256"] = model_weights_sha256(cfg.path)
        meta["model_train_gold_sha256"] = mmeta.get("train_gold_sha256")
    elif cfg.system == "rules":
        meta["model_id"] = "rules"
        meta["model_sha256"] = rules_sha256()
    if cfg.baseline:
        meta["baseline_rules_sha256"] = rules_sha256()

    # ---- the split
    if cfg.cv:
        by = "leave-one-document-out" if cfg.cv_by == "document" else f"{cfg.cv}-fold by paragraph, seed {cfg.seed}"
        split = f"cv ({by}; pooled out-of-fold predictions)"
        if cfg.system == "model":
            notes.append("one model retrained per fold with the configuration recorded in the model directory")
    elif cfg.system == "model":
        split, why = model_split(read_meta_lenient(cfg.path or ""), gold_hash, doc_ids)
        notes.append(why)
    elif cfg.system == "pred":
        split = "all gold sentences (external predictions: provenance unknown)"
        notes.append("these predictions come from files; whether their system saw this gold set is unknown")
    else:
        split = "all gold sentences (rule baseline: hand-written, not trained)"
        seen = [d for d in doc_ids if d in RULES_DEV_DOCS]
        if seen:
            notes.append(
                f"the rules were written with {', '.join(seen)} in view (pipeline/rules/baseline.py): "
                "figures on it are not held-out; see the per-document table"
            )
    meta["split"] = split
    meta_scores = gold_metadata_scores(docs, cfg.gold)
    if meta_scores is not None:
        meta["metadata_scores"] = meta_scores

    # ---- the system
    cv_info: dict[str, Any] | None = None
    if cfg.cv:
        if cfg.system == "rules":
            tagger = system_tagger or rules_tagger()
            res = _cv_score(docs, lambda fold: tagger, cfg)
        else:
            assert cfg.path is not None
            make = (lambda fold: system_tagger) if system_tagger else _model_fold_tagger(cfg.path, train_fn, cfg)
            res = _cv_score(docs, make, cfg)
        metrics, predictions = res.pooled, res.predictions
        cv_info = {"k": len(res.folds), "by": cfg.cv_by, "per_fold": res.per_fold}
    else:
        if cfg.system == "pred":
            assert cfg.path is not None
            predictions = load_predictions(cfg.path)
            problems = check_predictions(docs, predictions)
            if problems:
                more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
                raise ValueError(
                    f"{cfg.path}: predictions do not fit the gold texts:\n  " + "\n  ".join(problems[:10]) + more
                )
        elif system_tagger is not None:
            predictions = system_tagger(docs)
        elif cfg.system == "rules":
            predictions = rules_tagger()(docs)
        else:
            from pipeline.tagging.tagger import Tagger

            predictions = tagger_docs(Tagger.load(cfg.path or ""))(docs)
        metrics = score(docs, predictions, n_resamples=cfg.n_resamples, seed=cfg.seed)
        if metrics["missing_predictions"]:
            notes.append(f"no predictions for {', '.join(metrics['missing_predictions'])}: scored as empty")
        if metrics["unscored_predictions"]:
            notes.append(
                f"predictions for documents outside the gold set ignored: {', '.join(metrics['unscored_predictions'])}"
            )

    # ---- the rule baseline on the same split
    baseline: Metrics | None = None
    if cfg.baseline and cfg.system == "rules":
        baseline = metrics
        if cv_info is not None:
            cv_info["baseline_per_fold"] = cv_info["per_fold"]
    elif cfg.baseline:
        try:
            btagger = baseline_tagger or rules_tagger()
        except ImportError as e:  # the rule module is missing in this checkout: say so, don't crash
            notes.append(f"rule baseline unavailable ({e})")
        else:
            if cfg.cv:
                bres = _cv_score(docs, lambda fold: btagger, cfg)
                baseline, base_pred = bres.pooled, bres.predictions
                assert cv_info is not None
                cv_info["baseline_per_fold"] = bres.per_fold
            else:
                base_pred = btagger(docs)
                baseline = score(docs, base_pred, n_resamples=cfg.n_resamples, seed=cfg.seed)
            # The system minus the rules on the same sentences (paired bootstrap over sentences).
            meta["vs_baseline"] = paired_difference(
                docs, predictions, base_pred, n_resamples=cfg.n_resamples, seed=cfg.seed
            )
            # Again on the documents the rule authors never read: there both are held out.
            unseen = [d for d in docs if d.doc_id not in RULES_DEV_DOCS]
            if unseen and len(unseen) < len(docs):
                meta["vs_baseline_unseen"] = paired_difference(
                    unseen, predictions, base_pred, n_resamples=cfg.n_resamples, seed=cfg.seed
                )
                meta["vs_baseline_unseen"]["documents"] = [d.doc_id for d in unseen]

    commit, dirty = git_commit()
    run_id = cfg.run_id or default_run_id(cfg.system_name)
    if cfg.run_id is None:
        base_id, n = run_id, 1
        while (Path(cfg.out) / run_id).exists():  # two runs in one second: never overwrite a run
            n += 1
            run_id = f"{base_id}-{n}"

    meta.update(
        run_id=run_id,
        started=started,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=round(time.time() - t0, 2),
        git_commit=commit,
        git_dirty=dirty,
        notes=notes,
        cv=cv_info,
    )
    run_dir = Path(cfg.out) / run_id
    write_run(run_dir, docs, predictions, metrics, baseline, meta)
    line = history_line(meta, metrics, baseline)
    append_history(Path(cfg.out) / HISTORY, line)
    return RunResult(run_dir, metrics, baseline, meta, line, skipped)


def gold_metadata_scores(docs: Sequence[GoldDocument], gold_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Document metadata (pipeline.panel.metadata) scored against ``<gold>/metadata.csv``, accuracy per
    field, and the share of gold targets whose indicator gets a code (pipeline.panel.indicators).
    None when the gold folder has no metadata.csv."""
    f = Path(gold_dir) / "metadata.csv"
    if not f.is_file():
        return None
    from pipeline.panel.indicators import code_share
    from pipeline.panel.metadata import read_gold_metadata, score_metadata
    from pipeline.text.reader import ReadError, read_report

    items = []
    for d in docs:
        src = Path(d.source) if d.source else None
        text = d.raw
        if src is not None and src.is_file():  # standoff gold may hold an excerpt: metadata sits in the header
            try:
                text = read_report(src).text
            except ReadError:
                pass
        items.append((d.doc_id, text, src.name if src is not None else d.doc_id))
    out = score_metadata(items, read_gold_metadata(f))
    targets = [t for d in docs for t in d.targets()]
    out["indicator_codes"] = code_share([t.text for t in targets], [t.unit for t in targets])
    codes = Path(gold_dir) / "indicators.csv"
    if codes.is_file():  # hand-assigned codes of the gold targets: the panel's coding scored on them
        from pipeline.panel.indicators import read_gold_codes, score_codes
        from pipeline.panel.tables import PanelDocument, document_metadata, target_rows

        gold_codes = read_gold_codes(codes)
        ids = {d.doc_id for d in docs}
        pred: dict[tuple[str, int, int], str] = {}
        for d, (_, text, _) in zip(docs, items):
            pdoc = PanelDocument(d.doc_id, d.source or "", list(d.sentences), text=text)
            for row in target_rows(pdoc, document_metadata(pdoc)):
                pred[(d.doc_id, int(row["span_start"]), int(row["span_end"]))] = str(row["indicator_code"] or "")
        out["indicator_accuracy"] = score_codes(pred, {k: v for k, v in gold_codes.items() if k[0] in ids})
    return out


def baseline_summary(baseline: Metrics | None) -> dict[str, Any] | None:
    """The rule baseline without its error lists (those belong to a rules run of its own)."""
    if baseline is None:
        return None
    return {k: v for k, v in baseline.items() if k != "errors"}


def write_run(
    run_dir: Path,
    docs: Sequence[GoldDocument],
    predictions: dict[str, list[SentenceRecord]],
    metrics: Metrics,
    baseline: Metrics | None,
    meta: dict[str, Any],
) -> None:
    from pipeline.evaluation.report_html import render_html, render_markdown

    run_dir.mkdir(parents=True, exist_ok=True)
    doc = {"meta": meta, **metrics, "baseline": baseline_summary(baseline)}
    doc = finite_json(doc)
    atomic_write_text(run_dir / "metrics.json", json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n")
    atomic_write_text(run_dir / "report.md", render_markdown(doc))
    atomic_write_text(run_dir / "report.html", render_html(doc, docs, predictions))
    for doc_id, recs in sorted(predictions.items()):
        write_gold(recs, run_dir / "predictions" / f"{doc_id}.jsonl")


def history_line(
    meta: dict[str, Any], metrics: Mapping[str, Any], baseline: Mapping[str, Any] | None
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "time": meta.get("finished"),
        "run_id": meta.get("run_id"),
        "git_commit": meta.get("git_commit"),
        "git_dirty": meta.get("git_dirty"),
        "system": meta.get("system"),
        "model_id": meta.get("model_id"),
        "model_sha256": meta.get("model_sha256"),
        "gold_sha256": meta.get("gold_sha256"),
        "split": meta.get("split"),
        "n_sentences": metrics.get("n_sentences"),
        "targets_n_gold": metrics.get("targets_n_gold"),
    }
    for k in HISTORY_METRICS:
        line[k] = metrics.get(k)
    line[f"{HEADLINE}_ci"] = metrics.get(f"{HEADLINE}_ci")
    line[f"baseline_{HEADLINE}"] = baseline.get(HEADLINE) if baseline else None
    line[f"baseline_{HEADLINE}_ci"] = baseline.get(f"{HEADLINE}_ci") if baseline else None
    return line


def append_history(path: Path, line: dict[str, Any]) -> None:
    """Append one JSON line; a torn last line (a killed run) is dropped first, never built upon."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = read_history_lines(path) if path.exists() else []
    lines.append(line)
    atomic_write_text(
        path, "".join(json.dumps(finite_json(x), ensure_ascii=False, allow_nan=False) + "\n" for x in lines)
    )


def read_history_lines(path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            continue  # a torn line from an interrupted write; the others stand
        if isinstance(obj, dict):
            out.append(obj)
    return out


# --------------------------------------------------------------------------- reading runs back


@dataclass
class Run:
    run_dir: Path
    metrics: dict[str, Any]
    report_md: str
    predictions: dict[str, list[SentenceRecord]]

    @property
    def meta(self) -> dict[str, Any]:
        return self.metrics.get("meta", {})


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """A run folder written by ``run_evaluation``, read back (for the notebook and reviews)."""
    d = Path(run_dir)
    metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    md = (d / "report.md").read_text(encoding="utf-8") if (d / "report.md").exists() else ""
    preds = load_predictions(d / "predictions") if (d / "predictions").is_dir() else {}
    return Run(d, metrics, md, preds)


def latest_run(out: str | os.PathLike[str] = "reports") -> Path | None:
    """The run folder of the last history line whose folder still exists."""
    for line in reversed(read_history_lines(Path(out) / HISTORY)):
        d = Path(out) / str(line.get("run_id"))
        if (d / "metrics.json").exists():
            return d
    return None
