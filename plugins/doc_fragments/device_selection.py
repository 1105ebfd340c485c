# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # How cbc_device and cbc_device_info select devices.
    DOCUMENTATION = r"""
options:
  device_ids:
    description:
      - Device IDs to select (sent as the C(id) criterion).
    type: list
    elements: int
  criteria:
    description:
      - "The Devices API search criteria, passed through. Values are lists (OR within a field, AND across fields),
        except C(last_contact_time), which is C({range: -3w}) or C({start: ..., end: ...})."
      - Values of C(os), C(status), C(target_priority) and C(deployment_type) are checked against the API's
        enumerations before any request.
    type: dict
  exclusions:
    description:
      - Criteria that exclude devices, in the same form as O(criteria).
    type: dict
  query:
    description:
      - A search query string, for example C(name:web-*).
    type: str
  sort:
    description:
      - Sort order of the search.
    type: list
    elements: dict
    suboptions:
      field:
        description: Device field to sort by.
        type: str
        required: true
      order:
        description: Sort direction.
        type: str
        choices: [ASC, DESC]
        default: ASC
notes:
  - Devices are read in pages of up to 10,000 rows (C(_search) with a 1-based C(start)); when more than 10,000 devices
    match, the module walks them with C(_scroll) instead. No request is sent per device.
"""
