"""``python -m pipeline.cli``: the ``govtarget`` command."""

import sys

from pipeline.cli import main

sys.exit(main())
