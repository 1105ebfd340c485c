# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only: caches for the integration tests' ansible-playbook runs (module processes and the controller).

An AnsiballZ module imports ``ansible.module_utils`` and the collection's module_utils from a zip of sources, and
Python's zipimport compiles every one of them on every task (about 0.35 s of CPU per task, more than half of a
module run). With this directory on PYTHONPATH, Python imports this file at start-up; it puts an importer for
AnsiballZ payload zips in front of zipimport that caches the compiled code by a hash of the source and its path
inside the zip, in $CBC_TEST_BYTECODE_CACHE. The code that runs is the same; only its compilation is reused.

On the controller, ansible-core builds each module's AnsiballZ payload once per run (scanning and zipping its
module_utils, about 0.65 s a module) in a per-run directory. With $CBC_TEST_PAYLOAD_CACHE set, that directory is
shared by all runs, under a key made of the ansible-core version and the content of every file in
$CBC_TEST_PAYLOAD_SOURCES (the collection's plugins), so a changed module or module_util is never served stale.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib.abc
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


class _SharedPayloadDirectory:
    """ansible.constants, except DEFAULT_LOCAL_TMP (only used by module_common for its payload cache)."""

    def __init__(self, constants, directory):
        self._constants = constants
        self.DEFAULT_LOCAL_TMP = directory  # pylint: disable=invalid-name

    def __getattr__(self, name):
        return getattr(self._constants, name)


def _payload_cache_directory(root, sources):
    import ansible  # pylint: disable=import-outside-toplevel
    digest = hashlib.sha256(("%s\0%s\0" % (ansible.__version__, MAGIC)).encode("utf-8"))
    for directory, subdirectories, files in sorted(os.walk(sources)):
        subdirectories.sort()
        for name in sorted(files):
            if name.endswith((".py", ".yml", ".yaml")):
                path = os.path.join(directory, name)
                digest.update(path.encode("utf-8") + b"\0")
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return os.path.join(root, digest.hexdigest()[:16])


class _ModuleCommonFinder(importlib.abc.MetaPathFinder):
    """Points ansible.executor.module_common's payload cache at the shared directory once it is imported."""

    TARGET = "ansible.executor.module_common"

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util  # pylint: disable=import-outside-toplevel
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        original_exec = spec.loader.exec_module

        def exec_module(module):
            original_exec(module)
            module.C = _SharedPayloadDirectory(module.C, _payload_cache_directory(
                os.environ["CBC_TEST_PAYLOAD_CACHE"], os.environ["CBC_TEST_PAYLOAD_SOURCES"]))
        spec.loader.exec_module = exec_module
        return spec


if CACHE_DIR:
    sys.path_hooks.insert(0, _payload_hook)
    sys.path_importer_cache.clear()
if os.environ.get("CBC_TEST_PAYLOAD_CACHE") and os.environ.get("CBC_TEST_PAYLOAD_SOURCES"):
    sys.meta_path.insert(0, _ModuleCommonFinder())
