"""``govtarget standoff``: see ``pipeline.annotation.standoff``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.annotation import standoff as _standoff
from pipeline.annotation.standoff import ROOT, SpecError, build, dump_spec, export, load_spec, skeleton, to_jsonl
from pipeline.errors import GoldError
from pipeline.io import atomic_write_text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="govtarget standoff", description=(_standoff.__doc__ or "").split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help='spec(s) → gold JSONL (standoff, or inline for a spec with "inline": true)')
    b.add_argument("specs", nargs="+", type=Path)
    b.add_argument("--corpus", type=Path, required=True)
    b.add_argument("--out", type=Path, default=ROOT / "data" / "gold" / "standoff")
    e = sub.add_parser("export", help="standoff JSONL → spec (needs the corpus)")
    e.add_argument("standoff", type=Path)
    e.add_argument("--corpus", type=Path, required=True)
    r = sub.add_parser("rebuild", help="standoff JSONL → spec → standoff JSONL again (after a segmenter change)")
    r.add_argument("standoff", nargs="+", type=Path)
    r.add_argument("--corpus", type=Path, required=True)
    k = sub.add_parser("skeleton", help="corpus file → empty spec to fill in")
    k.add_argument("source", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "skeleton":
        print(dump_spec(skeleton(args.source)), end="")
        return 0
    if args.cmd == "export":
        print(dump_spec(export(args.standoff, args.corpus)), end="")
        return 0
    status = 0
    inputs = args.standoff if args.cmd == "rebuild" else args.specs
    for sp in inputs:
        try:
            if args.cmd == "rebuild":
                spec = export(sp, args.corpus)
            else:
                spec = load_spec(sp)
            built = build(spec, args.corpus, str(sp))
        except (SpecError, GoldError, json.JSONDecodeError, OSError) as err:
            print(f"error: {sp}: {err}", file=sys.stderr)
            status = 1
            continue
        out = sp if args.cmd == "rebuild" else args.out / f"{built.doc_id}.jsonl"
        atomic_write_text(out, to_jsonl(built))
        n_t = sum(len(r["targets"]) for r in built.records)
        if built.inline:
            print(f"{out}: {len(built.records)} sentences (inline), {n_t} targets")
        else:
            n_rev = sum(r["part"] == "review" for r in built.records)
            print(f"{out}: {len(built.records)} sentences ({n_rev} review), {n_t} targets")
        for sid, seg_part, part in built.part_disagreements:
            print(f"  sent_id {sid}: segmenter says {seg_part}, annotated {part}")
    return status


if __name__ == "__main__":
    sys.exit(main())
