"""Median table over repeated ``bench_infer.py --json-out`` runs (ratios taken within each run).

    python bench/median.py run1.json run2.json run3.json

For each path: median chars/s by wall clock and by CPU time (characters per CPU-second, what a
busy shared machine distorts least), peak RSS, and the gold / corpus agreement with fp32 where
measured. Then each ratio of the goals, computed within one run and given as the median (and the
three values) by wall clock and by CPU time.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def _rate(r: dict[str, Any], cpu: bool) -> float:
    return r["chars"] / (r["cpu_seconds"] if cpu else r["seconds"])


def main(paths: list[str]) -> str:
    runs = [{r["name"]: r for r in json.loads(Path(p).read_text())["rows"] if "cps" in r} for p in paths]
    names = [n for n in runs[0]]
    lines = [
        "| path | chars/s (wall, median) | chars per CPU-s (median) | load | peak RSS (MB) | gold strict F1 "
        "| agreement with fp32: corpus | gold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        rs = [run[n] for run in runs if n in run]
        first = rs[0]
        f1 = f"{first['gold_strict_f']:.4f}" if "gold_strict_f" in first else ""
        ag = f"{first['agreement_fp32']:.4f}" if "agreement_fp32" in first else ""
        agg = f"{first['agreement_fp32_gold']:.4f}" if "agreement_fp32_gold" in first else ""
        lines.append(
            f"| {n} | {statistics.median(_rate(r, False) for r in rs):,.0f} | "
            f"{statistics.median(_rate(r, True) for r in rs):,.0f} | "
            f"{min(r['load_avg'] for r in rs):.1f}–{max(r['load_avg'] for r in rs):.1f} | "
            f"{max(r['peak_rss_mb'] for r in rs):,.0f} | {f1} | {ag} | {agg} |"
        )
    pairs = [
        ("ours/torch", "hf-pipeline", "ours vs transformers pipeline (goal ≥ 2×)"),
        ("ours/torch", "bare/torch", "ours vs bare forward, torch (goal ≥ 85%)"),
        ("ours/int8", "bare/int8", "ours vs bare forward, int8"),
        ("ours/onnx", "ours/torch", "ours: onnx vs torch"),
        ("ours/int8", "ours/torch", "ours: int8 vs torch (goal ≥ 2.5×)"),
        ("ours/torch-int8", "ours/torch", "ours: torch-int8 vs torch"),
        ("bare/onnx", "bare/torch", "bare: onnx vs torch"),
        ("bare/int8", "bare/torch", "bare: int8 vs torch"),
        ("bare/torch-int8", "bare/torch", "bare: torch-int8 vs torch"),
    ]
    lines += ["", "| ratio | wall: median (runs) | CPU time: median (runs) |", "|---|---:|---:|"]
    for a, b, label in pairs:
        rr = [run for run in runs if a in run and b in run]
        if not rr:
            continue
        w = [_rate(r[a], False) / _rate(r[b], False) for r in rr]
        c = [_rate(r[a], True) / _rate(r[b], True) for r in rr]
        lines.append(
            f"| {label} | {statistics.median(w):.2f} ({', '.join(f'{x:.2f}' for x in w)}) | "
            f"{statistics.median(c):.2f} ({', '.join(f'{x:.2f}' for x in c)}) |"
        )
    paired = [r for p in paths for r in json.loads(Path(p).read_text()).get("paired", []) if "ratios" in r]
    if paired:
        lines += [
            "",
            "Same process, alternated (`--paths paired`): our batch path and the bare forward over the same text, "
            "CPU time; the median over every round of every run (each run's median in brackets).",
            "",
            "| backend | ours vs bare forward: median of all rounds | per run | rounds |",
            "|---|---:|---:|---:|",
        ]
        for name in dict.fromkeys(r["name"] for r in paired):
            rs = [r for r in paired if r["name"] == name]
            every = [x for r in rs for x in r["ratios"]]
            lines.append(
                f"| {name.split('/', 1)[1]} | {statistics.median(every):.2f} | "
                + ", ".join(f"{r['ratio_median']:.2f}" for r in rs)
                + f" | {len(every)} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
