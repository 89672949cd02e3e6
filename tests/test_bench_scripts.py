"""The benchmark scripts run end to end on a tiny model (they are measurements, not tests: this only
keeps them from rotting, as ``bench/agreement.py`` did when ``ModelPredictor.load`` moved)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BENCH = ROOT / "bench"
SEED = ROOT / "data" / "raw" / "yuzhong-2024.txt"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from helpers import _gold_dir, make_tiny_model, tiny_gold

    tmp = tmp_path_factory.mktemp("bench")
    corpus = tmp / "corpus"
    corpus.mkdir()
    text = SEED.read_text(encoding="utf-8")
    (corpus / "a.txt").write_text(text, encoding="utf-8")
    (corpus / "b.txt").write_text(text[: len(text) // 2], encoding="utf-8")
    return {
        "model": make_tiny_model(tmp / "model", max_length=64, stride=16, texts=[text]),
        "corpus": corpus,
        "gold": _gold_dir(tmp / "g", [tiny_gold()]),
        "tmp": tmp,
    }


def _run(*args: str) -> str:
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


@pytest.mark.slow
def test_bench_infer_and_median(setup: dict[str, Path]) -> None:
    out = setup["tmp"] / "run.json"
    _run(
        str(BENCH / "bench_infer.py"),
        *("--model", str(setup["model"]), "--corpus", str(setup["corpus"]), "--chars", "3000"),
        *("--hf-chars", "1000", "--threads", "1", "--backends", "torch,onnx", "--rounds", "2"),
        *("--paths", "ours,bare,hf,paired", "--gold", str(setup["gold"]), "--json-out", str(out)),
    )
    res = json.loads(out.read_text(encoding="utf-8"))
    assert [r["name"] for r in res["rows"]] == ["ours/torch", "ours/onnx", "bare/torch", "bare/onnx", "hf-pipeline"]
    assert not any("error" in r for r in res["rows"])
    assert [r["name"] for r in res["paired"]] == ["paired/torch", "paired/onnx"]
    assert all(len(r["ratios"]) == 2 for r in res["paired"])
    table = _run(str(BENCH / "median.py"), str(out))
    assert "ours vs bare forward, torch" in table and "| torch |" in table


@pytest.mark.slow
def test_agreement_and_stages(setup: dict[str, Path]) -> None:
    res = json.loads(
        _run(
            str(BENCH / "agreement.py"),
            *("--model", str(setup["model"]), "--corpus", str(setup["corpus"]), "--chars", "2000"),
            *("--gold", str(setup["gold"]), "--backends", "onnx"),
        )
    )
    assert res["onnx"]["corpus"]["token_tag_agreement"] > 0.99
    stages = _run(
        str(BENCH / "stages.py"),
        *("--model", str(setup["model"]), "--corpus", str(setup["corpus"]), "--chars", "2000", "--repeat", "1"),
    )
    assert "| segmentation |" in stages and "| encoding |" in stages and "ours vs bare forward" in stages


@pytest.mark.slow
def test_bench_scale_outputs_identical(setup: dict[str, Path]) -> None:
    out = setup["tmp"] / "scale.json"
    _run(
        str(BENCH / "bench_scale.py"),
        *("--model", str(setup["model"]), "--corpus", str(setup["corpus"]), "--chars", "3000"),
        *("--chunk-chars", "2000", "--workers", "1,2", "--repeat", "1", "--json-out", str(out)),
    )
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["outputs_identical"] is True
    assert "workers=2 / workers=1" in res["ratios"]
