"""Local HTTPS simulator of the VMware Carbon Black Cloud (CBC) REST API.

The simulator is used by the collection's tests. It serves the device, policy, alert (search,
workflow), job, reputation-override and data-forwarder routes the collection talks to, the two CSP token endpoints, and a small
control API under ``/_sim/`` for tests. See ``tests/simulator/README.md``.
"""

__version__ = "1.0.0"
