"""Agreement of the three corpus2 reports annotated twice blind (issue 12).

    python scripts/agree_2026.py OUT.json [--gold data/gold/standoff]

A = the gold file of each document (data/gold/standoff/<doc>.jsonl), B = annotator B
(data/agreement/<doc>.annotator-b.jsonl). Per document and pooled (pipeline.evaluation.scoring.agreement
over all three documents together), plus the part (review/plan/other) disagreements, which
``agreement`` does not compare. Reads gold files only (no system output).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.annotation.gold import load_gold_file
from pipeline.evaluation.scoring import agreement

DOCS = ["2013_neimenggu_hailar_district", "2026_henan_province", "2026_jilin_province"]
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus2"


#: Corpus text may not be committed: quotations in the JSON are cut to a few characters
#: (offsets identify every item).
QUOTE = 12


def _cut(x):
    if isinstance(x, dict):
        return {k: (v[:QUOTE] + ("…" if len(v) > QUOTE else "")) if k.endswith("text") and isinstance(v, str) else _cut(v)
                for k, v in x.items()}
    if isinstance(x, list):
        return [_cut(v) for v in x]
    return x


def parts(a, b):
    out = []
    for sa, sb in zip(a.sentences, b.sentences):
        assert (sa.start, sa.end) == (sb.start, sb.end)
        pa, pb = sa.extra.get("part"), sb.extra.get("part")
        if pa != pb:
            out.append({"doc_id": a.doc_id, "sent_id": sa.sent_id, "start": sa.start, "end": sa.end,
                        "text": sa.text[:30], "a": pa, "b": pb})
    return out


def main(argv):
    out = Path(argv[0])
    gold = Path(argv[argv.index("--gold") + 1]) if "--gold" in argv else ROOT / "data/gold/standoff"
    A = [load_gold_file(gold / f"{d}.jsonl", corpus_dir=CORPUS) for d in DOCS]
    B = [load_gold_file(ROOT / f"data/agreement/{d}.annotator-b.jsonl", corpus_dir=CORPUS) for d in DOCS]
    res = {"a": str(gold), "b": "data/agreement/<doc>.annotator-b.jsonl", "per_document": {}}
    for d, a, b in zip(DOCS, A, B):
        m = agreement([a], [b])
        m["part_disagreements"] = parts(a, b)
        m["part_agreement"] = 1 - len(m["part_disagreements"]) / len(a.sentences)
        res["per_document"][d] = m
    m = agreement(A, B)
    pd = [x for d in DOCS for x in res["per_document"][d]["part_disagreements"]]
    m["part_disagreements_n"] = len(pd)
    m["part_agreement"] = 1 - len(pd) / sum(len(a.sentences) for a in A)
    res["pooled"] = m
    res = _cut(res)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for d, m in [*res["per_document"].items(), ("pooled", res["pooled"])]:
        ci = m["targets_strict_f_ci"]
        print(f"{d}: sents {m['n_sentences']} targets A {m['targets_n_a']} B {m['targets_n_b']} "
              f"ident {m['targets_correct']} bound {m['targets_boundary']} onlyA {m['targets_only_a']} onlyB {m['targets_only_b']} "
              f"strict {m['targets_strict_f']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] partial {m['targets_partial_f']:.3f} "
              f"typed {m['targets_typed_f']:.3f} fields {m['fields_all_acc']:.3f} (n={m['fields_n']}) "
              f"sentcat {m['sentcat_accuracy']:.3f} k {m['sentcat_kappa']:.3f} tcat_k {m['target_category_kappa']:.3f} "
              f"part {m['part_agreement']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
