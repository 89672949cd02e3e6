"""The ``govtarget`` command line: a thin layer of subcommands over importable functions.

Each subcommand lives in ``pipeline/cli/<name>.py``. Most expose ``register(subparsers)``, which
adds its parser and sets ``func`` to a function of the parsed arguments returning an exit code.
The developer tools with subcommands of their own (``train``, ``evaluate``, ``standoff``,
``seed``, ``annotator-b``, ``audit``, ``digest``) expose ``main(argv)``: ``govtarget train ARGS`` is
``pipeline.cli.train.main(ARGS)``, and the repository's ``train.py`` / ``evaluate.py`` are shims
over the same functions.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pipeline.errors import (
    AnnotationImportError,
    BackendError,
    DeviceError,
    ModelLoadError,
    OutputError,
    ReadError,
)
from pipeline.io import printable

#: The errors ``main`` reports as one ``error:`` line (all in the light ``pipeline.errors``).
USER_ERRORS = (OutputError, ReadError, ModelLoadError, DeviceError, BackendError, AnnotationImportError)

#: Subcommand modules with ``register(subparsers)``, in the order ``--help`` lists them.
COMMANDS = ("segment", "tag", "batch", "export", "importgold", "select", "panel")
#: Subcommand modules with their own parser, ``main(argv) -> int``, and their one-line help (a ``-``
#: in a name is a ``_`` in its module's).
TOOLS = {
    "train": "train a model (pretraining, fine-tuning, CV); `govtarget train --help`",
    "evaluate": "score a system against the gold set; agreement; history of runs",
    "standoff": "build gold (standoff, or inline) from annotation specs (and back)",
    "seed": "rebuild the seed gold and its numbers audit from the seed's annotation spec",
    "annotator-b": "rebuild (or --check) annotator B's blind second annotation of the seed; --agree GOLD",
    "audit": "check a numbers audit: every number token of a report accounted for",
    "digest": "sha256 of the rules' and the shipped model's predictions (gold set, corpus): the refactoring check",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govtarget", description="Quantified policy targets in Chinese government work reports."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pipeline.cli.{name}").register(sub)
    for name, help_ in TOOLS.items():  # listed here; `main` hands their arguments on untouched
        sub.add_parser(name, help=help_, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        module = argv[0].replace("-", "_")  # `govtarget annotator-b` is pipeline.cli.annotator_b
        return int(importlib.import_module(f"pipeline.cli.{module}").main(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except USER_ERRORS as e:
        # Errors whose message names the file or the option (an unwritable --out, an unreadable
        # input, a model that cannot be trusted, a device torch lacks, a backend cache that cannot
        # be built): one `error:` line, exit 2, never a traceback. Anything else is a bug: raise.
        print(f"error: {printable(str(e))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
