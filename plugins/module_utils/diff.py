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


def detailed_diff(detailed, label, not_detailed=0, noun="items", summary=""):
    """The diff of a bulk change: ``before``/``after`` of each detailed entry under ``label(entry)``, and one line for
    the ``not_detailed`` rest (cut by a details limit) saying ``summary``."""
    labels = [label(entry) for entry in detailed]
    before = dict(zip(labels, (entry["before"] for entry in detailed)))
    after = dict(zip(labels, (entry["after"] for entry in detailed)))
    if not_detailed:
        key = "%d more %s" % (not_detailed, noun)
        before[key] = "not detailed (details_limit)"
        after[key] = summary
    return build_diff(before, after)
