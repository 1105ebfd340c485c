# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs carbonblack.cloud.cbc_alert_info (see plugins/plugin_utils/module_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carbonblack.cloud.plugins.plugin_utils.module_action import CbcModuleAction


class ActionModule(CbcModuleAction):
    pass
