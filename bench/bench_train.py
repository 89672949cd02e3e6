"""Benchmark (not a test): training time per epoch and peak memory of the joint model on CPU.

Each configuration runs in its own subprocess (so peak RSS is its own), random init, a few
optimizer steps on batches shaped like the gold data (batch × median sentence length), and the
epoch time is extrapolated from the measured steps. Prints a Markdown table.

    python bench/bench_train.py                       # small (default), 256×4, bert-base shape
    python bench/bench_train.py --steps 3 --threads 2 --gold-sentences 638
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CONFIGS = {
    "small 128×4 (default)": dict(hidden=128, layers=4, heads=4, inter=512, vocab=21207),
    "small 256×4": dict(hidden=256, layers=4, heads=4, inter=1024, vocab=21207),
    "bert-base shape 768×12": dict(hidden=768, layers=12, heads=12, inter=3072, vocab=21128),
}


def _one(cfg: dict, steps: int, batch: int, length: int, threads: int) -> dict:
    import resource

    import torch

    from pipeline.model.modeling import JointModel, small_bert_config
    from pipeline.training.loop import TrainConfig

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = JointModel.from_config(
        small_bert_config(cfg["vocab"], cfg["hidden"], cfg["layers"], cfg["heads"], cfg["inter"])
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(20, cfg["vocab"], (batch, length))
    am = torch.ones_like(ids)
    tt = torch.zeros_like(ids)
    tags = torch.randint(0, 3, (batch, length))
    cats = torch.randint(0, 14, (batch,))
    ce = torch.nn.CrossEntropyLoss()
    _ = TrainConfig  # same code path as training (model + AdamW); losses simplified
    times = []
    for _ in range(steps + 1):  # first step is warm-up, not timed
        t = time.perf_counter()
        tl, sl = model(ids, am, tt)
        loss = ce(tl[..., :3].reshape(-1, 3), tags.reshape(-1)) + ce(sl, cats)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB on Linux
    return {
        "step_s": sum(times[1:]) / steps,
        "peak_rss_mib": rss,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=48, help="tokens per window (gold median ≈ 35 chars + context)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gold-sentences", type=int, default=638, help="sentences per epoch (the gold set)")
    ap.add_argument("--only", default=None, help="run one configuration (internal)")
    a = ap.parse_args()
    if a.only:
        print(json.dumps(_one(CONFIGS[a.only], a.steps, a.batch, a.length, a.threads)))
        return 0
    rows = []
    for name in CONFIGS:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--only",
                name,
                "--steps",
                str(a.steps),
                "--batch",
                str(a.batch),
                "--length",
                str(a.length),
                "--threads",
                str(a.threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["epoch_s"] = r["step_s"] * (a.gold_sentences / a.batch)
        rows.append((name, r))
    print(f"batch {a.batch} × {a.length} tokens, {a.threads} thread(s), epoch = {a.gold_sentences} sentences\n")
    print("| configuration | parameters | s / step | s / epoch (extrapolated) | peak RSS |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['params_m']:.1f}M | {r['step_s']:.2f} | {r['epoch_s']:.0f} | {r['peak_rss_mib']:.0f} MiB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
