"""govtarget: quantified policy targets in Chinese government work reports.

``from pipeline import Tagger`` works; the tagger (and torch behind it) is imported only then,
so ``import pipeline`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Tagger", "TaggedDocument"]


def __getattr__(name: str) -> Any:
    if name in ("Tagger", "TaggedDocument"):
        from pipeline.tagging import tagger

        return getattr(tagger, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
