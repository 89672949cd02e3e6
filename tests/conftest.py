"""Shared fixtures. Nothing here touches the network; corpus-backed tests skip where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GOVTARGET_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
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
