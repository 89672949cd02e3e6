"""``govtarget tag FILE...``: tag reports (.txt, .docx, PDF, HTML) and show targets readably, or as records
(JSONL/CSV). Offsets refer to the extracted text (``govtarget batch`` writes it as ``<doc>.txt``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipeline.errors import ReadError
from pipeline.tagging.export import records_jsonl, rows_csv, rows_jsonl, target_row
from pipeline.text.reader import read_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tag", help="tag reports: targets with value/unit/bound/direction and sentence categories")
    p.add_argument("files", nargs="+")
    p.add_argument(
        "--model",
        default="default",
        help="model directory, 'rules' for the rule baseline, or 'default': the shipped model (models/default)",
    )
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--backend", default=None, choices=("torch", "onnx", "int8"))
    p.add_argument(
        "--format",
        choices=("text", "jsonl", "csv", "gold"),
        default="text",
        help="text: readable view; jsonl/csv: one target record per row; gold: sentence records",
    )
    p.add_argument("--all", action="store_true", help="text view: show every sentence, not only those with targets")
    p.add_argument("--no-bom", action="store_true", help="csv: no UTF-8 BOM (it is there so Excel reads Chinese)")
    p.add_argument("--keep-review", action="store_true", help="also emit targets in the review of the past year")
    p.set_defaults(func=run)


def _fmt_num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return "" if x is None else f"{x:g}" if isinstance(x, float) else str(x)


def _text_view(doc: Any, path: str, encoding: str, show_all: bool) -> str:
    lines = [f"# {path} ({encoding}) doc_id={doc.doc_id}: {len(doc.sentences)} sentences, {len(doc.targets())} targets"]
    for s in doc.sentences:
        if not s.targets and not show_all:
            continue
        conf = s.extra.get("category_score")
        cat = f"{s.category} {conf:.2f}" if isinstance(conf, (int, float)) else s.category
        lines.append(f"{s.sent_id:4d} {s.extra.get('part', ''):6s} {cat:9s} {s.text}")
        for t in s.targets:
            r = target_row(s, t)
            val = _fmt_num(r["value"]) + (f"–{_fmt_num(r['value_max'])}" if r["value_max"] is not None else "")
            unit = r["unit"] or ""
            canon = ""
            if r["value_canonical"] is not None and r["multiplier"] not in (None, 1):
                canon = f" (= {_fmt_num(r['value_canonical'])} {r['unit_canonical']})"
            score = f" score {r['score']:.2f}" if isinstance(r["score"], (int, float)) else ""
            tcat = f" [{t.category}]" if t.category != s.category else ""
            lines.append(
                f"       → [{t.start},{t.end}) {t.text}{tcat}\n"
                f"         value {val or '?'} {unit}{canon} · bound {t.bound} · direction {t.direction or '-'}"
                f"{score}" + (f" · indicator {r['indicator']}" if r["indicator"] else "")
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pipeline.tagging.tagger import Tagger, resolve_model

    args.model = resolve_model(args.model)

    kwargs: dict[str, Any] = {"suppress_review": not args.keep_review}
    if args.model != "rules":
        from pipeline.model.backends import apply_threads

        apply_threads()
        kwargs.update(device=args.device, backend=args.backend)
    tagger = Tagger.load(args.model, **kwargs)
    failed = 0
    rows: list[dict[str, Any]] = []
    for path in args.files:
        try:
            rep = read_report(path)
        except ReadError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        doc = tagger(rep.text, rep.doc_id)
        if args.format == "text":
            how = rep.encoding if rep.format == "txt" else f"{rep.format} via {rep.library} {rep.library_version}"
            if rep.format == "html":
                how += f", {rep.encoding}"
            print(_text_view(doc, rep.path, how, args.all))
        elif args.format == "gold":
            sys.stdout.write(records_jsonl(doc.sentences))
        else:
            new = [target_row(s, t, source=rep.path) for s in doc.sentences for t in s.targets]
            if args.format == "jsonl":
                sys.stdout.write(rows_jsonl(new))
            rows.extend(new)
    if args.format == "csv":
        sys.stdout.write(rows_csv(rows, bom=not args.no_bom))
    return 1 if failed else 0
