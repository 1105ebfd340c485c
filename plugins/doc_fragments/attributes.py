# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Attributes of the read-only modules (the _info modules and cbc_api_key_check).
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same requests in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
"""

    # Attributes of the modules that change state (cbc_device, cbc_policy, cbc_forwarder). A module may restate
    # an attribute's description to say what its check mode or diff shows; the support level comes from here.
    STATE_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: Reads and plans exactly as a real run does, sends no write, and reports what would change.
  diff_mode:
    support: full
    description: Shows the before and after of what changes.
"""
