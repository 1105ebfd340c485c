# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: when the playbook ends, write the variables the test asked for to a JSON file.

It replaces a final ``copy`` task (one more module run per playbook) with a read of the variable manager.
Enabled by playbook_runner.run_play through ANSIBLE_CALLBACK_PLUGINS / ANSIBLE_CALLBACKS_ENABLED.
Settings (environment): CBC_TEST_RESULTS (file to write), CBC_TEST_EXPORT (comma-separated variable names).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cbc_test_results
type: aggregate
short_description: Write chosen play variables to a JSON file when the playbook ends (carbonblack.cloud tests)
description:
  - Used by the integration tests of carbonblack.cloud only.
requirements:
  - enable in configuration
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cbc_test_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._play = None
        self._first_host = None

    def v2_playbook_on_play_start(self, play):
        self._play = play

    def v2_runner_on_start(self, host, task):
        if self._first_host is None:
            self._first_host = host

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("CBC_TEST_RESULTS")
        if not path or self._play is None:
            return
        names = [name for name in os.environ.get("CBC_TEST_EXPORT", "").split(",") if name]
        variables = {}
        if self._first_host is not None:
            manager = self._play.get_variable_manager()
            variables = manager.get_vars(play=self._play, host=self._first_host, include_hostvars=False)
        hosts = sorted(stats.processed)
        finished = all(not stats.failures.get(host) and not stats.dark.get(host) for host in hosts)
        document = {"finished": finished, "variables": dict((name, variables.get(name)) for name in names)}
        with open(path + ".tmp", "w") as handle:
            json.dump(document, handle, default=str)
        os.rename(path + ".tmp", path)
