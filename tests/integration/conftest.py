"""Fixtures that run the local CBC API simulator (tests/simulator/cbcsim) for integration tests."""

import os
import sys

import pytest

SIMULATOR_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "simulator"))
if SIMULATOR_ROOT not in sys.path:
    sys.path.insert(0, SIMULATOR_ROOT)

from cbcsim.testing import Simulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    """One simulator (50 devices, seed 1) for the whole session; use ``mark()`` to isolate log lines."""
    sim = Simulator.start(tmp_path_factory.mktemp("cbcsim"), devices=50, seed=1)
    yield sim
    sim.stop()


@pytest.fixture
def simulator_factory(tmp_path_factory):
    """Start simulators with custom arguments: ``simulator_factory(devices=250, extra_args=[...])``.

    Every simulator started through the factory is stopped at teardown.
    """
    started = []

    def start(devices=50, seed=1, extra_args=()):
        sim = Simulator.start(tmp_path_factory.mktemp("cbcsim"), devices=devices, seed=seed, extra_args=extra_args)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(simulator):
    """The session simulator, reset to its seeded state before and after the test (devices, policies, forwarders,
    faults), so tests that change state do not leak into each other."""
    simulator.reset()
    yield simulator
    simulator.reset()
