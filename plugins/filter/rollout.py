# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for staged rollouts: split devices into waves, and find the devices a wave did not reach."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible.errors import AnsibleFilterError


def wave_size(size, total):
    text = str(size).strip()
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if not 0 < percent <= 100:
                raise ValueError(text)
            return max(1, int(math.ceil(total * percent / 100.0)))
        count = int(text)
        if count < 1:
            raise ValueError(text)
        return count
    except ValueError:
        raise AnsibleFilterError("wave size %r is neither a count of at least 1 nor a percentage such as '25%%'" % size)


def cbc_waves(device_ids, sizes):
    device_ids = list(device_ids or [])
    waves = []
    start = 0
    for size in sizes or []:
        if start >= len(device_ids):
            break
        end = start + wave_size(size, len(device_ids))
        waves.append(device_ids[start:end])
        start = end
    if start < len(device_ids):
        waves.append(device_ids[start:])
    return waves


def cbc_devices_not_reached(devices, change):
    """IDs of the devices that do not (yet) show the change cbc_device was asked to make.

    ``change`` holds cbc_device options: ``sensor_version`` (a device counts as reached when it runs the
    target version of its kit or has an update pending; other kits are ignored) and/or ``policy_id``.
    """
    change = change or {}
    versions = change.get("sensor_version") or {}
    policy_id = change.get("policy_id")
    missing = []
    for device in devices or []:
        reached = True
        target = versions.get(device.get("sensor_kit_type"))
        if target and device.get("sensor_version") != target and not device.get("sensor_pending_update"):
            reached = False
        if policy_id is not None and device.get("policy_id") != int(policy_id):
            reached = False
        if not reached:
            missing.append(device.get("id"))
    return missing


class FilterModule:
    def filters(self):
        return {
            "cbc_waves": cbc_waves,
            "cbc_devices_not_reached": cbc_devices_not_reached,
        }
