"""``govtarget export REPORT...``: reports (with predictions or gold) as Label Studio or doccano tasks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.annotation.annotation_io import (
    OFFSET_UNITS,
    UNIT_KINDS,
    DocSource,
    doccano_labels,
    dumps_tasks,
    export_doccano,
    export_labelstudio,
    labelstudio_config,
    renumber,
)
from pipeline.errors import ReadError
from pipeline.io import atomic_write_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export reports as Label Studio / doccano tasks, pre-annotated by a model")
    p.add_argument("files", nargs="+", metavar="REPORT")
    p.add_argument("--format", choices=("labelstudio", "doccano"), default="labelstudio")
    p.add_argument("--model", default=None, help="model directory or 'rules': pre-annotate with its predictions")
    p.add_argument("--gold", default=None, help="gold file or folder: export its records as annotations to re-review")
    p.add_argument("--unit", choices=UNIT_KINDS, default="paragraph", help="one task per sentence/paragraph/document")
    p.add_argument(
        "--offsets",
        choices=OFFSET_UNITS,
        default="utf16",
        help="offset convention written into the file (utf16 = JavaScript indices, Label Studio/doccano)",
    )
    p.add_argument("--out", required=True, help="tasks file (.json for Label Studio, .jsonl for doccano)")
    p.add_argument(
        "--config",
        default=None,
        help="where to write the labeling config (default: <out>.xml, or <out>.labels.json for doccano)",
    )
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.set_defaults(func=run)


def _gold_records(spec: str | None) -> dict[str, Any]:
    if spec is None:
        return {}
    from pipeline.annotation.gold import load_gold_dir

    docs, skipped = load_gold_dir(spec)
    for s in skipped:
        print(f"warning: {s}", file=sys.stderr)
    return {d.doc_id: d.sentences for d in docs}


def run(args: argparse.Namespace) -> int:
    if args.model and args.gold:
        print("error: give --model or --gold, not both", file=sys.stderr)
        return 2
    tagger = None
    if args.model:
        from pipeline.tagging.tagger import Tagger

        tagger = Tagger.load(args.model, **({} if args.model == "rules" else {"device": args.device}))
    gold = _gold_records(args.gold)
    tasks: list[dict[str, Any]] = []
    for path in args.files:
        try:
            doc = DocSource.from_path(path)
        except ReadError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        records = None
        if tagger is not None:
            records = tagger(doc.text, doc.doc_id).sentences
        elif args.gold:
            records = gold.get(doc.doc_id)
            if records is None:
                print(f"error: no gold records for {doc.doc_id} in {args.gold}", file=sys.stderr)
                return 1
        try:
            if args.format == "labelstudio":
                version = f"{tagger.name}:{Path(args.model).name}" if tagger is not None else ""
                tasks += export_labelstudio(
                    doc,
                    records,
                    unit=args.unit,
                    offset_unit=args.offsets,
                    as_annotations=bool(args.gold),
                    model_version=version,
                )
            else:
                tasks += export_doccano(doc, records, unit=args.unit, offset_unit=args.offsets)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    renumber(tasks)
    atomic_write_text(args.out, dumps_tasks(tasks, args.format))
    if args.format == "labelstudio":
        config = args.config or str(Path(args.out).with_suffix(".xml"))
        atomic_write_text(config, labelstudio_config())
    else:
        config = args.config or str(Path(args.out).with_suffix(".labels.json"))
        atomic_write_text(config, json.dumps(doccano_labels(), ensure_ascii=False, indent=1) + "\n")
    n_pred = sum(1 for t in tasks if t.get("predictions") or t.get("annotations") or t.get("label"))
    print(
        f"wrote {len(tasks)} {args.format} task(s) from {len(args.files)} report(s) to {args.out} "
        f"({n_pred} pre-annotated; offsets in {args.offsets}); labeling config: {config}",
        file=sys.stderr,
    )
    return 0
