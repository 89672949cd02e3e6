"""Model directories: where the shipped model is.

The shipped model is ``models/default`` at the top of the repository (its recipe and figures:
``models/README.md``). A wheel carries a copy inside the package, ``pipeline/model/shipped/``
(written by the build hook in ``setup.py``), so an installed ``govtarget`` needs no checkout;
a checkout or an editable install reads ``models/default`` itself.
"""

from __future__ import annotations

from pathlib import Path

#: The model's own metadata file: a folder without it is not a model directory.
META_FILE = "govtarget.json"
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
