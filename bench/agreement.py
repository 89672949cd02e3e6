"""How much a quantised backend changes a model's output: int8 (and the others) against fp32.

    python bench/agreement.py --model DIR --corpus ../shared/corpus --chars 20000 --gold data/gold \
        [--backends onnx,int8,torch-int8]

On the gold reports plus the first ``--chars`` characters of the corpus, the same encoded windows
go through fp32 PyTorch and each backend; reported per backend:

* token-tag agreement: share of sentence tokens whose argmax BIO tag is the same (the model
  alone, no rule prior: the strictest view of what quantisation changes);
* max |logit difference| over all tokens;
* span agreement: strict F1 of the backend's decoded target spans against fp32's with the
  model's own decoding (its rule prior and reconciliation, as ``govtarget batch`` runs it), and
  how many spans fp32 found (a model that tags nothing agrees trivially).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--chars", type=int, default=20_000)
    p.add_argument("--gold", default="data/gold")
    p.add_argument("--backends", default="onnx,int8,torch-int8")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--max-gold-docs", type=int, default=0, help="only the first N gold documents (0: all; bert-base is slow)"
    )
    p.add_argument(
        "--rule-prior",
        type=float,
        default=None,
        help="decode with this rule prior and reconciliation instead of the model's own (a briefly "
        "trained model that tags nothing alone: the decisions the shipped model's decoding makes)",
    )
    a = p.parse_args()
    from bench_infer import load_text

    from pipeline.annotation.gold import load_gold_dir
    from pipeline.model.backends import apply_threads, make_runner
    from pipeline.model.load import load_predictor
    from pipeline.model.modeling import N_TAGS, ModelPredictor
    from pipeline.tagging.tagger import Tagger

    apply_threads(a.threads)
    gold, _ = load_gold_dir(a.gold, corpus_dir=a.corpus)
    if a.max_gold_docs:
        gold = gold[: a.max_gold_docs]
    sets = {"gold": [(d.doc_id, d.raw) for d in gold], "corpus": load_text(a.corpus, a.chars)}
    ref = load_predictor(a.model, backend="torch")

    def decoding(pred: ModelPredictor) -> ModelPredictor:
        if a.rule_prior is not None:
            pred.rule_prior, pred.reconcile_edits = a.rule_prior, True
        return pred

    decoding(ref)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for b in a.backends.split(","):
        alt = decoding(load_predictor(a.model, backend="torch"))
        alt.runner = make_runner(a.model, b, threads=a.threads)
        out[b] = {}
        for name, docs in sets.items():
            from pipeline.predict import SentenceInput
            from pipeline.text.segment import segment

            same = total = 0
            max_err = 0.0
            for _doc_id, text in docs:
                sents = [SentenceInput(s.text, s.part, s.section_path) for s in segment(text).sentences]
                enc = ref.encode_inputs(sents)
                tl_ref, _ = ref.forward_encoded(enc)
                tl_alt, _ = alt.forward_encoded(enc)
                for e, wr, wa in zip(enc, tl_ref, tl_alt):
                    for win, r, q in zip(e.windows, wr, wa):
                        mask = np.array([o is not None for o in win.offsets])
                        if mask.any():
                            tr, tq = r[mask, :N_TAGS].argmax(1), q[mask, :N_TAGS].argmax(1)
                            same += int((tr == tq).sum())
                            total += int(mask.sum())
                            max_err = max(max_err, float(np.abs(r - q).max()))
            sr = {(t.doc_id, x.start, x.end) for t in Tagger(ref).tag_many(docs) for x in t.targets()}
            sa = {(t.doc_id, x.start, x.end) for t in Tagger(alt).tag_many(docs) for x in t.targets()}
            f = 1.0 if not sr and not sa else 2 * len(sr & sa) / (len(sr) + len(sa))
            out[b][name] = {
                "token_tag_agreement": same / max(total, 1),
                "tokens": total,
                "max_logit_error": max_err,
                "span_agreement": f,
                "fp32_spans": len(sr),
                "backend_spans": len(sa),
                "chars": sum(len(t) for _, t in docs),
            }
            print(json.dumps({"backend": b, "set": name, **out[b][name]}), file=sys.stderr)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
