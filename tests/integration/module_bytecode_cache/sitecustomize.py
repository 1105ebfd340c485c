# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only: a bytecode cache for the module processes of the integration tests' ansible-playbook runs.

An AnsiballZ module imports ``ansible.module_utils`` and the collection's module_utils from a zip of sources, and
Python's zipimport compiles every one of them on every task (about 0.35 s of CPU per task, more than half of a
module run). With this directory on PYTHONPATH, Python imports this file at start-up; it puts an importer for
AnsiballZ payload zips in front of zipimport that caches the compiled code by a hash of the source and its path
inside the zip, in $CBC_TEST_BYTECODE_CACHE. The code that runs is the same; only its compilation is reused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import marshal
import os
import sys
import types
import zipimport

CACHE_DIR = os.environ.get("CBC_TEST_BYTECODE_CACHE")
MAGIC = "%s-%d.%d" % (sys.implementation.cache_tag, sys.version_info[0], sys.version_info[1])


def _relocate(code, filename):
    consts = tuple(_relocate(const, filename) if isinstance(const, types.CodeType) else const
                   for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


class CachingZipImporter(zipimport.zipimporter):
    # zipimport's get_filename() compiles the module to learn its path, and find_spec() calls it: without these
    # overrides every module of the zip is compiled twice.
    def _source_entry(self, fullname):
        files = getattr(self, "_files", None) or {}
        base = self.prefix + fullname.rpartition(".")[2]
        for inner in (base + os.sep + "__init__.py", base + ".py"):
            if inner in files:
                return inner
        return None

    def get_filename(self, fullname):
        inner = self._source_entry(fullname)
        if inner is None:
            return super(CachingZipImporter, self).get_filename(fullname)
        return self.archive + os.sep + inner

    def get_code(self, fullname):
        inner = self._source_entry(fullname)
        source = self.get_source(fullname) if inner else None
        if source is None:
            return super(CachingZipImporter, self).get_code(fullname)
        filename = self.archive + os.sep + inner
        key = hashlib.sha256(("%s\0%s\0" % (MAGIC, inner)).encode("utf-8") + source.encode("utf-8")).hexdigest()
        path = os.path.join(CACHE_DIR, key[:2], key)
        try:
            with open(path, "rb") as handle:
                return _relocate(marshal.load(handle), filename)
        except (OSError, EOFError, ValueError, TypeError):
            pass
        code = compile(source, filename, "exec", dont_inherit=True)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = "%s.%d.tmp" % (path, os.getpid())
            with open(temporary, "wb") as handle:
                marshal.dump(code, handle)
            os.replace(temporary, path)
        except OSError:
            pass
        return code


def _payload_hook(path):
    if not (path.endswith("_payload.zip") or "_payload.zip" + os.sep in path):
        raise ImportError("not an AnsiballZ payload")
    return CachingZipImporter(path)


if CACHE_DIR:
    sys.path_hooks.insert(0, _payload_hook)
    sys.path_importer_cache.clear()
