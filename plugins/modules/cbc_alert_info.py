#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_alert_info
short_description: Search Carbon Black Cloud alerts
version_added: 1.1.0
description:
  - Returns the alerts a search selects (Alerts v7, C(api/alerts/v7/orgs/{org_key}/alerts/_search)), in pages.
  - Without a selection option it reads the alerts of the whole organization, up to the 10,000 a search can read.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  sort:
    description:
      - Sort order of the search. Unset, the API's own order.
    type: list
    elements: dict
    suboptions:
      field:
        description: Alert field to sort by, for example C(backend_timestamp) or C(severity).
        type: str
        required: true
      order:
        description: Sort direction.
        type: str
        choices: [ASC, DESC]
        default: ASC
  max_results:
    description:
      - Return at most this many alerts (1 to 10,000). Unset means every match up to the 10,000 a search can read.
    type: int
  fields:
    description:
      - Return only these fields of each alert (C(id) is always returned). Unset returns every field.
      - On a large result this keeps the task's memory and output small.
    type: list
    elements: str
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.info_module
  - carbonblack.cloud.alert_selection
notes:
  - Needs C(org.alerts) C(READ).
"""

EXAMPLES = r"""
- name: Open high-severity alerts of the last day
  carbonblack.cloud.cbc_alert_info:
    criteria:
      workflow_status: [OPEN]
    minimum_severity: 7
    time_range:
      range: -1d
    sort:
      - field: severity
        order: DESC
    fields: [device_id, device_name, severity, reason]
  register: open_alerts

- name: Every alert of one threat
  carbonblack.cloud.cbc_alert_info:
    criteria:
      threat_id: [19261158DBBF00775959F8AA7F7551A1]
  register: threat_alerts
"""

RETURN = r"""
alerts:
  description: The alerts, as the Alerts v7 search returns them (or only O(fields)).
  returned: success
  type: list
  elements: dict
  sample:
    - id: 6f1173f5-f921-8e11-2160-edf42b799333
      type: WATCHLIST
      severity: 8
      device_id: 18
      device_name: WS-FIN-0042
      backend_timestamp: "2026-11-30T10:26:41.224Z"
      workflow: {status: OPEN, closure_reason: NO_REASON, changed_by_type: SYSTEM}
      determination: {value: NONE}
num_found:
  description: How many alerts match, which may be more than RV(alerts) holds.
  returned: success
  type: int
  sample: 1
truncated:
  description: True when more alerts match than RV(alerts) holds (O(max_results), or the 10,000 a search can read).
  returned: success
  type: bool
  sample: false
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.alerts import (
    MAX_RESULTS, SELECTION_ARGUMENT_SPEC, returned_fields, search_alerts, selection_from_params)
from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.selection import SORT_SPEC
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import check_range


def run_alert_info(module):
    params = module.params
    selection = selection_from_params(params, whole_org_when_unset=True)
    check_range(params["max_results"], "max_results", 1, MAX_RESULTS, fix="remove it to read every match")
    fields = returned_fields(params["fields"])
    alerts, num_found = search_alerts(module.client, selection, limit=params["max_results"], fields=fields)
    truncated = num_found > len(alerts)
    if truncated and params["max_results"] is None:
        module.warn("%d alerts match; a search reads only the first %d. Narrow time_range or criteria to read the rest"
                    % (num_found, len(alerts)))
    return dict(changed=False, alerts=alerts, num_found=num_found, truncated=truncated)


def main():
    argument_spec = dict(
        SELECTION_ARGUMENT_SPEC,
        sort=SORT_SPEC,
        max_results=dict(type="int"),
        fields=dict(type="list", elements="str"),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_alert_info)


if __name__ == "__main__":
    main()
