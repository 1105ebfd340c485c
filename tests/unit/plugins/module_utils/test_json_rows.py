# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""decode_with_rows decodes like json.loads, shaping the rows of one array as they are decoded."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils.json_rows import decode_with_rows

DOCUMENTS = [
    {"results": [{"id": 1, "name": "a", "nested": {"id": 9, "x": [1, {"y": None}]}}, {"id": 2}], "num_found": 2},
    {"num_found": 0, "results": []},
    {"results": [], "search_after": ["x"], "other": {"results": [{"id": 3}]}},
    {"results": "not an array"},
    {},
    {"name": "caf\u00e9 \u2603", "results": [{"id": 1, "name": "\u00e9"}]},
    [1, 2, {"results": [1]}],
    "text",
    7,
]


def keep_id(row):
    return {"id": row["id"]} if isinstance(row, dict) else row


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("indent", [None, 2])
def test_without_shaping_it_equals_json_loads(document, indent):
    text = json.dumps(document, indent=indent)
    assert decode_with_rows(text, "results", lambda row: row) == json.loads(text)


def test_rows_are_shaped_and_everything_else_is_left_alone():
    text = json.dumps(DOCUMENTS[0])
    assert decode_with_rows(text, "results", keep_id) == {"results": [{"id": 1}, {"id": 2}], "num_found": 2}
    nested = json.dumps(DOCUMENTS[2])
    assert decode_with_rows(nested, "results", keep_id)["other"] == {"results": [{"id": 3}]}


def test_each_row_is_shaped_once_in_order():
    seen = []
    decode_with_rows(json.dumps({"results": [{"id": i} for i in range(5)]}), "results",
                     lambda row: seen.append(row["id"]) or row)
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("text", [
    '', '{', '{"results": [1, 2}', '{"results": [1 2]}', '{"a" 1}', '{"a": 1,}', '{"a": 1} x', '{a: 1}',
    '{"results": [1,]}', '{"results": [', '{"a": 1 "b": 2}',
])
def test_invalid_json_raises_value_error(text):
    with pytest.raises(ValueError):
        decode_with_rows(text, "results", keep_id)
    with pytest.raises(ValueError):
        json.loads(text)
