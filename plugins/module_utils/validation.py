# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of task input made before any request: names, free text, ids, numeric ranges, mapping keys.

Each raises CbcConfigError with one line that says what is wrong and how to fix it. The CBC APIs publish
no length limit for policy or forwarder names (docs/reliability.md, "Input limits"); the limits here are
our choice, wide enough for any name the console shows and small enough to catch a runaway template.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import CbcConfigError

NAME_MAX_LENGTH = 255
TEXT_MAX_LENGTH = 8192
# Control characters (C0 and DEL); free text may still hold tabs and line breaks.
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_name(value, where, limit=NAME_MAX_LENGTH):
    """A name: a non-blank string of at most ``limit`` characters without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise CbcConfigError("%s must be a non-empty name. Fix: set it to the name to manage (a template may have "
                             "rendered empty)" % where)
    _check_characters(value, where, _NAME_CONTROL, "a name")
    if value != value.strip():
        raise CbcConfigError("%s %r has leading or trailing spaces. Fix: remove them" % (where, value[:40]))
    _check_length(value, where, limit)
    return value


def check_text(value, where, limit=TEXT_MAX_LENGTH):
    """Free text (a description): a string of at most ``limit`` characters; tabs and line breaks allowed."""
    if not isinstance(value, str):
        raise CbcConfigError("%s must be a string. Fix: quote it" % where)
    _check_characters(value, where, _TEXT_CONTROL, "text")
    _check_length(value, where, limit)
    return value


def _check_characters(value, where, pattern, kind):
    match = pattern.search(value)
    if match:
        raise CbcConfigError("%s contains the control character U+%04X at position %d, which %s cannot hold. Fix: "
                             "remove it" % (where, ord(match.group(0)), match.start() + 1, kind))


def _check_length(value, where, limit):
    if len(value) > limit:
        raise CbcConfigError("%s is %d characters long, more than the %d allowed. Fix: shorten it"
                             % (where, len(value), limit))


def check_id(value, where):
    """A numeric object id: an integer of 1 or more."""
    if not _is_int(value) or value < 1:
        raise CbcConfigError("%s must be an ID of 1 or more, not %r. Fix: use the ID the API shows (e.g. from the "
                             "_info module)" % (where, value))
    return value


def check_range(value, where, lowest, highest=None, unit=None, fix="use a value in that range"):
    """An integer within ``lowest``..``highest`` (no upper bound when ``highest`` is None); None passes.

    ``unit`` follows the range in the message (e.g. ``seconds``), ``fix`` is what the message says to do.
    """
    if value is None:
        return value
    if not _is_int(value) or value < lowest or (highest is not None and value > highest):
        allowed = "%d to %d" % (lowest, highest) if highest is not None else "%d or more" % lowest
        raise CbcConfigError("%s must be %s%s, not %r. Fix: %s"
                             % (where, allowed, " " + unit if unit else "", value, fix))
    return value


def check_keys(mapping, where, known):
    """Refuse keys of ``mapping`` that are not in ``known``, listing the known ones."""
    unknown = sorted(str(key) for key in mapping if key not in known)
    if unknown:
        raise CbcConfigError("%s has unknown key(s) %s. Fix: use one of %s"
                             % (where, ", ".join(unknown), ", ".join(sorted(known))))
    return mapping


def check_not_empty(values, where, example):
    """A list option that is given must hold at least one item."""
    if values is not None and not values:
        raise CbcConfigError("%s is empty, so the task would do nothing. Fix: give at least one, e.g. %s, or leave "
                             "the option out" % (where, example))
    return values
