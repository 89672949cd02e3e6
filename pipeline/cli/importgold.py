"""``govtarget import FILE``: corrected Label Studio / doccano annotations → gold records (all or nothing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.annotation.annotation_io import (
    OFFSET_UNITS,
    DocSource,
    apply_gold_writes,
    import_tasks,
    load_tasks,
    plan_gold_writes,
)
from pipeline.errors import AnnotationImportError, ReadError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import corrected annotations (Label Studio / doccano) into the gold set")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=("labelstudio", "doccano"), default="labelstudio")
    p.add_argument(
        "--raw",
        nargs="+",
        required=True,
        metavar="REPORT",
        help="the raw report(s) the tasks refer to (files, or folders of *.txt such as the corpus)",
    )
    p.add_argument(
        "--out",
        required=True,
        help="gold file data/gold/<doc>.jsonl (one document) or a folder (one file per document)",
    )
    p.add_argument(
        "--standoff",
        action="store_true",
        help="write standoff gold (offsets, no text) for corpus documents the project may not commit",
    )
    p.add_argument(
        "--offsets", choices=OFFSET_UNITS, default=None, help="override the offset convention recorded in the file"
    )
    p.add_argument(
        "--accept-predictions",
        action="store_true",
        help="take a task's prediction when it has no annotation (not reviewed: avoid for gold)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace an existing gold file instead of merging (default: keep its other sentences)",
    )
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    p.set_defaults(func=run)


def _raw_files(specs: list[str], wanted: set[str]) -> list[Path]:
    """Listed files, plus the reports in listed folders whose name is a doc_id of the tasks."""
    out: list[Path] = []
    for s in specs:
        p = Path(s)
        out += [f for f in sorted(p.glob("*.txt")) if f.stem in wanted] if p.is_dir() else [p]
    return out


def run(args: argparse.Namespace) -> int:
    try:
        tasks = load_tasks(args.file, args.format)
    except (OSError, AnnotationImportError) as e:
        print(f"error: {args.file}: {e}", file=sys.stderr)
        return 1
    wanted = {
        str((t.get("data", t) if args.format == "labelstudio" else t).get("doc_id"))
        for t in tasks
        if isinstance(t, dict)
    }
    docs: dict[str, DocSource] = {}
    raw_bytes: dict[str, bytes] = {}
    for f in _raw_files(args.raw, wanted):
        try:
            d = DocSource.from_path(f)
        except ReadError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        docs[d.doc_id] = d
        raw_bytes[d.doc_id] = f.read_bytes()
    try:
        result = import_tasks(
            tasks, docs, args.format, offset_unit=args.offsets, use_predictions=args.accept_predictions
        )
        plans = plan_gold_writes(
            result, docs, args.out, standoff=args.standoff, merge=not args.replace, raw_bytes=raw_bytes
        )
    except AnnotationImportError as e:
        print(f"error: {args.file}: {e}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.dry_run:
        apply_gold_writes(plans)
    verb = "would write" if args.dry_run else "wrote"
    for p in plans:
        n_t = sum(len(r.targets) for r in result.records[p.doc_id])
        print(
            f"{verb} {p.path}: {p.n_new} imported sentence(s) with {n_t} target(s), {p.n_kept} kept"
            + (f"; raw copied to {p.raw_copy[0]}" if p.raw_copy else ""),
            file=sys.stderr,
        )
    return 0
