"""``python -m soundedit`` runs the command-line interface."""

import sys

from soundedit.cli import main

if __name__ == "__main__":
    sys.exit(main())
