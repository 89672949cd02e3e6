"""``govtarget standoff``: see ``pipeline.annotation.standoff``."""

from pipeline.annotation.standoff import main

__all__ = ["main"]
