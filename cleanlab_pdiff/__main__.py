"""``python -m cleanlab_pdiff``: the ``cleanlab-pdiff`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
