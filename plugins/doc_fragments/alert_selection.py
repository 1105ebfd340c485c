# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # How cbc_alert and cbc_alert_info select alerts (Alerts v7 search).
    DOCUMENTATION = r"""
options:
  alert_ids:
    description:
      - Alert IDs to select (sent as the C(id) criterion).
    type: list
    elements: str
  criteria:
    description:
      - "The Alerts v7 search criteria, passed through: field names as the search takes them (C(device_name),
        C(type), C(threat_id), C(workflow_status), C(determination_value), ...), values as lists (OR within a field,
        AND across fields)."
      - "The time fields C(backend_update_timestamp), C(detection_timestamp), C(first_event_timestamp),
        C(last_event_timestamp), C(user_update_timestamp), C(workflow_change_timestamp),
        C(mdr_workflow_change_timestamp) and C(mdr_determination_change_timestamp) take C({range: -3d}) or
        C({start: ..., end: ...}) instead of a list."
      - An unknown field name, an empty list or an empty mapping is an error before any request, so a typo or a
        template that renders empty never widens the selection.
    type: dict
  exclusions:
    description:
      - Criteria that exclude alerts, in the same form as O(criteria).
    type: dict
  query:
    description:
      - A search query string, for example C(device_name:web-01 AND type:WATCHLIST).
    type: str
  time_range:
    description:
      - "Only alerts whose C(backend_timestamp) (when the backend created them) is in this range: C({range: -3d})
        (units s, m, h, d, w, M, y) or C({start: 2026-01-01T00:00:00Z, end: 2026-01-02T00:00:00Z}). Both bounds are
        inclusive."
    type: dict
  minimum_severity:
    description:
      - Only alerts of this severity or higher (1 to 10).
    type: int
notes:
  - Alerts are read in pages of up to 10,000 rows (C(_search) with a 1-based C(start)). The Alerts API lets a search
    read only its first 10,000 matches; narrow O(time_range) or O(criteria) to reach the others.
"""
