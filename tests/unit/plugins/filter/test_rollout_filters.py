# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.carbonblack.cloud.plugins.filter.rollout import FilterModule, cbc_devices_not_reached, cbc_waves


def test_canary_then_percentages_then_the_rest():
    ids = list(range(1, 21))
    assert cbc_waves(ids, [1, "25%"]) == [[1], [2, 3, 4, 5, 6], list(range(7, 21))]
    assert cbc_waves(ids, ["50%", "50%"]) == [list(range(1, 11)), list(range(11, 21))]
    assert cbc_waves(ids, [100]) == [ids]
    assert cbc_waves([], [1, "10%"]) == []
    assert cbc_waves([1, 2], ["1%"]) == [[1], [2]]
    assert sum(len(wave) for wave in cbc_waves(ids, [3, 3, "10%"])) == 20


@pytest.mark.parametrize("size", [0, -1, "0%", "150%", "x", None])
def test_bad_sizes_are_named(size):
    with pytest.raises(AnsibleFilterError) as info:
        cbc_waves([1, 2, 3], [size])
    assert repr(size) in str(info.value)


def test_devices_not_reached_by_a_sensor_update_or_policy_change():
    devices = [
        {"id": 1, "sensor_kit_type": "WINDOWS", "sensor_version": "3.9", "sensor_pending_update": False, "policy_id": 7},
        {"id": 2, "sensor_kit_type": "WINDOWS", "sensor_version": "3.8", "sensor_pending_update": True, "policy_id": 7},
        {"id": 3, "sensor_kit_type": "WINDOWS", "sensor_version": "3.8", "sensor_pending_update": False, "policy_id": 8},
        {"id": 4, "sensor_kit_type": "RHEL", "sensor_version": "2.1", "sensor_pending_update": False, "policy_id": 8},
    ]
    assert cbc_devices_not_reached(devices, {"sensor_version": {"WINDOWS": "3.9"}}) == [3]
    assert cbc_devices_not_reached(devices, {"policy_id": "7"}) == [3, 4]
    assert cbc_devices_not_reached(devices, {}) == []


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"cbc_waves", "cbc_devices_not_reached"}
