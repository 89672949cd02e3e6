"""Stage: the three systems side by side, and the learning curve (issue 12).

Systems (``SYSTEMS``):

* ``rules``: the rule baseline (``pipeline.rules.baseline``), nothing trained;
* ``bert``: the BERT alone: no rule features, no rule-span prior, no rule category weight, no
  rule-based sample weights; the target category is learned (``span`` or ``sentence``, chosen on
  the dev part);
* ``hybrid``: the shipped recipe (``pipeline.cli.train.RECIPE``: rule features, rule prior and
  category weight chosen on the dev part), except that the target category is learned like the
  BERT's (``span`` or ``sentence`` on the dev part), never copied from the rules.

Every fit carves a dev part (whole paragraphs, ``TrainConfig.dev_fraction``) out of its training
documents for early stopping and the dev choices (``pipeline.training.cv.train_fold``); nothing
is chosen on the documents scored.

``compare``: cross-validation by document on the gold TRAIN split (``k`` folds of whole
documents, or leave-one-document-out), through ``pipeline.training.cv.cross_validate``: pooled
and per-document strict F1, typed F1, target-category accuracy on strictly matched spans,
sentence-category accuracy, and each model minus the rules (paired bootstrap over sentences,
``pipeline.evaluation.scoring.paired_difference``); with ``test=True`` also every system fitted on
the whole TRAIN split and scored on the TEST split, with intervals.

``curve``: a system fitted on the base documents (TRAIN documents whose source is not in the
second corpus: the seed and the six Hebei reports) plus ``k`` of the new TRAIN documents (nested
seeded subsets: the 4-document set contains the 2-document set), scored on the TEST split; the
rules as a flat line. JSON + PNG + Markdown.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.annotation.gold import gold_sha256, load_gold_dir, write_gold
from pipeline.evaluation.evalrun import finite_json, git_commit, rules_tagger
from pipeline.evaluation.scoring import paired_difference, score, summary
from pipeline.io import atomic_write_text
from pipeline.records import GoldDocument, SentenceRecord
from pipeline.training.cv import Fold, GroupBy, cross_validate, train_fold

log = logging.getLogger(__name__)

SYSTEMS: tuple[str, ...] = ("rules", "bert", "hybrid")
MODEL_SYSTEMS: tuple[str, ...] = ("bert", "hybrid")
#: The figures of every table (pooled, per document, per curve point).
TABLE_METRICS: tuple[str, ...] = (
    "targets_strict_p",
    "targets_strict_r",
    "targets_strict_f",
    "targets_typed_f",
    "targets_category_acc",
    "sentcat_accuracy",
)
#: Curve x axis: ``"all"`` means every new TRAIN document.
DEFAULT_SIZES: tuple[int | str, ...] = (0, 2, 4, 8, 16, "all")

Predictions = dict[str, list[SentenceRecord]]


# --------------------------------------------------------------------------- systems


def system_configs(
    recipe: dict[str, Any], init: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``TrainConfig`` of the BERT alone and of the hybrid, from the shipped recipe.

    ``overrides`` (any ``TrainConfig`` field: ``epochs``, ``patience``, the encoder shape, …) apply
    to both; the system-defining fields are set last, so an override cannot turn the BERT into
    a rule-feature model or make the hybrid copy the rules' category.
    """
    from pipeline.training.loop import TrainConfig

    base = {**recipe, **({"init": init} if init else {}), **(overrides or {}), "fixed_epochs": None}
    bert = TrainConfig(
        **{
            **base,
            "rule_features": False,
            "rule_prior": 0.0,
            "rule_prior_train": 0.0,
            "rule_category_weight": 0.0,
            "select_decoding": False,
            "reconcile_edits": False,
            "disagreement_weight": 1.0,
            "target_category_source": "auto",
        }
    )
    hybrid = TrainConfig(**{**base, "target_category_source": "auto"})
    return {"bert": bert, "hybrid": hybrid}


def cap_sentences(docs: Sequence[GoldDocument], max_sentences: int | None, seed: int = 0) -> list[GoldDocument]:
    """At most ``max_sentences`` training sentences: the sentences holding a target first (all of
    them if they fit, else a seeded sample), then a seeded sample of the others (review and
    numberless sentences, which dominate a report); documents keep their raw text and sentence
    order. ``None``: unchanged."""
    if max_sentences is None:
        return list(docs)
    keys = [(i, j) for i, d in enumerate(docs) for j, s in enumerate(d.sentences)]
    with_t = [k for k in keys if docs[k[0]].sentences[k[1]].targets]
    without = [k for k in keys if not docs[k[0]].sentences[k[1]].targets]
    rng = random.Random(seed)
    rng.shuffle(with_t)
    rng.shuffle(without)
    keep = set(with_t[:max_sentences]) | set(without[: max(0, max_sentences - len(with_t))])
    out = []
    for i, d in enumerate(docs):
        sents = [s for j, s in enumerate(d.sentences) if (i, j) in keep]
        if sents:
            out.append(GoldDocument(d.doc_id, d.raw, sents, d.source))
    return out


@dataclass
class FitInfo:
    """What one fit chose on its dev part (recorded per fold and per curve point)."""

    system: str
    fold: int
    train_documents: int
    train_sentences: int
    best_epoch: int | None
    target_category_source: str
    rule_prior: float
    rule_category_weight: float
    seconds: float


def fit(
    system: str,
    train_docs: Sequence[GoldDocument],
    config: Any,
    seed: int = 0,
    fold_index: int = 0,
    max_sentences: int | None = None,
    train_fn: Callable[[list[GoldDocument], list[GoldDocument], Any], Any] | None = None,
) -> tuple[Any, FitInfo]:
    """One model on ``train_docs``: a dev part carved out of them (``cv.train_fold``), early
    stopping and the dev choices there. Returns the predictor and what it chose."""
    from pipeline.training.loop import train_predictor

    t0 = time.time()
    docs = cap_sentences(train_docs, max_sentences, seed=seed + fold_index)
    fn = train_fn or train_predictor
    pred = train_fold(Fold(fold_index, docs, []), config, fn, seed=seed)
    info = FitInfo(
        system=system,
        fold=fold_index,
        train_documents=len(docs),
        train_sentences=sum(len(d.sentences) for d in docs),
        best_epoch=pred.meta.get("best_epoch"),
        target_category_source=pred.target_category_source,
        rule_prior=float(pred.rule_prior),
        rule_category_weight=float(pred.rule_category_weight),
        seconds=round(time.time() - t0, 1),
    )
    log.info("%s fold %d: %s", system, fold_index, asdict(info))
    return pred, info


def tag(predictor: Any, docs: Sequence[GoldDocument]) -> Predictions:
    from pipeline.tagging.tagger import Tagger

    seen: dict[str, GoldDocument] = {}
    for d in docs:
        seen.setdefault(d.doc_id, d)
    tagged = Tagger(predictor).tag_many([(d.doc_id, d.raw) for d in seen.values()])
    return {t.doc_id: t.sentences for t in tagged}


def _short(m: Mapping[str, Any]) -> dict[str, Any]:
    """A scoring result without its error lists, with the intervals it has."""
    out = summary(m)
    out.update({k: v for k, v in m.items() if k.endswith("_ci")})
    if "per_document" in m:
        out["per_document"] = m["per_document"]
    return out


# --------------------------------------------------------------------------- compare


@dataclass
class CompareConfig:
    gold: str
    out: str
    #: Folds of whole documents; ``None`` = leave-one-document-out.
    folds: int | None = None
    systems: tuple[str, ...] = SYSTEMS
    seed: int = 0
    n_resamples: int = 1000
    test: bool = False
    corpus_dir: str | None = None
    init: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    max_sentences: int | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.systems if s not in SYSTEMS]
        if unknown or "rules" not in self.systems:
            raise ValueError(f"systems must include rules and come from {SYSTEMS}, not {self.systems}")
        if self.folds is not None and self.folds < 2:
            raise ValueError("--folds K needs K ≥ 2 (or loo)")


def _add_minus_rules(
    table: dict[str, Any], docs: Sequence[GoldDocument], preds: dict[str, Predictions], cfg: CompareConfig
) -> None:
    """Each model system's paired bootstrap difference against the rules, into its row of ``table``."""
    for system in cfg.systems:
        if system != "rules":
            table[system]["minus_rules"] = paired_difference(
                docs, preds[system], preds["rules"], n_resamples=cfg.n_resamples, seed=cfg.seed
            )


def _write_predictions(preds: dict[str, Predictions], folder: Path) -> None:
    """Every system's predictions as gold-format JSONL, ``folder/<system>/<doc_id>.jsonl``."""
    for system, p in preds.items():
        for doc_id, recs in sorted(p.items()):
            write_gold(recs, folder / system / f"{doc_id}.jsonl")


def compare(
    cfg: CompareConfig, recipe: dict[str, Any], train_fn: Any = None, echo: Callable[[str], None] = log.info
) -> dict[str, Any]:
    """Cross-validate the systems by document on the TRAIN split (and with ``cfg.test`` score
    them on the TEST split); writes ``metrics.json``, ``report.md`` and the predictions to
    ``cfg.out``; returns the metrics document."""
    t0 = time.time()
    train_docs, skipped = load_gold_dir(cfg.gold, corpus_dir=cfg.corpus_dir, split="train")
    if len(train_docs) < 2:
        raise ValueError(f"{cfg.gold}: cross-validation by document needs at least 2 TRAIN documents")
    configs = system_configs(recipe, cfg.init, cfg.overrides)
    by: GroupBy = "document" if cfg.folds is None else "document-folds"
    k = len(train_docs) if cfg.folds is None else cfg.folds
    out_dir = Path(cfg.out)
    cv: dict[str, Any] = {}
    preds: dict[str, Predictions] = {}
    fits: dict[str, list[dict[str, Any]]] = {}
    for system in cfg.systems:
        s0 = time.time()
        fits[system] = []

        def predict_fold(fold: Fold, system: str = system) -> Predictions:
            if system == "rules":
                return rules_tagger()(fold.test)
            p, info = fit(
                system,
                fold.train,
                configs[system],
                seed=cfg.seed,
                fold_index=fold.index,
                max_sentences=cfg.max_sentences,
                train_fn=train_fn,
            )
            fits[system].append(asdict(info))
            echo(f"{system}: fold {fold.index + 1} fitted in {info.seconds:.0f} s")
            return tag(p, fold.test)

        res = cross_validate(train_docs, predict_fold, k=k, seed=cfg.seed, by=by, n_resamples=cfg.n_resamples)
        preds[system] = res.predictions
        cv[system] = {
            **_short(res.pooled),
            "per_fold": res.per_fold,
            "fits": fits[system],
            "seconds": round(time.time() - s0, 1),
        }
        echo(f"{system}: CV strict F1 {res.pooled['targets_strict_f']:.3f} ({time.time() - s0:.0f} s)")
    _add_minus_rules(cv, train_docs, preds, cfg)
    _write_predictions(preds, out_dir / "predictions" / "cv")

    test: dict[str, Any] | None = None
    test_docs: list[GoldDocument] = []
    if cfg.test:
        test_docs, tskipped = load_gold_dir(cfg.gold, corpus_dir=cfg.corpus_dir, split="test")
        skipped += tskipped
        if not test_docs:
            raise ValueError(f"{cfg.gold}: no TEST documents (splits.json)")
        test = {}
        tpreds: dict[str, Predictions] = {}
        for system in cfg.systems:
            s0 = time.time()
            if system == "rules":
                tpreds[system] = rules_tagger()(test_docs)
                info = None
            else:
                p, fi = fit(
                    system,
                    train_docs,
                    configs[system],
                    seed=cfg.seed,
                    fold_index=0,
                    max_sentences=cfg.max_sentences,
                    train_fn=train_fn,
                )
                info = asdict(fi)
                tpreds[system] = tag(p, test_docs)
            m = score(test_docs, tpreds[system], n_resamples=cfg.n_resamples, seed=cfg.seed)
            test[system] = {**_short(m), "fit": info, "seconds": round(time.time() - s0, 1)}
            echo(f"{system}: TEST strict F1 {m['targets_strict_f']:.3f}")
        _add_minus_rules(test, test_docs, tpreds, cfg)
        _write_predictions(tpreds, out_dir / "predictions" / "test")

    commit, dirty = git_commit()
    doc = {
        "meta": {
            "gold": cfg.gold,
            "train_documents": [d.doc_id for d in train_docs],
            "train_gold_sha256": gold_sha256(train_docs),
            "test_documents": [d.doc_id for d in test_docs] or None,
            "gold_skipped": skipped,
            "cv": (
                "leave-one-document-out"
                if cfg.folds is None
                else f"{cfg.folds} folds of whole documents, seed {cfg.seed}"
            )
            + " on the TRAIN split; "
            "pooled out-of-fold predictions; each model early-stops and makes its dev choices on a dev "
            "part (whole paragraphs) of its training documents",
            "test": (
                "each model fitted on the whole TRAIN split (dev part carved out of it as in CV), "
                "scored once on the TEST split"
            )
            if cfg.test
            else None,
            "systems": list(cfg.systems),
            "configs": {s: asdict(c) for s, c in configs.items() if s in cfg.systems},
            "overrides": cfg.overrides,
            "max_sentences": cfg.max_sentences,
            "init": cfg.init,
            "seed": cfg.seed,
            "n_resamples": cfg.n_resamples,
            "git_commit": commit,
            "git_dirty": dirty,
            "seconds": round(time.time() - t0, 1),
        },
        "cv": cv,
        "test": test,
    }
    write_json(out_dir / "metrics.json", doc)
    atomic_write_text(out_dir / "report.md", render_compare(doc))
    return doc


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(finite_json(doc), ensure_ascii=False, indent=1, allow_nan=False) + "\n")


def _f(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else "–"


def _ci(m: dict[str, Any], k: str) -> str:
    ci = m.get(f"{k}_ci")
    return f"{_f(m.get(k))} [{_f(ci[0])}, {_f(ci[1])}]" if ci else _f(m.get(k))


def _diff(m: dict[str, Any], k: str) -> str:
    d = (m.get("minus_rules") or {}).get(k)
    if not d:
        return "–"
    return f"{d['diff']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}]"


def _system_table(part: dict[str, Any]) -> list[str]:
    lines = [
        "| system | strict P / R | strict F1 [95% CI] | typed F1 | target-category acc. | sentence-category acc. "
        "| strict F1 − rules | target-cat. − rules | sentence acc. − rules |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s, m in part.items():
        lines.append(
            f"| {s} | {_f(m.get('targets_strict_p'))} / {_f(m.get('targets_strict_r'))} "
            f"| {_ci(m, 'targets_strict_f')} | {_ci(m, 'targets_typed_f')} | {_ci(m, 'targets_category_acc')} "
            f"| {_ci(m, 'sentcat_accuracy')} | {_diff(m, 'targets_strict_f')} "
            f"| {_diff(m, 'targets_category_acc')} | {_diff(m, 'sentcat_accuracy')} |"
        )
    return lines


def _per_document_table(part: dict[str, Any]) -> list[str]:
    systems = list(part)
    docs = sorted({d for m in part.values() for d in (m.get("per_document") or {})})
    if not docs:
        return []
    head = " | ".join(f"{s} strict F1 / target-cat. / sentence" for s in systems)
    lines = [f"| document | gold targets | {head} |", "|---|---|" + "---|" * len(systems)]
    for d in docs:
        cells = []
        n = None
        for s in systems:
            x = (part[s].get("per_document") or {}).get(d, {})
            n = x.get("targets_n_gold", n)
            cells.append(
                f"{_f(x.get('targets_strict_f'))} / {_f(x.get('targets_category_acc'))} / "
                f"{_f(x.get('sentcat_accuracy'))}"
            )
        lines.append(f"| {d} | {n} | " + " | ".join(cells) + " |")
    return lines


def render_compare(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    lines = [
        "# Rules, BERT alone, hybrid: side by side",
        "",
        f"Cross-validation: {meta['cv']}.",
        "",
        "Target-category accuracy is measured on strictly matched spans (typed ÷ strict); differences "
        "are paired bootstraps over sentences (model minus rules on the same sentences).",
        "",
        f"## Cross-validation on the TRAIN split ({len(meta['train_documents'])} documents)",
        "",
    ]
    lines += _system_table(doc["cv"])
    lines += ["", "### Per document (out-of-fold)", ""] + _per_document_table(doc["cv"])
    if doc.get("test"):
        lines += [
            "",
            f"## TEST split ({len(meta['test_documents'])} documents: {', '.join(meta['test_documents'])})",
            "",
            f"{meta['test']}.",
            "",
        ]
        lines += _system_table(doc["test"])
        lines += ["", "### Per document", ""] + _per_document_table(doc["test"])
    lines += [
        "",
        f"Knobs: overrides {json.dumps(meta['overrides'], ensure_ascii=False)}, max_sentences "
        f"{meta['max_sentences']}, init {meta['init']}; git {meta['git_commit']}"
        f"{' (dirty)' if meta['git_dirty'] else ''}; {meta['seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- learning curve


def is_new_document(doc: GoldDocument, corpus2: str | Path) -> bool:
    """Whether ``doc`` is one of the new gold documents: a standoff document whose source lies in
    the second corpus."""
    if not doc.source:
        return False
    try:
        return Path(doc.source).resolve().is_relative_to(Path(corpus2).resolve())
    except OSError:
        return False


def nested_subsets(items: Sequence[str], sizes: Sequence[int | str], seed: int = 0) -> list[tuple[int, list[str]]]:
    """``(k, first k items of one seeded shuffle)`` per size (``"all"`` = every item): each
    subset contains every smaller one. Sizes above ``len(items)`` are refused."""
    order = sorted(items)
    random.Random(seed).shuffle(order)
    out = []
    for s in sizes:
        k = len(order) if s == "all" else int(s)
        if k < 0 or k > len(order):
            raise ValueError(f"size {s}: there are {len(order)} new TRAIN documents")
        out.append((k, order[:k]))
    return out


def parse_sizes(text: str) -> list[int | str]:
    out: list[int | str] = []
    for part in text.split(","):
        p = part.strip()
        out.append("all" if p == "all" else int(p))
    return out


@dataclass
class CurveConfig:
    gold: str
    out: str
    corpus2: str
    sizes: tuple[int | str, ...] = DEFAULT_SIZES
    systems: tuple[str, ...] = ("hybrid",)
    seed: int = 0
    n_resamples: int = 1000
    corpus_dir: str | None = None
    init: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    max_sentences: int | None = None

    def __post_init__(self) -> None:
        bad = [s for s in self.systems if s not in MODEL_SYSTEMS]
        if bad or not self.systems:
            raise ValueError(f"curve systems come from {MODEL_SYSTEMS}, not {self.systems}")


def curve(
    cfg: CurveConfig, recipe: dict[str, Any], train_fn: Any = None, echo: Callable[[str], None] = log.info
) -> dict[str, Any]:
    """The learning curve: writes ``curve.json``, ``curve.png`` and ``curve.md`` to ``cfg.out``."""
    t0 = time.time()
    train_docs, skipped = load_gold_dir(cfg.gold, corpus_dir=cfg.corpus_dir, split="train")
    test_docs, tskipped = load_gold_dir(cfg.gold, corpus_dir=cfg.corpus_dir, split="test")
    if not test_docs:
        raise ValueError(f"{cfg.gold}: no TEST documents (splits.json)")
    base = [d for d in train_docs if not is_new_document(d, cfg.corpus2)]
    new = {d.doc_id: d for d in train_docs if is_new_document(d, cfg.corpus2)}
    subsets = nested_subsets(list(new), cfg.sizes, seed=cfg.seed)
    configs = system_configs(recipe, cfg.init, cfg.overrides)
    rules_pred = rules_tagger()(test_docs)
    rules_m = score(test_docs, rules_pred, n_resamples=cfg.n_resamples, seed=cfg.seed)
    points: list[dict[str, Any]] = []
    for k, ids in subsets:
        docs = base + [new[i] for i in ids]
        if not docs:
            raise ValueError("no training documents for size 0: the gold set has no base documents")
        for system in cfg.systems:
            p, info = fit(
                system, docs, configs[system], seed=cfg.seed, max_sentences=cfg.max_sentences, train_fn=train_fn
            )
            pred = tag(p, test_docs)
            m = score(test_docs, pred, n_resamples=cfg.n_resamples, seed=cfg.seed)
            points.append(
                {
                    "system": system,
                    "k": k,
                    "new_documents": ids,
                    "fit": asdict(info),
                    **_short(m),
                    "minus_rules": paired_difference(
                        test_docs, pred, rules_pred, n_resamples=cfg.n_resamples, seed=cfg.seed
                    ),
                }
            )
            echo(
                f"{system} k={k}: TEST strict F1 {m['targets_strict_f']:.3f}, target-cat. "
                f"{m['targets_category_acc']:.3f}, sentence {m['sentcat_accuracy']:.3f} ({info.seconds:.0f} s)"
            )
    commit, dirty = git_commit()
    doc = {
        "meta": {
            "gold": cfg.gold,
            "scored_on": "TEST split",
            "test_documents": [d.doc_id for d in test_docs],
            "base_documents": [d.doc_id for d in base],
            "new_train_documents": sorted(new),
            "corpus2": cfg.corpus2,
            "sizes": list(cfg.sizes),
            "subset_seed": cfg.seed,
            "systems": list(cfg.systems),
            "configs": {s: asdict(configs[s]) for s in cfg.systems},
            "overrides": cfg.overrides,
            "max_sentences": cfg.max_sentences,
            "init": cfg.init,
            "n_resamples": cfg.n_resamples,
            "gold_skipped": skipped + tskipped,
            "fit": "each point: one model on base + k new TRAIN documents, dev part (whole paragraphs) carved "
            "out of them for early stopping and the dev choices",
            "git_commit": commit,
            "git_dirty": dirty,
            "seconds": round(time.time() - t0, 1),
        },
        "rules": _short(rules_m),
        "points": points,
    }
    out = Path(cfg.out)
    write_json(out / "curve.json", doc)
    atomic_write_text(out / "curve.md", render_curve(doc))
    plot_curve(doc, out / "curve.png")
    return doc


CURVE_PANELS: tuple[tuple[str, str], ...] = (
    ("targets_strict_f", "strict target F1"),
    ("targets_category_acc", "target-category accuracy"),
    ("sentcat_accuracy", "sentence-category accuracy"),
)


def plot_curve(doc: dict[str, Any], path: Path) -> None:
    """Three panels against the number of new training documents; the rules dashed; English
    labels only (no CJK font is assumed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(CURVE_PANELS), figsize=(4.2 * len(CURVE_PANELS), 3.6))
    n_base = len(doc["meta"]["base_documents"])
    for ax, (key, title) in zip(axes, CURVE_PANELS):
        for system in doc["meta"]["systems"]:
            pts = sorted((p["k"], p[key], p.get(f"{key}_ci")) for p in doc["points"] if p["system"] == system)
            xs = [x for x, _, _ in pts]
            ys = [y for _, y, _ in pts]
            line = ax.plot(xs, ys, marker="o", label=system)[0]
            cis = [(x, c) for x, _, c in pts if c]
            if cis:
                ax.fill_between(
                    [x for x, _ in cis],
                    [c[0] for _, c in cis],
                    [c[1] for _, c in cis],
                    color=line.get_color(),
                    alpha=0.15,
                )
        ax.axhline(doc["rules"][key], color="grey", linestyle="--", label="rules")
        ax.set_title(title)
        ax.set_xlabel(f"new training documents (plus {n_base} base)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("TEST split")
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render_curve(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    lines = [
        "# Learning curve (scored on the TEST split)",
        "",
        f"Each point: {meta['fit']}. Base: {len(meta['base_documents'])} documents "
        f"({', '.join(meta['base_documents'])}); new TRAIN documents added in a seeded order (seed "
        f"{meta['subset_seed']}), nested. TEST: {', '.join(meta['test_documents'])}.",
        "",
        "| system | new docs | strict F1 [95% CI] | target-category acc. | sentence-category acc. "
        "| strict F1 − rules | train sentences | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    r = doc["rules"]
    lines.append(
        f"| rules | – | {_ci(r, 'targets_strict_f')} | {_ci(r, 'targets_category_acc')} "
        f"| {_ci(r, 'sentcat_accuracy')} | – | – | – |"
    )
    for p in doc["points"]:
        lines.append(
            f"| {p['system']} | {p['k']} | {_ci(p, 'targets_strict_f')} | {_ci(p, 'targets_category_acc')} "
            f"| {_ci(p, 'sentcat_accuracy')} | {_diff(p, 'targets_strict_f')} "
            f"| {p['fit']['train_sentences']} | {p['fit']['seconds']:.0f} |"
        )
    lines += [
        "",
        f"Knobs: overrides {json.dumps(meta['overrides'], ensure_ascii=False)}, max_sentences "
        f"{meta['max_sentences']}, init {meta['init']}; git {meta['git_commit']}"
        f"{' (dirty)' if meta['git_dirty'] else ''}; {meta['seconds']:.0f} s.",
        "",
        "![curve](curve.png)",
        "",
    ]
    return "\n".join(lines)


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs → ``TrainConfig`` fields, typed by the field's default (bool:
    1/true/yes; ``None`` defaults: int, or float where the name says lr)."""
    from dataclasses import fields

    from pipeline.training.loop import TrainConfig

    defaults = TrainConfig()
    known = {f.name for f in fields(TrainConfig)}
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in known:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE with KEY a TrainConfig field")
        v = getattr(defaults, key)
        if isinstance(v, bool):
            out[key] = raw.strip().lower() in ("1", "true", "yes")
        elif v is None:
            out[key] = (float if "lr" in key else int)(raw) if key != "init" else raw
        else:
            out[key] = type(v)(raw)
    return out


__all__ = ["CompareConfig", "CurveConfig", "cap_sentences", "compare", "curve", "nested_subsets", "system_configs"]
