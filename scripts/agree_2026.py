"""Agreement of the three corpus2 reports annotated twice blind (issue 12).

    python scripts/agree_2026.py OUT.json [--gold data/gold/standoff] [--other 'DIR/{doc}.jsonl']
    python scripts/agree_2026.py --adjudicated OUT.json   # A's first pass and B, each vs the current gold

A = the gold file of each document (data/gold/standoff/<doc>.jsonl), B = annotator B
(data/agreement/<doc>.annotator-b.jsonl). Per document and pooled (pipeline.evaluation.scoring.agreement
over all three documents together), plus the part (review/plan/other) disagreements, which
``agreement`` does not compare. Reads gold files only (no system output).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's pipeline

from pipeline.annotation.gold import load_gold_file  # noqa: E402
from pipeline.evaluation.scoring import agreement  # noqa: E402

DOCS = ["2013_neimenggu_hailar_district", "2026_henan_province", "2026_jilin_province"]
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus2"


#: Corpus text may not be committed: quotations in the JSON are cut to a few characters
#: (offsets identify every item).
QUOTE = 12


def _cut(x):
    if isinstance(x, dict):
        return {
            k: (v[:QUOTE] + ("…" if len(v) > QUOTE else "")) if k.endswith("text") and isinstance(v, str) else _cut(v)
            for k, v in x.items()
        }
    if isinstance(x, list):
        return [_cut(v) for v in x]
    return x


def parts(a, b):
    out = []
    for sa, sb in zip(a.sentences, b.sentences):
        assert (sa.start, sa.end) == (sb.start, sb.end)
        pa, pb = sa.extra.get("part"), sb.extra.get("part")
        if pa != pb:
            out.append(
                {
                    "doc_id": a.doc_id,
                    "sent_id": sa.sent_id,
                    "start": sa.start,
                    "end": sa.end,
                    "text": sa.text[:30],
                    "a": pa,
                    "b": pb,
                }
            )
    return out


def compare(gold: Path, other: str) -> dict:
    A = [load_gold_file(gold / f"{d}.jsonl", corpus_dir=CORPUS) for d in DOCS]
    B = [load_gold_file(Path(other.format(doc=d)), corpus_dir=CORPUS) for d in DOCS]
    res = {"a": str(gold), "b": other, "per_document": {}}
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
    return _cut(res)


def show(res):
    for d, m in [*res["per_document"].items(), ("pooled", res["pooled"])]:
        ci = m["targets_strict_f_ci"]
        print(
            f"{d}: sents {m['n_sentences']} targets A {m['targets_n_a']} B {m['targets_n_b']} "
            f"ident {m['targets_correct']} bound {m['targets_boundary']} onlyA {m['targets_only_a']} onlyB {m['targets_only_b']} "
            f"strict {m['targets_strict_f']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] partial {m['targets_partial_f']:.3f} "
            f"typed {m['targets_typed_f']:.3f} fields {m['fields_all_acc']:.3f} (n={m['fields_n']}) "
            f"sentcat {m['sentcat_accuracy']:.3f} k {m['sentcat_kappa']:.3f} tcat_k {m['target_category_kappa']:.3f} "
            f"part {m['part_agreement']:.3f}"
        )


def main(argv):
    gold = Path(argv[argv.index("--gold") + 1]) if "--gold" in argv else ROOT / "data/gold/standoff"
    b = str(ROOT / "data/agreement/{doc}.annotator-b.jsonl")
    if argv[0] == "--adjudicated":
        # A's first pass is the gold of 4cf056e (before adjudication), written to a temporary folder.
        import subprocess
        import tempfile

        out = Path(argv[1])
        tmp = Path(tempfile.mkdtemp())
        for d in DOCS:
            blob = subprocess.run(
                ["git", "show", f"4cf056e:data/gold/standoff/{d}.jsonl"], cwd=ROOT, check=True, capture_output=True
            ).stdout
            (tmp / f"{d}.jsonl").write_bytes(blob)
        res = {
            "gold": str(gold),
            "annotator_a_first_pass_vs_gold": compare(gold, str(tmp / "{doc}.jsonl")),
            "annotator_b_vs_gold": compare(gold, b),
        }
        res["annotator_a_first_pass_vs_gold"]["b"] = "git 4cf056e:data/gold/standoff/{doc}.jsonl"
        for k in ("annotator_a_first_pass_vs_gold", "annotator_b_vs_gold"):
            print(k)
            show(res[k])
    else:
        out = Path(argv[0])
        other = argv[argv.index("--other") + 1] if "--other" in argv else b
        res = compare(gold, other)
        show(res)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
