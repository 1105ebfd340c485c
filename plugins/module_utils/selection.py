# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the device and alert selections share: the search body, the checks that keep an option given but empty
from widening a selection, sort and field lists. No Ansible imports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import CbcConfigError

SORT_SPEC = dict(type="list", elements="dict", options=dict(
    field=dict(type="str", required=True),
    order=dict(type="str", choices=["ASC", "DESC"], default="ASC"),
))


def search_body(ids=None, criteria=None, exclusions=None, query=None, **extra):
    """A search body without rows/start: ``ids`` become the ``id`` criterion; ``extra`` keys are added when set."""
    criteria = dict(criteria or {})
    if ids:
        criteria["id"] = list(ids)
    body = {}
    if criteria:
        body["criteria"] = criteria
    if exclusions:
        body["exclusions"] = dict(exclusions)
    if query:
        body["query"] = query
    for key, value in extra.items():
        if value is not None:
            body[key] = value
    return body


def check_ids_given(ids, option, noun):
    """An id list that is given must not be empty: the API reads no ``id`` criterion as every object."""
    if ids is not None and not ids:
        raise CbcConfigError("%s is empty, which would select no %s here but every %s in the API. Fix: give at least "
                             "one %s ID, or skip the task when the list is empty (when: ids | length > 0)"
                             % (option, noun, noun, noun))


def check_criteria_given(criteria, noun):
    """Criteria that are given must restrict: an empty mapping or an empty value list reads as every object."""
    if criteria is None:
        return
    empty = sorted(field for field, values in criteria.items() if isinstance(values, list) and not values)
    if not criteria or empty:
        what = "criteria is empty" if not criteria else "criteria.%s is an empty list" % ", criteria.".join(empty)
        raise CbcConfigError("%s, which the API reads as no restriction (every %s). Fix: give at least one value per "
                             "criterion, or remove it" % (what, noun))


def check_value_list(values, where, field):
    """A criterion's values: a list (OR within the field)."""
    if not isinstance(values, list):
        raise CbcConfigError("%s must be a list of values, e.g. %s: [%s]. Fix: wrap the value in a list"
                             % (where, field, values))


def check_time_shape(value, where, example):
    """A time criterion: ``{range: -3d}`` or ``{start: ..., end: ...}``."""
    if not isinstance(value, dict) or not (set(value) == {"range"} or set(value) == {"start", "end"}):
        raise CbcConfigError("%s must be {range: %s} or {start: ISO8601, end: ISO8601}. Fix: use one of the two forms"
                             % (where, example))


def check_query(query, noun, example):
    if query is not None and not query.strip():
        raise CbcConfigError("query is blank, which would select every %s. Fix: give a query such as %s, or remove the "
                             "option" % (noun, example))


def check_sort(sort, known, noun, example):
    for index, order in enumerate(sort or []):
        if order.get("field") not in known:
            raise CbcConfigError("sort[%d].field %r is not %s field. Fix: use e.g. %s"
                                 % (index, order.get("field"), noun, example))


def without_empty_lists(filters):
    """Exclusions without their empty lists: an empty exclusion excludes nothing, so it is left out of the request."""
    return dict((field, values) for field, values in (filters or {}).items()
                if not (isinstance(values, list) and not values))


def requested_fields(fields, known, noun, example):
    """The fields a caller asked for, ``id`` first; None (every field) when ``fields`` is None. Unknown names are
    refused: they would come back empty."""
    if fields is None:
        return None
    if not fields:
        raise CbcConfigError("fields is empty. Fix: name the %s fields to return, e.g. [%s], or remove the option to "
                             "return every field" % (noun, example))
    unknown = sorted(set(str(field) for field in fields if field not in known))
    if unknown:
        raise CbcConfigError("fields has unknown %s field(s) %s. Fix: use %s fields such as %s"
                             % (noun, ", ".join(unknown), noun, example))
    ordered = ["id"]
    for field in fields:
        if field not in ordered:
            ordered.append(field)
    return tuple(ordered)


def field_trimmer(fields):
    """What keeps only ``fields`` of each result as the page is decoded (None keeps whole results)."""
    if fields is None:
        return None

    def trim(item):
        return dict((key, item.get(key)) for key in fields) if isinstance(item, dict) else item
    return trim
