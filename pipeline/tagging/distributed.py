"""Stage: the batch as a Dask job over files, for more than one machine.

``govtarget batch INPUT... --out DIR --dask tcp://SCHEDULER:8786`` (or ``--dask local`` for a
``LocalCluster`` on this machine) runs exactly ``run_batch``: the client (the machine running the
command) discovers the inputs, checks the manifest, forms the same chunks as a local run and
submits one task per chunk; each task is ``read → segment → tag → serialise`` of its documents
(``pipeline.parallel.tag_chunk_in_worker``); the client writes each document's output and its
manifest line as results arrive. Hence:

* outputs are identical to the local batch (same chunks, same code, same model), and a rerun of
  the same command, locally or on the cluster, skips what any earlier run finished (same
  manifest keys and fingerprint);
* the model is loaded once per worker process: ``parallel.load_tagger`` caches it in the
  worker's module state on its first task (a cached loader rather than a ``WorkerPlugin``: the
  same code path serves local worker processes and Dask workers, and a model that fails to load
  fails the first task with its message instead of every worker's start-up);
* inputs are read by the workers, so every worker must see the input paths (a shared file
  system: NFS, Lustre, a mounted bucket); outputs are written by the client only (one writer
  for the manifest); the JSONL that travels back is about 2.4× the input's UTF-8 size (7 bytes
  per character, measured on 5 corpus reports), i.e. ~7 GB for a billion characters.
* at most ``2 × workers`` chunks are in flight, so neither the scheduler nor the client holds
  more than a few chunks of results.

Why Dask and not Ray Data: the job is a plain map over independent files with one stateful
loader per worker, which ``Client.submit`` + ``as_completed`` express directly;
``dask[distributed]`` is pure Python (~10 MB, no native object store or raylet), its
``LocalCluster`` starts in a second inside the tests, and it runs unchanged on SSH, Slurm/PBS
(``dask-jobqueue``) or Kubernetes clusters. Ray would add a ~100 MB wheel with its own runtime
for no feature this job needs.

On a cluster (same environment and shared paths on every node)::

    dask scheduler --port 8786                                       # one node
    dask worker tcp://HEAD:8786 --nworkers 16 --nthreads 1 --memory-limit 2GB   # every node
    govtarget batch /shared/reports --out /shared/tagged --dask tcp://HEAD:8786

``--nthreads 1``: each worker process runs one chunk at a time with one intra-op thread (the
model's own threads: ``--threads``); use as many worker processes per node as physical cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeline.tagging.batch import BatchConfig, DocOutcome, InputFile
from pipeline.tagging.parallel import TaggerSpec, WorkerError, default_workers, tag_chunk_in_worker


def _client(address: str, workers: int) -> tuple[Any, Any]:
    """``(client, cluster or None)``; ``"local"`` starts a LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
        return Client(cluster), cluster
    return Client(address), None


def dask_chunk_outcomes(
    chunks: list[list[InputFile]], config: BatchConfig, tagger: Any = None
) -> Iterator[list[DocOutcome]]:
    """Outcomes per chunk, tagged on the Dask cluster at ``config.dask`` (see module docstring).

    ``tagger`` (tests) is sent to the workers with each task instead of loading ``config.model``.
    """
    from distributed import as_completed

    if not chunks:
        return
    assert config.dask is not None
    client, cluster = _client(config.dask, config.workers if config.workers > 1 else default_workers())
    try:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        spec = None if tagger is not None else TaggerSpec.from_config(config, threads=config.threads or 1)
        fn = tag_chunk_in_worker if tagger is None else _tag_with
        extra = (spec, config.max_bytes) if tagger is None else (tagger, config.max_bytes)
        todo = iter(enumerate(chunks))

        def submit(i: int, ch: list[InputFile]) -> Any:
            return client.submit(fn, ch, *extra, key=f"govtarget-chunk-{i}-{id(chunks)}", pure=False, retries=0)

        ac = as_completed([submit(i, ch) for i, ch in (x for _, x in zip(range(2 * n_workers), todo))])
        for fut in ac:
            try:
                res = fut.result()
            except Exception as e:  # a task's exception or a lost worker
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                raise WorkerError(
                    f"Dask task failed ({type(e).__name__}: {e}); finished documents are kept, "
                    "rerun the same command to resume"
                ) from e
            fut.release()
            nxt = next(todo, None)
            if nxt is not None:
                ac.add(submit(*nxt))
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _tag_with(chunk: list[InputFile], tagger: Any, max_bytes: int | None = None) -> list[DocOutcome]:
    from pipeline.tagging.batch import tag_chunk

    return tag_chunk(tagger, chunk, max_bytes)
