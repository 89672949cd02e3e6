"""Digest of the rules' and the shipped model's predictions: the behaviour-preservation check.

    govtarget digest --out .digest-before.json        # before a refactor
    govtarget digest --check .digest-before.json      # after: exit 1 if anything moved

Predictions are the gold-format JSONL (``export.records_jsonl``) of ``Tagger(text, doc_id)``, one
document at a time, on

- the gold set (``data/gold``; standoff sources found where ``load_gold_dir`` looks by default:
  ``$GOVTARGET_CORPUS``, ``../shared/corpus``, ``../shared/corpus2``): rules and model;
- ``../shared/corpus``: the rules on every report, the model on a fixed subset (every 9th report
  in sorted order, about 10) to stay near two minutes on 2 cores.

The output is a JSON object: one sha256 per (set, system, document) and one over all of them, so a
difference names the document it is in.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.annotation.gold import load_gold_dir
from pipeline.tagging.export import records_jsonl
from pipeline.tagging.tagger import Tagger
from pipeline.text.reader import read_report

#: The repository root (the default gold folder and corpus are beside it in a checkout).
ROOT = Path(__file__).resolve().parents[2]

MODEL_EVERY = 9  # the model runs on every 9th corpus report (sorted by name)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digest(gold: Path, corpus: Path) -> dict[str, Any]:
    rules = Tagger.load("rules")
    model = Tagger.load("default")
    if model.name == "rules":
        raise SystemExit("the shipped model did not load: the digest would be the rules' twice")
    # Standoff sources: the default search (corpus and corpus2), not only ``corpus``: the gold
    # set holds documents of both.
    docs, skipped = load_gold_dir(gold)
    if skipped:
        raise SystemExit("gold documents skipped: " + "; ".join(skipped))
    inputs: list[tuple[str, str, str]] = [("gold", d.doc_id, d.raw) for d in docs]
    reports = sorted(corpus.glob("*.txt"))
    for f in reports:
        rep = read_report(f)
        inputs.append(("corpus", f.name, rep.text))
    model_corpus = {f.name for i, f in enumerate(reports) if i % MODEL_EVERY == 0}
    per: dict[str, str] = {}
    for where, name, text in inputs:
        per[f"{where}/rules/{name}"] = _sha(records_jsonl(rules(text, name).sentences))
        if where == "gold" or name in model_corpus:
            per[f"{where}/model/{name}"] = _sha(records_jsonl(model(text, name).sentences))
    total = hashlib.sha256("".join(f"{k}\t{v}\n" for k, v in sorted(per.items())).encode()).hexdigest()
    return {"total": total, "n": len(per), "documents": dict(sorted(per.items()))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="govtarget digest", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "data" / "gold")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", type=Path, help="write the digest here")
    g.add_argument("--check", type=Path, help="compare with a digest written earlier; exit 1 on any difference")
    a = ap.parse_args(argv)
    d = digest(a.gold, a.corpus)
    if a.out:
        a.out.write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
        print(f"{d['total']} ({d['n']} documents) → {a.out}")
        return 0
    before = json.loads(a.check.read_text(encoding="utf-8"))
    moved = [
        k
        for k in sorted(set(before["documents"]) | set(d["documents"]))
        if before["documents"].get(k) != d["documents"].get(k)
    ]
    print(f"now {d['total']} ({d['n']} documents); before {before['total']} ({before['n']})")
    for k in moved:
        print(f"  differs: {k}")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
