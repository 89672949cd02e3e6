"""``python evaluate.py ARGS``: the same as ``govtarget evaluate ARGS`` (``pipeline.cli.evaluate``)."""

import sys

from pipeline.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
