"""``govtarget audit``: see ``pipeline.annotation.audit``."""

from __future__ import annotations

import argparse
import sys

from pipeline.annotation import audit as _audit
from pipeline.annotation.audit import audit_files, context, read_decisions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="govtarget audit", description=(_audit.__doc__ or "").splitlines()[0])
    ap.add_argument("raw", help="the raw report (UTF-8 text)")
    ap.add_argument("gold", help="its gold JSONL (inline format, GUIDELINES section 4)")
    ap.add_argument("decisions", help="its decisions TSV (data/audit/<doc_id>.tsv)")
    args = ap.parse_args(argv)
    res = audit_files(args.raw, args.gold, args.decisions)
    from pipeline.text.reader import read_report

    raw = read_report(args.raw).text
    counts: dict[str, int] = {}
    for d in read_decisions(args.decisions):
        counts[d.decision] = counts.get(d.decision, 0) + 1
    print(f"{len(res.tokens)} number tokens; decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for tok in res.unaccounted:
        print(f"UNACCOUNTED {tok.start}:{tok.end} {tok.token!r}  {context(raw, tok.start, tok.end)}")
    for p in res.problems:
        print(f"PROBLEM {p}")
    print(
        "OK: every number is accounted for"
        if res.ok
        else f"{len(res.unaccounted)} unaccounted, {len(res.problems)} problem(s)"
    )
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
