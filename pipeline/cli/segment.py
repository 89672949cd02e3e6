"""``govtarget segment FILE...``: show how reports split into sentences, furniture and parts."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.errors import ReadError
from pipeline.text.reader import read_report
from pipeline.text.segment import segment


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("segment", help="split reports into sentences (with furniture and review/plan parts)")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", choices=("text", "jsonl"), default="text")
    p.add_argument("--all", action="store_true", help="also list skipped furniture and duplicates")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            report = read_report(path)
        except ReadError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        seg = segment(report.text)
        items = seg.segments if args.all else seg.sentences
        if args.format == "jsonl":
            for s in items:
                print(
                    json.dumps(
                        {
                            "doc_id": report.doc_id,
                            "sent_id": s.sent_id,
                            "start": s.start,
                            "end": s.end,
                            "text": s.text,
                            "paragraph": s.paragraph,
                            "section": s.section,
                            "part": s.part,
                            "heading": s.heading,
                            "skip": s.skip,
                        },
                        ensure_ascii=False,
                    )
                )
        else:
            print(
                f"# {report.path} ({report.encoding}): {len(seg.sentences)} sentences, "
                f"{len(seg.skipped)} skipped segments"
            )
            for s in items:
                tag = f"SKIP:{s.skip}" if s.skip else f"{s.part:6s}"
                print(f"{s.sent_id:4d} [{s.start:6d},{s.end:6d}) {tag:14s} {s.text[:70]}")
    return 1 if failed else 0
