"""Build hook: the wheel carries the shipped model inside the package.

Everything about the project is in pyproject.toml; this file only adds one step to ``build_py``:
copy ``models/default`` (the shipped model, kept at the top of the repository where people look
for it) to ``pipeline/model/shipped/`` in the build, so an installed ``govtarget`` finds it as
package data (``pipeline.model.model_dir.shipped_model_dir``). Derived caches (``onnx/``) are
left out. Editable installs need no copy: they resolve ``models/default`` in the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = HERE / "models" / "default"
#: Inside the package: pipeline/model/shipped/
TARGET = ("pipeline", "model", "shipped")
CACHES = {"onnx", "__pycache__"}


class BuildPyWithModel(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        if not (SHIPPED / "govtarget.json").is_file():
            raise SystemExit(f"{SHIPPED}: the shipped model is missing; a wheel without it would tag with the rules")
        dst = Path(self.build_lib, *TARGET)
        if dst.exists():
            shutil.rmtree(dst)
        for f in sorted(SHIPPED.rglob("*")):
            rel = f.relative_to(SHIPPED)
            if f.is_file() and not (set(rel.parts) & CACHES):
                (dst / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dst / rel)


setup(cmdclass={"build_py": BuildPyWithModel})
