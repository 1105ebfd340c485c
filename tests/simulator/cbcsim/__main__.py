"""Entry point: ``python -m cbcsim`` (with ``tests/simulator`` on ``PYTHONPATH``), or the package directory run
as a script, ``python .../tests/simulator/cbcsim``, which is how an installed collection starts it."""

import os
import sys

if not __package__:
    # Run as a directory: make the package importable by its name.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cbcsim.cli import main  # noqa: E402  pylint: disable=wrong-import-position

sys.exit(main())
