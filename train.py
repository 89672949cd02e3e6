"""``python train.py ARGS``: the same as ``govtarget train ARGS`` (``pipeline.cli.train``)."""

import sys

from pipeline.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
