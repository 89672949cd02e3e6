"""``govtarget seed``: see ``pipeline.annotation.seed``."""

from __future__ import annotations

import argparse
import sys

from pipeline.annotation import seed as _seed
from pipeline.annotation.seed import AUDIT, GOLD, ROOT, SpecError, build_seed, render
from pipeline.io import atomic_write_text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="govtarget seed", description=(_seed.__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files on disk differ")
    args = ap.parse_args(argv)
    try:
        built = build_seed()
        gold, tsv = render(built)
    except (SpecError, OSError) as e:
        print(f"govtarget seed: {e}", file=sys.stderr)
        return 2
    if args.check:
        same = GOLD.exists() and AUDIT.exists() and GOLD.read_text("utf-8") == gold and AUDIT.read_text("utf-8") == tsv
        print("up to date" if same else "OUT OF DATE: rerun govtarget seed")
        return 0 if same else 1
    atomic_write_text(GOLD, gold)
    atomic_write_text(AUDIT, tsv)
    n_t = sum(len(r["targets"]) for r in built.records)
    print(f"wrote {GOLD.relative_to(ROOT)}: {len(built.records)} sentences, {n_t} targets")
    print(f"wrote {AUDIT.relative_to(ROOT)}: {tsv.count(chr(10)) - 1} number tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
