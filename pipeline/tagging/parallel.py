"""Stage: tag the chunks of a batch on every core (worker processes, one model each).

``chunk_outcomes(chunks, config, tagger)`` yields, for each chunk of documents
(``pipeline.batch._chunks``), the ``batch.DocOutcome``s of ``batch.tag_chunk``: read → segment →
tag → validated JSONL bytes. It runs

* in this process when ``config.workers <= 1`` (or there is only one chunk);
* in ``config.workers`` processes otherwise (``spawn`` start: no OpenMP/tokenizer state is
  inherited through ``fork``), each loading the model once, lazily, on its first chunk
  (``load_tagger``, cached per process), with ``config.threads or 1`` intra-op threads;
* on a Dask cluster when ``config.dask`` is set (``pipeline.tagging.distributed``).

Contract (what ``run_batch`` relies on):

* Workers never write anything: the parent writes each document's output and then its line in
  the one manifest, so the resume logic (``batch.why_redo``) is the same for any number of
  workers, and a killed run (parent or workers) loses at most the chunks in flight.
* A chunk is tagged as a unit, and chunks are formed from the inputs and ``chunk_chars`` alone,
  so the predictor sees the same batches whatever the number of workers: outputs are
  byte-identical to ``workers=1`` at the same thread count (``tests/test_parallel.py``).
* Chunks come back in completion order; at most ``2 × workers`` are in flight, so the memory of
  the parent stays bounded by the outputs of a few chunks.
* A worker that dies (killed, out of memory) stops the run with ``WorkerError``; finished
  documents are kept and a rerun resumes.

Scaling (measured in ``bench/README.md``): each worker holds one model and its own tokenizer;
throughput grows with the physical cores, not the hyper-threads.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.tagging.batch import BatchConfig, DocOutcome, InputFile, tag_chunk
from pipeline.text.reader import DEFAULT_MAX_BYTES


class WorkerError(RuntimeError):
    """A worker process died; finished documents are kept, a rerun resumes."""


def default_workers() -> int:
    """The cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class TaggerSpec:
    """How to build the tagger in any process: picklable, hashable (the per-process cache key)."""

    model: str
    device: str = "cpu"
    backend: str | None = None
    batch_size: int = 32
    suppress_review: bool = True
    threads: int | None = None

    @classmethod
    def from_config(cls, config: BatchConfig, threads: int | None = None) -> TaggerSpec:
        """``config.model`` must already be resolved (``tagger.resolve_model``); ``threads``
        overrides ``config.threads`` (workers default to one thread each)."""
        model = config.model if config.model == "rules" else str(Path(config.model).resolve())
        return cls(
            model=model,
            device=config.device,
            backend=config.backend,
            batch_size=config.batch_size,
            suppress_review=config.suppress_review,
            threads=threads if threads is not None else config.threads,
        )


def tagger_name(spec: TaggerSpec) -> str:
    """``Tagger.name`` of ``load_tagger(spec)`` without loading it (for the summary)."""
    if spec.model == "rules":
        return "rules"
    from pipeline.model.backends import default_backend

    backend = spec.backend or default_backend(spec.model)
    return f"model:{Path(spec.model).name}" + (f"[{backend}]" if backend not in (None, "torch") else "")


_TAGGERS: dict[TaggerSpec, Any] = {}


def load_tagger(spec: TaggerSpec) -> Any:
    """The tagger for ``spec``, loaded once per process (threads set before the model loads)."""
    if spec not in _TAGGERS:
        from pipeline.tagging.tagger import Tagger

        kwargs: dict[str, Any] = {}
        if spec.model != "rules":
            from pipeline.model.backends import apply_threads

            apply_threads(spec.threads)  # default: 1 on ≤ 2 cores (measured faster), else physical cores
            kwargs = {"device": spec.device, "backend": spec.backend}
        _TAGGERS[spec] = Tagger.load(
            spec.model, suppress_review=spec.suppress_review, batch_size=spec.batch_size, **kwargs
        )
        freeze_loaded()
    return _TAGGERS[spec]


def freeze_loaded() -> None:
    """Move everything alive now (the model, tokenizer, lexicons, imported modules) out of the
    cyclic garbage collector's generations (``gc.freeze``, after one full collection).

    The model lives as long as the batch process, but without this every full collection during
    tagging, triggered by the many short-lived objects of segmentation and records, walks all of
    its objects again: measured 0.25–0.3 CPU-s per 100,000 characters with the shipped model,
    an eighth of the batch path (``bench/README.md``). Objects created later are collected as
    usual. Called once per process by ``load_tagger``, which owns the batch and worker processes;
    library callers of ``Tagger.load`` decide for their own process.
    """
    gc.collect()
    gc.freeze()


# --------------------------------------------------------------------------- worker side

_WORKER_TAGGER: Any = None  # a tagger object handed over by the parent (tests pass fakes)
_WORKER_SPEC: TaggerSpec | None = None


def _init_worker(spec: TaggerSpec | None, tagger: Any) -> None:
    """Runs in each worker before its first chunk; cannot fail (the model loads lazily, so a
    model that does not load is an error of the first chunk, not an endless respawn)."""
    global _WORKER_TAGGER, _WORKER_SPEC
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _WORKER_SPEC, _WORKER_TAGGER = spec, tagger


def tag_chunk_in_worker(
    chunk: Sequence[InputFile], spec: TaggerSpec | None = None, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> list[DocOutcome]:
    """``batch.tag_chunk`` with this process's tagger (``spec``'s, loaded once, or the one the
    parent handed over)."""
    spec = spec or _WORKER_SPEC
    tagger = _WORKER_TAGGER if _WORKER_TAGGER is not None else load_tagger(spec) if spec else None
    if tagger is None:
        raise RuntimeError("worker has neither a tagger nor a tagger spec")
    return tag_chunk(tagger, chunk, max_bytes)


# --------------------------------------------------------------------------- parent side


def chunk_outcomes(
    chunks: list[list[InputFile]], config: BatchConfig, tagger: Any = None
) -> Generator[list[DocOutcome], None, None]:
    """Outcomes per chunk, in this process, in worker processes, or on Dask (module docstring).

    ``tagger``: an already loaded tagger (in-process runs) or a picklable one to hand to the
    workers (tests); ``None`` makes every worker load ``config.model``.
    """
    if config.dask:
        from pipeline.tagging.distributed import dask_chunk_outcomes

        yield from dask_chunk_outcomes(chunks, config, tagger)
        return
    if config.workers <= 1 or len(chunks) <= 1:
        if tagger is None and chunks:
            tagger = load_tagger(TaggerSpec.from_config(config))
        for ch in chunks:
            yield tag_chunk(tagger, ch, config.max_bytes)
        return
    yield from _pool_outcomes(chunks, config, tagger)


def _pool_outcomes(chunks: list[list[InputFile]], config: BatchConfig, tagger: Any) -> Iterator[list[DocOutcome]]:
    n = min(config.workers, len(chunks))
    spec = None if tagger is not None else TaggerSpec.from_config(config, threads=config.threads or 1)
    pool = ProcessPoolExecutor(
        max_workers=n, mp_context=mp.get_context("spawn"), initializer=_init_worker, initargs=(spec, tagger)
    )
    todo = iter(chunks)
    running: set[Future[list[DocOutcome]]] = set()
    clean = False
    try:
        for ch in todo:
            running.add(pool.submit(tag_chunk_in_worker, ch, None, config.max_bytes))
            if len(running) >= 2 * n:
                break
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    res = fut.result()
                except BrokenProcessPool as e:
                    raise WorkerError(
                        f"a worker process died ({e}); finished documents are kept, rerun the same command to resume"
                    ) from e
                nxt = next(todo, None)
                if nxt is not None:
                    running.add(pool.submit(tag_chunk_in_worker, nxt, None, config.max_bytes))
                yield res
        clean = True
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:  # interrupted, or a chunk failed: stop the workers now, not after their chunks
            for fut in running:
                fut.cancel()
            for proc in list(getattr(pool, "_processes", {}).values()):  # no public terminate before 3.14
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
