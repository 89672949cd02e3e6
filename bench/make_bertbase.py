"""Build a bert-base-shaped model directory (12 layers × 768, vocabulary 21,128) for the benchmarks.

    python bench/make_bertbase.py OUT_DIR [--finetune-epochs 1] [--threads 1]

Random encoder weights (nothing can be downloaded here) with the bert-base-chinese tokenizer of
``../shared/models/bert-base-chinese-tokenizer``, then briefly fine-tuned on the gold set
(``--finetune-epochs 1`` over ``--max-sentences 640`` = 40 steps of 16 sentences, with the rule features, so the model tags
spans and the agreement of a quantised backend with fp32 means something). Speed does not
depend on the weights; the fine-tuning only makes the agreement figure meaningful. Not a model
to use: it has never seen a pretrained checkpoint.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--tokenizer", default=str(ROOT.parent / "shared" / "models" / "bert-base-chinese-tokenizer"))
    p.add_argument("--finetune-epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--max-sentences",
        type=int,
        default=640,
        help="gold sentences to fine-tune on (640 = 40 steps of 16 per epoch, as measured since 2026-11-25; "
        "the gold set has grown to 12,564 sentences, an epoch of which takes hours here)",
    )
    a = p.parse_args()
    from transformers import AutoTokenizer, BertConfig, BertModel

    from pipeline.annotation.gold import load_gold_dir
    from pipeline.training.loop import TrainConfig, examples_from_docs, train_model

    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tok = AutoTokenizer.from_pretrained(a.tokenizer)
        cfg = BertConfig(
            vocab_size=21128,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=2,
        )
        BertModel(cfg, add_pooling_layer=False).save_pretrained(tmp)
        tok.save_pretrained(tmp)
        docs, _ = load_gold_dir(ROOT / "data" / "gold", corpus_dir=ROOT.parent / "shared" / "corpus")
        ex = examples_from_docs(docs)[: a.max_sentences]
        tc = TrainConfig(
            encoder=tmp,
            fixed_epochs=a.finetune_epochs,
            num_threads=a.threads,
            lr=1e-4,
            batch_size=16,
            rule_features=True,
            target_category_source="sentence",
            fp16=True,
        )
        pred, res = train_model(ex, [], tc)
    pred.meta.update(
        encoder="bert-base shape (12x768), random init, briefly fine-tuned (benchmark only)",
        train_args={"epochs": a.finetune_epochs, "steps": res.__dict__.get("steps")},
    )
    pred.save(a.out)
    print(f"saved {a.out} in {time.time() - t0:.0f} s; history {getattr(res, 'history', None)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
