"""``govtarget seed``: see ``pipeline.annotation.seed``."""

from __future__ import annotations

import argparse
import sys

from pipeline.annotation import seed as _seed
from pipeline.annotation.seed import AUDIT, GOLD, RAW, ROOT, SpecError, build, load_spec, render
from pipeline.io import atomic_write_text
from pipeline.text.reader import read_report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="govtarget seed", description=(_seed.__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files on disk differ")
    args = ap.parse_args(argv)
    raw = read_report(RAW).text
    try:
        records, decisions = build(raw, load_spec())
    except SpecError as e:
        print(f"annotate_seed: {e}", file=sys.stderr)
        return 2
    gold, tsv = render(records, decisions)
    if args.check:
        same = GOLD.exists() and AUDIT.exists() and GOLD.read_text("utf-8") == gold and AUDIT.read_text("utf-8") == tsv
        print("up to date" if same else "OUT OF DATE: rerun govtarget seed")
        return 0 if same else 1
    atomic_write_text(GOLD, gold)
    atomic_write_text(AUDIT, tsv)
    n_t = sum(len(r.targets) for r in records)
    print(f"wrote {GOLD.relative_to(ROOT)}: {len(records)} sentences, {n_t} targets")
    print(f"wrote {AUDIT.relative_to(ROOT)}: {len(decisions)} number tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
