# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/module_action.py: when a module may run inside the worker, and how it is run there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import textwrap

import pytest
from ansible.module_utils import _internal as module_context
from ansible.module_utils import basic

from ansible_collections.carbonblack.cloud.plugins.plugin_utils.module_action import (
    core_version, run_module_in_worker, runs_in_worker, task_environment)

FAKE_MODULES = {
    "cbc_fake_echo": """
        import os
        from ansible.module_utils.basic import AnsibleModule

        def main():
            module = AnsibleModule(argument_spec=dict(name=dict(type="str"), secret=dict(type="str", no_log=True)),
                                   supports_check_mode=True)
            module.warn("careful")
            module.exit_json(changed=not module.check_mode, name=module.params["name"],
                             echoed=module.params["secret"], home=os.environ.get("CBC_FAKE_HOME"))
        """,
    "cbc_fake_fail": """
        from ansible.module_utils.basic import AnsibleModule

        def main():
            AnsibleModule(argument_spec=dict(count=dict(type="int")))
        """,
    "cbc_fake_raise": """
        def main():
            raise KeyError("policy_id")
        """,
}


@pytest.fixture
def fake_modules(tmp_path, monkeypatch):
    for name, source in FAKE_MODULES.items():
        (tmp_path / (name + ".py")).write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in FAKE_MODULES:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("transport, async_val, become, setting, version, expected", [
    ("local", 0, False, True, (2, 19), True),
    ("local", 0, False, True, (2, 20), False),
    ("ssh", 0, False, True, (2, 19), False),
    ("local", 30, False, True, (2, 19), False),
    ("local", 0, True, True, (2, 19), False),
    ("local", 0, False, False, (2, 19), False),
    ("local", 0, False, True, (2, 18), False),
    (None, 0, False, True, (2, 19), False),
])
def test_only_what_a_local_module_process_would_do_the_same_runs_in_the_worker(
        transport, async_val, become, setting, version, expected):
    assert runs_in_worker(transport, async_val, become, setting, version) is expected


@pytest.mark.parametrize("text, expected", [("2.19.14", (2, 19)), ("2.20.0rc1", (2, 20)), ("2.16", (2, 16)),
                                            ("2.19.0.dev0", (2, 19))])
def test_core_version_reads_major_and_minor(text, expected):
    assert core_version(text) == expected


def test_task_environment_applies_and_restores(monkeypatch):
    monkeypatch.setenv("CBC_FAKE_KEPT", "before")
    monkeypatch.delenv("CBC_FAKE_NEW", raising=False)
    with task_environment({"CBC_FAKE_KEPT": "during", "CBC_FAKE_NEW": 5}):
        assert os.environ["CBC_FAKE_KEPT"] == "during" and os.environ["CBC_FAKE_NEW"] == "5"
    assert os.environ["CBC_FAKE_KEPT"] == "before" and "CBC_FAKE_NEW" not in os.environ


def test_the_module_gets_its_arguments_and_environment_and_its_printed_result_is_returned(fake_modules):
    saved = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, module_context.is_controller)
    output = run_module_in_worker("cbc_fake_echo", {"name": "web", "secret": "s3cr3t-value",
                                                    "_ansible_check_mode": True},
                                  {"CBC_FAKE_HOME": "/srv/cbc"})
    result = json.loads(output)
    assert result["name"] == "web" and result["home"] == "/srv/cbc" and result["changed"] is False
    assert result["echoed"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" and "s3cr3t-value" not in output
    assert [warning["event"]["msg"] for warning in result["warnings"]] == ["careful"]
    assert (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, module_context.is_controller) == saved
    assert "CBC_FAKE_HOME" not in os.environ


def test_an_argument_error_is_the_module_s_own_failure(fake_modules):
    result = json.loads(run_module_in_worker("cbc_fake_fail", {"count": "many"}, {}))
    assert result["failed"] is True and "count" in result["msg"]


def test_a_module_that_raises_gives_a_failed_result_with_the_traceback(fake_modules):
    result = run_module_in_worker("cbc_fake_raise", {}, {})
    assert result["failed"] is True and result["msg"] == "cbc_fake_raise raised KeyError: 'policy_id'"
    assert "Traceback" in result["exception"]
