"""Model directories: the one reader and writer of ``govtarget.json`` and its integrity hashes,
and where the shipped model is.

A model directory holds ``config.json``, ``model.safetensors``, the tokenizer (``vocab.txt``,
``tokenizer.json``), ``govtarget.json`` (schema version, label maps, decoding settings, training
arguments, library versions, the sha256 of the files above, cross-validated metrics) and
``MODEL_CARD.md``. Everything here is JSON and hashes (no torch): the predictor
(``pipeline.model.modeling``), the backends, training and evaluation all read a directory
through these functions.

The shipped model is ``models/default`` at the top of the repository (its recipe and figures:
``models/README.md``). A wheel carries a copy inside the package, ``pipeline/model/shipped/``
(written by the build hook in ``setup.py``), so an installed ``govtarget`` needs no checkout;
a checkout or an editable install reads ``models/default`` itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline.errors import ModelLoadError
from pipeline.io import atomic_write_text, sha256_file
from pipeline.schema import BIO_TAGS, CATEGORIES, SCHEMA_VERSION

#: The model's own metadata file: a folder without it is not a model directory.
META_FILE = "govtarget.json"
CARD_FILE = "MODEL_CARD.md"
WEIGHTS_FILE = "model.safetensors"
#: Files whose sha256 ``govtarget.json`` records and loading checks. The tokenizer files are there
#: because the fast tokenizer loads tokenizer.json, not vocab.txt: shuffled ids would otherwise
#: load silently and change predictions.
HASHED_FILES = (WEIGHTS_FILE, "config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json")
#: Where a target's category comes from: its own pooled span, its sentence, or (rule-feature
#: models) the rule baseline's category for a span the rules found too, else the sentence's.
CATEGORY_SOURCES = ("span", "sentence", "rule")
#: Inside an installed wheel.
PACKAGED_MODEL = Path(__file__).resolve().parent / "shipped"
#: In a checkout (and an editable install of it).
CHECKOUT_MODEL = Path(__file__).resolve().parents[2] / "models" / "default"


def shipped_model_dir() -> Path:
    """The shipped model directory: the packaged copy if this is an installed wheel, else the
    checkout's ``models/default``. Returned even when absent (callers decide what that means)."""
    for d in (PACKAGED_MODEL, CHECKOUT_MODEL):
        if (d / META_FILE).is_file():
            return d
    return CHECKOUT_MODEL


def read_meta(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``govtarget.json`` (schema version, label maps). Raises ``ModelLoadError``."""
    d = Path(folder)
    if not d.is_dir():
        raise ModelLoadError(f"{d}: not a model directory")
    p = d / META_FILE
    if not p.exists():
        raise ModelLoadError.at(p, "missing (not a govtarget model directory)")
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelLoadError.at(p, f"corrupted ({e})") from e
    if not isinstance(meta, dict):
        raise ModelLoadError.at(p, "not a JSON object")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ModelLoadError.at(
            p, f"schema version {meta.get('schema_version')!r}, this code reads {SCHEMA_VERSION}; retrain the model"
        )
    if meta.get("bio_tags") != list(BIO_TAGS):
        raise ModelLoadError.at(
            p, f"BIO label map {meta.get('bio_tags')} differs from pipeline.schema {list(BIO_TAGS)}"
        )
    if meta.get("categories") != list(CATEGORIES):
        raise ModelLoadError.at(p, f"category label map {meta.get('categories')} differs from pipeline.schema")
    if meta.get("target_category_source", "sentence") not in CATEGORY_SOURCES:
        raise ModelLoadError.at(p, f"unknown target_category_source {meta.get('target_category_source')!r}")
    return meta


def read_meta_lenient(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``govtarget.json`` as a dict, ``{}`` when it is missing or unreadable (for provenance
    fields such as ``train_gold_sha256``; loading a model uses ``read_meta``)."""
    try:
        meta = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def write_meta(folder: str | os.PathLike[str], meta: dict[str, Any]) -> Path:
    """Write ``govtarget.json`` as given (atomically)."""
    p = Path(folder) / META_FILE
    atomic_write_text(p, json.dumps(meta, ensure_ascii=False, indent=2))
    return p


def file_hashes(folder: str | os.PathLike[str]) -> dict[str, str]:
    """sha256 of the files ``govtarget.json`` vouches for (those present)."""
    d = Path(folder)
    return {name: sha256_file(d / name) for name in HASHED_FILES if (d / name).exists()}


def check_files(folder: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """Every required file is there and has the sha256 recorded in ``meta``; else ``ModelLoadError``."""
    d = Path(folder)
    for name in HASHED_FILES:
        if not (d / name).exists():
            raise ModelLoadError.at(d / name, "missing")
    for name, digest in (meta.get("files_sha256") or {}).items():
        if (d / name).exists() and sha256_file(d / name) != digest:
            raise ModelLoadError.at(d / name, f"corrupted: sha256 differs from the one recorded in {META_FILE}")


def weights_sha256(folder: str | os.PathLike[str], compute: bool = False) -> str | None:
    """The weights' sha256 as recorded in ``govtarget.json``; with ``compute``, hashed from the
    file when none is recorded. None when neither is available."""
    d = Path(folder)
    recorded = (read_meta_lenient(d).get("files_sha256") or {}).get(WEIGHTS_FILE)
    if recorded or not compute:
        return recorded
    return sha256_file(d / WEIGHTS_FILE) if (d / WEIGHTS_FILE).is_file() else None
