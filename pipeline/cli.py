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
COMMANDS = ("segment", "tag", "batch", "export", "importgold", "select")


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
    except Exception as e:
        # Errors whose message names the file or the option (an unwritable --out, an unreadable
        # input, a model that cannot be trusted, a device torch lacks, a backend cache that cannot
        # be built): one `error:` line, exit 2, never a traceback. Anything else is a bug: raise.
        if not isinstance(e, user_errors()):
            raise
        from pipeline.io import printable

        print(f"error: {printable(str(e))}", file=sys.stderr)
        return 2


#: (module, class) of the errors ``main`` reports as one line; looked up only in modules already
#: imported, so that the CLI does not import torch to know them.
_USER_ERRORS = (("pipeline.io", "OutputError"), ("pipeline.reader", "ReadError"),
                ("pipeline.modeling", "ModelLoadError"), ("pipeline.modeling", "DeviceError"),
                ("pipeline.backends", "BackendError"), ("pipeline.annotation_io", "AnnotationImportError"))


def user_errors() -> tuple[type[BaseException], ...]:
    found = []
    for mod, name in _USER_ERRORS:
        m = sys.modules.get(mod)
        if m is not None and isinstance(getattr(m, name, None), type):
            found.append(getattr(m, name))
    return tuple(found)


if __name__ == "__main__":
    sys.exit(main())
