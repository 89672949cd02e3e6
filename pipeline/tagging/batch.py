"""Stage: tag many report files into an output folder, resumably.

``run_batch(inputs, out_dir, config)`` reads every report under the inputs (``.txt``, ``.docx``,
``.pdf``, ``.html``/``.htm``/``.shtml``; the format is then sniffed from the content by
``pipeline.reader.read_report``), tags them in chunks (sentences of several documents go to the
predictor together, which sorts them by length), and writes:

* ``DIR/<doc_id>.jsonl``: gold-format sentence records (``evaluate.py --pred DIR`` scores them);
* ``DIR/<doc_id>.txt``: for every input that is not plain text, the extracted text, UTF-8: the
  text every offset refers to (``export``, ``import --raw`` and ``evaluate.py`` read it);
* ``DIR/targets.csv``: one row per target for all documents, UTF-8 with BOM, rebuilt from the
  per-document files at the end so a resumed run never duplicates rows;
* ``DIR/summary.json``: documents ok / failed / skipped with reasons, characters, targets,
  time, model id and hash; each document's format, encoding, and the library (and version)
  that extracted its text;
* ``DIR/manifest.ndjson``: what is done, one entry per line keyed by input path, with its size
  and mtime and a run fingerprint (model hash, code hash, configuration). A document is skipped
  on a rerun only when all of these match and its output file still has the recorded sha256.
  Entries are appended (flushed and fsynced) as documents finish, so the cost stays linear in
  the number of documents; a torn last line from a kill is dropped when the manifest is read,
  and the file is rewritten compact and sorted (atomically) at the start and end of each run.

Every file is written atomically (``pipeline.io``), the document output before its manifest
entry, so a run killed at any point leaves nothing half-written that looks done.

Chunks are tagged by ``tag_chunk`` (read → segment → tag → validated bytes, no writing) in this
process, in ``config.workers`` processes or on Dask (``pipeline.tagging.parallel``,
``pipeline.tagging.distributed``); this process alone writes outputs and the manifest.

What a batch may touch (issue 13):

* **Only files it owns.** The manifest names every file the batch wrote (an ``{"owns": name}``
  line is journaled before each output is written, so a kill in between still leaves the file
  owned). An ``--out`` holding ``.jsonl``/``.txt`` files, gold files or a ``summary.json`` /
  ``targets.csv`` that no manifest claims is refused (``BatchRefused``) unless ``force=True``;
  even then those files are never overwritten (a colliding output takes a hashed name).
* **Never the input tree.** ``--out`` inside (or equal to) an input folder, the folder of an
  input file, or a folder that contains an input is refused.
* **Any file name.** Output names are a bounded (≤ 120 bytes), filesystem-safe form of the
  doc_id, plus a hash of the input path when the stem had to be changed; names that are not
  UTF-8 are shown decoded (GB18030 if that works, else ``\\xNN``), so summaries stay writable.
* **One run per folder.** An advisory lock (``fcntl.flock`` on ``.govtarget-batch.lock``) is
  held for the whole run; a second run raises ``BatchBusy`` naming the holder, or waits
  (``wait=True``, ``--wait``). Temporary files are cleaned only under the lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.annotation.gold import validate_records
from pipeline.errors import OutputError, ReadError
from pipeline.fingerprint import package_sha256
from pipeline.io import atomic_write_bytes, atomic_write_text, printable, truncate_bytes
from pipeline.tagging.export import read_jsonl_records, records_jsonl, rows_csv, target_rows
from pipeline.text.reader import DEFAULT_MAX_BYTES, Report, read_report

#: Bumped when the output format changes: older outputs are then redone, not skipped.
OUTPUT_FORMAT = 1
MANIFEST = "manifest.ndjson"  # not *.jsonl: evaluate.py --pred DIR reads every .jsonl as records
SUMMARY = "summary.json"
TARGETS_CSV = "targets.csv"
SUFFIXES = (".txt", ".docx", ".pdf", ".html", ".htm", ".shtml")
_TMP = re.compile(r"^\..+\.[^.]+\.tmp$")
#: The advisory lock file: one batch per output folder at a time.
LOCK = ".govtarget-batch.lock"
#: Longest output file stem in bytes (a name limit of 255 leaves room for suffixes).
NAME_BYTES = 120
#: Characters never put into an output name (path separators, controls, what Windows forbids).
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


class BatchRefused(OutputError):
    """An ``--out`` the batch will not write into (input tree, foreign files); nothing written."""


class BatchBusy(OutputError):
    """Another batch run holds the output folder's lock."""


@dataclass(frozen=True)
class BatchConfig:
    model: str = "rules"
    device: str = "cpu"
    backend: str | None = None
    batch_size: int = 32
    #: Documents are tagged in chunks of about this many characters (memory stays bounded).
    chunk_chars: int = 200_000
    suppress_review: bool = True
    #: Intra-op threads for the model, per worker (default: physical cores with ``workers=1``,
    #: else 1; fewer is faster on a busy machine).
    threads: int | None = None
    #: A document larger than this (bytes) fails with a clear reason; ``None``: no limit.
    max_bytes: int | None = DEFAULT_MAX_BYTES
    #: Worker processes, each loading the model once (``pipeline.tagging.parallel``); 1 = in this process.
    workers: int = 1
    #: Dask scheduler address, or ``"local"`` for a LocalCluster (``pipeline.tagging.distributed``).
    dask: str | None = None

    def fingerprint_fields(self) -> dict[str, Any]:
        """What changes the output (batch size and chunking only change speed)."""
        return {
            "device": self.device,
            "backend": self.backend,
            "suppress_review": self.suppress_review,
            "format": OUTPUT_FORMAT,
        }


@dataclass(frozen=True)
class InputFile:
    path: Path
    #: The path as the user would recognise it (input argument joined with the relative path).
    display: str
    #: Manifest key: the absolute path.
    key: str
    doc_id: str
    #: Output file stem: a bounded, filesystem-safe form of ``doc_id`` (see ``output_stem``).
    stem: str = ""


@dataclass
class DocResult:
    doc_id: str
    source: str
    #: "ok", "failed" or "skipped".
    status: str
    #: Why it failed or was skipped; for "ok", why it was (re)tagged ("new", "input changed", …).
    reason: str = ""
    chars: int = 0
    sentences: int = 0
    targets: int = 0
    encoding: str = ""
    #: How the text was obtained: "txt", "docx", "pdf" or "html", and the library that read it.
    format: str = ""
    library: str = ""
    library_version: str = ""
    #: The extracted text written beside the outputs (non-text inputs), relative to the folder.
    text_file: str = ""
    #: The records file in the output folder (a bounded, safe form of the name; see ``output_stem``).
    output: str = ""


@dataclass
class BatchSummary:
    out_dir: str
    model: str
    model_id: str
    model_hash: str
    code_hash: str
    config: dict[str, Any]
    results: list[DocResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[DocResult]:
        return [r for r in self.results if r.status == "failed"]

    def to_json(self) -> dict[str, Any]:
        done_now = [r for r in self.results if r.status == "ok"]
        chars_now = sum(r.chars for r in done_now)
        return {
            "out_dir": self.out_dir,
            "model": self.model,
            "model_id": self.model_id,
            "model_hash": self.model_hash,
            "code_hash": self.code_hash,
            "config": self.config,
            "documents": {
                "total": len(self.results),
                "ok": self.count("ok"),
                "failed": self.count("failed"),
                "skipped": self.count("skipped"),
            },
            "characters_tagged": chars_now,
            "characters_total": sum(r.chars for r in self.results if r.status != "failed"),
            "targets_total": sum(r.targets for r in self.results if r.status != "failed"),
            "seconds": round(self.seconds, 3),
            "chars_per_second": round(chars_now / self.seconds, 1) if self.seconds > 0 and chars_now else None,
            "failed": [{"doc_id": r.doc_id, "source": r.source, "reason": r.reason} for r in self.failed],
            "skipped": [
                {"doc_id": r.doc_id, "source": r.source, "reason": r.reason}
                for r in self.results
                if r.status == "skipped"
            ],
            "documents_detail": [asdict(r) for r in self.results],
        }


# --------------------------------------------------------------------------- inputs


def _short_hash(s: str, n: int = 8) -> str:
    return hashlib.sha1(s.encode("utf-8", "surrogateescape")).hexdigest()[:n]


def output_stem(doc_id: str, key: str) -> str:
    """The output file stem of a document: ``doc_id`` itself when it is a safe name of at most
    ``NAME_BYTES`` bytes, else its safe form (unsafe characters → ``_``, no leading dot) cut to
    fit, plus ``-<hash of the input path>`` so that cut or changed names stay distinct."""
    safe = _UNSAFE_NAME.sub("_", printable(doc_id)).lstrip(". ") or "document"
    if safe == doc_id and len(os.fsencode(safe)) <= NAME_BYTES:
        return safe
    return f"{truncate_bytes(safe, NAME_BYTES - 9)}-{_short_hash(key)}"


def _input_failure(path: Path, reason: str, doc_id: str | None = None) -> DocResult:
    """A failed input of ``discover`` (named by its stem unless ``doc_id`` is given)."""
    return DocResult(
        doc_id=printable(doc_id if doc_id is not None else path.stem),
        source=printable(str(path)),
        status="failed",
        reason=reason,
    )


def discover(
    inputs: Sequence[str | os.PathLike[str]], exclude: Path | None = None
) -> tuple[list[InputFile], list[DocResult]]:
    """Report files under ``inputs`` (files, or folders searched recursively), with unique doc ids.

    doc_id is the file stem; stems shared by several files get ``-<hash of their relative path>``
    (the path below the input folder, prefixed by the folder's name), so ids are deterministic
    whatever the order of the arguments. Inputs that do not exist come back as failures.
    """
    found: list[tuple[Path, str, str]] = []  # path, display, relative key for disambiguation
    missing: list[DocResult] = []
    excl = exclude.resolve() if exclude is not None else None
    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            n_before = len(found) + len(missing)
            for f in sorted(p.rglob("*")):
                relp = f.relative_to(p)
                if any(part.startswith(".") for part in relp.parts) or f.suffix.lower() not in SUFFIXES:
                    continue
                if excl is not None and excl in f.resolve().parents:
                    continue
                if f.is_dir():
                    continue
                if not f.is_file():  # a FIFO, device or socket named like a report: refused, never opened
                    missing.append(
                        _input_failure(f, "not a regular file (FIFO, device or socket); refused without reading")
                    )
                    continue
                found.append((f, printable(str(f)), f"{p.resolve().name}/{relp.as_posix()}"))
            if len(found) + len(missing) == n_before:
                missing.append(_input_failure(p, f"no reports ({', '.join(SUFFIXES)}) in this folder", p.name))
        elif p.exists() or p.is_symlink():
            found.append((p, printable(str(p)), p.name))
        else:
            missing.append(_input_failure(p, "no such file or directory"))
    seen: set[str] = set()
    unique: list[tuple[Path, str, str]] = []
    for f, disp, rel in found:
        key = str(f.resolve())
        if key not in seen:  # the same file named twice (a file and its folder) is tagged once
            seen.add(key)
            unique.append((f, disp, rel))
    stems: dict[str, int] = {}
    for f, _, _ in unique:
        stems[printable(f.stem)] = stems.get(printable(f.stem), 0) + 1
    out: list[InputFile] = []
    used: set[str] = set()
    used_stems: set[str] = set()
    for f, disp, rel in unique:
        stem = printable(f.stem)  # not UTF-8 (GBK names from a Windows archive): decoded, writable
        doc_id = stem if stems[stem] == 1 else f"{stem}-{_short_hash(rel)}"
        if doc_id in used:  # same relative path under two same-named folders: fall back to the absolute path
            doc_id = f"{stem}-{_short_hash(str(f.resolve()))}"
        used.add(doc_id)
        key = str(f.resolve())
        ostem = output_stem(doc_id, key)
        if ostem.casefold() in used_stems:  # two safe forms meet (or differ only in case): hash the path
            ostem = f"{truncate_bytes(ostem, NAME_BYTES - 18)}-{_short_hash(key + chr(0) + doc_id)}"
        used_stems.add(ostem.casefold())
        out.append(InputFile(path=f, display=disp, key=key, doc_id=doc_id, stem=ostem))
    return out, missing


def read_input(inp: InputFile, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Report:
    """The report of one input, any format; raises ReadError naming the file as the user gave it
    (also for a file that is not a regular file or is larger than ``max_bytes``)."""
    try:
        return read_report(inp.path, doc_id=inp.doc_id, max_bytes=max_bytes)
    except ReadError as e:
        msg = str(e)
        if msg.startswith(str(inp.path)) and inp.display != str(inp.path):
            msg = inp.display + msg[len(str(inp.path)) :]
        raise ReadError(msg) from e


# --------------------------------------------------------------------------- fingerprints


def code_hash() -> str:
    """The code's part of the resume key: every module and data file of the package
    (``pipeline.fingerprint.package_sha256``), so no change to the code leaves old outputs
    looking current."""
    return package_sha256()[:16]


def model_hash(spec: str) -> str:
    """sha256 over a model directory's files (caches excluded); ``"rules"`` hashes to itself."""
    if spec == "rules":
        return "rules"
    p = Path(spec)
    if not p.is_dir():
        raise FileNotFoundError(f"model directory {spec} not found")
    h = hashlib.sha256()
    for f in sorted(p.rglob("*")):
        rel = f.relative_to(p)
        # Backend caches (ONNX exports) live in dot-folders or onnx/: derived, not the model.
        if not f.is_file() or any(x.startswith(".") for x in rel.parts) or rel.parts[0] in ("onnx", "cache"):
            continue
        h.update(rel.as_posix().encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def run_fingerprint(mhash: str, chash: str, config: BatchConfig) -> str:
    payload = json.dumps({"model": mhash, "code": chash, "config": config.fingerprint_fields()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- manifest


def _manifest_lines(out: Path) -> list[dict[str, Any]]:
    try:
        text = (out / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []  # absent or unreadable: outputs are redone, never trusted
    lines: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            lines.append(e)
    return lines


def load_manifest(out: Path) -> dict[str, dict[str, Any]]:
    """Entries by input key; the last line for a key wins; unreadable lines (a torn tail) are dropped."""
    entries: dict[str, dict[str, Any]] = {}
    for e in _manifest_lines(out):
        if isinstance(e.get("key"), str) and e.get("format") == OUTPUT_FORMAT:
            entries[e["key"]] = e
    return entries


def owned_files(out: Path) -> set[str]:
    """Names of the files in ``out`` that a batch wrote: every output and text copy its manifest
    lists (any format version), every ``{"owns": name}`` claim, and, once a manifest exists,
    the manifest, summary and CSV themselves."""
    owned: set[str] = set()
    for e in _manifest_lines(out):
        for k in ("output", "text_file", "owns"):
            if isinstance(e.get(k), str):
                owned.add(e[k])
    if (out / MANIFEST).exists():
        owned |= {MANIFEST, SUMMARY, TARGETS_CSV}
    return owned


def _manifest_line(e: dict[str, Any]) -> str:
    # ASCII: an input key that is not UTF-8 (lone surrogates) round-trips as \\udcXX escapes.
    return json.dumps(e, ensure_ascii=True, sort_keys=True) + "\n"


def _compact_manifest(out: Path, entries: dict[str, dict[str, Any]], owned: set[str] | None = None) -> None:
    """Rewrite the manifest: one entry per key, plus a claim for each other owned file still there."""
    listed = {e.get(k) for e in entries.values() for k in ("output", "text_file")}
    claims = sorted(n for n in (owned or set()) - listed - {MANIFEST, SUMMARY, TARGETS_CSV} if (out / n).exists())
    atomic_write_text(
        out / MANIFEST,
        "".join(_manifest_line(entries[k]) for k in sorted(entries))
        + "".join(_manifest_line({"owns": n}) for n in claims),
    )


class _Journal:
    """Append-only manifest writer: each line is flushed and fsynced before the next document."""

    def __init__(self, path: Path) -> None:
        try:
            self.f = open(path, "a", encoding="utf-8")
        except OSError as e:
            raise OutputError(f"{path}: cannot write ({e.strerror or e})") from e

    def add(self, entry: dict[str, Any]) -> None:
        try:
            self.f.write(_manifest_line(entry))
            self.f.flush()
            os.fsync(self.f.fileno())
        except OSError as e:
            raise OutputError(f"{self.f.name}: cannot write ({e.strerror or e})") from e

    def close(self) -> None:
        self.f.close()


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _stat(inp: InputFile) -> tuple[int, int]:
    st = inp.path.stat()
    return st.st_size, st.st_mtime_ns


def why_redo(entry: dict[str, Any] | None, inp: InputFile, fp: str, out: Path) -> str | None:
    """Why a document must be tagged (again); ``None`` when its earlier output stands."""
    if not entry:
        return "new"
    try:
        if [entry.get("size"), entry.get("mtime_ns")] != list(_stat(inp)):
            return "input changed"
    except OSError:
        return "input unreadable"
    if entry.get("fingerprint") != fp:
        return "model, code or configuration changed"
    if entry.get("doc_id") != inp.doc_id:
        return "doc_id changed"
    if entry.get("status") == "empty":
        return None
    if entry.get("status") != "ok" or _sha256(out / entry.get("output", "")) != entry.get("output_sha256"):
        return "output missing or modified"
    if entry.get("text_file") and _sha256(out / entry["text_file"]) != entry.get("text_sha256"):
        return "extracted text missing or modified"
    return None


# --------------------------------------------------------------------------- the run


def check_outside_inputs(out: Path, inputs: Sequence[str | os.PathLike[str]]) -> None:
    """Raise BatchRefused when ``out`` is, or lies inside, an input folder or the folder of an
    input file, or when an input lies inside ``out``: a batch never writes into its input tree."""
    o = out.resolve()
    for arg in inputs:
        p = Path(arg)
        if not (p.exists() or p.is_symlink()):
            continue
        r = p.resolve()
        shown = printable(str(p))
        if p.is_dir() and (o == r or r in o.parents):
            raise BatchRefused(
                f"{printable(str(out))}: is inside the input folder {shown}; choose an output folder outside the inputs"
            )
        if not p.is_dir() and o == r.parent:
            raise BatchRefused(
                f"{printable(str(out))}: is the folder of the input file {shown}; "
                "choose an output folder outside the inputs"
            )
        if o in r.parents:
            raise BatchRefused(
                f"{printable(str(out))}: contains the input {shown}; choose an output folder outside the inputs"
            )


def foreign_files(out: Path) -> list[str]:
    """Files in ``out`` that a batch could overwrite but did not write: ``.jsonl`` and ``.txt``
    files and a summary or CSV no manifest claims, and gold files (a ``standoff/`` folder of
    ``.jsonl``). Hidden files (locks, temporaries) are not listed."""
    owned = owned_files(out)
    found: list[str] = []
    try:
        children = sorted(out.iterdir())
    except OSError:
        return found
    for f in children:
        name = f.name
        if name.startswith(".") or name in owned:
            continue
        if f.is_dir():
            if name == "standoff" and any(f.glob("*.jsonl")):
                found.append(f"{name}/ (gold)")
            continue
        if f.suffix.lower() in (".jsonl", ".txt") or name in (MANIFEST, SUMMARY, TARGETS_CSV):
            found.append(name)
    return found


@contextmanager
def folder_lock(out: Path, wait: bool = False) -> Iterator[None]:
    """Hold the output folder's advisory lock (``fcntl.flock``) for the block.

    Without ``wait`` a folder locked by another run raises BatchBusy naming the holder's pid; with
    it the call blocks until the other run ends. The lock dies with its process (a kill frees it).
    On systems without ``fcntl`` no lock is taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = out / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise OutputError(f"{printable(str(path))}: cannot create the lock file ({e.strerror or e})") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            if not wait:
                raise BatchBusy(
                    f"{printable(str(out))}: another batch run is writing to this folder ({holder}); "
                    "wait for it to finish, or rerun with --wait"
                ) from None
            print(f"waiting for the other batch run writing to {printable(str(out))} ({holder})", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def check_writable(out: Path) -> None:
    """Create ``out`` if needed and prove a file can be written there; raise OutputError if not."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise OutputError(f"{out}: output folder is not writable ({e.strerror or e})") from e


def _clean_temp(out: Path) -> None:
    """Remove temp files a killed run left behind (ours only: ``.<name>.<random>.tmp``)."""
    for f in out.iterdir():
        if f.is_file() and _TMP.match(f.name) and f.name != LOCK:
            try:
                f.unlink()
            except OSError:
                pass


def _chunks(items: list[InputFile], sizes: dict[str, int], max_chars: int) -> list[list[InputFile]]:
    chunks: list[list[InputFile]] = []
    cur: list[InputFile] = []
    total = 0
    for it in items:
        n = sizes.get(it.key, 0)
        if cur and total + n > max_chars:
            chunks.append(cur)
            cur, total = [], 0
        cur.append(it)
        total += n
    if cur:
        chunks.append(cur)
    return chunks


def _doc_output(doc: Any) -> bytes:
    """Validated JSONL bytes of a tagged document; raises ValueError on any broken record."""
    recs = [(i + 1, s.to_json()) for i, s in enumerate(doc.sentences)]
    problems = validate_records(recs, doc.text, doc.doc_id)
    if problems:
        raise ValueError(f"{len(problems)} invalid record(s), first: {problems[0]}")
    try:
        return records_jsonl(doc.sentences).encode("utf-8")
    except UnicodeEncodeError as e:  # lone surrogates cannot be written as UTF-8
        raise ValueError(f"text not encodable as UTF-8 ({e.reason} at {e.start})") from e


@dataclass
class DocOutcome:
    """One document read and tagged, nothing written yet: what a worker hands to the parent.

    ``status`` is "ok" (``data`` holds the validated JSONL), "empty" (no sentences) or
    "failed" (``reason`` says why: unreadable input, tagging error, invalid output).
    """

    inp: InputFile
    status: str
    reason: str = ""
    size: int = 0
    mtime_ns: int = 0
    chars: int = 0
    sentences: int = 0
    targets: int = 0
    encoding: str = ""
    data: bytes | None = None
    #: For non-text inputs (.docx, PDF, HTML): the extracted text the offsets refer to (written
    #: beside the JSONL as ``<stem>.txt``).
    text: str | None = None
    #: How the text was obtained (``Report.format``/``library``/``library_version``).
    input_format: str = ""
    library: str = ""
    library_version: str = ""


def tag_chunk(tagger: Any, chunk: Sequence[InputFile], max_bytes: int | None = DEFAULT_MAX_BYTES) -> list[DocOutcome]:
    """Read, tag and serialise one chunk of documents (together: the predictor batches their
    sentences); the seam between tagging (any process) and writing (the parent only)."""
    outcomes: list[DocOutcome] = []
    texts: list[tuple[InputFile, str, Report, int, int]] = []
    for inp in chunk:
        try:
            size, mtime = _stat(inp)  # taken before reading: a file changed meanwhile is redone next time
            rep = read_input(inp, max_bytes)
        except (ReadError, OSError) as e:
            outcomes.append(DocOutcome(inp, "failed", printable(str(e))))
            continue
        texts.append((inp, rep.text, rep, size, mtime))
    tagged = _tag_chunk(tagger, texts)
    for (inp, text, rep, size, mtime), doc in zip(texts, tagged):
        base = DocOutcome(
            inp,
            "ok",
            size=size,
            mtime_ns=mtime,
            chars=len(text),
            encoding=rep.provenance()["encoding"],
            input_format=rep.format,
            library=rep.library,
            library_version=rep.library_version,
        )
        if isinstance(doc, BaseException):
            outcomes.append(replace(base, status="failed", reason=f"tagging failed: {_reason(doc)}"))
            continue
        base = replace(base, sentences=len(doc.sentences), targets=len(doc.targets()))
        if not doc.sentences:
            outcomes.append(replace(base, status="empty"))
            continue
        try:
            data = _doc_output(doc)
        except ValueError as e:
            outcomes.append(replace(base, status="failed", reason=f"invalid output: {e}"))
            continue
        outcomes.append(replace(base, data=data, text=text if rep.format != "txt" else None))
    return outcomes


def run_batch(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    config: BatchConfig | None = None,
    tagger: Any = None,
    progress: bool = True,
    on_document: Callable[[DocResult], None] | None = None,
    force: bool = False,
    wait: bool = False,
) -> BatchSummary:
    """Tag every report under ``inputs`` into ``out_dir``; see the module docstring.

    ``tagger`` overrides ``config.model`` (tests pass a fake). ``on_document`` is called after
    each document is finished (written or failed). Raises OutputError when ``out_dir`` cannot be
    written, BatchRefused when it is in the input tree or holds files no batch wrote (``force``
    accepts the latter, never overwriting them), BatchBusy when another run holds it (``wait``
    waits instead); every other per-document problem is recorded in the summary and the run goes on.
    """
    cfg = config or BatchConfig()
    if tagger is None:
        from pipeline.tagging.tagger import resolve_model

        cfg = replace(cfg, model=resolve_model(cfg.model))  # "default": the shipped model
    out = Path(out_dir)
    check_outside_inputs(out, inputs)
    if out.is_dir():
        check_foreign(out, force)  # before the lock file is created: a refused folder is left as it was
    check_writable(out)
    with folder_lock(out, wait=wait):
        check_foreign(out, force)  # again under the lock: another run may have changed the folder
        return _run_locked(inputs, out, cfg, tagger, progress, on_document, force)


def check_foreign(out: Path, force: bool) -> list[str]:
    """The foreign files of ``out`` (see ``foreign_files``); raise BatchRefused when there are
    any and not ``force``, or when one is a summary, CSV or manifest (never overwritten)."""
    foreign = foreign_files(out)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        blocking = [f for f in foreign if f in (MANIFEST, SUMMARY, TARGETS_CSV)]
        if not force or blocking:
            hint = (
                f"move {', '.join(blocking)} away (a batch never overwrites files it did not write)"
                if blocking
                else "choose an empty folder, or pass --force to write beside them (they are never overwritten)"
            )
            raise BatchRefused(
                f"{printable(str(out))}: holds {len(foreign)} file(s) no batch run wrote "
                f"({shown}): a gold or other data folder? {hint}"
            )
    return foreign


def _run_locked(
    inputs: Sequence[str | os.PathLike[str]],
    out: Path,
    cfg: BatchConfig,
    tagger: Any,
    progress: bool,
    on_document: Callable[[DocResult], None] | None,
    force: bool,
) -> BatchSummary:
    foreign = foreign_files(out)
    _clean_temp(out)
    t0 = time.perf_counter()
    files, missing = discover(inputs, exclude=out)
    if foreign:  # --force: an output whose name is taken by a foreign file gets a hashed name
        taken = {f.casefold() for f in foreign}
        files = [
            f
            if f"{f.stem}.jsonl".casefold() not in taken and f"{f.stem}.txt".casefold() not in taken
            else replace(f, stem=f"{truncate_bytes(f.stem, NAME_BYTES - 18)}-{_short_hash('own' + f.key)}")
            for f in files
        ]
    owned = owned_files(out)
    mhash = model_hash(cfg.model) if tagger is None else f"custom:{getattr(tagger, 'name', type(tagger).__name__)}"
    chash = code_hash()
    fp = run_fingerprint(mhash, chash, cfg)
    entries = load_manifest(out)
    _compact_manifest(out, entries, owned)  # drops a torn last line before anything is appended

    results: dict[str, DocResult] = {}
    pending: list[InputFile] = []
    redo: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for inp in files:
        e = entries.get(inp.key)
        why = why_redo(e, inp, fp, out)
        if why is None:
            assert e is not None  # why_redo says "new" without an entry
            reason = "done in an earlier run (unchanged input, model and configuration)"
            if e.get("status") == "empty":
                reason = "no sentences (empty report), unchanged since an earlier run"
            results[inp.key] = DocResult(
                inp.doc_id,
                inp.display,
                "skipped",
                reason,
                e.get("chars", 0),
                e.get("sentences", 0),
                e.get("targets", 0),
                e.get("encoding", ""),
                e.get("input_format", ""),
                e.get("library", ""),
                e.get("library_version", ""),
                e.get("text_file", ""),
                e.get("output", ""),
            )
        else:
            redo[inp.key] = why
            pending.append(inp)
            try:
                sizes[inp.key] = _stat(inp)[0]
            except OSError:
                sizes[inp.key] = 0

    summary = BatchSummary(
        out_dir=printable(str(out)), model=cfg.model, model_id="", model_hash=mhash, code_hash=chash, config=asdict(cfg)
    )
    if pending and tagger is None and cfg.workers <= 1 and not cfg.dask:
        from pipeline.tagging.parallel import TaggerSpec, load_tagger

        tagger = load_tagger(TaggerSpec.from_config(cfg))  # in this process; workers load their own
    if tagger is not None:
        summary.model_id = getattr(tagger, "name", cfg.model)
    else:  # tagged in workers: the name the tagger would have
        from pipeline.tagging.parallel import TaggerSpec, tagger_name

        summary.model_id = tagger_name(TaggerSpec.from_config(cfg))

    from tqdm import tqdm

    bar = tqdm(total=len(pending), unit="doc", desc="tagging", disable=not progress, dynamic_ncols=True)
    journal = _Journal(out / MANIFEST)
    chars_done = 0

    def finish(inp: InputFile, res: DocResult) -> None:
        results[inp.key] = res
        bar.update(1)
        el = max(time.perf_counter() - t0, 1e-9)
        bar.set_postfix_str(f"{chars_done:,} chars, {chars_done / el:,.0f} chars/s", refresh=False)
        if on_document is not None:
            on_document(res)

    def commit(o: DocOutcome) -> None:
        """Write one tagged document and its manifest entry (the parent alone writes)."""
        nonlocal chars_done
        inp = o.inp

        def result(status: str, reason: str, **more: Any) -> DocResult:
            return DocResult(
                inp.doc_id,
                inp.display,
                status,
                reason,
                o.chars,
                encoding=o.encoding,
                format=o.input_format,
                library=o.library,
                library_version=o.library_version,
                **more,
            )

        if o.status == "failed":
            finish(inp, result("failed", o.reason))
            return
        entry: dict[str, Any] = {
            "format": OUTPUT_FORMAT,
            "key": inp.key,
            "doc_id": inp.doc_id,
            "source": inp.display,
            "size": o.size,
            "mtime_ns": o.mtime_ns,
            "fingerprint": fp,
            "chars": o.chars,
            "sentences": o.sentences,
            "targets": o.targets,
            "encoding": o.encoding,
            "input_format": o.input_format,
            "library": o.library,
            "library_version": o.library_version,
        }
        if o.status == "empty":
            entry["status"] = "empty"
            entries[inp.key] = entry
            journal.add(entry)
            finish(inp, result("skipped", "no sentences (empty report)"))
            return
        assert o.data is not None
        name = f"{inp.stem or inp.doc_id}.jsonl"
        text_file = f"{inp.stem or inp.doc_id}.txt" if o.text is not None else ""
        for n in (name, text_file):
            if n and n not in owned:  # claimed before written: a kill leaves it ours
                journal.add({"owns": n})
                owned.add(n)
        if o.text is not None:  # keep the text the offsets refer to, before the records
            text_bytes = o.text.encode("utf-8")
            atomic_write_bytes(out / text_file, text_bytes)
            entry.update(text_file=text_file, text_sha256=hashlib.sha256(text_bytes).hexdigest())
        atomic_write_bytes(out / name, o.data)
        entry.update(status="ok", output=name, output_sha256=hashlib.sha256(o.data).hexdigest())
        entries[inp.key] = entry
        journal.add(entry)  # after the output: a kill in between only redoes this document
        chars_done += o.chars
        finish(
            inp, result("ok", redo[inp.key], sentences=o.sentences, targets=o.targets, text_file=text_file, output=name)
        )

    try:
        from pipeline.tagging.parallel import chunk_outcomes

        # Chunks depend on the inputs and chunk_chars only, never on the workers: the predictor
        # sees the same batches however many processes share them, so outputs are identical.
        with closing(chunk_outcomes(_chunks(pending, sizes, cfg.chunk_chars), cfg, tagger)) as stream:
            for outcomes in stream:  # closing: an interrupt stops the workers at once
                for o in outcomes:
                    commit(o)
    finally:
        bar.close()
        journal.close()

    ordered = [results[f.key] for f in files] + missing
    summary.results = ordered
    _compact_manifest(out, entries, owned)
    _write_targets_csv(out, files, results, entries)
    summary.seconds = time.perf_counter() - t0
    atomic_write_text(out / SUMMARY, printable(json.dumps(summary.to_json(), ensure_ascii=False, indent=1) + "\n"))
    return summary


def _reason(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def _tag_chunk(tagger: Any, texts: list[tuple[InputFile, str, Report, int, int]]) -> list[Any]:
    """Tag a chunk together; if that fails, tag its documents one by one to isolate the bad one."""
    if not texts:
        return []
    docs = [(inp.doc_id, text) for inp, text, *_ in texts]
    try:
        return list(tagger.tag_many(docs))
    except Exception as e:
        if len(docs) == 1:
            return [e]
    out: list[Any] = []
    for d in docs:
        try:
            out.append(tagger.tag_many([d])[0])
        except Exception as e:
            out.append(e)
    return out


def _write_targets_csv(
    out: Path, files: list[InputFile], results: dict[str, DocResult], entries: dict[str, Any]
) -> None:
    """Rebuild targets.csv from every document the folder's manifest holds as done (this run's
    and earlier runs' into the same folder, e.g. two runs over disjoint inputs), in doc_id order;
    a document that failed in this run is left out even if an older output of it exists."""
    rows: list[dict[str, Any]] = []
    failed_now = {k for k, r in results.items() if r.status == "failed"}
    done = [(e.get("doc_id", ""), k, e) for k, e in entries.items() if e.get("status") == "ok" and k not in failed_now]
    for _doc_id, _key, e in sorted(done, key=lambda x: (x[0], x[1])):
        f = out / str(e.get("output", ""))
        if not e.get("output") or not f.is_file():
            continue
        recs = read_jsonl_records(f.read_text(encoding="utf-8"))
        rows.extend(target_rows(recs, source=str(e.get("source", ""))))
    atomic_write_text(out / TARGETS_CSV, rows_csv(rows, bom=True))
