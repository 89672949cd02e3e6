"""``govtarget audit``: see ``pipeline.annotation.audit``."""

from pipeline.annotation.audit import main

__all__ = ["main"]
