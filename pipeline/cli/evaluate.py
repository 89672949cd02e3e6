"""Evaluate a system against the gold set; compare two annotations; show the history of runs.

    python evaluate.py --system rules                 # rule baseline on data/gold
    python evaluate.py --model models/joint --cv 5    # retrain per fold: the figure to quote
    python evaluate.py --pred out/                    # predictions in gold format (batch output)
    python evaluate.py agree A.jsonl B.jsonl          # inter-annotator agreement
    python evaluate.py history                        # table + reports/history.png

A thin layer over ``pipeline.evaluation.evalrun`` (runs), ``pipeline.evaluation.scoring`` (metrics) and
``pipeline.evaluation.report_html`` (views).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import GoldError
from pipeline.evaluation.evalrun import HISTORY, EvalConfig, SystemKind, read_history_lines, run_evaluation
from pipeline.evaluation.scoring import HEADLINE


def _fmt_ci(m: Mapping[str, Any], k: str) -> str:
    ci = m.get(f"{k}_ci")
    return f"{m.get(k, 0.0):.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evaluate.py", description="Score a system against the gold set.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--system", choices=("rules",), help="the rule baseline (default when nothing else is given)")
    src.add_argument("--model", metavar="DIR", help="a trained model directory")
    src.add_argument("--pred", metavar="FILE_OR_DIR", help="predictions in the gold record format (JSONL)")
    p.add_argument("--gold", default="data/gold", help="gold file or folder (default: data/gold)")
    p.add_argument(
        "--split",
        choices=("train", "test", "all"),
        default="train",
        help="gold documents scored: all but the declared test split (default), the test split "
        "(final figures only; data/gold/splits.json), or all",
    )
    p.add_argument("--corpus", default=None, help="corpus folder for standoff gold (default: ../shared/corpus)")
    p.add_argument("--out", default="reports", help="where run folders and history.jsonl go (default: reports)")
    p.add_argument("--run-id", default=None, help="name of the run folder (default: UTC time + system)")
    p.add_argument("--cv", type=int, default=0, metavar="K", help="K-fold cross-validation grouped by paragraph")
    p.add_argument(
        "--cv-by",
        choices=("paragraph", "document"),
        default="paragraph",
        help="fold grouping; 'document' is leave-one-document-out",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for folds and bootstrap")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (0: no intervals)")
    return p


def cmd_evaluate(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    kind: SystemKind
    kind, path = ("model", args.model) if args.model else ("pred", args.pred) if args.pred else ("rules", None)
    try:
        cfg = EvalConfig(
            gold=args.gold,
            out=args.out,
            system=kind,
            path=path,
            cv=args.cv,
            cv_by=args.cv_by,
            seed=args.seed,
            n_resamples=args.resamples,
            run_id=args.run_id,
            corpus=args.corpus,
            split=args.split,
        )
        res = run_evaluation(cfg, log=lambda s: print(s, file=sys.stderr))
    except (GoldError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    m, b = res.metrics, res.baseline or {}
    print(
        f"run {res.meta['run_id']}: {res.meta['system']} on {len(res.meta['gold_documents'])} gold document(s), "
        f"{m['n_sentences']} sentences, {m['targets_n_gold']} targets"
    )
    print(f"split: {res.meta['split']}")
    ms = res.meta.get("metadata_scores")
    if ms:
        accs = "  ".join(f"{k[:-4]} {v:.3f}" for k, v in ms.items() if k.endswith("_acc") and v is not None)
        print(
            f"metadata ({ms['n']} documents, accuracy): {accs}; gold targets with an indicator code "
            f"{ms['indicator_codes']['with_code']}/{ms['indicator_codes']['n']}"
        )
        ia = ms.get("indicator_accuracy")
        if ia:
            print(
                f"indicator codes vs data/gold/indicators.csv ({ia['n']} gold targets): accuracy {ia['accuracy']:.3f}, "
                f"coded targets P {ia['coded_p']:.3f} R {ia['coded_r']:.3f} F1 {ia['coded_f1']:.3f}"
            )
    for n in res.meta.get("notes", []):
        print(f"note: {n}")
    print(f"{HEADLINE} (headline): {_fmt_ci(m, HEADLINE)}   rules: {_fmt_ci(b, HEADLINE) if b else 'n/a'}")
    for k in (
        "targets_strict_p",
        "targets_strict_r",
        "targets_partial_f",
        "targets_typed_f",
        "fields_all_acc",
        "sentcat_accuracy",
        "sentcat_macro_f1",
    ):
        print(f"  {k:20s} {_fmt_ci(m, k):28s} rules {_fmt_ci(b, k) if b else 'n/a'}")
    print(
        f"  correct {m['targets_correct']}  boundary {m['targets_boundary']}  missed {m['targets_missed']}  "
        f"spurious {m['targets_spurious']}  outside gold sentences {m['targets_pred_outside_gold']}"
    )
    print(f"report: {res.run_dir / 'report.md'} and report.html")
    return 0


def cmd_agree(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="evaluate.py agree", description="Agreement of two annotations of one report.")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--corpus", default=None)
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = p.parse_args(argv)
    from pipeline.annotation.gold import load_gold_dir
    from pipeline.evaluation.scoring import agreement

    try:
        a, sa = load_gold_dir(args.a, corpus_dir=args.corpus)
        b, sb = load_gold_dir(args.b, corpus_dir=args.corpus)
    except GoldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for s in sa + sb:
        print(f"skipped: {s}", file=sys.stderr)
    if not a or not b:
        print("error: nothing to compare", file=sys.stderr)
        return 2
    try:
        m = agreement(a, b)
    except ValueError as e:  # two different documents (or texts): nothing to agree on
        print(f"error: {args.a} vs {args.b}: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(m, ensure_ascii=False, indent=1))
        return 0
    print(
        f"A = {args.a}, B = {args.b}: {m['n_sentences']} sentences; targets A {m['targets_n_a']}, B {m['targets_n_b']}"
    )
    print(f"  target F1 strict  {_fmt_ci(m, 'targets_strict_f')}")
    print(f"  target F1 partial {m['targets_partial_f']:.3f}   typed {m['targets_typed_f']:.3f}")
    print(
        f"  identical {m['targets_correct']}, boundary differs {m['targets_boundary']}, "
        f"only A {m['targets_only_a']}, only B {m['targets_only_b']}"
    )
    print(f"  fields all agree on identical spans {m['fields_all_acc']:.3f} (n={m['fields_n']})")
    print(f"  sentence category agreement {m['sentcat_accuracy']:.3f}, Cohen's kappa {m['sentcat_kappa']:.3f}")
    print(f"  target category kappa (identical spans) {m['target_category_kappa']:.3f}")
    return 0


def cmd_history(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="evaluate.py history", description="Table and plot of past runs.")
    p.add_argument("--out", default="reports")
    p.add_argument("--plot", default=None, help="PNG path (default: <out>/history.png)")
    args = p.parse_args(argv)
    from pipeline.evaluation.report_html import history_table, plot_history

    lines = read_history_lines(Path(args.out) / HISTORY)
    if not lines:
        print(f"no runs in {Path(args.out) / HISTORY}")
        return 0
    print(history_table(lines), end="")
    png = plot_history(lines, args.plot or Path(args.out) / "history.png")
    print(f"plot: {png}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "history":
        return cmd_history(argv[1:])
    if argv and argv[0] == "agree":
        return cmd_agree(argv[1:])
    return cmd_evaluate(argv)


if __name__ == "__main__":
    sys.exit(main())
