"""Hashes that cannot go stale (issue 14): batch resume and the rules' identity hash files found
by walking the package, so a change to any module or data file changes them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.fingerprint import (
    PACKAGE,
    data_files,
    import_closure,
    package_files,
    package_sha256,
    rules_sha256,
)
from pipeline.tagging import batch


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package to edit (its folder keeps the name ``pipeline``)."""
    root = tmp_path_factory.mktemp("pkg") / PACKAGE.name
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "shipped"))
    return root


def _edited(f: Path, h: object) -> bool:
    """Whether appending one byte to ``f`` changes the hash ``h()`` (the file is restored)."""
    before = h()  # type: ignore[operator]
    data = f.read_bytes()
    try:
        f.write_bytes(data + b"\n")
        return h() != before  # type: ignore[operator]
    finally:
        f.write_bytes(data)


def test_every_module_and_data_file_is_in_the_package_hash(copy: Path) -> None:
    files = package_files(copy)
    names = {str(f.relative_to(copy)) for f in files}
    assert {"model/encoding.py", "fields/parse.py", "text/textnorm.py", "schema.py", "py.typed"} <= names
    assert all(_edited(f, lambda: package_sha256(copy)) for f in files)
    # A new module counts too, and the hash does not depend on where the package lies.
    assert package_sha256(copy) == package_sha256(PACKAGE)
    extra = copy / "rules" / "new_module.py"
    extra.write_text("X = 1\n", encoding="utf-8")
    try:
        assert package_sha256(copy) != package_sha256(PACKAGE)
    finally:
        extra.unlink()


def test_batch_resume_keys_on_the_package_hash() -> None:
    assert batch.code_hash() == package_sha256()[:16]


def test_rules_identity_covers_what_the_rules_import_and_every_data_file(copy: Path) -> None:
    closure = {str(f.relative_to(copy)) for f in import_closure("pipeline.rules.baseline", copy)}
    # What the rules' output depends on besides rules/baseline.py (the old hash missed these).
    assert {"rules/baseline.py", "fields/parse.py", "text/textnorm.py", "schema.py", "predict.py"} <= closure
    assert "model/modeling.py" not in closure and "cli/tag.py" not in closure
    for f in [*import_closure("pipeline.rules.baseline", copy), *data_files(copy)]:
        assert _edited(f, lambda: rules_sha256(copy)), f
    assert not _edited(copy / "cli" / "tag.py", lambda: rules_sha256(copy))
    assert rules_sha256(copy) == rules_sha256(PACKAGE)
