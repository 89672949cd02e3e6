"""Issue 8's done-criterion: `evaluate.py --pred <batch output>` scores exactly what `evaluate.py
--model`/`--system` scores, because batch output is the gold record format with raw offsets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("targets_strict_f", "targets_partial_f", "targets_typed_f", "fields_all_acc", "sentcat_accuracy")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, *args], cwd=cwd, check=True, capture_output=True, text=True)


def _metrics(out: Path, run_id: str) -> dict:
    return json.loads((out / run_id / "metrics.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["rules", "models/default"])
def test_batch_output_scores_like_the_model(tmp_path: Path, model: str) -> None:
    gold = tmp_path / "data" / "gold"
    gold.mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir()
    shutil.copy(ROOT / "data/gold/yuzhong-2024.jsonl", gold)
    shutil.copy(ROOT / "data/raw/yuzhong-2024.txt", tmp_path / "data/raw")
    batch_out, reports = tmp_path / "batch", tmp_path / "reports"
    model_arg = model if model == "rules" else str(ROOT / model)
    _run(
        "-m",
        "pipeline.cli",
        "batch",
        str(tmp_path / "data/raw"),
        "--out",
        str(batch_out),
        "--model",
        model_arg,
        "--quiet",
        cwd=ROOT,
    )
    system = ["--system", "rules"] if model == "rules" else ["--model", model_arg]
    common = ["--gold", str(gold), "--out", str(reports), "--resamples", "0"]
    _run(str(ROOT / "evaluate.py"), *system, *common, "--run-id", "direct", cwd=ROOT)
    _run(str(ROOT / "evaluate.py"), "--pred", str(batch_out), *common, "--run-id", "pred", cwd=ROOT)
    direct, pred = _metrics(reports, "direct"), _metrics(reports, "pred")
    for k in KEYS:
        assert pred[k] == pytest.approx(direct[k]), k
