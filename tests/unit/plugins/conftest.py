# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the plugin unit tests: a private HOME and working directory, so that no real credential file
or CBC_* / CBAPI_* variable reaches a test; the legacy (cbapi: CB EDR / App Control) credential search path under
tmp_path with a writer for its files; the cbc_credentials lookup. Plain helpers are in credential_helpers.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import builtins
import importlib
import os
import sys

import pytest
from ansible.errors import AnsibleError
from ansible.plugins.loader import lookup_loader

from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import MODULE_ENVIRONMENT_VARIABLES

# credential_helpers.py, next to this file, is imported by the tests below it.
HELPERS_DIR = os.path.dirname(os.path.abspath(__file__))
if HELPERS_DIR not in sys.path:
    sys.path.insert(0, HELPERS_DIR)

#: Every variable the modules read (credentials.MODULE_ENVIRONMENT_VARIABLES).
MODULE_VARIABLES = tuple(name for dummy, names in MODULE_ENVIRONMENT_VARIABLES for name in names)
#: The variables cbapi reads instead of a credential file.
CBAPI_VARIABLES = ("CBAPI_URL", "CBAPI_TOKEN", "CBAPI_SSL_VERIFY", "CBAPI_ORG_KEY")
#: cbapi's first search directory, redirected under tmp_path by ``search_dirs``.
ETC_DIR = os.path.join(os.sep, "etc", "carbonblack")
#: The ``files`` keys of ``legacy_files`` that name a search directory.
SEARCH_DIRS = ("etc", "home", "cwd")


@pytest.fixture
def lookup():
    """The cbc_credentials lookup through Ansible's loader: by FQCN when the collection loader is active, else by
    directory."""
    try:
        plugin = lookup_loader.get("carbonblack.cloud.cbc_credentials")
    except AnsibleError:
        plugin = None
    if plugin is None:
        module = importlib.import_module("ansible_collections.carbonblack.cloud.plugins.lookup.cbc_credentials")
        lookup_loader.add_directory(os.path.dirname(module.__file__))
        plugin = lookup_loader.get("cbc_credentials")
    assert plugin is not None
    return plugin


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """HOME is tmp_path/home (not created), the working directory is tmp_path, and no variable the modules read is
    set; returns tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    for name in MODULE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def home_and_work(tmp_path, monkeypatch):
    """HOME is tmp_path/home and the working directory tmp_path/work (both created); returns the credential
    directories below them, ``{"home": home/.carbonblack, "cwd": work/.carbonblack}`` (not created)."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(str(work))
    return {"home": str(home / ".carbonblack"), "cwd": str(work / ".carbonblack")}


@pytest.fixture
def search_dirs(home_and_work, tmp_path, monkeypatch):
    """The legacy search path under tmp_path: HOME, the working directory and /etc/carbonblack (redirected, for cbapi's
    reader and ours alike); no CBAPI_* variable set. Returns ``{"etc", "home", "cwd": directory, "root": tmp_path}``."""
    etc = tmp_path / "etc" / "carbonblack"
    etc.mkdir(parents=True)
    for name in CBAPI_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def redirect(path):
        if isinstance(path, str) and (path == ETC_DIR or path.startswith(ETC_DIR + os.sep)):
            return str(etc) + path[len(ETC_DIR):]
        return path

    real_open, real_isfile = builtins.open, os.path.isfile
    monkeypatch.setattr(builtins, "open", lambda file, *args, **kwargs: real_open(redirect(file), *args, **kwargs))
    monkeypatch.setattr(os.path, "isfile", lambda path: real_isfile(redirect(path)))
    return dict(home_and_work, etc=str(etc), root=str(tmp_path))


@pytest.fixture
def legacy_files(search_dirs, monkeypatch):
    """``write(product, files, environment=None, credential_file=None)`` prepares one legacy credential case.

    ``files`` maps "etc", "home" or "cwd" (the file credentials.<product> in that search directory) or a path under
    tmp_path to the file's text; ``environment`` variables are set; ``credential_file`` (a name or a list of names
    under tmp_path) comes back as absolute path(s), None stays None.
    """
    def write(product, files, environment=None, credential_file=None):
        for where, text in files.items():
            if where in SEARCH_DIRS:
                path = os.path.join(search_dirs[where], "credentials.%s" % product)
            else:
                path = os.path.join(search_dirs["root"], where)
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
            with open(path, "w") as handle:
                handle.write(text)
        for name, value in (environment or {}).items():
            monkeypatch.setenv(name, value)
        if isinstance(credential_file, list):
            return [os.path.join(search_dirs["root"], name) for name in credential_file]
        if credential_file is not None:
            return os.path.join(search_dirs["root"], credential_file)
        return None
    return write
