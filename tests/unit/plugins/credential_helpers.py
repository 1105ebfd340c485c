# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the credential and settings unit tests: private credential files and a task's connection parameters.
Importable from every test below tests/unit/plugins (conftest.py puts this directory on sys.path); pytest does not
collect it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import CREDENTIAL_KEYS


def write(path, text, mode=0o600, encoding="utf-8", raw=None):
    """Write ``text`` (or the bytes ``raw``) to ``path`` with ``mode``; a directory it creates is 0700. Returns the path."""
    path = str(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
        os.chmod(directory, 0o700)
    with open(path, "wb") as handle:
        handle.write(raw if raw is not None else text.encode(encoding))
    os.chmod(path, mode)
    return path


def write_profile(path, text):
    """A private credential file: ``text`` at ``path`` (0600), its directory made 0700 even if it existed."""
    written = write(path, text)
    os.chmod(os.path.dirname(written), 0o700)
    return written


def params(**values):
    """A module's connection parameters: every credential key, ``profile`` and ``credential_file`` None unless given."""
    base = dict((key, None) for key in CREDENTIAL_KEYS)
    base.update(profile=None, credential_file=None)
    base.update(values)
    return base
