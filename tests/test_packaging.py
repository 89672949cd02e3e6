"""The wheel (issue 14): it carries every subpackage, ``py.typed`` and the shipped model, installs
nothing at the top level but ``pipeline``, and an installed copy tags with the shipped model.

Built offline (``--no-build-isolation``: setuptools comes with the dev extras) from a copy of
the files a build reads, so stale ``build/`` folders of a checkout cannot leak into it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.fingerprint import data_files
from pipeline.model.model_dir import META_FILE, PACKAGED_MODEL
from pipeline.tagging.export import records_jsonl
from pipeline.tagging.tagger import Tagger
from pipeline.text.reader import read_report

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "default"
SEED = ROOT / "data" / "raw" / "yuzhong-2024.txt"
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", "onnx", "shipped")

pytestmark = pytest.mark.slow


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "pipeline", src / "pipeline", ignore=CACHES)
    shutil.copytree(SHIPPED, src / "models" / "default", ignore=CACHES)
    out = tmp_path_factory.mktemp("dist")
    p = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    (whl,) = out.glob("govtarget-*.whl")
    return whl


def _source_packages() -> set[str]:
    return {
        str(f.parent.relative_to(ROOT)) for f in (ROOT / "pipeline").rglob("__init__.py") if "shipped" not in f.parts
    }


def test_wheel_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert top - dist_info == {"pipeline"}, "one top-level import package; no train/evaluate modules"
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    assert packages == _source_packages()
    assert {"pipeline/cli", "pipeline/model", "pipeline/text", "pipeline/training"} <= packages
    sources = {str(f.relative_to(ROOT)) for f in (ROOT / "pipeline").rglob("*.py") if "shipped" not in f.parts}
    assert sources <= set(names), sorted(sources - set(names))
    assert "pipeline/py.typed" in names
    data = {str(f.relative_to(ROOT)) for f in data_files()}
    assert {"pipeline/data/lexicon.json", "pipeline/data/units.json"} <= data and data <= set(names)
    with zipfile.ZipFile(wheel) as z:
        shipped = {n.removeprefix("pipeline/model/shipped/"): _sha(z.read(n)) for n in names if "/shipped/" in n}
        top_level = next(z.read(n).decode() for n in names if n.endswith(".dist-info/top_level.txt"))
    want = {
        str(f.relative_to(SHIPPED)): _sha(f.read_bytes())
        for f in SHIPPED.rglob("*")
        if f.is_file() and "onnx" not in f.parts
    }
    assert META_FILE in shipped and shipped == want, "the wheel's model is models/default, byte for byte"
    assert top_level.split() == ["pipeline"]


def test_installed_wheel_tags_with_the_shipped_model(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    p = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    env = dict(os.environ, PYTHONPATH=str(target))
    where = subprocess.run(
        [sys.executable, "-c", "from pipeline.tagging.tagger import resolve_model; print(resolve_model('default'))"],
        cwd=tmp_path,  # outside the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()) == target / PACKAGED_MODEL.relative_to(ROOT)
    tagged = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "tag", str(SEED), "--format", "gold"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tagged.returncode == 0, tagged.stderr
    rep = read_report(SEED)
    assert tagged.stdout == records_jsonl(Tagger.load("default")(rep.text, rep.doc_id).sentences)
