"""Inference backends: ONNX export matches the torch forward on new shapes; int8; caching; choice."""

from __future__ import annotations

import json
from pathlib import Path

import helpers
import numpy as np
import pytest
import torch

from pipeline.errors import BackendError
from pipeline.model import backends
from pipeline.model.backends import choose_backend, default_backend, export_onnx, make_runner, write_backend_choice

TEXTS = ["地区生产总值增长5%左右，城镇新增就业4.6万人。社会消费品零售总额突破1450亿元。GDP、5G、REITs"]


def make_tiny_model(folder: Path, seed: int = 0) -> Path:
    """The shared tiny model over this module's texts, with fp16 weights like a shipped model."""
    return helpers.make_tiny_model(folder, seed, max_length=64, stride=16, texts=TEXTS, fp16=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def _inputs(b: int, t: int, pad_from: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(b * 1000 + t)
    ids = torch.randint(5, 100, (b, t), generator=g)  # the tiny vocabulary has a bit over 100 entries
    am = torch.ones_like(ids)
    if pad_from is not None and b > 1:
        am[-1, pad_from:] = 0
        ids[-1, pad_from:] = 0
    return ids, am, torch.zeros_like(ids)


@pytest.mark.slow
def test_onnx_matches_torch_on_unseen_shapes(tiny: Path) -> None:
    ref = make_runner(tiny, "torch")
    onnx = make_runner(tiny, "onnx")
    for b, t, pad in [(1, 3, None), (3, 37, 20), (8, 128, 5)]:
        x = _inputs(b, t, pad)
        rt, rs = ref(*x)
        ot, os_ = onnx(*x)
        assert ot.shape == tuple(rt.shape) and os_.shape == tuple(rs.shape)
        np.testing.assert_allclose(ot, rt.numpy(), atol=1e-4)
        np.testing.assert_allclose(os_, rs.numpy(), atol=1e-4)


@pytest.mark.slow
def test_int8_runs_and_stays_close(tiny: Path) -> None:
    x = _inputs(4, 40, 25)
    rt, rs = make_runner(tiny, "torch")(*x)
    for b in ("int8", "torch-int8"):
        qt, qs = make_runner(tiny, b)(*x)
        qt, qs = np.asarray(qt), np.asarray(qs)
        assert qt.shape == tuple(rt.shape) and np.isfinite(qt).all() and np.isfinite(qs).all()
        # int8 perturbs the logits, it must not scramble them
        assert np.corrcoef(qt.ravel(), rt.numpy().ravel())[0, 1] > 0.99


@pytest.mark.slow
def test_export_is_cached_and_atomic(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = export_onnx(tiny)
    assert p.parent == tiny / "onnx" and p.exists()
    mtime = p.stat().st_mtime_ns
    assert export_onnx(tiny) == p and p.stat().st_mtime_ns == mtime  # reused, not redone
    # a failing export leaves no file that looks finished
    out = tiny / "onnx" / "broken.onnx"

    def boom(*a: object, **k: object) -> None:
        Path(a[2]).write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(torch.onnx, "export", boom)
    with pytest.raises(BackendError, match="killed"):
        export_onnx(tiny, out=out)
    assert not out.exists() and not [f for f in out.parent.iterdir() if f.name.endswith(".tmp")]


@pytest.mark.slow
def test_predictor_with_onnx_runner_gives_same_records(tiny: Path) -> None:
    from pipeline.model.load import load_predictor
    from pipeline.tagging.tagger import Tagger

    text = "二、2025年工作安排\n地区生产总值增长6%左右，城镇新增就业4.6万人。\n社会消费品零售总额突破1450亿元。\n"
    base = Tagger(load_predictor(tiny, backend="torch"), suppress_review=False)(text, "d")
    pred = load_predictor(tiny, backend="torch")
    pred.runner = make_runner(tiny, "onnx")
    other = Tagger(pred, suppress_review=False)(text, "d")
    a = [(s.category, [(t.start, t.end) for t in s.targets]) for s in base.sentences]
    b = [(s.category, [(t.start, t.end) for t in s.targets]) for s in other.sentences]
    assert a == b


def test_backend_choice(tmp_path: Path) -> None:
    f1 = {"torch": 0.80, "onnx": 0.80, "int8": 0.797, "torch-int8": 0.70}
    speed = {"torch": 1.0, "onnx": 2.0, "int8": 3.0, "torch-int8": 4.0}
    assert choose_backend(f1, speed) == "int8"  # torch-int8 is fastest but costs 0.1 F1
    assert choose_backend({**f1, "int8": 0.79}, speed) == "onnx"
    assert choose_backend({"torch": 0.8}, {"torch": 1.0}) == "torch"
    agree = {"onnx": 1.0, "int8": 0.95}
    assert choose_backend(f1, speed, agreement=agree, min_agreement=0.99) == "onnx"
    assert default_backend(tmp_path) == "torch"
    meta = {"files_sha256": {"model.safetensors": "aaa"}}
    (tmp_path / "govtarget.json").write_text(json.dumps(meta), encoding="utf-8")
    write_backend_choice(tmp_path, "int8", {"strict_f1": f1})
    assert default_backend(tmp_path) == "int8"
    assert json.loads((tmp_path / "backend.json").read_text())["strict_f1"]["int8"] == 0.797
    meta["files_sha256"]["model.safetensors"] = "bbb"  # retrained: the old choice no longer applies
    (tmp_path / "govtarget.json").write_text(json.dumps(meta), encoding="utf-8")
    assert default_backend(tmp_path) == "torch"
    (tmp_path / "backend.json").write_text("{broken", encoding="utf-8")
    assert default_backend(tmp_path) == "torch"
    with pytest.raises(BackendError):
        make_runner(tmp_path, "tpu")
    assert backends.physical_cores() >= 1


@pytest.mark.slow
def test_bench_hf_wrapper_has_the_same_weights(tiny: Path) -> None:
    """The transformers-pipeline baseline in bench/bench_infer.py runs exactly our token head."""
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_infer", ROOT / "bench" / "bench_infer.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    hf, _ = bench.hf_token_classifier(str(tiny))
    x = _inputs(2, 20, 12)
    ref_tokens, _ = make_runner(tiny, "torch")(*x)
    with torch.no_grad():
        logits = hf(input_ids=x[0], attention_mask=x[1], token_type_ids=x[2]).logits
    np.testing.assert_allclose(logits.numpy(), ref_tokens[..., :3].numpy(), atol=1e-5)
