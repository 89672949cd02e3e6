"""``govtarget select CORPUS``: the most uncertain sentences of unannotated reports as a Label Studio project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.annotation.annotation_io import dumps_tasks, labelstudio_config
from pipeline.io import atomic_write_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("select", help="pick the sentences/paragraphs the model is least sure about, for annotation")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="a folder of *.txt reports, or report files")
    p.add_argument(
        "--model",
        default="default",
        help="model directory, 'rules' for the rule baseline, or 'default': the shipped model (models/default)",
    )
    p.add_argument("-n", type=int, default=50, help="how many sentences/paragraphs to select (default 50)")
    p.add_argument("--unit", choices=("sentence", "paragraph"), default="sentence")
    p.add_argument("--gold", default="data/gold", help="gold set: its documents and sentences are skipped")
    p.add_argument("--threshold", type=float, default=0.7, help="3-gram Jaccard at which a text is a near-duplicate")
    p.add_argument("--max-per-doc", type=int, default=None, help="at most this many selections per report")
    p.add_argument("--max-docs", type=int, default=None, help="tag only this many reports (seeded sample)")
    p.add_argument("--no-token-entropy", action="store_true", help="skip the extra token-entropy pass (faster)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--out", required=True, help="Label Studio tasks JSON (config written to <out>.xml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import random

    from pipeline.annotation.select import select
    from pipeline.tagging.tagger import Tagger

    files: list[Path] = []
    for c in args.corpus:
        p = Path(c)
        files += sorted(p.glob("*.txt")) if p.is_dir() else [p]
    if not files:
        print(f"error: no reports in {' '.join(args.corpus)}", file=sys.stderr)
        return 1
    if args.max_docs is not None and len(files) > args.max_docs:
        files = sorted(random.Random(args.seed).sample(files, args.max_docs))
    tagger = Tagger.load(args.model, device=args.device)
    corpus_dir = Path(args.corpus[0]) if Path(args.corpus[0]).is_dir() else None
    sel = select(
        files,
        tagger,
        n=args.n,
        unit=args.unit,
        gold_dir=args.gold,
        corpus_dir=corpus_dir,
        threshold=args.threshold,
        max_per_doc=args.max_per_doc,
        use_token_entropy=not args.no_token_entropy,
        seed=args.seed,
        model_version=f"{tagger.name}:{Path(args.model).name}",
    )
    atomic_write_text(args.out, dumps_tasks(sel.tasks, "labelstudio"))
    config = str(Path(args.out).with_suffix(".xml"))
    atomic_write_text(config, labelstudio_config())
    print(
        f"{sel.n_docs} report(s) tagged ({len(sel.skipped_docs)} skipped as already gold), "
        f"{sel.n_candidates} candidate {args.unit}s; selected {len(sel.chosen)} into {len(sel.tasks)} task(s): "
        f"{args.out} (config {config})",
        file=sys.stderr,
    )
    for u in sel.unreadable:
        print(f"skipped: {u}", file=sys.stderr)
    for c in sel.chosen[:10]:
        print(f"  {c.uncertainty:.3f} {c.doc_id}#{c.sent_ids[0]} {c.text[:50]}", file=sys.stderr)
    return 0
