"""Fingerprints of the code: hashes found by walking the package, never a hand-kept list.

* ``package_sha256()``: every file of the installed package (modules and data files; caches and
  the packaged copy of the shipped model excluded, the model has its own hash). Batch resume
  keys on it: any change to the code or its data redoes finished documents.
* ``rules_sha256()``: the rule baseline's identity, the "weights" of the rules: the modules
  ``pipeline.rules`` imports, followed transitively (function-local imports included, found by
  reading the source), plus every data file of the package. Evaluation history and a
  rule-feature model record it.

Both are sha256 hex digests over ``relative path NUL bytes NUL`` in sorted path order, so they
do not depend on where the package is installed.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

#: The package folder (``pipeline/``).
PACKAGE = Path(__file__).resolve().parent
#: Not part of the code: byte-code caches, the wheel's copy of the shipped model.
_SKIP_PARTS = {"__pycache__", "shipped"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def package_files(root: Path = PACKAGE) -> list[Path]:
    """Every file of the package under ``root``, sorted (caches and the packaged model left out)."""
    return sorted(
        f
        for f in root.rglob("*")
        if f.is_file() and not (set(f.relative_to(root).parts) & _SKIP_PARTS) and f.suffix not in _SKIP_SUFFIXES
    )


def files_sha256(files: Iterable[Path], root: Path = PACKAGE) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def package_sha256(root: Path = PACKAGE) -> str:
    """sha256 over every code and data file of the package."""
    return files_sha256(package_files(root), root)


def _module_file(name: str, root: Path) -> Path | None:
    parts = name.split(".")[1:]  # drop the top-level package name
    for f in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
        if f.is_file():
            return f
    return None


def _imports(f: Path, top: str) -> set[str]:
    """First-party modules ``f`` imports (``from top.x import y`` also yields ``top.x.y``, which
    may be a module): anywhere in a module's source, function-local imports included; at the
    top level only in a package's ``__init__.py`` (its function-local imports, such as
    ``pipeline.__getattr__``'s, run only on attribute access)."""
    out: set[str] = set()
    tree = ast.parse(f.read_bytes(), str(f))
    nodes = tree.body if f.name == "__init__.py" else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == top or node.module.startswith(top + "."):
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name == top or a.name.startswith(top + "."))
    return out


def import_closure(module: str, root: Path = PACKAGE) -> list[Path]:
    """The source files of ``module`` and of every first-party module it imports, transitively,
    with the ``__init__.py`` of each package on the way."""
    top = module.split(".")[0]
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        for n in [*parents, name]:
            f = _module_file(n, root)
            if f is not None and f not in seen:
                seen.add(f)
                todo.extend(_imports(f, top))
    return sorted(seen)


def data_files(root: Path = PACKAGE) -> list[Path]:
    """The package's files that are not Python source (tables, lexicons, ``py.typed``)."""
    return [f for f in package_files(root) if f.suffix != ".py"]


def rules_sha256(root: Path = PACKAGE) -> str:
    """sha256 over the rule baseline's import closure and the package's data files."""
    return files_sha256(set(import_closure(f"{root.name}.rules.baseline", root)) | set(data_files(root)), root)
