# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter for comparing server URLs (the EDR server App Control is integrated with, and the one in use)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carbonblack.cloud.plugins.module_utils.onprem_checks import normalize_url


def cbc_normalize_url(url):
    return normalize_url(url)


class FilterModule:
    def filters(self):
        return {"cbc_normalize_url": cbc_normalize_url}
