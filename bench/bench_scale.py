"""Benchmark: ``govtarget batch`` end to end with 1 vs N worker processes (and on Dask), and peak memory.

    python bench/bench_scale.py --model models/default --corpus ../shared/corpus --chars 200000 \\
        --workers 1,2 [--dask] [--repeat 3] [--memory-chars 1000000]

Each run is the real command (``python -m pipeline.cli batch``, reading and writing files, the
manifest, targets.csv) on the first ``--chars`` characters of the corpus (whole reports, in
file-name order, linked into a temporary folder), with ``--chunk-chars`` small enough that every
worker gets chunks (the same for every worker count, so the outputs are identical: checked).
Peak memory is the largest process of the run (``RUSAGE_CHILDREN``: the parent, or with workers
the largest worker). Ratios are taken within one repetition, then the median over repetitions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def subset(corpus: str, chars: int, dest: Path) -> int:
    dest.mkdir(parents=True)
    total = 0
    for f in sorted(Path(corpus).rglob("*.txt")):
        if total >= chars:
            break
        (dest / f.name).symlink_to(f.resolve())
        total += len(f.read_text(encoding="utf-8", errors="replace"))
    return total


def outputs_digest(out: Path) -> str:
    """sha256 over every output file but ``summary.json`` (timings) and the lock file (a pid);
    the manifest's lines are hashed sorted (they are appended in completion order, which
    differs with the number of workers; ``batch`` reads them as a set)."""
    h = hashlib.sha256()
    for p in sorted(out.iterdir()):
        if p.name == "summary.json" or p.name.startswith(".") or not p.is_file():
            continue
        data = p.read_bytes()
        if p.name == "manifest.ndjson":
            data = b"".join(sorted(data.splitlines(keepends=True)))
        h.update(p.name.encode() + data)
    return h.hexdigest()[:16]


def measure(args: list[str]) -> dict[str, float]:
    """Run the command in a child of a fresh interpreter: its RUSAGE_CHILDREN is this run's alone."""
    code = (
        "import json,resource,subprocess,sys,time\n"
        "t=time.perf_counter(); p=subprocess.run(sys.argv[1:]); w=time.perf_counter()-t\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc':p.returncode,'seconds':w,'cpu_seconds':r.ru_utime+r.ru_stime,'peak_rss_mb':r.ru_maxrss/1024}))"
    )
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--chars", type=int, default=200_000)
    ap.add_argument("--chunk-chars", type=int, default=20_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--dask", action="store_true", help="also run --dask local with the largest worker count")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-chars", type=int, default=0, help="also one --workers 1 run on this many characters")
    ap.add_argument("--json-out", default=None)
    a = ap.parse_args()
    workers = [int(x) for x in a.workers.split(",")]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        chars = subset(a.corpus, a.chars, src)
        base = [
            sys.executable,
            "-m",
            "pipeline.cli",
            "batch",
            str(src),
            "--model",
            a.model,
            "--quiet",
            "--chunk-chars",
            str(a.chunk_chars),
        ]
        kinds = [(f"workers={n}", ["--workers", str(n)]) for n in workers]
        if a.dask:
            kinds.append((f"dask local, {max(workers)} workers", ["--workers", str(max(workers)), "--dask", "local"]))
        for rep in range(a.repeat):
            for name, extra in kinds:
                out = Path(tmp) / f"out-{rep}-{len(rows)}"
                load = os.getloadavg()[0]
                r = measure([*base, "--out", str(out), *extra])
                r.update(
                    name=name, rep=rep, chars=chars, load_avg=load, cps=chars / r["seconds"], digest=outputs_digest(out)
                )
                rows.append(r)
                print(json.dumps(r), file=sys.stderr)
        if a.memory_chars:
            msrc = Path(tmp) / "mem"
            mchars = subset(a.corpus, a.memory_chars, msrc)
            out = Path(tmp) / "out-mem"
            r = measure(
                [
                    sys.executable,
                    "-m",
                    "pipeline.cli",
                    "batch",
                    str(msrc),
                    "--model",
                    a.model,
                    "--quiet",
                    "--workers",
                    "1",
                    "--out",
                    str(out),
                ]
            )
            r.update(
                name="workers=1, memory run",
                rep=0,
                chars=mchars,
                load_avg=os.getloadavg()[0],
                cps=mchars / r["seconds"],
                digest=outputs_digest(out),
            )
            rows.append(r)
            print(json.dumps(r), file=sys.stderr)
    med = {}
    for name, _ in kinds:
        med[name] = statistics.median(r["cps"] for r in rows if r["name"] == name)
    ratios = {}
    for name, _ in kinds[1:]:
        per_rep = [
            next(r["cps"] for r in rows if r["name"] == name and r["rep"] == k)
            / next(r["cps"] for r in rows if r["name"] == kinds[0][0] and r["rep"] == k)
            for k in range(a.repeat)
        ]
        ratios[f"{name} / {kinds[0][0]}"] = {"median": statistics.median(per_rep), "runs": per_rep}
    identical = len({r["digest"] for r in rows if r["chars"] == chars and "memory" not in r["name"]}) == 1
    summary = {"rows": rows, "median_cps": med, "ratios": ratios, "outputs_identical": identical}
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=1))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
