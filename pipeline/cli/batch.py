"""``govtarget batch INPUT... --out DIR``: tag folders of reports resumably (see pipeline.tagging.batch)."""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import OutputError
from pipeline.tagging.batch import BatchConfig, run_batch
from pipeline.text.reader import DEFAULT_MAX_BYTES


def positive_int(s: str) -> int:
    """argparse type: an integer ≥ 1 (a bad value is a usage error, never a traceback)."""
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch", help="tag many reports into DIR (per-document JSONL, targets.csv, summary.json); resumable"
    )
    p.add_argument(
        "inputs",
        nargs="+",
        help="report files or folders (searched recursively for .txt, .docx, .pdf, .html, .htm, .shtml)",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--model",
        default="default",
        help="model directory, 'rules' for the rule baseline, or 'default': the shipped model (models/default)",
    )
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument(
        "--backend",
        default=None,
        choices=("torch", "onnx", "int8"),
        help="inference backend; default: the one recorded in the model directory",
    )
    p.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass")
    p.add_argument(
        "--chunk-chars",
        type=int,
        default=200_000,
        help="documents are tagged together in chunks of about this many characters",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes, each with its own model (default: the cores of this machine); "
        "outputs are identical for any number",
    )
    p.add_argument("--threads", type=positive_int, default=None, help="model threads per worker (default: 1)")
    p.add_argument(
        "--dask",
        default=None,
        metavar="SCHEDULER_ADDRESS|local",
        help="run the tagging on a Dask cluster (tcp://host:8786), or 'local' for a LocalCluster "
        "of --workers processes; see pipeline/tagging/distributed.py",
    )
    p.add_argument(
        "--keep-review",
        action="store_true",
        help="also emit targets found in the review of the past year (normally suppressed)",
    )
    p.add_argument(
        "--max-bytes",
        type=positive_int,
        default=DEFAULT_MAX_BYTES,
        help=f"refuse a document larger than this many bytes (default {DEFAULT_MAX_BYTES:,})",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write into an --out holding files no batch wrote (gold, other .jsonl); they are never overwritten",
    )
    p.add_argument(
        "--wait", action="store_true", help="if another batch run is writing to --out, wait for it instead of stopping"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.tagging.parallel import WorkerError, default_workers

    workers = args.workers if args.workers is not None else default_workers()
    if args.batch_size < 1 or args.chunk_chars < 1 or workers < 1 or (args.threads is not None and args.threads < 1):
        print("error: --batch-size, --chunk-chars, --workers and --threads must be positive", file=sys.stderr)
        return 2
    cfg = BatchConfig(
        model=args.model,
        device=args.device,
        backend=args.backend,
        batch_size=args.batch_size,
        chunk_chars=args.chunk_chars,
        suppress_review=not args.keep_review,
        threads=args.threads or 1,
        workers=workers,
        dask=args.dask,
        max_bytes=args.max_bytes,
    )
    try:
        summary = run_batch(args.inputs, args.out, cfg, progress=not args.quiet, force=args.force, wait=args.wait)
    except OutputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:  # a model directory that does not exist
        print(f"error: {e}", file=sys.stderr)
        return 2
    except WorkerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: finished documents are kept; rerun the same command to resume", file=sys.stderr)
        return 130
    s = summary.to_json()
    d = s["documents"]
    rate = f", {s['chars_per_second']:,.0f} chars/s" if s["chars_per_second"] else ""
    print(
        f"{d['total']} documents: {d['ok']} tagged, {d['skipped']} skipped, {d['failed']} failed; "
        f"{s['characters_tagged']:,} characters tagged in {s['seconds']:.1f} s{rate}; "
        f"{s['targets_total']:,} targets → {args.out}",
        file=sys.stderr,
    )
    for f in s["failed"]:
        print(f"failed: {f['source']}: {f['reason']}", file=sys.stderr)
    return 1 if d["failed"] else 0
