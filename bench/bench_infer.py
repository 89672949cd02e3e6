"""Benchmark: inference speed of the tagging paths on the same model and the same text.

    python bench/bench_infer.py --model models/joint --corpus ../shared/corpus \
        [--chars 1000000] [--hf-chars 200000] [--gold data/gold] [--write-readme] [--write-default]

Every measurement runs in its own subprocess (clean peak memory, no warm caches shared), on the
first ``--chars`` characters of the corpus reports (whole reports, in file-name order):

* ``ours/<backend>``: the batch path, ``Tagger.tag_many`` over chunks of documents (segmentation,
  encoding, length-sorted batches, forward, decoding, records; everything a batch run does but
  writing files) with the backend's forward (torch fp32, onnx, int8, torch-int8);
* ``hf-pipeline``: transformers' ``pipeline("token-classification")`` on the same weights (the
  encoder plus the BIO rows of the token head as a ``BertForTokenClassification``), called
  sentence by sentence on the same sentences; measured on the first ``--hf-chars`` characters;
* ``bare/<backend>``: only the forward, on pre-tokenised, length-sorted, pre-padded batches
  (the ceiling any pipeline around the model can reach).

With ``--gold`` each backend's records are also scored against the gold set (strict target F1).
The gold set is the model's training data, so this figure measures how much a backend *changes*
the model's output, not its accuracy. Agreement with fp32 on the benchmark text (strict F1 of a
backend's target spans against fp32's) is reported too; it needs no labels.
``--write-default`` records in ``<model>/backend.json`` the fastest backend within 0.005 strict
F1 of fp32 (``pipeline.model.backends.choose_backend``); ``--write-readme`` puts the table into
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BACKENDS = ("torch", "onnx", "int8", "torch-int8")
README = ROOT / "bench" / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def load_text(corpus: str, max_chars: int) -> list[tuple[str, str]]:
    from pipeline.errors import ReadError
    from pipeline.text.reader import read_report

    docs: list[tuple[str, str]] = []
    total = 0
    for f in sorted(Path(corpus).rglob("*.txt")):
        if total >= max_chars:
            break
        try:
            rep = read_report(f)
        except ReadError:
            continue
        docs.append((rep.doc_id, rep.text))
        total += len(rep.text)
    return docs


def chunk_docs(docs: list[tuple[str, str]], chunk_chars: int) -> list[list[tuple[str, str]]]:
    """Whole documents in order, grouped up to ``chunk_chars`` characters (as ``govtarget batch`` chunks)."""
    chunks: list[list[tuple[str, str]]] = [[]]
    size = 0
    for d in docs:
        if chunks[-1] and size + len(d[1]) > chunk_chars:
            chunks.append([])
            size = 0
        chunks[-1].append(d)
        size += len(d[1])
    return chunks


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _threads() -> int:
    import torch

    from pipeline.model.backends import default_threads

    n = default_threads()  # GOVTARGET_THREADS (set by --threads) or the physical cores
    torch.set_num_threads(n)
    return n


def _predictor(model: str, backend: str, batch_size: int) -> Any:
    from pipeline.model.backends import make_runner
    from pipeline.model.load import load_predictor

    if backend in ("torch", "onnx", "int8"):
        return load_predictor(model, backend=backend, batch_size=batch_size)
    p = load_predictor(model, backend="onnx", batch_size=batch_size)  # tokenizer and meta only
    p.runner = make_runner(model, backend)
    return p


# --------------------------------------------------------------------------- measurements (subprocess)


def measure_ours(a: argparse.Namespace) -> dict[str, Any]:
    from pipeline.tagging.parallel import freeze_loaded
    from pipeline.tagging.tagger import Tagger

    threads = _threads()
    docs = load_text(a.corpus, a.chars)
    t_load = time.perf_counter()
    tagger = Tagger(_predictor(a.model, a.backend, a.batch_size))
    freeze_loaded()  # as govtarget batch does after loading its model (parallel.load_tagger)
    tagger.tag_many([docs[0]])  # warm-up: sessions, kernels, allocator (not timed)
    load_s = time.perf_counter() - t_load
    chunks = chunk_docs(docs, a.chunk_chars)
    spans: list[list[Any]] = []
    t0, c0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    n_targets = 0
    for ch in chunks:
        for td in tagger.tag_many(ch):
            n_targets += len(td.targets())
            spans.extend([td.doc_id, t.start, t.end] for t in td.targets())
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    chars = sum(len(t) for _, t in docs)
    out = {
        "name": f"ours/{a.backend}",
        "chars": chars,
        "docs": len(docs),
        "seconds": secs,
        "cpu_seconds": cpu,
        "load_avg": load0,
        "cps": chars / secs,
        "peak_rss_mb": peak_rss_mb(),
        "threads": threads,
        "load_seconds": load_s,
        "targets": n_targets,
    }
    if a.spans_out:
        Path(a.spans_out).write_text(json.dumps(spans), encoding="utf-8")
    if a.gold:
        out["gold_strict_f"], gold_spans = gold_f1(tagger, a.gold, a.corpus)
        if a.spans_out:
            Path(a.spans_out + ".gold").write_text(json.dumps(gold_spans), encoding="utf-8")
    return out


def gold_f1(tagger: Any, gold: str, corpus: str) -> tuple[float, list[list[Any]]]:
    from pipeline.annotation.gold import load_gold_dir
    from pipeline.evaluation.scoring import score

    docs, _ = load_gold_dir(gold, corpus_dir=corpus)
    tagged = tagger.tag_many([(d.doc_id, d.raw) for d in docs])
    spans = [[t.doc_id, x.start, x.end] for t in tagged for x in t.targets()]
    return float(score(docs, {t.doc_id: t.sentences for t in tagged}, n_resamples=0)["targets_strict_f"]), spans


def _sentences(docs: list[tuple[str, str]]) -> list[Any]:
    from pipeline.predict import SentenceInput
    from pipeline.text.segment import segment

    out = []
    for _, text in docs:
        for s in segment(text).sentences:
            out.append(SentenceInput(s.text, s.part, s.section_path))
    return out


def bare_batches(pred: Any, docs: list[tuple[str, str]], batch_size: int) -> list[dict[str, Any]]:
    """The bare forward's input: every window of the documents' sentences, length-sorted, padded."""
    from pipeline.model.modeling import pad_batch

    enc = pred.encode_inputs(_sentences(docs))
    wins = sorted((w for e in enc for w in e.windows), key=len)
    pad = int(pred.tokenizer.pad_token_id or 0)
    return [pad_batch(wins[i : i + batch_size], pad) for i in range(0, len(wins), batch_size)]


def measure_bare(a: argparse.Namespace) -> dict[str, Any]:
    from pipeline.tagging.parallel import freeze_loaded

    threads = _threads()
    docs = load_text(a.corpus, a.chars)
    pred = _predictor(a.model, a.backend, a.batch_size)
    freeze_loaded()  # the same process state as the ``ours`` measurement
    batches = bare_batches(pred, docs, a.batch_size)
    pred.forward(**batches[0])  # warm-up
    t0, c0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    for b in batches:
        pred.forward(b["input_ids"], b["attention_mask"], b["token_type_ids"])
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    chars = sum(len(t) for _, t in docs)
    return {
        "name": f"bare/{a.backend}",
        "chars": chars,
        "seconds": secs,
        "cpu_seconds": cpu,
        "load_avg": load0,
        "cps": chars / secs,
        "tokens": sum(int(b["attention_mask"].sum()) for b in batches),
        "windows": sum(len(b["input_ids"]) for b in batches),
        "peak_rss_mb": peak_rss_mb(),
        "threads": threads,
    }


def _clear_text_caches() -> None:
    """Forget what earlier passes over the same text cached (rule keyword scores, context token
    counts), so a repeated pass costs what the first pass over new text costs."""
    import pipeline.model.encoding as encoding
    import pipeline.rules.baseline as rules

    rules._keyword_scores_cached.cache_clear()
    rules._heading_scores.cache_clear()
    encoding._CTX_CACHE.clear()


def measure_paired(a: argparse.Namespace) -> dict[str, Any]:
    """Our batch path and the bare forward over the same text in ONE process, alternated
    ``--rounds`` times (ours, bare, ours, bare, …): the forward's speed drifts by ±5 % from one
    process to the next on this machine (memory placement, the host), more than the gap being
    measured, so the ratio is taken within each round and the median reported."""
    import statistics

    from pipeline.tagging.parallel import freeze_loaded
    from pipeline.tagging.tagger import Tagger

    threads = _threads()
    docs = load_text(a.corpus, a.chars)
    pred = _predictor(a.model, a.backend, a.batch_size)
    tagger = Tagger(pred)
    freeze_loaded()
    tagger.tag_many([docs[0]])  # warm-up
    batches = bare_batches(pred, docs, a.batch_size)
    chunks = chunk_docs(docs, a.chunk_chars)
    ours_cpu, bare_cpu = [], []
    for _ in range(a.rounds):
        _clear_text_caches()
        c0 = time.process_time()
        for ch in chunks:
            tagger.tag_many(ch)
        ours_cpu.append(time.process_time() - c0)
        c0 = time.process_time()
        for b in batches:
            pred.forward(b["input_ids"], b["attention_mask"], b["token_type_ids"])
        bare_cpu.append(time.process_time() - c0)
    ratios = [b / o for o, b in zip(ours_cpu, bare_cpu)]
    return {
        "name": f"paired/{a.backend}",
        "chars": sum(len(t) for _, t in docs),
        "rounds": a.rounds,
        "ours_cpu_seconds": ours_cpu,
        "bare_cpu_seconds": bare_cpu,
        "ratios": ratios,
        "ratio_median": statistics.median(ratios),
        "load_avg": os.getloadavg()[0],
        "threads": threads,
    }


def hf_token_classifier(model_dir: str) -> tuple[Any, Any]:
    """The same weights as a ``BertForTokenClassification``: encoder + the 3 BIO rows of the token head."""
    import torch
    from transformers import BertForTokenClassification

    from pipeline.model.modeling import load_model_dir
    from pipeline.schema import BIO_TAGS

    joint, tok, _ = load_model_dir(model_dir, load_weights=True)
    assert joint is not None
    cfg = joint.encoder.config
    cfg.num_labels = len(BIO_TAGS)
    cfg.id2label = dict(enumerate(BIO_TAGS))
    cfg.label2id = {t: i for i, t in enumerate(BIO_TAGS)}
    hf = BertForTokenClassification(cfg)
    missing, unexpected = hf.bert.load_state_dict(joint.encoder.state_dict(), strict=False)
    assert not [k for k in missing if "pooler" not in k] and not unexpected, (missing, unexpected)
    with torch.no_grad():
        hf.classifier.weight.copy_(joint.token_head.weight[: len(BIO_TAGS)])
        hf.classifier.bias.copy_(joint.token_head.bias[: len(BIO_TAGS)])
    return hf.eval(), tok


def measure_hf(a: argparse.Namespace) -> dict[str, Any]:
    from transformers import pipeline

    threads = _threads()
    docs = load_text(a.corpus, a.hf_chars)
    model, tok = hf_token_classifier(a.model)
    nlp = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="simple", device=-1)
    # The model's window: longer sentences are cut (the batch path windows them instead).
    texts = [s.text[: a.max_sentence_chars] for s in _sentences(docs)]
    nlp(texts[0])
    t0, c0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    n = 0
    for t in texts:
        n += len(nlp(t))
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    chars = sum(len(t) for _, t in docs)
    return {
        "name": "hf-pipeline",
        "chars": chars,
        "seconds": secs,
        "cpu_seconds": cpu,
        "load_avg": load0,
        "cps": chars / secs,
        "entities": n,
        "peak_rss_mb": peak_rss_mb(),
        "threads": threads,
        "sentences": len(texts),
    }


# --------------------------------------------------------------------------- orchestration


def run_sub(
    kind: str, a: argparse.Namespace, backend: str = "torch", spans_out: str | None = None, gold: bool = False
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--measure",
        kind,
        "--backend",
        backend,
        "--model",
        a.model,
        "--corpus",
        a.corpus,
        "--chars",
        str(a.chars),
        "--hf-chars",
        str(a.hf_chars),
        "--batch-size",
        str(a.batch_size),
        "--chunk-chars",
        str(a.chunk_chars),
        "--rounds",
        str(a.rounds),
    ]
    if spans_out:
        cmd += ["--spans-out", spans_out]
    if gold and a.gold:
        cmd += ["--gold", a.gold]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"name": f"{kind}/{backend}", "error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def agreement(a_path: str, b_path: str) -> float:
    a = {tuple(x) for x in json.loads(Path(a_path).read_text())}
    b = {tuple(x) for x in json.loads(Path(b_path).read_text())}
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import onnxruntime
    import torch
    import transformers

    from pipeline.model.backends import physical_cores

    return (
        f"{cpu}, {os.cpu_count()} logical / {physical_cores()} physical cores; torch {torch.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, transformers {transformers.__version__}"
    )


def table(results: list[dict[str, Any]], ref: dict[str, float]) -> str:
    lines = [
        "| path | characters | seconds | CPU s | load | chars/s | × ours/torch | peak RSS (MB) | gold strict F1 "
        "| agreement with fp32 (corpus) | agreement with fp32 (gold) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = ref.get("ours/torch")
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | failed: {r['error']} | | | | | | | | | |")
            continue
        ratio = f"{r['cps'] / base:.2f}" if base else ""
        f1 = f"{r['gold_strict_f']:.4f}" if "gold_strict_f" in r else ""
        agr = f"{r['agreement_fp32']:.4f}" if "agreement_fp32" in r else ""
        agr += " | " + (f"{r['agreement_fp32_gold']:.4f}" if "agreement_fp32_gold" in r else "")
        lines.append(
            f"| {r['name']} | {r['chars']:,} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{r['load_avg']:.1f} | {r['cps']:,.0f} | {ratio} | "
            f"{r['peak_rss_mb']:,.0f} | {f1} | {agr} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--corpus", required=True, help="folder of reports (e.g. ../shared/corpus)")
    p.add_argument("--chars", type=int, default=1_000_000, help="characters of text for the batch and bare paths")
    p.add_argument("--hf-chars", type=int, default=200_000, help="characters for the (slow) transformers pipeline")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--chunk-chars", type=int, default=200_000)
    p.add_argument("--max-sentence-chars", type=int, default=500)
    p.add_argument("--backends", default=",".join(BACKENDS))
    p.add_argument("--threads", type=int, default=None, help="intra-op threads (default: physical cores)")
    p.add_argument("--paths", default="ours,bare,hf", help="which paths to measure (comma-separated)")
    p.add_argument("--gold", default=None, help="gold folder: also score each backend (strict target F1)")
    p.add_argument("--write-readme", action="store_true")
    p.add_argument("--write-default", action="store_true", help="record the chosen backend in <model>/backend.json")
    p.add_argument(
        "--min-agreement",
        type=float,
        default=None,
        help="also require this strict F1 against fp32's spans on the benchmark text (e.g. 0.99)",
    )
    p.add_argument("--json-out", default=None, help="also write the rows and ratios as JSON (bench/median.py)")
    p.add_argument("--rounds", type=int, default=5, help="rounds of the paired (same-process) measurement")
    p.add_argument("--measure", choices=("ours", "bare", "hf", "paired"), help=argparse.SUPPRESS)
    p.add_argument("--backend", default="torch", help=argparse.SUPPRESS)
    p.add_argument("--spans-out", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.threads:
        os.environ["GOVTARGET_THREADS"] = str(a.threads)  # inherited by the measuring subprocesses
    if a.measure:
        fn = {"ours": measure_ours, "bare": measure_bare, "hf": measure_hf, "paired": measure_paired}[a.measure]
        print(json.dumps(fn(a)))
        return 0

    backends = [b for b in a.backends.split(",") if b]
    results: list[dict[str, Any]] = []
    paths = set(a.paths.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        for b in backends if "ours" in paths else []:
            r = run_sub("ours", a, b, spans_out=f"{tmp}/{b}.json", gold=True)
            results.append(r)
            print(json.dumps(r), file=sys.stderr)
        for r, b in zip(results, backends):
            if "error" not in r and "error" not in results[0] and results[0]["name"] == "ours/torch":
                r["agreement_fp32"] = agreement(f"{tmp}/torch.json", f"{tmp}/{b}.json")
                if a.gold and Path(f"{tmp}/{b}.json.gold").exists():
                    r["agreement_fp32_gold"] = agreement(f"{tmp}/torch.json.gold", f"{tmp}/{b}.json.gold")
    for b in backends if "bare" in paths else []:
        r = run_sub("bare", a, b)
        results.append(r)
        print(json.dumps(r), file=sys.stderr)
    if "hf" in paths:
        r = run_sub("hf", a)
        results.append(r)
        print(json.dumps(r), file=sys.stderr)
    paired = []
    for b in backends if "paired" in paths else []:
        r = run_sub("paired", a, b)
        paired.append(r)
        print(json.dumps(r), file=sys.stderr)

    cps = {r["name"]: r["cps"] for r in results if "cps" in r}
    md = table(results, cps)
    ratios = []
    if "ours/torch" in cps and "hf-pipeline" in cps:
        ratios.append(f"ours/torch vs transformers pipeline: {cps['ours/torch'] / cps['hf-pipeline']:.2f}× (goal ≥ 2×)")
    if "ours/torch" in cps and "bare/torch" in cps:
        ratios.append(f"ours/torch vs bare torch forward: {cps['ours/torch'] / cps['bare/torch']:.0%} (goal ≥ 85%)")
    for r in paired:
        if "ratio_median" in r:
            ratios.append(
                f"{r['name']}: ours vs bare forward in one process, CPU time, median of {r['rounds']} rounds: "
                f"{r['ratio_median']:.0%} ({', '.join(f'{x:.2f}' for x in r['ratios'])}) (goal ≥ 85%)"
            )
    for b in ("onnx", "int8", "torch-int8"):
        if f"ours/{b}" in cps and "ours/torch" in cps:
            ratios.append(f"ours/{b} vs ours/torch: {cps[f'ours/{b}'] / cps['ours/torch']:.2f}× (goal for int8 ≥ 2.5×)")
        if f"bare/{b}" in cps and "bare/torch" in cps:
            ratios.append(f"bare/{b} vs bare/torch: {cps[f'bare/{b}'] / cps['bare/torch']:.2f}×")
    choice = None
    f1 = {
        r["name"].split("/")[1]: r["gold_strict_f"]
        for r in results
        if r.get("name", "").startswith("ours/") and "gold_strict_f" in r
    }
    speed = {r["name"].split("/")[1]: r["cps"] for r in results if r.get("name", "").startswith("ours/") and "cps" in r}
    if "torch" in f1:
        from pipeline.model.backends import choose_backend

        agree = {
            r["name"].split("/")[1]: r["agreement_fp32"]
            for r in results
            if r.get("name", "").startswith("ours/") and "agreement_fp32" in r
        }
        choice = choose_backend(
            {k: v for k, v in f1.items() if k != "torch-int8"},
            {k: v for k, v in speed.items() if k != "torch-int8"},
            agreement=agree,
            min_agreement=a.min_agreement,
        )
        rule = "fastest within 0.005 gold strict F1 of fp32" + (
            f" and ≥ {a.min_agreement} agreement with fp32" if a.min_agreement is not None else ""
        )
        ratios.append(f"default backend ({rule}): {choice}")
    print(md)
    print("\n".join(ratios))
    if a.json_out:
        Path(a.json_out).write_text(
            json.dumps({"rows": results, "paired": paired, "ratios": ratios, "machine": machine()}, indent=1),
            encoding="utf-8",
        )
    meta = (
        f"Machine: {machine()}. Model: `{a.model}`. Command: `python bench/bench_infer.py "
        + " ".join(x for x in sys.argv[1:] if x not in ("--write-readme", "--write-default"))
        + "`"
    )
    if a.write_default and choice:
        from pipeline.model.backends import write_backend_choice

        write_backend_choice(
            a.model,
            choice,
            {"gold_strict_f": f1, "chars_per_second": speed, "agreement_with_fp32": agree, "measured": meta},
        )
    if a.write_readme:
        block = f"{START}\n{meta}\n\n{md}\n\n" + "\n".join(f"- {x}" for x in ratios) + f"\n{END}"
        text = README.read_text(encoding="utf-8") if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
        if START in text and END in text:
            text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
        else:
            text += "\n" + block + "\n"
        README.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
