"""Batch on several worker processes and on Dask: identical outputs, one manifest, kill and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SEED
from test_batch import REPORT, FakePredictor, _make_inputs, _outputs

from pipeline.tagging.batch import MANIFEST, BatchConfig, load_manifest, run_batch
from pipeline.tagging.parallel import TaggerSpec, chunk_outcomes, default_workers, tagger_name
from pipeline.tagging.tagger import Tagger


def _many(root: Path, n: int = 12) -> Path:
    src = root / "in"
    src.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    for i in range(n):
        text = seed if i % 3 == 0 else REPORT.replace("6%", f"{i + 1}%") * (i + 1)
        (src / f"r{i:02d}.txt").write_text(text, encoding="utf-8")
    (src / "binary.txt").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    (src / "empty.txt").write_text("", encoding="utf-8")
    return src


class StopAfter:
    """``on_document`` callback that raises KeyboardInterrupt (as Ctrl-C would) after ``n`` documents."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, _res: object) -> None:
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


def test_default_workers_is_the_usable_cores() -> None:
    assert default_workers() == len(os.sched_getaffinity(0))


def test_two_workers_rules_byte_identical(tmp_path: Path) -> None:
    src = _many(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    s1 = run_batch([src], ref, BatchConfig(model="rules", chunk_chars=1), progress=False)
    s2 = run_batch([src], out, BatchConfig(model="rules", chunk_chars=1, workers=2), progress=False)
    assert _outputs(out) == _outputs(ref)
    assert [(r.doc_id, r.status, r.targets) for r in s1.results] == [
        (r.doc_id, r.status, r.targets) for r in s2.results
    ]
    assert s2.count("failed") == 1 and s2.model_id == s1.model_id == "rules"


def test_two_workers_with_a_handed_over_tagger_keep_failures_per_document(tmp_path: Path) -> None:
    """A picklable tagger goes to the workers; a document that breaks it fails alone, named."""
    src = _make_inputs(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_batch([src], ref, BatchConfig(chunk_chars=1), tagger=Tagger(FakePredictor()), progress=False)
    s = run_batch([src], out, BatchConfig(chunk_chars=1, workers=2), tagger=Tagger(FakePredictor()), progress=False)
    assert _outputs(out) == _outputs(ref)
    failed = {r.doc_id: r.reason for r in s.failed}
    assert "fake predictor exploded" in failed["boom"] and "binary" in failed


def test_interrupt_with_workers_then_resume(tmp_path: Path) -> None:
    src = _many(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_batch([src], ref, BatchConfig(model="rules", chunk_chars=1), progress=False)
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [src], out, BatchConfig(model="rules", chunk_chars=1, workers=2), progress=False, on_document=StopAfter(4)
        )
    assert time.perf_counter() - t0 < 60  # the workers were stopped, not waited for
    done = load_manifest(out)
    assert 1 <= len(done) < 14
    s = run_batch([src], out, BatchConfig(model="rules", chunk_chars=1, workers=2), progress=False)
    assert s.count("skipped") >= len(done)  # nothing finished is redone (the empty one is skipped too)
    assert _outputs(out) == _outputs(ref)


def test_chunk_outcomes_order_independent_of_workers(tmp_path: Path) -> None:
    """Completion order may differ, the outcome of every chunk may not."""
    from pipeline.tagging.batch import discover

    src = _many(tmp_path, 6)
    files, _ = discover([src])
    chunks = [[f] for f in files]
    one = {o.inp.key: o for ch in chunk_outcomes(chunks, BatchConfig(model="rules")) for o in ch}
    two = {o.inp.key: o for ch in chunk_outcomes(chunks, BatchConfig(model="rules", workers=2)) for o in ch}
    assert one.keys() == two.keys()
    assert all(one[k].data == two[k].data and one[k].status == two[k].status for k in one)


@pytest.mark.slow
def test_two_workers_shipped_model_byte_identical(tmp_path: Path) -> None:
    model = ROOT / "models" / "default"
    if not (model / "govtarget.json").exists():
        pytest.skip("no shipped model")
    src = _many(tmp_path, 6)
    ref, out = tmp_path / "ref", tmp_path / "out"
    s1 = run_batch([src], ref, BatchConfig(model=str(model), chunk_chars=5_000, threads=1), progress=False)
    s2 = run_batch([src], out, BatchConfig(model=str(model), chunk_chars=5_000, threads=1, workers=2), progress=False)
    assert s1.count("ok") == 6 and s1.model_id == s2.model_id
    assert _outputs(out) == _outputs(ref)
    assert tagger_name(TaggerSpec.from_config(BatchConfig(model=str(model)))) == s1.model_id


@pytest.mark.slow
def test_cli_workers_sigkill_then_resume(tmp_path: Path) -> None:
    """SIGKILL the whole run (parent and workers) mid-way; the same command resumes to the
    outputs of a one-worker run."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(40):
        (src / f"r{i:02d}.txt").write_text(REPORT.replace("6%", f"{i}%") * 60, encoding="utf-8")
    out, ref = tmp_path / "out", tmp_path / "ref"
    cmd = [sys.executable, "-m", "pipeline.cli", "batch", str(src), "--model", "rules", "--chunk-chars", "1", "--quiet"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(load_manifest(out)) < 3 and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers
    proc.wait()
    done = load_manifest(out)
    if len(done) == 40:
        pytest.skip("the run finished before the kill")
    assert len(done) >= 3
    p = subprocess.run(
        [*cmd, "--out", str(out), "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr
    assert f"{len(done)} skipped" in p.stderr
    p = subprocess.run(
        [*cmd, "--out", str(ref), "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr
    assert _outputs(out) == _outputs(ref)


@pytest.mark.slow
def test_dask_local_identical_and_resumable(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    src = _many(tmp_path, 8)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_batch([src], ref, BatchConfig(model="rules", chunk_chars=1), progress=False)
    cfg = BatchConfig(model="rules", chunk_chars=1, workers=2, dask="local")
    with pytest.raises(KeyboardInterrupt):
        run_batch([src], out, cfg, progress=False, on_document=StopAfter(3))
    done = load_manifest(out)
    assert 1 <= len(done) < 10
    s = run_batch([src], out, cfg, progress=False)  # the same manifest keys: finished documents are skipped
    assert s.count("skipped") >= len(done)
    assert _outputs(out) == _outputs(ref)
    # and a local rerun of the Dask run's folder skips everything
    s_local = run_batch([src], out, BatchConfig(model="rules", chunk_chars=1), progress=False)
    assert s_local.count("ok") == 0 and (out / MANIFEST).exists()
