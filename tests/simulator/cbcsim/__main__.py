"""Entry point for ``python -m cbcsim``."""

import sys

from cbcsim.cli import main

sys.exit(main())
