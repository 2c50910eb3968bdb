"""``python -m ner_demo``: see ``python -m ner_demo --help``."""

import sys

from ner_demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
