"""Every error the package raises on purpose, in one module without heavy imports.

Each message names the file (and line, where there is one) and, where it can, the fix. Callers
catch these by class; a batch records the message and goes on with the other files.
"""

from __future__ import annotations


class ReadError(ValueError):
    """A file that cannot be read as a report; the message names the file."""


class OutputError(OSError):
    """An output that could not be written; nothing already written was touched."""


class GoldError(ValueError):
    """An invalid gold file; the message names the file and line."""


class SourceMissing(GoldError):
    """A standoff gold file whose source text is not available here."""


class OffsetError(ValueError):
    """An offset that does not fall on a character boundary of its text."""


class AnnotationImportError(ValueError):
    """An annotation file that cannot become gold; ``problems`` lists ``(task_id, reason)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        shown = "\n  ".join(f"task {t}: {r}" for t, r in problems[:30])
        more = f"\n  … and {len(problems) - 30} more" if len(problems) > 30 else ""
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n  {shown}{more}")


class ModelLoadError(RuntimeError):
    """A model directory that cannot be trusted; the message names the file."""

    @classmethod
    def at(cls, path: object, msg: str) -> ModelLoadError:
        """``"<path>: <msg>"``: the file that is wrong, then what is wrong with it."""
        return cls(f"{path}: {msg}")


class DeviceError(RuntimeError):
    """A device this torch cannot use (``--device cuda`` on a CPU-only build)."""


class BackendError(RuntimeError):
    """A backend that cannot be built for this model; the message says why."""
