"""Where the batch path's time goes: CPU seconds per stage of ``Tagger.tag_many``, one process.

    python bench/stages.py --model models/default --corpus ../shared/corpus --chars 100000 [--repeat 3]

The stages are timed by wrapping the functions ``tag_many`` calls (segmentation, the rule
baseline, encoding, the forward incl. padding, decoding, the category mix, the records), on the
first ``--chars`` characters of the corpus, after a warm-up and ``freeze_loaded`` (what
``govtarget batch`` does), with the rules' caches cleared before each repetition; the median of
``--repeat`` passes is printed. "bare forward" is the same forward on the same pre-padded batches,
timed in the same process between the passes (the ceiling of ``bench_infer.py``'s ratio).
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/default")
    p.add_argument("--corpus", required=True)
    p.add_argument("--chars", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--backend", default="torch")
    a = p.parse_args()
    os.environ["GOVTARGET_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    from bench_infer import _clear_text_caches, _predictor, bare_batches, load_text

    import pipeline.tagging.tagger as tagger_mod
    from pipeline.model import modeling
    from pipeline.tagging.parallel import freeze_loaded
    from pipeline.tagging.tagger import Tagger

    docs = load_text(a.corpus, a.chars)
    pred = _predictor(a.model, a.backend, 32)
    tagger = Tagger(pred)
    freeze_loaded()
    tagger.tag_many([docs[0]])
    batches = bare_batches(pred, docs, 32)

    spent: dict[str, float] = collections.defaultdict(float)

    def timed(fn: Callable[..., Any], key: str) -> Callable[..., Any]:
        def inner(*args: Any, **kw: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                spent[key] += time.process_time() - t

        return inner

    tagger_mod.segment = timed(tagger_mod.segment, "segmentation")  # type: ignore[assignment]
    modeling.rule_hints = timed(modeling.rule_hints, "rule baseline")  # type: ignore[assignment]
    modeling.decode_many = timed(modeling.decode_many, "decoding")  # type: ignore[assignment]
    modeling.mix_rule_category = timed(modeling.mix_rule_category, "category mix")  # type: ignore[assignment]
    pred.encode_inputs = timed(pred.encode_inputs, "encoding")  # type: ignore[method-assign]
    pred.forward_windows = timed(pred.forward_windows, "forward incl. padding")  # type: ignore[method-assign]
    tagger._record = timed(tagger._record, "records")  # type: ignore[method-assign]
    rows: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(a.repeat):
        _clear_text_caches()
        spent.clear()
        t = time.process_time()
        tagger.tag_many(docs)
        total = time.process_time() - t
        for k, v in spent.items():
            rows[k].append(v)
        rows["rest of tag_many and predict"].append(total - sum(spent.values()))
        rows["total (our batch path)"].append(total)
        t = time.process_time()
        for b in batches:
            pred.forward(b["input_ids"], b["attention_mask"], b["token_type_ids"])
        rows["bare forward (same batches)"].append(time.process_time() - t)
    chars = sum(len(t) for _, t in docs)
    print(f"CPU seconds per {chars:,} characters ({len(docs)} reports), median of {a.repeat}, backend {a.backend}")
    print("| stage | CPU s (median) | per 100,000 characters |")
    print("|---|---:|---:|")
    for k, v in rows.items():
        m = statistics.median(v)
        print(f"| {k} | {m:.3f} | {m * 100_000 / chars:.3f} |")
    ratio = [b / t for b, t in zip(rows["bare forward (same batches)"], rows["total (our batch path)"])]
    print(f"ours vs bare forward (median of the passes): {statistics.median(ratio):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
