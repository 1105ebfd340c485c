"""Make the simulator package (tests/simulator/cbcsim) importable for its unit tests."""

import os
import sys

SIMULATOR_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "simulator"))
if SIMULATOR_ROOT not in sys.path:
    sys.path.insert(0, SIMULATOR_ROOT)
