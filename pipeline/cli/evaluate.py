"""Evaluate a system against the gold set; compare two annotations; show the history of runs.

    python evaluate.py --system rules                 # rule baseline on data/gold
    python evaluate.py --model models/joint --cv 5    # retrain per fold: the figure to quote
    python evaluate.py --pred out/                    # predictions in gold format (batch output)
    python evaluate.py agree A.jsonl B.jsonl          # inter-annotator agreement
    python evaluate.py agree data/gold/standoff data/agreement --docs D1,D2   # per document + pooled
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


def _cut_quotes(x: Any, n: int) -> Any:
    """``x`` with every ``*text`` string cut to ``n`` characters (offsets identify each item)."""
    if isinstance(x, dict):
        return {
            k: (v[:n] + ("…" if len(v) > n else "")) if k.endswith("text") and isinstance(v, str) else _cut_quotes(v, n)
            for k, v in x.items()
        }
    if isinstance(x, list):
        return [_cut_quotes(v, n) for v in x]
    return x


def _print_agreement(label: str, m: Mapping[str, Any]) -> None:
    print(f"{label}: {m['n_sentences']} sentences; targets A {m['targets_n_a']}, B {m['targets_n_b']}")
    print(f"  target F1 strict  {_fmt_ci(m, 'targets_strict_f')}")
    print(f"  target F1 partial {m['targets_partial_f']:.3f}   typed {m['targets_typed_f']:.3f}")
    print(
        f"  identical {m['targets_correct']}, boundary differs {m['targets_boundary']}, "
        f"only A {m['targets_only_a']}, only B {m['targets_only_b']}"
    )
    print(f"  fields all agree on identical spans {m['fields_all_acc']:.3f} (n={m['fields_n']})")
    print(f"  sentence category agreement {m['sentcat_accuracy']:.3f}, Cohen's kappa {m['sentcat_kappa']:.3f}")
    print(f"  target category kappa (identical spans) {m['target_category_kappa']:.3f}")
    if "part_agreement" in m:
        print(f"  part (review/plan/other) agreement {m['part_agreement']:.3f}")


def cmd_agree(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="evaluate.py agree",
        description="Agreement of two annotations of the same report(s): files or folders of gold files; "
        "with several documents, each one's figures and the pooled ones.",
    )
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--corpus", default=None)
    p.add_argument("--docs", default=None, help="only these doc_ids (comma-separated), on both sides")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--json-out", default=None, help="also write the full result as JSON to this file")
    p.add_argument(
        "--quote-chars",
        type=int,
        default=None,
        help="cut quoted report text in the JSON to this many characters (the committed files: 12)",
    )
    args = p.parse_args(argv)
    from pipeline.annotation.gold import load_gold_dir
    from pipeline.evaluation.scoring import agreement, part_disagreements

    try:
        a, sa = load_gold_dir(args.a, corpus_dir=args.corpus)
        b, sb = load_gold_dir(args.b, corpus_dir=args.corpus)
    except GoldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for s in sa + sb:
        print(f"skipped: {s}", file=sys.stderr)
    if args.docs:
        want = [d for d in args.docs.split(",") if d]
        missing = [d for d in want if d not in {x.doc_id for x in a} or d not in {x.doc_id for x in b}]
        if missing:
            print(f"error: --docs not in both A and B: {', '.join(missing)}", file=sys.stderr)
            return 2
        a = sorted((x for x in a if x.doc_id in want), key=lambda x: want.index(x.doc_id))
        b = sorted((x for x in b if x.doc_id in want), key=lambda x: want.index(x.doc_id))
    if not a or not b:
        print("error: nothing to compare", file=sys.stderr)
        return 2
    try:
        m = agreement(a, b)
        by_b = {x.doc_id: x for x in b}
        per_doc: dict[str, Any] = {}
        parts: list[dict[str, Any]] = []
        for da in a:
            pd = part_disagreements(da, by_b[da.doc_id])
            parts += pd
            if len(a) > 1:
                md = agreement([da], [by_b[da.doc_id]])
                md["part_disagreements"] = pd
                md["part_agreement"] = 1 - len(pd) / max(1, len(da.sentences))
                per_doc[da.doc_id] = md
    except ValueError as e:  # two different documents (or texts): nothing to agree on
        print(f"error: {args.a} vs {args.b}: {e}", file=sys.stderr)
        return 2
    m["part_disagreements"] = parts
    m["part_agreement"] = 1 - len(parts) / max(1, sum(len(d.sentences) for d in a))
    res: dict[str, Any] = dict(m)
    if per_doc:
        res = {"a": args.a, "b": args.b, "per_document": per_doc, "pooled": m}
    if args.quote_chars is not None:
        res = _cut_quotes(res, args.quote_chars)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return 0
    for doc_id, md in per_doc.items():
        _print_agreement(doc_id, md)
    _print_agreement(f"A = {args.a}, B = {args.b}" + (" (pooled)" if per_doc else ""), m)
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
