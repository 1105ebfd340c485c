# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind every carbonblack.cloud module: with a local connection the module runs inside the
ansible-playbook worker process, without building an AnsiballZ payload or starting a Python process for it.

Every other case (a remote or delegated connection, become, async, ``cbc_run_on_controller: false``, an
ansible-core older than the one this path is tested on) runs the module the normal way. Either way the module's
own ``main()`` runs with the same arguments, and its result passes through the same decoding and cleaning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import io
import json
import os
import traceback

from ansible.errors import AnsibleError
from ansible.module_utils import _internal as module_context
from ansible.module_utils import basic
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ANSIBLE_VERSION
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

RUN_ON_CONTROLLER_VAR = "cbc_run_on_controller"
# The serialization profile AnsiballZ gives a Python module that declares none.
PROFILE = "legacy"
# The ansible-core releases whose module internals (argument and result encoding, where warnings go) this path is
# tested with; any other runs the module in its own process until it is tested.
TESTED_CORE = ((2, 19),)


def core_version(text=ANSIBLE_VERSION):
    parts = []
    for part in text.split(".")[:2]:
        digits = "".join(char for char in part if char.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def runs_in_worker(transport, async_val, become, run_on_controller, version=None):
    """Whether a task can run its module inside the worker: only what a local module process would do the same."""
    return (transport == "local" and not async_val and not become and run_on_controller
            and (version or core_version()) in TESTED_CORE)


@contextlib.contextmanager
def task_environment(environment):
    """The task's ``environment:`` applied to this process for the duration, as a module process would get it."""
    saved = dict((key, os.environ.get(key)) for key in environment)
    os.environ.update(dict((key, str(value)) for key, value in environment.items()))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_module_in_worker(module_fqn, module_args, environment):
    """Run ``module_fqn``'s ``main()`` with ``module_args``; return what it printed (its JSON result), or a
    failed result dict when it raised instead of exiting."""
    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    params = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()
    saved = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, module_context.is_controller)
    output = io.StringIO()
    try:
        with task_environment(environment), contextlib.redirect_stdout(output):
            basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = params, PROFILE
            # As in a module process: warnings and deprecations go into the result, not straight to the display.
            module_context.is_controller = False
            importlib.import_module(module_fqn).main()
    except SystemExit:
        return output.getvalue()
    except Exception as error:  # pylint: disable=broad-exception-caught
        return dict(failed=True, msg="%s raised %s: %s" % (module_fqn.rsplit(".", 1)[-1], type(error).__name__, error),
                    exception=traceback.format_exc())
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, module_context.is_controller = saved
    return dict(failed=True, msg="%s returned without a result" % module_fqn.rsplit(".", 1)[-1])


class CbcModuleAction(ActionBase):
    """``plugins/action/<module>.py`` subclasses this for ``plugins/modules/<module>.py``."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(CbcModuleAction, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        if self._runs_in_worker(task_vars):
            return merge_hash(result, self._run_in_worker(task_vars))
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _runs_in_worker(self, task_vars):
        setting = self._templar.template(task_vars.get(RUN_ON_CONTROLLER_VAR, True))
        try:
            run_on_controller = boolean(setting, strict=True)
        except TypeError:
            raise AnsibleError("%s must be true or false, got %r" % (RUN_ON_CONTROLLER_VAR, setting))
        return runs_in_worker(getattr(self._connection, "transport", None), self._task.async_val,
                              self._play_context.become, run_on_controller)

    def _run_in_worker(self, task_vars):
        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        environment = {}
        self._compute_environment_string(environment)
        module_fqn = type(self).__module__.replace(".plugins.action.", ".plugins.modules.")
        output = run_module_in_worker(module_fqn, module_args, environment)
        if isinstance(output, dict):
            return output
        data = self._parse_returned_data({"stdout": output, "stderr": "", "rc": 0}, PROFILE)
        remove_internal_keys(data)
        return data
