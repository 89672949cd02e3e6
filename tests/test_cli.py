"""The ``govtarget`` command: developer tools are subcommands (``train``, ``evaluate``, …) that hand
their arguments to ``pipeline.cli.<tool>.main``; the repository's ``train.py`` and ``evaluate.py``
are shims over the same functions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import TOOLS, build_parser, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_tools_take_their_own_arguments(tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([tool, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "--help" in out
    assert tool in build_parser().format_help()


def test_govtarget_evaluate_is_evaluate_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import evaluate

    (tmp_path / "history.jsonl").write_text(
        '{"run_id": "r1", "system": "rules", "split": "all", "targets_strict_f": 0.5}\n', encoding="utf-8"
    )
    args = ["history", "--out", str(tmp_path), "--plot", str(tmp_path / "h.png")]
    assert main(["evaluate", *args]) == 0
    via_govtarget = capsys.readouterr().out
    assert evaluate.main(args) == 0
    assert via_govtarget == capsys.readouterr().out and "0.500" in via_govtarget


@pytest.mark.parametrize("shim,marker", [("train.py", "pretrain"), ("evaluate.py", "--system")])
def test_root_shims_run_from_anywhere(shim: str, marker: str, tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / shim), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stderr
    assert marker in p.stdout
