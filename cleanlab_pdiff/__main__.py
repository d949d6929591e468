"""``python -m cleanlab_pdiff``: the ``cleanlab-pdiff`` command line."""

from .cli import run

if __name__ == "__main__":
    run()
