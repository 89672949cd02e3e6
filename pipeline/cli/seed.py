"""``govtarget seed``: see ``pipeline.annotation.seed``."""

from pipeline.annotation.seed import main

__all__ = ["main"]
