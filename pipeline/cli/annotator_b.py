"""``govtarget annotator-b``: see ``pipeline.annotation.annotator_b``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.annotation import annotator_b as _b
from pipeline.annotation.annotator_b import OUT, RAW, ROOT, SpecError, agreement_report, build_records, render
from pipeline.annotation.gold import load_gold_file, validate_records
from pipeline.io import atomic_write_text
from pipeline.text.reader import read_report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="govtarget annotator-b", description=(_b.__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail unless the committed file equals the spec and validates")
    ap.add_argument("--agree", metavar="GOLD", help="agreement of GOLD (A) with annotator B, and every disagreement")
    ap.add_argument("--json", metavar="PATH", help="with --agree: write the metrics and disagreements here")
    args = ap.parse_args(argv)

    raw = read_report(RAW).text
    try:
        records = build_records(raw)
    except SpecError as e:
        print(f"spec error: {e}", file=sys.stderr)
        return 1
    text = render(records)
    problems = validate_records([(i + 1, r.to_json()) for i, r in enumerate(records)], raw, str(OUT))
    if problems:
        print("\n".join(map(str, problems)), file=sys.stderr)
        return 1
    n_t = sum(len(r.targets) for r in records)
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run govtarget annotator-b", file=sys.stderr)
            return 1
        print(f"ok: {len(records)} sentences, {n_t} targets")
    elif not args.agree:
        atomic_write_text(OUT, text)
        print(f"wrote {OUT.relative_to(ROOT)}: {len(records)} sentences, {n_t} targets")
    if args.agree:
        gold = load_gold_file(args.agree, raw_dir=RAW.parent)
        res = agreement_report(gold, _b._doc(records, raw))
        for k, v in res["metrics"].items():
            print(f"{k}\t{v:.4f}" if isinstance(v, float) else f"{k}\t{v}")
        print("disagreements", json.dumps(res["counts"], ensure_ascii=False))
        if args.json:
            Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
