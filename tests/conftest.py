"""Shared fixtures. Nothing here touches the network; corpus-backed tests skip where it is absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GOVTARGET_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
CORPUS2 = SHARED / "corpus2"


def standoff_source_dir(header: dict[str, object]) -> Path | None:
    """The corpus folder holding a standoff header's source with its sha256 (names repeat across
    the two corpora, the hash decides), or None where neither corpus has it."""
    import hashlib

    for d in (CORPUS, CORPUS2):
        f = d / str(header["source"])
        if f.is_file() and hashlib.sha256(f.read_bytes()).hexdigest() == header["sha256"]:
            return d
    return None


SEED = ROOT / "data" / "raw" / "yuzhong-2024.txt"
BERT_TOKENIZER = SHARED / "models" / "bert-base-chinese-tokenizer"

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.txt")) if CORPUS.exists() else []
    if not files:
        pytest.skip("../shared/corpus is absent")
    return files


@pytest.fixture(scope="session", autouse=True)
def _package_is_this_checkout() -> object:
    """Every ``pipeline`` module the tests imported is this checkout's. An editable install of
    another checkout answers for module paths that no longer exist here, so a stale import
    would otherwise pass against someone else's code."""
    yield
    pkg = ROOT / "pipeline"
    foreign = sorted(
        f"{name} ({m.__file__})"
        for name, m in list(sys.modules.items())
        if (name == "pipeline" or name.startswith("pipeline."))
        and getattr(m, "__file__", None)
        and not Path(m.__file__).resolve().is_relative_to(pkg)
    )
    assert not foreign, "modules imported from outside this checkout: " + ", ".join(foreign)
