"""Stage: domain pretraining of the small BERT by masked-LM on unlabeled report text.

Reports of one or several corpus folders (every format ``read_report`` reads, recursively, so
``corpus2/docx/`` too; a text identical to one read before counts once; excluded files, the gold
TEST split's sources by default in ``train.py``, left out). Their kept sentences
(``pipeline.text.reader`` + ``pipeline.text.segment``: furniture and duplicate paragraphs
excluded) are packed, in document order, into sequences of up to
``max_length`` tokens; 15% of the tokens are masked character by character (80% ``[MASK]``,
10% a random token, 10% unchanged; no whole-word masking). A held-out share of the sequences
gives a validation loss. The vocabulary is generated from the same text (``pipeline.model.vocab``).
The output folder is a ``BertForMaskedLM`` checkpoint plus tokenizer, loadable as the encoder
of ``pipeline.model.modeling.JointModel`` (``TrainConfig.init``), and the loss curve as JSON and PNG.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from pipeline.text.textnorm import normalize

log = logging.getLogger(__name__)


@dataclass
class PretrainConfig:
    # 128 × 4 layers, not 256: on 2 shared CPU cores the larger one managed ~100 steps in 12 min.
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    #: Report sentences are short (median ≈ 35 characters); 64-token packs give more updates.
    max_length: int = 64
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 50
    mask_prob: float = 0.15
    #: Wall-clock budget; the step count is fixed from a timing of the first steps.
    max_minutes: float = 12.0
    max_steps: int = 100_000
    holdout: float = 0.02
    log_every: int = 10
    seed: int = 13
    device: str = "cpu"


#: Report formats read for pretraining (``pipeline.text.reader.read_report`` reads each by content).
REPORT_SUFFIXES: tuple[str, ...] = (".txt", ".docx", ".pdf", ".html", ".htm")


def report_files(corpus_dirs: str | Path | Sequence[str | Path]) -> list[Path]:
    """Every report file under the corpus folders (recursively: ``corpus2/docx/``), by folder
    then path; READMEs and other files are not reports."""
    dirs = [corpus_dirs] if isinstance(corpus_dirs, (str, Path)) else list(corpus_dirs)
    out: list[Path] = []
    for d in dirs:
        if not Path(d).is_dir():
            raise FileNotFoundError(f"{d}: no such corpus folder")
        out += sorted(p for p in Path(d).rglob("*") if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES)
    return out


@dataclass
class CorpusStats:
    """What pretraining read: files, duplicates left out, unreadable and excluded files."""

    corpora: list[str]
    files: int = 0
    documents: int = 0
    characters: int = 0
    duplicates: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)


def corpus_sentences(
    corpus_dirs: str | Path | Sequence[str | Path],
    extra_files: Sequence[str | Path] = (),
    exclude: Sequence[str | Path] = (),
    stats: CorpusStats | None = None,
) -> list[list[str]]:
    """Kept sentences per report (one list per document, in order), from every report file of
    every corpus folder (``report_files``: ``.txt``, ``.docx``, … through ``read_report``) and
    ``extra_files``. A report whose extracted text (whitespace-stripped) equals one read before
    is left out (``stats.duplicates``), as are the files ``exclude`` names (same resolved path),
    e.g. the sources of the gold TEST split."""
    import hashlib

    from pipeline.text.reader import read_report
    from pipeline.text.segment import segment

    files = report_files(corpus_dirs) + [Path(p) for p in extra_files]
    skip = {Path(p).resolve() for p in exclude}
    seen: set[str] = set()
    docs = []
    for f in files:
        if f.resolve() in skip:
            if stats is not None:
                stats.excluded.append(str(f))
            continue
        try:
            rep = read_report(f)
        except Exception as e:  # a bad report must not stop pretraining; it is logged
            log.warning("skipped %s: %s", f, e)
            if stats is not None:
                stats.unreadable.append(f"{f}: {e}")
            continue
        key = hashlib.sha256(rep.text.strip().encode("utf-8", "surrogatepass")).hexdigest()
        if key in seen:
            if stats is not None:
                stats.duplicates.append(str(f))
            continue
        seen.add(key)
        sents = [s.text for s in segment(rep.text).sentences]
        if sents:
            docs.append(sents)
            if stats is not None:
                stats.documents += 1
                stats.characters += sum(len(x) for x in sents)
                stats.formats[rep.format] = stats.formats.get(rep.format, 0) + 1
    if stats is not None:
        stats.files = len(files)
    return docs


def pack(docs: list[list[str]], tokenizer: Any, max_length: int) -> list[list[int]]:
    """Token id sequences (with [CLS]/[SEP]) of consecutive sentences of one document."""
    room = max_length - 2
    seqs: list[list[int]] = []
    for sents in docs:
        cur: list[int] = []
        for ids in tokenizer([normalize(s) for s in sents], add_special_tokens=False)["input_ids"]:
            while len(ids) > room:  # a very long sentence is split; nothing is dropped
                if cur:
                    seqs.append(cur)
                    cur = []
                seqs.append(ids[:room])
                ids = ids[room:]
            if len(cur) + len(ids) > room:
                seqs.append(cur)
                cur = []
            cur = cur + ids
        if cur:
            seqs.append(cur)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [[cls, *s, sep] for s in seqs if s]


def mask_tokens(
    ids: torch.Tensor, attention: torch.Tensor, tokenizer: Any, prob: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking on a padded batch; labels are -100 except at masked positions."""
    labels = ids.clone()
    special = torch.zeros_like(ids, dtype=torch.bool)
    for t in (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id):
        special |= ids == t
    special |= attention == 0
    chosen = (torch.rand(ids.shape, generator=gen) < prob) & ~special
    labels[~chosen] = -100
    inputs = ids.clone()
    r = torch.rand(ids.shape, generator=gen)
    inputs[chosen & (r < 0.8)] = tokenizer.mask_token_id
    rand_pos = chosen & (r >= 0.8) & (r < 0.9)
    n_special = 5 + 10  # [PAD] [UNK] [CLS] [SEP] [MASK] + unused slots (pipeline.model.vocab)
    inputs[rand_pos] = torch.randint(n_special, len(tokenizer), (int(rand_pos.sum()),), generator=gen)
    return inputs, labels


def mlm_loss(model: Any, inputs: torch.Tensor, attention: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Masked-LM loss with the vocabulary projection computed at masked positions only.

    The projection onto ~21k characters dominates the cost of a small BERT (≈ 6× the encoder);
    computing it for the 15% masked positions gives the same loss for a fraction of the time.
    """
    h = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
    sel = labels != -100
    if not bool(sel.any()):
        return h.sum() * 0.0
    logits = model.cls(h[sel])
    return torch.nn.functional.cross_entropy(logits, labels[sel])


def _pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    am = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        am[i, : len(s)] = 1
    return ids, am


def pretrain(
    corpus_dir: str | Path | Sequence[str | Path],
    out: str | Path,
    config: PretrainConfig,
    extra_files: Sequence[str | Path] = (),
    exclude: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Masked-LM pretraining on one corpus folder or several (``corpus_sentences``: every format,
    identical texts once, ``exclude`` left out); writes the checkpoint, ``mlm_log.json`` (with
    what was read) and ``mlm_loss.png``."""
    from transformers import BertForMaskedLM

    from pipeline.model.modeling import small_bert_config
    from pipeline.model.vocab import build_vocab, load_tokenizer, save_vocab, unk_rate
    from pipeline.training.loop import set_seed

    set_seed(config.seed)
    t0 = time.time()
    out = Path(out)
    dirs = [corpus_dir] if isinstance(corpus_dir, (str, Path)) else list(corpus_dir)
    stats = CorpusStats(corpora=[str(d) for d in dirs])
    docs = corpus_sentences(dirs, extra_files, exclude=exclude, stats=stats)
    if not docs:
        raise ValueError(f"no readable reports in {corpus_dir}")
    save_vocab(build_vocab(s for d in docs for s in d), out)
    tok = load_tokenizer(out)
    seqs = pack(docs, tok, config.max_length)
    rng = random.Random(config.seed)
    rng.shuffle(seqs)
    n_hold = max(1, int(len(seqs) * config.holdout))
    held, train = seqs[:n_hold], seqs[n_hold:]
    if not train:
        raise ValueError(f"{corpus_dir}: {len(seqs)} sequence(s) of text, too little to pretrain on")
    device = torch.device(config.device)
    model = BertForMaskedLM(
        small_bert_config(len(tok), config.hidden_size, config.num_layers, config.num_heads, config.intermediate_size)
    ).to(device)  # type: ignore[arg-type]  # transformers' typing of .to
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(config.seed)
    pad = tok.pad_token_id

    if not train:
        raise ValueError(f"{corpus_dir}: too little text to pretrain on ({len(seqs)} sequence(s), all held out)")
    # A corpus smaller than one batch (identical files are deduplicated) still gives full steps:
    # without this the generator below would never yield and the loop would spin for ever.
    bsz = min(config.batch_size, len(train))

    def batches() -> Any:
        while True:
            order = list(range(len(train)))
            rng.shuffle(order)
            for b in range(0, len(order) - bsz + 1, bsz):
                yield [train[i] for i in order[b : b + bsz]]

    def eval_loss() -> float:
        model.eval()
        g = torch.Generator().manual_seed(0)  # same masks every time: comparable points
        tot, n = 0.0, 0
        with torch.inference_mode():
            for b in range(0, len(held), config.batch_size):
                ids, am = _pad(held[b : b + config.batch_size], pad)
                inp, lab = mask_tokens(ids, am, tok, config.mask_prob, g)
                loss = mlm_loss(model, inp.to(device), am.to(device), lab.to(device))
                k = int((lab != -100).sum())
                tot += float(loss) * k
                n += k
        model.train()
        return tot / max(n, 1)

    total_steps = config.max_steps
    sched_total = [total_steps]

    def lr_at(step: int) -> float:
        warm = min(config.warmup_steps, max(1, sched_total[0] // 10))
        return min(1.0, (step + 1) / warm) * max(0.05, 1 - step / max(1, sched_total[0]))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    curve: list[dict[str, float]] = [{"step": 0, "heldout_loss": eval_loss(), "seconds": 0.0}]
    model.train()
    it = batches()
    running: list[float] = []
    step = 0
    t_train = time.time()
    while step < sched_total[0]:
        ids, am = _pad(next(it), pad)
        inp, lab = mask_tokens(ids, am, tok, config.mask_prob, gen)
        loss = mlm_loss(model, inp.to(device), am.to(device), lab.to(device))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        running.append(float(loss.detach()))
        if step == 20:
            # Fix the step count from measured speed so the run fits the wall-clock budget
            # and the learning-rate schedule ends where training ends.
            per_step = (time.time() - t_train) / 20
            budget = config.max_minutes * 60 - (time.time() - t0) - 30
            sched_total[0] = max(step + 1, min(config.max_steps, int(budget / (per_step * 1.06))))
            log.info("%.3f s/step → %d steps", per_step, sched_total[0])
        if time.time() - t0 > config.max_minutes * 60 and step < sched_total[0]:
            # Hard wall-clock stop (shared CPUs can slow down after the timing): say so, stop.
            log.warning("wall-clock budget reached at step %d of %d", step, sched_total[0])
            sched_total[0] = step
        if step % config.log_every == 0 or step == sched_total[0]:
            row = {"step": step, "train_loss": sum(running) / len(running), "seconds": round(time.time() - t0, 1)}
            running = []
            if step % (config.log_every * 5) == 0 or step == sched_total[0]:
                row["heldout_loss"] = eval_loss()
            curve.append(row)
            log.info("mlm %s", row)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    n_tokens = sum(len(s) for s in train)
    result = {
        "config": asdict(config),
        "documents": len(docs),
        "corpus": asdict(stats),
        "sentences": sum(len(d) for d in docs),
        "train_sequences": len(train),
        "heldout_sequences": len(held),
        "train_tokens": n_tokens,
        "steps": step,
        "epochs": round(step * config.batch_size / max(1, len(train)), 2),
        "unk_rate": unk_rate(tok, [s for d in docs[:10] for s in d]),
        "vocab_size": len(tok),
        "seconds": round(time.time() - t0, 1),
        "curve": curve,
        "final_heldout_loss": curve[-1].get("heldout_loss"),
        "initial_heldout_loss": curve[0]["heldout_loss"],
        "heldout_perplexity": math.exp(min(50.0, curve[-1].get("heldout_loss", 50.0))),
    }
    (out / "mlm_log.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    plot_curve(curve, out / "mlm_loss.png")
    return result


def plot_curve(curve: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    tr = [(r["step"], r["train_loss"]) for r in curve if "train_loss" in r]
    ho = [(r["step"], r["heldout_loss"]) for r in curve if "heldout_loss" in r]
    if tr:
        ax.plot(*zip(*tr), label="train (running mean)")
    if ho:
        ax.plot(*zip(*ho), marker="o", label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel("masked-LM loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
