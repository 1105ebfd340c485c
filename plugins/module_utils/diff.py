# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Before/after for ``--diff``: only what a task states, only what differs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def changed_fields(current, desired):
    """Return ``(before, after)`` dicts of the desired keys whose values differ from ``current``."""
    before = {}
    after = {}
    for key, value in desired.items():
        if current.get(key) != value:
            before[key] = current.get(key)
            after[key] = value
    return before, after


def build_diff(before, after, before_header=None, after_header=None):
    """Ansible's diff dict; headers are optional labels shown by the diff callback."""
    diff = {"before": before, "after": after}
    if before_header:
        diff["before_header"] = before_header
    if after_header:
        diff["after_header"] = after_header
    return diff
