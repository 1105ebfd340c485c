# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decode a JSON object whose one array member holds many rows, shaping each row as soon as it is decoded.

A search page of 10,000 devices is about 24 MB of JSON; decoded whole it is about 40 MB more of dicts before any
can be trimmed. Here each row is decoded alone (with the C decoder) and passed through ``shape`` at once, so only
the shaped rows are kept. Everything else decodes as ``json.loads`` would.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _expect(text, index, chars):
    char = text[index:index + 1]
    if not char or char not in chars:
        raise ValueError("expected %s at character %d" % (" or ".join(repr(c) for c in chars), index))
    return char


def decode_with_rows(text, array_key, shape):
    """``json.loads(text)``, except that each element of the top-level member ``array_key`` (when it is an
    array) becomes ``shape(element)`` as soon as it is decoded. Raises ValueError on invalid JSON."""
    space = _SPACE.match
    index = space(text, 0).end()
    if text[index:index + 1] != "{":
        return _DECODER.decode(text)
    result = {}
    index = space(text, index + 1).end()
    if text[index:index + 1] == "}":
        index += 1
    else:
        while True:
            _expect(text, index, '"')
            key, index = _DECODER.raw_decode(text, index)
            index = space(text, index).end()
            _expect(text, index, ":")
            index = space(text, index + 1).end()
            if key == array_key and text[index:index + 1] == "[":
                value, index = _decode_rows(text, index + 1, shape)
            else:
                value, index = _DECODER.raw_decode(text, index)
            result[key] = value
            index = space(text, index).end()
            char = _expect(text, index, ",}")
            index = space(text, index + 1).end()
            if char == "}":
                break
    if space(text, index).end() != len(text):
        raise ValueError("extra data at character %d" % index)
    return result


def _decode_rows(text, index, shape):
    space = _SPACE.match
    rows = []
    index = space(text, index).end()
    if text[index:index + 1] == "]":
        return rows, index + 1
    while True:
        row, index = _DECODER.raw_decode(text, index)
        rows.append(shape(row))
        index = space(text, index).end()
        char = _expect(text, index, ",]")
        index = space(text, index + 1).end()
        if char == "]":
            return rows, index
