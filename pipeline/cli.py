"""The ``govtarget`` command line: a thin layer of subcommands over importable functions.

Each subcommand lives in ``pipeline/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a function of the parsed arguments returning an exit
code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("segment", "tag", "batch", "export", "importgold", "select", "panel")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govtarget", description="Quantified policy targets in Chinese government work reports."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pipeline.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except RuntimeError as e:
        # A model directory that cannot be trusted (tag, batch): its message names the file, so
        # print it instead of a traceback. Raised only once pipeline.modeling has been imported.
        modeling = sys.modules.get("pipeline.modeling")
        if modeling is None or not isinstance(e, modeling.ModelLoadError):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
